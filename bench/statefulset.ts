// The StatefulSet benchmark: on `berth up --runtime simulated`, the time from
// create to all replicas Ready for a Parallel set of 1,000 replicas with one
// claim template (each claim provisioned and bound by the default local-path
// class) and for an OrderedReady set of 100, the API writes per
// replica (every watch event is one committed write), and the controller's
// latency per ordinal: from seeing pod N Ready to pod N+1 existing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, ResourceClient } from '../src/client/client.js';
import type { KubeObject } from '../src/api/types.js';
import { adminClient, isPodReady, mean, percentile, startServer } from './lib.js';

const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 1000);
const ORDERED = Number(process.env.BENCH_ORDERED ?? 100);

const pct = percentile;

function statefulSet(ns: string, name: string, replicas: number, policy: 'Parallel' | 'OrderedReady'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: ns },
    spec: {
      serviceName: name,
      replicas,
      podManagementPolicy: policy,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}


interface Counted {
  writes: Map<string, number>;
  stop(): void;
}

/** Counts the writes to each resource (in a namespace) from now on, by watching it (one event per write). */
async function countWrites(client: Client, ns: string, resources: { group: string; resource: string; namespaced?: false }[]): Promise<Counted> {
  const writes = new Map<string, number>();
  const streams = await Promise.all(
    resources.map(async ({ group, resource, namespaced }) => {
      const rc = client.resource({ group, version: 'v1', resource, namespaced: namespaced ?? true });
      const where = namespaced === false ? undefined : ns;
      const list = await rc.list(where);
      writes.set(resource, 0);
      return rc.watch(where, { resourceVersion: list.metadata.resourceVersion }, (ev) => {
        if (ev.type !== 'BOOKMARK') writes.set(resource, writes.get(resource)! + 1);
      }, () => {});
    }),
  );
  return { writes, stop: () => streams.forEach((s) => s.stop()) };
}

interface PodTimes {
  added: Map<string, number>;
  ready: Map<string, number>;
  allReady: Promise<number>;
  stop(): void;
}

/** Times, from a pod watch, when each pod appeared and when it was first Ready. */
async function timePods(pods: ResourceClient<KubeObject>, ns: string, replicas: number): Promise<PodTimes> {
  const added = new Map<string, number>();
  const ready = new Map<string, number>();
  const list = await pods.list(ns);
  let done!: (t: number) => void;
  const allReady = new Promise<number>((r) => (done = r));
  const stream = pods.watch(ns, { resourceVersion: list.metadata.resourceVersion }, (ev) => {
    const now = performance.now();
    const name = ev.object.metadata.name!;
    if (ev.type === 'ADDED' && !added.has(name)) added.set(name, now);
    if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && isPodReady(ev.object) && !ready.has(name)) {
      ready.set(name, now);
      if (ready.size === replicas) done(now);
    }
  }, () => {});
  return { added, ready, allReady, stop: () => stream.stop() };
}

async function run(client: Client, ns: string, name: string, replicas: number, policy: 'Parallel' | 'OrderedReady') {
  const pods = client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
  const sets = client.resource({ group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true });
  await client.resource({ group: '', version: 'v1', resource: 'namespaces', namespaced: false }).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const counted = await countWrites(client, ns, [
    { group: '', resource: 'pods' },
    { group: '', resource: 'persistentvolumeclaims' },
    // Volumes are cluster-wide: the two runs do not overlap, so these are the run's own.
    { group: '', resource: 'persistentvolumes', namespaced: false },
    { group: '', resource: 'events' },
    { group: 'apps', resource: 'statefulsets' },
    { group: 'apps', resource: 'controllerrevisions' },
  ]);
  const times = await timePods(pods, ns, replicas);
  const t0 = performance.now();
  await sets.create(statefulSet(ns, name, replicas, policy));
  const allReady = await times.allReady;
  // Let the status writes and events that follow the last Ready land before counting.
  await new Promise((r) => setTimeout(r, 1500));
  times.stop();
  counted.stop();
  const ordinalLatency: number[] = [];
  const ownReadiness: number[] = [];
  for (let i = 0; i < replicas; i++) {
    const a = times.added.get(`${name}-${i}`)!;
    ownReadiness.push(times.ready.get(`${name}-${i}`)! - a);
    if (i > 0) ordinalLatency.push(a - times.ready.get(`${name}-${i - 1}`)!);
  }
  const writes = [...counted.writes.values()].reduce((x, y) => x + y, 0);
  return { seconds: (allReady - t0) / 1000, writes, byResource: counted.writes, ordinalLatency, ownReadiness };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-bench-sts-'));
  const server = await startServer(dataDir);
  const { client, transport } = adminClient(dataDir, server.url);
  try {
    const par = await run(client, 'bench-parallel', 'par', PARALLEL, 'Parallel');
    const ord = await run(client, 'bench-ordered', 'ord', ORDERED, 'OrderedReady');
    const perReplica = (r: typeof par, n: number) =>
      `${(r.writes / n).toFixed(2)} (${[...r.byResource].map(([k, v]) => `${k} ${(v / n).toFixed(2)}`).join(', ')})`;
    const rows: [string, string, string][] = [
      [`Parallel, ${PARALLEL} replicas with a claim each: create to all Ready`, `${par.seconds.toFixed(2)} s`, 'target < 10 s'],
      ['  API writes per replica', perReplica(par, PARALLEL), ''],
      [
        '  Kubernetes reference',
        `${((2 * PARALLEL) / 20).toFixed(0)} s`,
        `computed, not measured: kube-controller-manager's default 20 requests/s for the ${2 * PARALLEL} pod and claim creates`,
      ],
      [`OrderedReady, ${ORDERED} replicas with a claim each: create to all Ready`, `${ord.seconds.toFixed(2)} s`, `${((1000 * ord.seconds) / ORDERED).toFixed(1)} ms per ordinal`],
      ['  API writes per replica', perReplica(ord, ORDERED), ''],
      [
        '  controller latency per ordinal (pod N Ready seen -> pod N+1 seen)',
        `mean ${mean(ord.ordinalLatency).toFixed(2)} ms, p50 ${pct(ord.ordinalLatency, 50).toFixed(2)} ms, p99 ${pct(ord.ordinalLatency, 99).toFixed(2)} ms`,
        'target < 5 ms',
      ],
      [
        '  the pod\'s own readiness (created -> Ready: scheduler + node agent)',
        `mean ${mean(ord.ownReadiness).toFixed(2)} ms, p50 ${pct(ord.ownReadiness, 50).toFixed(2)} ms, p99 ${pct(ord.ownReadiness, 99).toFixed(2)} ms`,
        '',
      ],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log('berth StatefulSet benchmark (simulated runtime, one node)');
    for (const [k, v, note] of rows) console.log(`${k.padEnd(w)}  ${v}${note ? `   ${note}` : ''}`);
  } finally {
    transport.close();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
