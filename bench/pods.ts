// The pod start benchmark: on `berth up --runtime runc` (real runc containers under conmon, CNI
// networking), the time from a pod's create to Running with its image cached, one pod at a time
// and in a burst; where that time goes (scheduling, from the watch; the runtime's steps, from the
// API server's /metrics histogram berth_runtime_step_duration_seconds); and an OrderedReady
// StatefulSet whose pods pass an exec readiness probe: create to all Ready, and per ordinal the
// time from pod N Ready to pod N+1 Running. Needs root, runc, conmon, busybox-static and the CNI
// plugins (scripts/setup installs them).
//
// It also prints the CPU time berth and the processes it waited for (runc, CNI plugins, ip, mount;
// not conmon, which daemonizes) spent per pod, and how busy the machine's CPUs were: a burst's
// latency is bound by them.
//
// Env: BENCH_SEQUENTIAL (40), BENCH_BURST (20), BENCH_REPLICAS (10; 0 skips a part),
// BENCH_LOG_LEVEL (warn), BENCH_CPU_PROF (a directory: berth runs with --cpu-prof into it),
// BENCH_PAUSE (seconds to wait once berth is up, its pid printed: time to attach strace or perf),
// BENCH_KEEP (keep the data dir).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Client, ResourceClient } from '../src/client/client.js';
import type { HttpsTransport } from '../src/client/transport.js';
import type { KubeObject } from '../src/api/types.js';
import { importBusybox } from '../test/helpers/runc.js';
import { adminClient, isPodReady as isReady, mean, percentile, ROOT } from './lib.js';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 40);
const BURST = Number(process.env.BENCH_BURST ?? 20);
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? 10);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
const CPU_PROF = process.env.BENCH_CPU_PROF;
const BERTH = join(ROOT, 'bin/berth');
const IMAGE = 'berth-bench/busybox:1';
const NS = 'bench';
const PAUSE_S = Number(process.env.BENCH_PAUSE ?? 0);
const TARGET_P99_MS = 500;
const STEPS = ['sandbox', 'volumes', 'image', 'rootfs', 'runc'] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = percentile;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const dist = (xs: number[]) => `p50 ${ms(pct(xs, 50))}, p99 ${ms(pct(xs, 99))}, max ${ms(Math.max(...xs))}, mean ${ms(mean(xs))}`;

