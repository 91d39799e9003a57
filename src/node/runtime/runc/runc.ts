// A thin wrapper of the runc CLI, its state kept in `<dataDir>/runc` (`runc --root`). Containers
// run without a terminal: `runc create` hands its own stdout and stderr to the container, so
// those are pipes this process reads and writes to the container's log in the CRI format. The
// container's process only runs from `start` on, so what the pipes carry during `create` is
// runc's own. The pump lives in this process: were it to exit, the container's writes would fail.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { findTool } from '../../../volumes/tools.js';
import { criRecord, LineSplitter, type LogStream, nowNanos, rfc3339Nano } from './crilog.js';

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** `runc state` output (runtime-spec state, plus runc's own fields). */
export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  owner?: string;
  annotations?: Record<string, string>;
}

export class RuncError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

export interface CreateOptions {
  /** The bundle directory holding config.json. */
  bundle: string;
  pidFile: string;
  /** The CRI-format log the container's stdout and stderr are appended to. */
  logPath: string;
}

/** The container's output pump; `done` settles once both pipes closed and the log is written. */
export interface LogPump {
  done: Promise<void>;
}

interface Output {
  stdout: string;
  stderr: string;
}

const NOT_FOUND = /does not exist|not found/;

export class Runc {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(resolve(dataDir), 'runc');
  }

  private binary(): string {
    const path = findTool('runc');
    if (!path) throw new Error('runc is not installed (install the runc package)');
    return path;
  }

  private run(args: string[]): Promise<Output> {
    const argv = ['--root', this.root, ...args];
    return new Promise((resolvePromise, reject) => {
      const child = spawn(this.binary(), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (code) => {
        const result = { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
        if (code === 0) resolvePromise(result);
        else reject(failure(args, code, result.stderr));
      });
    });
  }

  /** `runc create`: the container waits, its process not yet run, until `start`. */
  create(id: string, options: CreateOptions): Promise<LogPump> {
    const argv = ['--root', this.root, 'create', '--bundle', options.bundle, '--pid-file', options.pidFile, id];
    return new Promise((resolvePromise, reject) => {
      const child = spawn(this.binary(), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      const said: Buffer[] = [];
      const collect = (c: Buffer) => said.push(c);
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      // 'exit', not 'close': on success the container keeps the pipes open.
      child.once('exit', (code) => {
        if (code !== 0) {
          // Nothing else holds the pipes now: wait for all runc said.
          child.once('close', () => reject(failure(['create', id], code, Buffer.concat(said).toString('utf8'))));
          return;
        }
        child.stdout.off('data', collect);
        child.stderr.off('data', collect);
        resolvePromise(pumpLogs(child.stdout, child.stderr, options.logPath));
      });
    });
  }

  async start(id: string): Promise<void> {
    await this.run(['start', id]);
  }

  /** The container's state, or undefined when runc does not know it. */
  async state(id: string): Promise<ContainerState | undefined> {
    try {
      return JSON.parse((await this.run(['state', id])).stdout) as ContainerState;
    } catch (err) {
      if (err instanceof RuncError && NOT_FOUND.test(err.stderr)) return undefined;
      throw err;
    }
  }

  /** Sends a signal (a name such as SIGTERM, or a number) to the container's init process. */
  async kill(id: string, signal: string | number = 'SIGTERM'): Promise<void> {
    await this.run(['kill', id, String(signal)]);
  }

  /** Deletes the container's runc state; `force` kills a running one first. */
  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    await this.run(['delete', ...(options.force ? ['--force'] : []), id]);
  }

  async list(): Promise<ContainerState[]> {
    // An empty list is `null`.
    return (JSON.parse((await this.run(['list', '--format', 'json'])).stdout) as ContainerState[] | null) ?? [];
  }

  /** Polls until the container is stopped (or gone); throws after `timeoutMs`. */
  async waitStopped(id: string, timeoutMs = 10_000, intervalMs = 50): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.state(id);
      if (!state || state.status === 'stopped') return;
      if (Date.now() > deadline) throw new Error(`container ${id} still ${state.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

function failure(args: string[], code: number | null, stderr: string): RuncError {
  const said = stderr.trim();
  return new RuncError(`runc ${args.join(' ')} exited with ${code}${said ? `: ${said}` : ''}`, stderr, code);
}

/** Copies both pipes into the log, a record per line, each stamped as it is read. */
function pumpLogs(stdout: Readable, stderr: Readable, logPath: string): LogPump {
  const log = createWriteStream(logPath, { flags: 'a' });
  const follow = (pipe: Readable, stream: LogStream) =>
    new Promise<void>((resolvePromise, reject) => {
      const lines = new LineSplitter((content, partial) => log.write(criRecord(rfc3339Nano(nowNanos()), stream, partial, content)));
      pipe.on('data', (chunk: Buffer) => lines.push(chunk));
      pipe.on('end', () => {
        lines.end();
        resolvePromise();
      });
      pipe.on('error', reject);
    });
  const done = Promise.all([follow(stdout, 'stdout'), follow(stderr, 'stderr')]).then(
    () => new Promise<void>((resolvePromise, reject) => log.end((err?: Error | null) => (err ? reject(err) : resolvePromise()))),
    (err: unknown) => {
      log.destroy();
      throw err;
    },
  );
  log.on('error', () => undefined);
  return { done };
}
