// exec, attach, port-forward and logs of the runc runtime's pods (ContainerStreams), as a CRI
// runtime serves them to the kubelet:
// - exec: `runc exec` in the foreground, its stdio piped to the client; runc passes on the
//   process's exit code (128+signal when a signal ended it). With a TTY, runc needs a terminal of
//   its own to copy the container's console to: util-linux's `script` gives it one, whose size is
//   set with `stty` and passed on to the container by runc on SIGWINCH.
// - attach: the container's output as conmon logs it, followed from the attach on; the client's
//   stdin into conmon's attach socket (SOCK_SEQPACKET, which node cannot open: `socat` bridges);
//   resizes through conmon's control FIFO.
// - port-forward: `socat` in the pod's network namespace connects to localhost:port there, so a
//   server listening on the pod's loopback is reached too, as with containerd.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants, existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, Writable, type Readable } from 'node:stream';
import type { Pod } from '../../../api/core/pods.js';
import { findTool } from '../../../volumes/tools.js';
import { readLogs } from '../../logs.js';
import { nowNanos } from './crilog.js';
import { StreamError, type ContainerStreams, type StreamIO, type TerminalSize } from '../../streams/types.js';
import { Conmon } from './conmon.js';
import type { Runc } from './runc.js';

export interface RuncStreamsDeps {
  runc: Runc;
  /** The container's running instance: runc's id and its bundle directory. */
  container(pod: Pod, name: string): { id: string; bundle: string } | undefined;
  /** The pod's network namespace while its sandbox is up. */
  netns(pod: Pod): string | undefined;
  /** The pod's directory (its containers' logs are in `<container>/<restartCount>.log`). */
  podDir(pod: Pod): string;
}

const tool = (name: string, pkg = name): string => {
  const path = findTool(name);
  if (!path) throw new StreamError(`${name} is not installed on the node (apt-get install ${pkg})`);
  return path;
};

