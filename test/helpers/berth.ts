// Test harness: a real `berth up` on its own data dir and free port, and the real kubectl against it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { Client } from '../../src/client/client.js';
import { HttpsTransport } from '../../src/client/transport.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BERTH = join(ROOT, 'bin/berth');

export interface Berth {
  dataDir: string;
  kubeconfig: string;
  url: string;
  process: ChildProcess;
  /** Runs kubectl against this berth; returns stdout, stderr and the exit code. */
  kubectl(args: string[], input?: string): KubectlResult;
  /** Like kubectl, but throws when it fails. */
  k(args: string[], input?: string): string;
  /** Restarts the server over the same data dir (SIGTERM, or SIGKILL when `kill` is set). */
  restart(opts?: { kill?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  status: number;
}

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  /** `--runtime`; simulated unless given. */
  runtime?: 'simulated' | 'runc' | 'none';
}

// Every berth a test file started is ended when that file's process ends, also when the runner
// cancels it on a timeout (it then gets SIGTERM, and `after` hooks do not run).
// A runc berth killed so leaves containers, namespaces, mounts and its bridge: `berth down` removes them.
const running = new Map<ChildProcess, { dataDir: string; runtime: string }>();
/** Data dirs made here and not yet removed by `stop`: removed when the process ends. */
const madeDirs = new Set<string>();
const killAll = () => {
  const killed = [...running.values()];
  for (const p of running.keys()) p.kill('SIGKILL');
  for (const { dataDir, runtime } of killed) {
    if (runtime === 'runc') spawnSync(BERTH, ['down', '--data-dir', dataDir], { stdio: 'ignore', timeout: 60_000 });
  }
  for (const dir of madeDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A berth just killed may still be writing; what remains is in the system's temp dir.
    }
  }
};
process.on('exit', killAll);
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => {
    killAll();
    process.exit(1);
  });

/**
 * A pod network of its own for each runc berth (a /24 of 10.244.0.0/16 and its bridge), so test
 * files running at once do not share a bridge or addresses. Taken by creating a marker directory
 * (atomic); a marker whose process is gone is taken over.
 */
const NETS_DIR = join(tmpdir(), 'berth-test-nets');
const takenNets = new Set<string>();
function takePodNetwork(): string[] {
  mkdirSync(NETS_DIR, { recursive: true });
  for (let n = 1; n < 250; n++) {
    const marker = join(NETS_DIR, String(n));
    try {
      mkdirSync(marker);
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(join(marker, 'pid'), 'utf8'));
        process.kill(owner, 0);
        continue;
      } catch (err) {
        if (owner && (err as NodeJS.ErrnoException).code !== 'ESRCH') continue;
        if (!owner) continue; // being taken right now
      }
    }
    writeFileSync(join(marker, 'pid'), String(process.pid));
    takenNets.add(marker);
    return ['--pod-cidr', `10.244.${n}.0/24`, '--bridge', `berth-t${n}`];
  }
  throw new Error('no free test pod network');
}
process.on('exit', () => {
  for (const marker of takenNets) rmSync(marker, { recursive: true, force: true });
  // The directory goes with the last marker (another test process may still hold one).
  if (takenNets.size) {
    try {
      rmdirSync(NETS_DIR);
    } catch {
      // not empty: in use
    }
  }
});

async function launch(dataDir: string, args: string[], port = '0', runtime = 'simulated'): Promise<{ proc: ChildProcess; url: string; kubeconfig: string }> {
  const proc = spawn(BERTH, ['up', '--data-dir', dataDir, '--port', port, '--runtime', runtime, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.set(proc, { dataDir, runtime });
  proc.once('exit', () => running.delete(proc));
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  const lines = createInterface({ input: proc.stdout! });
  return new Promise((resolveReady, reject) => {
    let url = '';
    const timer = setTimeout(() => fail(new Error(`berth did not become ready in time:\n${stderr}`)), 120_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(err);
    };
    proc.once('exit', (code) => fail(new Error(`berth exited with ${code}:\n${stderr}`)));
    lines.on('line', (line) => {
      const ready = /ready on (\S+)/.exec(line);
      if (ready) url = ready[1];
      const kc = /KUBECONFIG=(\S+)/.exec(line);
      if (kc && url) {
        clearTimeout(timer);
        proc.removeAllListeners('exit');
        resolveReady({ proc, url, kubeconfig: kc[1] });
      }
    });
  });
}

function waitExit(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => proc.once('exit', () => r()));
}

export async function startBerth(opts: StartOptions = {}): Promise<Berth> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  if (!opts.dataDir) madeDirs.add(dataDir);
  const args = [...(opts.runtime === 'runc' ? takePodNetwork() : []), ...(opts.args ?? [])];
  let { proc, url, kubeconfig } = await launch(dataDir, args, '0', opts.runtime);
  const kubectl = (kargs: string[], input?: string): KubectlResult => {
    const r = spawnSync('kubectl', kargs, {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      input,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? -1 };
  };
  const berth: Berth = {
    dataDir,
    kubeconfig,
    url,
    process: proc,
    kubectl,
    k(kargs, input) {
      const r = kubectl(kargs, input);
      if (r.status !== 0) throw new Error(`kubectl ${kargs.join(' ')} failed (${r.status}): ${r.stderr}`);
      return r.stdout;
    },
    async restart(o = {}) {
      proc.kill(o.kill ? 'SIGKILL' : 'SIGTERM');
      await waitExit(proc);
      // Same port again, so clients holding the old address reconnect.
      const port = new URL(url).port;
      ({ proc, url, kubeconfig } = await launch(dataDir, args, port, opts.runtime));
      berth.process = proc;
      berth.url = url;
      berth.kubeconfig = kubeconfig;
    },
    async stop() {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await waitExit(proc);
      clearTimeout(killer);
      if (!opts.dataDir) {
        rmSync(dataDir, { recursive: true, force: true });
        madeDirs.delete(dataDir);
      }
    },
  };
  return berth;
}

/** An API client for a running berth, over HTTPS with the admin certificate. */
export function adminClient(berth: Pick<Berth, 'dataDir' | 'url'>): { client: Client; close(): void } {
  const read = (f: string) => readFileSync(join(berth.dataDir, 'pki', f), 'utf8');
  const transport = new HttpsTransport({ server: berth.url, ca: read('ca.crt'), cert: read('admin.crt'), key: read('admin.key') });
  return { client: new Client(transport), close: () => transport.close() };
}
