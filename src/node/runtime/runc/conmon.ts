// Each container runs under conmon (Debian's `conmon`, CRI-O's container monitor): it creates the
// container through runc, stays its parent as a subreaper, writes its output into the CRI log
// (conmon's `k8s-file` format is the kubelet's), records its exit code in `<dataDir>/exits/<id>`
// and an `oom` file when the kernel's OOM killer hit it, and keeps its stdin open for attach.
// conmon detaches from berth: containers, logs and exit codes outlive a berth killed with -9,
// and the next `berth up` adopts them.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { findTool } from '../../../volumes/tools.js';

export interface ConmonCreateOptions {
  bundle: string;
  /** The CRI log the container's output goes to. */
  logPath: string;
  /** Keep a pipe to the container's stdin (the container's `stdin: true`), reachable through attach. */
  stdin?: boolean;
  /** Close that stdin when the first attached client leaves (`stdinOnce`). */
  stdinOnce?: boolean;
  /** A terminal for the container (`tty: true`). */
  tty?: boolean;
}

export interface ContainerExit {
  /** The exit code; 128 + the signal's number for a process a signal ended. */
  exitCode: number;
  /** The kernel's OOM killer killed a process of the container. */
  oomKilled: boolean;
  /** When conmon recorded the exit, ms since the epoch. */
  finishedAt: number;
  /** Nobody recorded the exit (the container's conmon was killed): the code is made up. */
  lost?: boolean;
}

export class ConmonError extends Error {}

export class Conmon {
  readonly exitDir: string;
  private readonly socketDir: string;

  constructor(
    dataDir: string,
    /** runc's --root. */
    private readonly runcRoot: string,
  ) {
    this.exitDir = join(resolve(dataDir), 'exits');
    this.socketDir = join(resolve(dataDir), 'sockets');
  }

  private static binary(name: string): string {
    const path = findTool(name);
    if (!path) throw new ConmonError(`${name} is not installed (apt-get install ${name})`);
    return path;
  }

  /**
   * Creates the container under a new conmon; resolves with the container's pid once runc created
   * it (its process waits for `runc start`), rejects with runc's error when it could not.
   */
  async create(id: string, opts: ConmonCreateOptions): Promise<number> {
    await Promise.all([mkdir(this.exitDir, { recursive: true }), mkdir(this.socketDir, { recursive: true }), mkdir(persistDir(opts.bundle), { recursive: true })]);
    await this.forget(id); // what an earlier instance of this id left
    const argv = [
      '--api-version', '1',
      '--cid', id,
      // The attach socket's directory is named by the uuid: keep the path short (sockets hold 108 bytes).
      '--cuuid', shortId(id),
      '--name', id,
      '--runtime', Conmon.binary('runc'),
      '--runtime-arg', `--root=${this.runcRoot}`,
      '--bundle', opts.bundle,
      '--container-pidfile', join(opts.bundle, 'pid'),
      '--conmon-pidfile', join(opts.bundle, 'conmon.pid'),
      '--log-path', `k8s-file:${opts.logPath}`,
      '--exit-dir', this.exitDir,
      '--persist-dir', persistDir(opts.bundle),
      '--socket-dir-path', this.socketDir,
      ...(opts.stdin ? ['--stdin', ...(opts.stdinOnce ? [] : ['--leave-stdin-open'])] : []),
      ...(opts.tty ? ['--terminal'] : []),
    ];
    return new Promise((resolvePromise, reject) => {
      // conmon reports on the pipe named by _OCI_SYNCPIPE: `{"data": <pid>}`, or -1 and runc's message.
      const child = spawn(Conmon.binary('conmon'), argv, {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
        env: { ...process.env, _OCI_SYNCPIPE: '3' },
        // conmon writes its `oom` marker into its working directory too (CRI-O and podman start it in the bundle).
        cwd: opts.bundle,
        detached: true,
      });
      child.unref();
      const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
      let said = '';
      let stderr = '';
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        sync.destroy();
        child.stderr?.destroy();
        fn();
      };
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', (err) => settle(() => reject(err)));
      sync.on('data', (c: Buffer) => {
        said += c.toString();
        const line = said.split('\n')[0];
        if (!said.includes('\n') || line === undefined) return;
        let report: { data?: number; message?: string };
        try {
          report = JSON.parse(line) as { data?: number; message?: string };
        } catch {
          return settle(() => reject(new ConmonError(`conmon said: ${line}`)));
        }
        if (typeof report.data === 'number' && report.data > 0) settle(() => resolvePromise(report.data!));
        else settle(() => reject(new ConmonError(cleanRuncMessage(report.message ?? `conmon could not create the container (${line})`))));
      });
      sync.on('end', () => settle(() => reject(new ConmonError(`conmon exited before creating the container${stderr.trim() ? `: ${stderr.trim()}` : ''}`))));
    });
  }

  /** The container's exit as conmon recorded it; undefined while it runs (or when no conmon watched it). */
  async exit(id: string, bundle: string): Promise<ContainerExit | undefined> {
    const file = join(this.exitDir, id);
    let text: string;
    let finishedAt: number;
    try {
      [text, finishedAt] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mtimeMs)]);
    } catch {
      return undefined;
    }
    const exitCode = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(exitCode)) return undefined; // still being written
    const oomKilled = await stat(join(persistDir(bundle), 'oom')).then(
      () => true,
      () => false,
    );
    return { exitCode, oomKilled, finishedAt: Math.round(finishedAt) };
  }

  /** Whether the conmon watching the container still runs. */
  async watching(bundle: string): Promise<boolean> {
    const pid = Number.parseInt(await readFile(join(bundle, 'conmon.pid'), 'utf8').catch(() => ''), 10);
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Forgets the container's exit record (its bundle, with the rest, goes with the rootfs). */
  async forget(id: string): Promise<void> {
    await rm(join(this.exitDir, id), { force: true });
    await rm(join(this.socketDir, shortId(id)), { force: true, recursive: true });
  }

  /** conmon's attach socket (SOCK_SEQPACKET) and control FIFO of a container, in its bundle. */
  static attachSocket(bundle: string): string {
    return join(bundle, 'attach');
  }

  static controlFifo(bundle: string): string {
    return join(bundle, 'ctl');
  }
}

const persistDir = (bundle: string) => join(bundle, 'persist');
const shortId = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 16);

/** runc's logrus line (`time="…" level=error msg="…"`) down to its message. */
function cleanRuncMessage(message: string): string {
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(message);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : message.trim();
}
