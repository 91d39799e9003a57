// What the StatefulSet tests share: manifests, polling, and reading pods,
// claims and sets the way a user would (kubectl -o json).
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { after, before } from 'node:test';
import { adminClient, startBerth, type Berth } from './berth.js';
import type { Client } from '../../src/client/client.js';

export interface SetOptions {
  replicas?: number;
  policy?: 'OrderedReady' | 'Parallel';
  claims?: boolean;
  storage?: string;
  /** The claim template's storageClassName (unset: the default class). */
  storageClassName?: string;
  image?: string;
  updateStrategy?: Record<string, unknown>;
  retention?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' };
  startOrdinal?: number;
  minReadySeconds?: number;
  /** The simulated runtime's per-pod control, set on the pod template. */
  simulate?: string;
  nodeSelector?: Record<string, string>;
}

/** A headless Service and a StatefulSet `name` in `namespace` (app label = name), as the seed tutorials write them. */
export function setManifest(namespace: string, name: string, o: SetOptions = {}): string {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${name}-svc`, namespace },
    spec: { clusterIP: 'None', selector: { app: name }, ports: [{ port: 80, name: 'web' }] },
  };
  const sts = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace },
    spec: {
      serviceName: `${name}-svc`,
      replicas: o.replicas ?? 3,
      podManagementPolicy: o.policy,
      minReadySeconds: o.minReadySeconds,
      ordinals: o.startOrdinal === undefined ? undefined : { start: o.startOrdinal },
      updateStrategy: o.updateStrategy,
      persistentVolumeClaimRetentionPolicy: o.retention,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: o.simulate ? { 'berth.dev/simulate': o.simulate } : undefined },
        spec: {
          nodeSelector: o.nodeSelector,
          containers: [
            {
              name: 'nginx',
              image: o.image ?? 'nginx:1.25',
              ports: [{ containerPort: 80, name: 'web' }],
              volumeMounts: o.claims === false ? undefined : [{ name: 'www', mountPath: '/usr/share/nginx/html' }],
            },
          ],
        },
      },
      volumeClaimTemplates:
        o.claims === false
          ? undefined
          : [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: o.storageClassName, resources: { requests: { storage: o.storage ?? '1Gi' } } } }],
    },
  };
  return `${stringify(svc)}---\n${stringify(sts)}`;
}

export async function eventually<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) assert.fail(`${what}: not reached in ${ms} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PodView {
  name: string;
  uid: string;
  phase: string;
  ready: boolean;
  revision: string;
  image: string;
  terminating: boolean;
  hostname?: string;
  subdomain?: string;
  labels: Record<string, string>;
  owner?: string;
  claims: string[];
}

export interface ContainerState {
  running?: { startedAt: string };
  waiting?: { reason?: string; message?: string };
  terminated?: { exitCode: number; reason?: string; message?: string; startedAt?: string; finishedAt?: string };
}
export interface ContainerStatusJson {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  containerID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}
export interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}
/** A pod as `kubectl get -o json` prints it, the fields the tests read. */
export interface PodJson {
  metadata: { name: string; uid: string; namespace: string; creationTimestamp: string; deletionTimestamp?: string };
  status?: { phase?: string; podIP?: string; conditions?: PodCondition[]; containerStatuses?: ContainerStatusJson[]; initContainerStatuses?: ContainerStatusJson[] };
}

/** One pod by `kubectl get -o json`; undefined when it does not exist. */
export function getPod(b: Berth, name: string, ns = 'default'): PodJson | undefined {
  const r = b.kubectl(['get', 'pod', name, '-n', ns, '-o', 'json']);
  return r.status === 0 ? (JSON.parse(r.stdout) as PodJson) : undefined;
}

export const podCondition = (p: PodJson | undefined, type: string): PodCondition | undefined => p?.status?.conditions?.find((c) => c.type === type);
export const isReady = (p: PodJson | undefined): boolean => podCondition(p, 'Ready')?.status === 'True';

/** The pods of set `name` (by its app label), sorted by name. */
export function pods(b: Berth, ns: string, name: string): PodView[] {
  const list = JSON.parse(b.k(['get', 'pods', '-n', ns, '-l', `app=${name}`, '-o', 'json'])) as { items: any[] };
  return list.items
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      phase: p.status?.phase,
      ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
      revision: p.metadata.labels?.['controller-revision-hash'],
      image: p.spec.containers[0].image,
      terminating: !!p.metadata.deletionTimestamp,
      hostname: p.spec.hostname,
      subdomain: p.spec.subdomain,
      labels: p.metadata.labels ?? {},
      owner: (p.metadata.ownerReferences ?? []).find((r: any) => r.controller)?.name,
      claims: (p.spec.volumes ?? []).map((v: any) => v.persistentVolumeClaim?.claimName).filter(Boolean),
    }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

export function names(views: { name: string }[]): string[] {
  return views.map((v) => v.name);
}

export function getSet(b: Berth, ns: string, name: string): any {
  return JSON.parse(b.k(['get', 'sts', name, '-n', ns, '-o', 'json']));
}