/** A word for `sh -c`, quoted. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class RuncStreams implements ContainerStreams {
  constructor(private readonly deps: RuncStreamsDeps) {}

  private running(pod: Pod, container: string): { id: string; bundle: string } {
    const inSpec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === container);
    if (!inSpec) throw new StreamError(`container not found ("${container}")`, 404);
    const running = this.deps.container(pod, container);
    if (!running) throw new StreamError(`container not found ("${container}")`, 404);
    return running;
  }

  async exec(pod: Pod, container: string, command: string[], io: StreamIO, signal?: AbortSignal): Promise<number> {
    const { id, bundle } = this.running(pod, container);
    if (!command.length) throw new StreamError('you must specify at least one command for the container', 400);
    // runc's own account of the exec goes to a log file, and the pid file shows whether the process started.
    const scratch = await mkdtemp(join(tmpdir(), 'berth-exec-'));
    const log = join(scratch, 'runc.log');
    const pidFile = join(scratch, 'pid');
    const runc = [tool('runc'), '--root', this.deps.runc.root, '--log', log, '--log-format', 'json', 'exec', '--pid-file', pidFile];
    try {
      let child: ChildProcess;
      if (io.tty) {
        const size = await firstSize(io);
        // The process as the container's, with a terminal of the client's size from the start:
        // runc creates the console that size, then copies the size of its own terminal (set
        // alike below) onto it, so the command never sees a 0x0 terminal.
        const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: Record<string, unknown> };
        const processFile = join(scratch, 'process.json');
        await writeFile(processFile, JSON.stringify({ ...spec.process, args: command, terminal: true, ...(size && { consoleSize: { height: size.height, width: size.width } }) }));
        // runc makes this terminal raw; -echo before that keeps early input from being echoed.
        const inner = ['stty -echo', ...(size ? [`rows ${size.height} cols ${size.width}`] : []), '; exec', ...[...runc, '--process', processFile, '--tty', id].map(shellQuote)].join(' ');
        child = spawn(tool('script', 'bsdutils'), ['--quiet', '--flush', '--return', '--command', inner, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
        io.resize?.on('resize', (s: TerminalSize) => void resizeTerminal(child, s));
      } else {
        child = spawn(runc[0]!, [...runc.slice(1), id, ...command], { stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      }
      const code = await this.supervise(child, io.tty && io.stdout ? { ...io, stdout: withoutLeadingNulEcho(io.stdout) } : io, signal);
      // 255 without a started process: runc could not run the command (not found, not executable…).
      if (code === 255 && !existsSync(pidFile)) {
        const why = runcError(await readFile(log, 'utf8').catch(() => ''));
        if (why) throw new StreamError(`Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed: ${why}: unknown`);
      }
      return code;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Wires the child's stdio to the client's; resolves with its exit code once its output is out. */
  private async supervise(child: ChildProcess, io: StreamIO, signal?: AbortSignal): Promise<number> {
    if (io.stdin && child.stdin) {
      io.stdin.pipe(child.stdin);
      child.stdin.on('error', () => undefined);
    } else child.stdin?.end();
    const copy = (from: Readable | null, to: Writable | undefined) =>
      from ? new Promise<void>((done) => {
        from.on('data', (c: Buffer) => to?.write(c));
        from.on('end', done);
        from.on('error', () => done());
      }) : Promise.resolve();
    const outputs = Promise.all([copy(child.stdout, io.stdout), copy(child.stderr, io.tty ? io.stdout : io.stderr)]);
    const abort = () => killTree(child);
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const [code, sig] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      await Promise.race([outputs, new Promise((r) => setTimeout(r, 2000))]);
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('exec aborted');
      return code ?? 128 + (sig ? osConstants.signals[sig] : osConstants.signals.SIGKILL);
    } finally {
      signal?.removeEventListener('abort', abort);
      io.stdin?.unpipe();
    }
  }

  async attach(pod: Pod, container: string, io: StreamIO, signal?: AbortSignal): Promise<void> {
    const { id, bundle } = this.running(pod, container);
    const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === container)!;
    let feeder: ChildProcess | undefined;
    if (io.stdin) {
      if (!spec.stdin) throw new StreamError(`container ${container} does not have stdin enabled`, 400);
      feeder = spawn(tool('socat'), ['-u', 'STDIN', `UNIX-CONNECT:${Conmon.attachSocket(bundle)},type=5`], { stdio: ['pipe', 'ignore', 'ignore'] });
      io.stdin.pipe(feeder.stdin!);
      feeder.stdin!.on('error', () => undefined);
    }
    if (io.tty && spec.tty) {
      const resize = (s: TerminalSize) => void tellFifo(Conmon.controlFifo(bundle), `1 ${s.height} ${s.width}\n`);
      io.resize?.on('resize', resize);
    }
    // The output from now on, until the instance ends or the client goes.
    const path = await this.logFile(pod, container, false);
    const follow = { follow: true, sinceNanos: nowNanos(), signal, stillWriting: () => this.deps.container(pod, container)?.id === id };
    try {
      await Promise.all([
        io.stdout && readLogs(path, io.stdout, { ...follow, ...(io.tty ? {} : { stream: 'stdout' as const }) }),
        !io.tty && io.stderr && readLogs(path, io.stderr, { ...follow, stream: 'stderr' }),
      ]);
    } finally {
      if (feeder) killTree(feeder);
    }
  }

  async portForward(pod: Pod, port: number): Promise<Duplex> {
    const netns = this.deps.netns(pod);
    if (!netns) throw new StreamError(`pod ${pod.metadata.name} has no network namespace`, 400);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StreamError(`invalid port ${port}`, 400);
    const child = spawn(tool('nsenter', 'util-linux'), [`--net=${netns}`, tool('socat'), 'STDIO', `TCP:127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    // socat says within moments whether the connection was refused; wait for that, or its first output.
    const failed = await Promise.race([
      once(child, 'exit').then(() => true),
      once(child.stdout!, 'readable').then(() => false),
      sleep(100).then(() => false),
    ]);
    if (failed) {
      const why = /Connection refused/.test(stderr) ? 'connect: connection refused' : stderr.trim();
      throw new StreamError(`failed to connect to localhost:${port} inside namespace of pod ${pod.metadata.name}: ${why}`);
    }
    const duplex = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
    duplex.on('close', () => killTree(child));
    child.stdin!.on('error', () => undefined);
    return duplex;
  }

  async logFile(pod: Pod, container: string, previous: boolean): Promise<string> {
    const dir = join(this.deps.podDir(pod), container);
    const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
    const instances = (await readdir(dir).catch(() => [] as string[]))
      .map((f) => /^(\d+)\.log$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const current = status?.restartCount ?? instances.at(-1);
    const wanted = previous ? instances.filter((n) => current === undefined || n < current).at(-1) : instances.includes(current ?? -1) ? current : instances.at(-1);
    if (wanted === undefined) {
      throw previous
        ? new StreamError(`previous terminated container "${container}" in pod "${pod.metadata.name}" not found`, 400)
        : new StreamError(`container "${container}" in pod "${pod.metadata.name}" has no logs yet`, 400);
    }
    return join(dir, `${wanted}.log`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes a message into conmon's control FIFO. Non-blocking: with conmon gone nobody reads it, and
 * a blocking open would hold one of libuv's few threads for good.
 */
async function tellFifo(path: string, message: string): Promise<void> {
  try {
    const fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      await fh.write(message);
    } finally {
      await fh.close();
    }
  } catch {
    // No reader (the container ended): nothing to resize.
  }
}

/**
 * runc 1.1's `exec --tty` puts a NUL into the new console's input, which the console (still
 * echoing, as a new terminal does) shows as `^@` before anything the command prints: dropped here.
 */
function withoutLeadingNulEcho(out: Writable): Writable {
  let pending = Buffer.alloc(0);
  let through = false;
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (through) return void out.write(chunk, () => done());
      pending = Buffer.concat([pending, chunk]);
      let i = 0;
      while (pending.length - i >= 2 && pending[i] === 0x5e && pending[i + 1] === 0x40) i += 2;
      const rest = pending.subarray(i);
      // Only echoes so far, or maybe half of one: wait for more.
      if (!rest.length || (rest.length === 1 && rest[0] === 0x5e)) {
        pending = Buffer.from(rest);
        return done();
      }
      through = true;
      pending = Buffer.alloc(0);
      out.write(rest, () => done());
    },
    final(done) {
      if (pending.length) out.write(pending);
      done();
    },
  });
}

/** The last error runc logged (`--log-format json` lines), if any. */
function runcError(log: string): string | undefined {
  let found: string | undefined;
  for (const line of log.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error' && entry.msg) found = entry.msg;
    } catch {
      // not a JSON line
    }
  }
  return found;
}

/**
 * The client's first terminal size: kubectl sends it as soon as the stream is up, and a command
 * started before it would see a 0x0 terminal, so it is waited for (up to a second).
 */
function firstSize(io: StreamIO): Promise<TerminalSize | undefined> {
  if (!io.resize || io.resize.last) return Promise.resolve(io.resize?.last);
  return Promise.race([once(io.resize, 'resize').then(([s]) => s as TerminalSize), sleep(1000).then(() => undefined)]);
}

/** Sets the terminal `runc exec --tty` copies from, then tells runc (SIGWINCH) to pass the size on. */
async function resizeTerminal(script: ChildProcess, size: TerminalSize): Promise<void> {
  if (!script.pid) return;
  try {
    const children = (await readFile(`/proc/${script.pid}/task/${script.pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean);
    for (const pid of children) {
      const stty = spawn(tool('stty', 'coreutils'), ['-F', `/proc/${pid}/fd/0`, 'rows', String(size.height), 'cols', String(size.width)], { stdio: 'ignore' });
      await once(stty, 'exit');
      process.kill(Number(pid), 'SIGWINCH');
    }
  } catch {
    // The session ended meanwhile.
  }
}

/** Ends a child and what it started (runc passes signals on to the exec'd process). */
function killTree(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 1000).unref();
}

