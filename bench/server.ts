// The server benchmark: prints, in one run, durable creates/s and updates/s
// through the HTTP API with concurrent clients and the same directly on the
// store (the ceiling), list latency for 10,000 pods, watch delivery latency,
// cold start to ready and idle RSS.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { adminClient, percentile, ROOT, startServer } from './lib.js';
import type { KubeObject } from '../src/api/types.js';

const N_WRITES = Number(process.env.BENCH_WRITES ?? 10_000);
const N_PODS = 10_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);

const pct = percentile;
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function pool(n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return (performance.now() - start) / 1000;
}

function pod(i: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: 'default', labels: { app: 'bench', shard: String(i % 10) } },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], ports: [{ containerPort: 80 }] }] },
  };
}

async function storeCeiling(): Promise<{ creates: number; updates: number; serialCreates: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-store-'));
  const store = new SqliteStore(join(dir, 'state.db'));
  try {
    const value = (i: number) => JSON.stringify(pod(i));
    const revs: number[] = [];
    const tc = await pool(N_WRITES, CONCURRENCY, async (i) => {
      revs[i] = (await store.create(`/registry/core/pods/default/pod-${i}`, value(i))).modRevision;
    });
    const tu = await pool(N_WRITES, CONCURRENCY, async (i) => {
      revs[i] = (await store.update(`/registry/core/pods/default/pod-${i}`, value(i + 1), revs[i])).modRevision;
    });
    // One writer at a time: every commit pays its own fsync.
    const N_SERIAL = 2000;
    const ts = await pool(N_SERIAL, 1, (i) => store.create(`/registry/core/pods/serial/pod-${i}`, value(i)));
    return { creates: N_WRITES / tc, updates: N_WRITES / tu, serialCreates: N_SERIAL / ts };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}


function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

function wrkCreates(url: string, dataDir: string): number {
  const wrk = spawnSync('wrk', ['-t2', `-c${CONCURRENCY}`, '-d10s', '-s', join(ROOT, 'bench/create-pods.lua'), url], {
    encoding: 'utf8',
    env: { ...process.env, BERTH_TOKEN: readFileSync(join(dataDir, 'pki/admin.token'), 'utf8').trim() },
  });
  if (/Non-2xx/.test(wrk.stdout ?? '')) throw new Error(`wrk saw failed requests:\n${wrk.stdout}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout ?? '')?.[1] ?? NaN);
}

function startEcho(pki: string): Promise<{ url: string; stop(): void }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/echo-server.ts'), pki], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolveUp) =>
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /listening on (\S+)/.exec(line);
      if (m) resolveUp({ url: m[1], stop: () => proc.kill() });
    }),
  );
}

async function main(): Promise<void> {
  console.log(`berth server benchmark (${N_WRITES} writes, ${CONCURRENCY} concurrent clients, node ${process.version})`);

  const ceiling = await storeCeiling();

  // Start-up and idle memory of all of berth (API server, controllers, scheduler, simulated node).
  const coldDir = mkdtempSync(join(tmpdir(), 'berth-bench-cold-'));
  const first = await startServer(coldDir);
  await first.stop();
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = await startServer(coldDir);
    starts.push(s.readyMs);
    await s.stop();
  }
  const idle = await startServer(coldDir);
  await new Promise((r) => setTimeout(r, 2000));
  const idleRss = rssMb(idle.pid);
  await idle.stop();
  rmSync(coldDir, { recursive: true, force: true });

  // The load runs without a node (`--runtime none`): these are the API server's figures, not the
  // scheduler's and node agent's work on 10,000 pods.

  // The same creates from wrk, a C load generator, so the server gets most of the machine's CPU.
  const wrkDir = mkdtempSync(join(tmpdir(), 'berth-bench-wrk-'));
  const wrkServer = await startServer(wrkDir, 'none');
  const wrkRate = wrkCreates(wrkServer.url, wrkDir);
  await wrkServer.stop();
  // The comparison: the same load on a bare HTTPS server that only parses and answers the JSON.
  const echo = await startEcho(join(wrkDir, 'pki'));
  const echoRate = wrkCreates(echo.url, wrkDir);
  echo.stop();
  rmSync(wrkDir, { recursive: true, force: true });

  const dataDir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const server = await startServer(dataDir, 'none');
  const { client, transport } = adminClient(dataDir, server.url);
  const pods = client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
  const cms = client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
  try {
    const tc = await pool(N_PODS, CONCURRENCY, (i) => pods.create(pod(i)));
    const httpCreates = N_PODS / tc;
    const tu = await pool(N_PODS, CONCURRENCY, (i) =>
      pods.patch(`pod-${i}`, 'default', 'merge', { metadata: { labels: { touched: 'yes' } } }),
    );
    const httpUpdates = N_PODS / tu;

    // From sending the request to the last byte of the response; the client's JSON parse is timed apart.
    const listTimes: number[] = [];
    const parseTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const res = await transport.request({ method: 'GET', path: '/api/v1/pods' });
      listTimes.push(performance.now() - t0);
      const t1 = performance.now();
      const items = (JSON.parse(res.body) as { items: unknown[] }).items.length;
      parseTimes.push(performance.now() - t1);
      if (items !== N_PODS) throw new Error(`listed ${items} pods`);
    }
    const listBytes = (await transport.request({ method: 'GET', path: '/api/v1/pods' })).body.length;
    const chunkTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      let cont: string | undefined;
      do {
        const page = await pods.list(undefined, { limit: 500, continue: cont });
        cont = page.metadata.continue;
      } while (cont);
      chunkTimes.push(performance.now() - t0);
    }

    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched', namespace: 'default' }, data: { n: '0' } });
    const sent = new Map<string, number>();
    const latencies: number[] = [];
    let resolveDone: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const N_WATCH = 2000;
    const stream = cms.watch(
      'default',
      { fieldSelector: 'metadata.name=watched', resourceVersion: '0' },
      (ev) => {
        const n = (ev.object as { data?: { n?: string } }).data?.n;
        const t = n ? sent.get(n) : undefined;
        if (t !== undefined) {
          latencies.push(performance.now() - t);
          sent.delete(n!);
          if (latencies.length === N_WATCH) resolveDone();
        }
      },
      () => {},
    );
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 1; i <= N_WATCH; i++) {
      sent.set(String(i), performance.now());
      await cms.patch('watched', 'default', 'merge', { data: { n: String(i) } });
    }
    await done;
    stream.stop();
    const busyRss = rssMb(server.pid);

    const rows: [string, string, string][] = [
      ['creates/s, store directly (ceiling)', ceiling.creates.toFixed(0), ''],
      ['updates/s, store directly (ceiling)', ceiling.updates.toFixed(0), ''],
      ['creates/s, store directly, one writer', ceiling.serialCreates.toFixed(0), 'an fsync per write'],
      ['creates/s, pods through HTTPS (wrk)', wrkRate.toFixed(0), `${((100 * wrkRate) / ceiling.creates).toFixed(0)}% of the store; target >= 2000 and >= 50%`],
      [
        '  the same load on a bare HTTPS JSON echo server',
        echoRate.toFixed(0),
        `${((100 * echoRate) / ceiling.creates).toFixed(0)}% of the store: the most any HTTPS JSON API in node gets here`,
      ],
      ['creates/s, pods through HTTPS (berth client)', httpCreates.toFixed(0), `${((100 * httpCreates) / ceiling.creates).toFixed(0)}% of the store`],
      ['updates/s, pod patches through HTTPS', httpUpdates.toFixed(0), `${((100 * httpUpdates) / ceiling.updates).toFixed(0)}% of the store`],
      ['list 10,000 pods, p50', ms(pct(listTimes, 50)), `p99 ${ms(pct(listTimes, 99))}, ${(listBytes / 1e6).toFixed(0)} MB; target < 300 ms`],
      ['  then JSON.parse in the client, p50', ms(pct(parseTimes, 50)), ''],
      ['list 10,000 pods in pages of 500, p50', ms(pct(chunkTimes, 50)), 'as kubectl get lists'],
      ['watch delivery (write sent -> event received), p50', ms(pct(latencies, 50)), ''],
      ['watch delivery, p99', ms(pct(latencies, 99)), 'target < 10 ms'],
      ['cold start to ready, median of 5', ms(pct(starts, 50)), `first start with credentials: ${ms(first.readyMs)}; target < 1 s`],
      ['RSS idle', `${idleRss.toFixed(0)} MB`, 'target < 100 MB'],
      ['RSS with 10,000 pods', `${busyRss.toFixed(0)} MB`, ''],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [k, v, note] of rows) console.log(`${k.padEnd(w)}  ${v.padStart(10)}  ${note}`);
  } finally {
    transport.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
