// What the benchmarks share: starting a built `berth up` on a data dir and
// an admin client for it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '../src/client/client.js';
import { HttpsTransport } from '../src/client/transport.js';

export const ROOT = resolve(import.meta.dirname, '..');
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