export function claims(b: Berth, ns: string): { name: string; uid: string; storage: string; owners: string[] }[] {
  const list = JSON.parse(b.k(['get', 'pvc', '-n', ns, '-o', 'json'])) as { items: any[] };
  return list.items
    .filter((c) => !c.metadata.deletionTimestamp)
    .map((c) => ({
      name: c.metadata.name,
      uid: c.metadata.uid,
      storage: c.spec.resources.requests.storage,
      owners: (c.metadata.ownerReferences ?? []).map((r: any) => `${r.kind}/${r.name}`),
    }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}

/** Waits until the set has `replicas` pods, all Running and Ready and not terminating (optionally at one image). */
export async function readyPods(b: Berth, ns: string, name: string, replicas: number, image?: string, ms = 30_000): Promise<PodView[]> {
  return eventually(`${replicas} ready pods of ${ns}/${name}`, () => {
    const ps = pods(b, ns, name);
    const ok = ps.length === replicas && ps.every((p) => p.ready && !p.terminating && (!image || p.image === image));
    return ok && ps;
  }, ms);
}

/** `kubectl rollout status`, which waits for the set's rollout as a user would. */
export function rolloutStatus(b: Berth, ns: string, name: string, timeout = '60s'): string {
  return b.k(['rollout', 'status', `sts/${name}`, '-n', ns, `--timeout=${timeout}`]);
}

export function waitingCondition(b: Berth, ns: string, name: string): { status: string; reason: string; message: string } | undefined {
  return (getSet(b, ns, name).status?.conditions ?? []).find((c: any) => c.type === 'Waiting');
}

export function simulate(b: Berth, ns: string, pod: string, state: string): void {
  b.k(['annotate', 'pod', pod, '-n', ns, `berth.dev/simulate=${state}`, '--overwrite']);
}

export interface PodEvent {
  type: string;
  name: string;
  /** The apps.kubernetes.io/pod-index label and spec.hostname: the pod's identity. */
  index?: string;
  hostname?: string;
  ready: boolean;
  terminating: boolean;
}

const recorders = new Set<{ stop(): void }>();

/** Stops every recorder still running (for `after` hooks, so a failed test leaves no watch behind). */
export function stopRecorders(): void {
  for (const r of recorders) r.stop();
}

export interface PodRecorder {
  events: PodEvent[];
  ready: Promise<void>;
  /** Waits until no event has arrived for a while: the watch has caught up with what kubectl did. */
  settle(quietMs?: number): Promise<PodEvent[]>;
  stop(): void;
}

/**
 * Records every pod event of a namespace from a watch (berth's client over HTTPS), in order; the
 * tests read creation and deletion order from it.
 */
export function recordPodEvents(client: Client, ns: string): PodRecorder {
  const events: PodEvent[] = [];
  const rc = client.resource<any>({ group: '', version: 'v1', resource: 'pods', namespaced: true });
  let stream: { stop(): void } | undefined;
  let stopped = false;
  let lastEventAt = Date.now();
  const start = (rv?: string) => {
    if (stopped) return;
    stream = rc.watch(
      ns,
      { resourceVersion: rv, allowWatchBookmarks: true },
      (ev) => {
        rv = ev.object.metadata.resourceVersion;
        if (ev.type === 'BOOKMARK') return;
        lastEventAt = Date.now();
        events.push({
          type: ev.type,
          name: ev.object.metadata.name,
          index: ev.object.metadata.labels?.['apps.kubernetes.io/pod-index'],
          hostname: ev.object.spec?.hostname,
          ready: (ev.object.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
          terminating: !!ev.object.metadata.deletionTimestamp,
        });
      },
      () => {
        if (!stopped) setTimeout(() => start(rv), 100).unref();
      },
    );
  };
  const list = rc.list(ns).then((l) => start(l.metadata.resourceVersion));
  const recorder: PodRecorder = {
    events,
    ready: list,
    async settle(quietMs = 500) {
      // spawnSync (kubectl) blocks this process, so events queue up; let them in.
      await sleep(quietMs);
      while (Date.now() - lastEventAt < quietMs) await sleep(100);
      return events;
    },
    stop() {
      stopped = true;
      recorders.delete(recorder);
      void list.then(() => stream?.stop());
    },
  };
  recorders.add(recorder);
  return recorder;
}

/** Names in the order of their first event of `type` (ADDED, DELETED). */
export function orderOf(events: PodEvent[], type: string): string[] {
  const seen: string[] = [];
  for (const e of events) if (e.type === type) seen.push(e.name);
  return seen;
}

export interface SetSuite {
  /** The berth of this test file (set once `before` has run). */
  readonly b: Berth;
  readonly client: Client;
  /** A fresh namespace for one test. */
  namespace(): string;
}

/** Starts one berth for the test file and a client for it; stops both (and any recorder) after. */
export function setSuite(prefix: string): SetSuite {
  let berth: Berth | undefined;
  let api: { client: Client; close(): void } | undefined;
  let count = 0;
  before(async () => {
    berth = await startBerth();
    api = adminClient(berth);
  });
  after(async () => {
    stopRecorders();
    api?.close();
    await berth?.stop();
  });
  return {
    get b() {
      return berth!;
    },
    get client() {
      return api!.client;
    },
    namespace() {
      const ns = `${prefix}-${++count}`;
      berth!.k(['create', 'namespace', ns]);
      return ns;
    },
  };
}