interface Berth {
  proc: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

function startBerth(dataDir: string): Promise<Berth> {
  const args = ['up', '--data-dir', dataDir, '--port', '0', '--runtime', 'runc', '--pod-cidr', '10.244.250.0/24', '--bridge', 'berth-bench', '--log-level', LOG_LEVEL];
  // Node refuses --cpu-prof in NODE_OPTIONS: profiling runs the built CLI (bin/berth builds it) directly.
  const proc = CPU_PROF
    ? spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, '--enable-source-maps', join(ROOT, 'dist/src/cli/main.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(BERTH, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) => proc.once('exit', (code) => ((exitCode = code), r())));
  return new Promise((resolveReady, reject) => {
    void exited.then(() => reject(new Error(`berth exited with ${exitCode}`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /ready on (\S+)/.exec(line);
      if (!m) return;
      resolveReady({
        proc,
        url: m[1],
        stop: async () => {
          proc.kill('SIGTERM');
          const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

interface ContainerStatus {
  state?: { running?: unknown };
}
interface PodStatus {
  phase?: string;
  conditions?: { type: string; status: string }[];
  containerStatuses?: ContainerStatus[];
}
const statusOf = (pod: KubeObject) => (pod.status ?? {}) as PodStatus;
const isRunning = (pod: KubeObject) => {
  const s = statusOf(pod);
  return s.phase === 'Running' && !!s.containerStatuses?.length && s.containerStatuses.every((c) => !!c.state?.running);
};

interface Times {
  created?: number; // the create request sent
  seen?: number; // first seen in the watch
  scheduled?: number; // spec.nodeName first seen set
  running?: number;
  ready?: number;
}

/** Watches the namespace's pods, recording when each is seen, scheduled, Running and Ready. */
class PodWatch {
  readonly times = new Map<string, Times>();
  readonly live = new Set<string>();
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  private stream?: { stop(): void };

  constructor(private readonly pods: ResourceClient<KubeObject>) {}

  async start(): Promise<void> {
    const list = await this.pods.list(NS);
    for (const p of list.items) this.live.add(p.metadata.name!);
    this.stream = this.pods.watch(NS, { resourceVersion: list.metadata.resourceVersion }, (ev) => {
      const now = performance.now();
      const name = ev.object.metadata.name!;
      if (ev.type === 'DELETED') {
        this.live.delete(name);
      } else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') {
        this.live.add(name);
        const t = this.of(name);
        t.seen ??= now;
        if ((ev.object.spec as { nodeName?: string } | undefined)?.nodeName) t.scheduled ??= now;
        if (isRunning(ev.object)) t.running ??= now;
        if (isReady(ev.object)) t.ready ??= now;
      }
      this.check();
    }, (err) => {
      if (err) console.error(`pod watch ended: ${err.message}`);
    });
  }

  of(name: string): Times {
    let t = this.times.get(name);
    if (!t) this.times.set(name, (t = {}));
    return t;
  }

  until(test: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
  }

  stop(): void {
    this.stream?.stop();
  }
}

/** CPU seconds of a process itself and of its waited-for children (/proc/<pid>/stat). */
function processCpu(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // Fields 14-17 (utime, stime, cutime, cstime), counted from field 3 here, in clock ticks.
  return { self: (f[11] + f[12]) / 100, children: (f[13] + f[14]) / 100 };
}

/** Busy and total jiffies of all CPUs (/proc/stat). */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

interface CpuWindow {
  berthMs: number;
  childrenMs: number;
  machineBusy: number;
}

function cpuWindow(pid: number): () => CpuWindow {
  const p0 = processCpu(pid);
  const m0 = machineCpu();
  return () => {
    const p1 = processCpu(pid);
    const m1 = machineCpu();
    return { berthMs: 1000 * (p1.self - p0.self), childrenMs: 1000 * (p1.children - p0.children), machineBusy: (m1.busy - m0.busy) / (m1.total - m0.total) };
  };
}

type StepSums = Map<string, { sum: number; count: number }>;

async function stepMetrics(transport: HttpsTransport): Promise<StepSums> {
  const res = await transport.request({ method: 'GET', path: '/metrics', accept: 'text/plain' });
  const sums: StepSums = new Map(STEPS.map((s) => [s, { sum: 0, count: 0 }]));
  for (const line of res.body.split('\n')) {
    const m = /^berth_runtime_step_duration_seconds_(sum|count)\{step="(\w+)"\} (\S+)$/.exec(line);
    if (m && sums.has(m[2])) sums.get(m[2])![m[1] as 'sum' | 'count'] = Number(m[3]);
  }
  return sums;
}

function pod(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      // busybox sleep as PID 1 ignores SIGTERM: the agent kills it after 1 s, then removes the pod.
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], ...extra }],
    },
  };
}

/**
 * Deletes the pods gracefully and waits until they are gone from the API: the node agent removes a
 * pod only once its containers stopped and its sandbox is torn down, so the next run starts on an
 * idle node.
 */
async function deleteAll(pods: ResourceClient<KubeObject>, watch: PodWatch, names: string[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(names.map((n) => pods.delete(n, NS).catch(() => undefined)));
  await watch.until(() => names.every((n) => !watch.live.has(n)), 'the pods to be gone');
  return performance.now() - t0;
}

interface PodRun {
  mode: string;
  n: number;
  wallMs: number;
  toRunning: number[];
  toScheduled: number[];
  scheduledToRunning: number[];
  steps: StepSums;
  cpu: CpuWindow;
  deleteMs: number;
}

async function podRun(client: Client, transport: HttpsTransport, watch: PodWatch, pid: number, mode: 'sequential' | 'burst', n: number, prefix: string = mode): Promise<PodRun> {
  const pods = client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const before = await stepMetrics(transport);
  const cpu = cpuWindow(pid);
  const t0 = performance.now();
  const create = async (name: string) => {
    watch.of(name).created = performance.now();
    await pods.create(pod(name));
  };
  if (mode === 'sequential') {
    for (const name of names) {
      await create(name);
      await watch.until(() => watch.of(name).running !== undefined, `${name} Running`);
    }
  } else {
    await Promise.all(names.map(create));
    await watch.until(() => names.every((name) => watch.of(name).running !== undefined), `the burst Running`);
  }
  const wallMs = performance.now() - t0;
  const cpuUsed = cpu();
  // The step observations land before the status write the watch saw; read them now.
  const after = await stepMetrics(transport);
  const steps: StepSums = new Map(STEPS.map((s) => [s, { sum: after.get(s)!.sum - before.get(s)!.sum, count: after.get(s)!.count - before.get(s)!.count }]));
  const t = names.map((name) => watch.of(name));
  const deleteMs = await deleteAll(pods, watch, names);
  return {
    mode,
    n,
    wallMs,
    toRunning: t.map((x) => x.running! - x.created!),
    toScheduled: t.map((x) => x.scheduled! - x.created!),
    scheduledToRunning: t.map((x) => x.running! - x.scheduled!),
    steps,
    cpu: cpuUsed,
    deleteMs,
  };
}

function statefulSet(name: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      serviceName: name,
      replicas,
      podManagementPolicy: 'OrderedReady',
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'c',
              image: IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'echo ok > /tmp/ready; exec sleep 3600'],
              readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

async function setRun(client: Client, watch: PodWatch, replicas: number) {
  const sets = client.resource({ group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true });
  const pods = client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
  const name = 'ord';
  const names = Array.from({ length: replicas }, (_, i) => `${name}-${i}`);
  const t0 = performance.now();
  await sets.create(statefulSet(name, replicas));
  await watch.until(() => names.every((n) => watch.of(n).ready !== undefined), 'all replicas Ready', 300_000);
  const allReadyMs = performance.now() - t0;
  const t = names.map((n) => watch.of(n));
  const readyToNextRunning: number[] = [];
  const readyToNextSeen: number[] = [];
  for (let i = 1; i < replicas; i++) {
    readyToNextRunning.push(t[i].running! - t[i - 1].ready!);
    readyToNextSeen.push(t[i].seen! - t[i - 1].ready!);
  }
  const seenToRunning = t.map((x) => x.running! - x.seen!);
  const seenToScheduled = t.map((x) => x.scheduled! - x.seen!);
  const runningToReady = t.map((x) => x.ready! - x.running!);
  // Orphan the pods, so the set is gone before they are deleted and nothing re-creates them.
  // A 409 (the delete's write lost a race with the controller's status write) is tried again.
  for (let i = 0; ; i++) {
    try {
      await sets.delete(name, NS, { propagationPolicy: 'Orphan' });
      break;
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || i >= 20) throw err;
      console.error(`bench: DELETE statefulset ${name} (propagationPolicy Orphan) answered 409 Conflict; retrying`);
      await sleep(100);
    }
  }
  for (let i = 0; ; i++) {
    const gone = await sets.get(name, NS).then(() => false, () => true);
    if (gone) break;
    if (i > 300) throw new Error(`StatefulSet ${name} was not deleted`);
    await sleep(100);
  }
  await deleteAll(pods, watch, names);
  return { allReadyMs, seenToScheduled, readyToNextRunning, readyToNextSeen, seenToRunning, runningToReady };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/pods.ts needs root (runc, overlay mounts, network namespaces)');
  const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-pods-'));
  const dataDir = join(dir, 'data');
  importBusybox(dataDir, dir, IMAGE);
  const berth = await startBerth(dataDir).catch((err: unknown) => {
    spawnSync(BERTH, ['down', '--data-dir', dataDir], { stdio: 'ignore', timeout: 120_000 });
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const { client, transport } = adminClient(dataDir, berth.url);
  const watch = new PodWatch(client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true }));
  try {
    await client.resource({ group: '', version: 'v1', resource: 'namespaces', namespaced: false }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await watch.start();
    // Wait for the node to be Ready, then warm up: the image's layer unpacked, the first CNI call made.
    const nodes = client.resource({ group: '', version: 'v1', resource: 'nodes', namespaced: false });
    for (let i = 0; ; i++) {
      const items = (await nodes.list()).items;
      if (items.some((n) => ((n.status as PodStatus | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'))) break;
      if (i > 600) throw new Error('the node did not become Ready');
      await sleep(100);
    }
    if (PAUSE_S) {
      console.error(`bench: berth is up, pid ${berth.proc.pid}; measuring in ${PAUSE_S} s`);
      await sleep(PAUSE_S * 1000);
    }
    const pid = berth.proc.pid!;
    await podRun(client, transport, watch, pid, 'sequential', 2, 'warmup');
    const runs: PodRun[] = [];
    if (SEQUENTIAL) runs.push(await podRun(client, transport, watch, pid, 'sequential', SEQUENTIAL));
    if (BURST) runs.push(await podRun(client, transport, watch, pid, 'burst', BURST));
    const set = REPLICAS ? await setRun(client, watch, REPLICAS) : undefined;

    const rows: [string, string, string?][] = [];
    for (const r of runs) {
      const title = r.mode === 'sequential' ? `${r.n} pods, one at a time` : `${r.n} pods created at once`;
      const p99 = pct(r.toRunning, 99);
      rows.push([`${title}: create -> Running`, dist(r.toRunning), `p99 ${p99 < TARGET_P99_MS ? 'meets' : 'MISSES'} the target < ${TARGET_P99_MS} ms (Kubernetes' SLO: 5 s)`]);
      const meanRunning = mean(r.toRunning);
      rows.push(['  create -> scheduled (watch)', dist(r.toScheduled), `${((100 * mean(r.toScheduled)) / meanRunning).toFixed(1)} % of the mean`]);
      rows.push(['  scheduled -> Running (watch)', dist(r.scheduledToRunning)]);
      let stepsTotal = 0;
      for (const s of STEPS) {
        const { sum, count } = r.steps.get(s)!;
        const perPod = (1000 * sum) / r.n;
        stepsTotal += perPod;
        rows.push([`  runtime step ${s} (mean per pod)`, ms(perPod), `${((100 * perPod) / meanRunning).toFixed(1)} % of the mean; ${count} observations, ${ms(count ? (1000 * sum) / count : 0)} each`]);
      }
      const rest = meanRunning - mean(r.toScheduled) - stepsTotal;
      rows.push(['  the rest (agent queue/sync, status write, watch)', ms(rest), `${((100 * rest) / meanRunning).toFixed(1)} % of the mean`]);
      rows.push([
        '  CPU per pod: berth; processes it waited for',
        `${ms(r.cpu.berthMs / r.n)}; ${ms(r.cpu.childrenMs / r.n)}`,
        `machine CPUs ${(100 * r.cpu.machineBusy).toFixed(0)} % busy over the run (${cpus().length} CPUs)`,
      ]);
      rows.push(['  wall time; delete -> all gone', `${ms(r.wallMs)}; ${ms(r.deleteMs)}`]);
    }
    if (set) {
      rows.push([`OrderedReady, ${REPLICAS} replicas, exec readiness probe every 1 s: create -> all Ready`, `${(set.allReadyMs / 1000).toFixed(2)} s`, `${ms(set.allReadyMs / REPLICAS)} per ordinal`]);
      rows.push(['  pod N Ready -> pod N+1 Running', dist(set.readyToNextRunning)]);
      rows.push(['  pod N Ready -> pod N+1 seen (controller)', dist(set.readyToNextSeen)]);
      rows.push(['  pod seen -> Running', dist(set.seenToRunning)]);
      rows.push(['  pod Running -> Ready (probe)', dist(set.runningToReady)]);
      rows.push(['  pod seen -> scheduled / Running, by ordinal', set.seenToScheduled.map((x, i) => `${x.toFixed(0)}/${set.seenToRunning[i].toFixed(0)}`).join(' ') + ' ms']);
    }
    // Node forks berth's whole address space for every child it spawns (runc, CNI plugins, ip,
    // mount), blocking the event loop meanwhile: the cost grows with this.
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    rows.push(['berth resident memory at the end; load average at the start', `${(Number(rss) / 1024).toFixed(0)} MB; ${load0}`]);
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log('berth pod start benchmark (runc runtime under conmon, CNI bridge, image cached, one node)');
    for (const [k, v, note] of rows) console.log(`${k.padEnd(w)}  ${v}${note ? `   ${note}` : ''}`);
  } finally {
    watch.stop();
    transport.close();
    await berth.stop();
    const down = spawnSync(BERTH, ['down', '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000 });
    if (down.status !== 0) console.error(`berth down failed: ${down.stderr}`);
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.error(`data dir kept: ${dataDir}`);
  }
}

await main();
