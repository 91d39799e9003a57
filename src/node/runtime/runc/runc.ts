// A thin wrapper of the runc CLI, its state kept in `<dataDir>/runc` (`runc --root`). Containers
// are created by conmon (conmon.ts), which runs `runc create` itself and stays with the container.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { findTool } from '../../../volumes/tools.js';

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
