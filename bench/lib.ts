// What the benchmarks share: starting a built `berth up` on a data dir, an admin client for it,
// and the statistics they print.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { KubeObject } from '../src/api/types.js';
import { Client } from '../src/client/client.js';
import { HttpsTransport } from '../src/client/transport.js';

export const ROOT = resolve(import.meta.dirname, '..');

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The p-th percentile by nearest rank: the smallest value with at least p % of the values at or below it. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** Whether a pod (as the API returns it) has its Ready condition True. */
export function isPodReady(pod: KubeObject): boolean {
  return ((pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}
const MAIN = join(ROOT, 'dist/src/cli/main.js');

export interface Running {
  pid: number;
  url: string;
  readyMs: number;
  stop(): Promise<void>;
}

export function startServer(dataDir: string, runtime: 'simulated' | 'none' = 'simulated'): Promise<Running> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [MAIN, 'up', '--data-dir', dataDir, '--port', '0', '--runtime', runtime, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveReady, reject) => {
    proc.once('exit', (code) => reject(new Error(`berth exited with ${code}`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /ready on (\S+)/.exec(line);
      if (!m) return;
      proc.removeAllListeners('exit');
      resolveReady({
        pid: proc.pid!,
        url: m[1],
        readyMs: performance.now() - t0,
        stop: () =>
          new Promise((r) => {
            proc.once('exit', () => r());
            proc.kill('SIGTERM');
          }),
      });
    });
  });
}

/** An API client over HTTPS with the admin certificate of the berth in `dataDir`. */
export function adminClient(dataDir: string, url: string): { client: Client; transport: HttpsTransport } {
  const read = (f: string) => readFileSync(join(dataDir, 'pki', f), 'utf8');
  const transport = new HttpsTransport({ server: url, ca: read('ca.crt'), cert: read('admin.crt'), key: read('admin.key') });
  return { client: new Client(transport), transport };
}
