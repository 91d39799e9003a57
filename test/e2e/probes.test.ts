// Probes with `berth up --runtime runc`, as root: a StatefulSet whose exec readiness probe holds
// back the next ordinal until it passes (and lets it be created right after), a startup tcpSocket
// probe gating an httpGet readiness probe against a busybox httpd, and a liveness probe whose
// failures restart the container with the kubelet's events.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPluginDir } from '../../src/node/network/cni.js';
import { findTool } from '../../src/volumes/tools.js';
import { BERTH, ROOT, startBerth, type Berth } from '../helpers/berth.js';
import { dockerSaveArchive, tarball, type TarEntry } from '../helpers/images.js';

const busybox = findTool('busybox');
// Probes run only for runtimes with streams (exec) and killContainer; until the runc runtime has them, skip.
const runtimeSource = readFileSync(join(ROOT, 'src/node/runtime/runc/runtime.ts'), 'utf8');
const skip =
  process.getuid?.() !== 0
    ? 'needs root (runc, overlay mounts, network namespaces)'
    : !findTool('runc') || !busybox || !findTool('setfattr') || !findTool('iptables') || findPluginDir() === undefined
      ? 'needs runc, busybox-static, attr, iptables and the CNI plugins (scripts/setup installs them)'
      : !/\bstreams\b/.test(runtimeSource) || !/\bkillContainer\b/.test(runtimeSource)
        ? 'the runc runtime has no streams or killContainer yet'
        : false;

const IMAGE = 'berth-test/busybox:probes';
const APPLETS = ['sh', 'echo', 'sleep', 'hostname', 'cat', 'touch', 'rm', 'test', 'mkdir', 'httpd'];

function busyboxImage(): Buffer[] {
  const entries: TarEntry[] = [
    { path: 'bin/', type: 'Directory' },
    { path: 'bin/busybox', mode: 0o755, body: readFileSync(busybox!) },
    ...APPLETS.map((a): TarEntry => ({ path: `bin/${a}`, type: 'SymbolicLink', linkpath: 'busybox' })),
    { path: 'etc/', type: 'Directory' },
    { path: 'tmp/', type: 'Directory', mode: 0o1777 },
  ];
  return [tarball(entries)];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}
interface ContainerStatusJson {
  name: string;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  state?: { running?: { startedAt: string } };
}
interface PodJson {
  metadata: { name: string; uid: string; creationTimestamp: string };
  status?: { podIP?: string; conditions?: Condition[]; containerStatuses?: ContainerStatusJson[] };
}
interface EventJson {
  type: string;
  reason: string;
  message: string;
  count?: number;
}
const condition = (p: PodJson | undefined, type: string) => p?.status?.conditions?.find((c) => c.type === type);
const isReady = (p: PodJson | undefined) => condition(p, 'Ready')?.status === 'True';

test('probes with the runc runtime', { skip, timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-probes-'));
  const dataDir = join(dir, 'data');
  let berth: Berth | undefined;
  after(async () => {
    await berth?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const archive = join(dir, 'busybox.tar');
  writeFileSync(archive, dockerSaveArchive([IMAGE], busyboxImage()));
  execFileSync(BERTH, ['image', 'import', '--data-dir', dataDir, archive], { encoding: 'utf8' });
  berth = await startBerth({ dataDir, runtime: 'runc' });
  const b = berth;
  const getPod = (name: string): PodJson | undefined => {
    const r = b.kubectl(['get', 'pod', name, '-o', 'json']);
    return r.status === 0 ? (JSON.parse(r.stdout) as PodJson) : undefined;
  };
  const events = (name: string): EventJson[] =>
    (JSON.parse(b.k(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json'])) as { items: EventJson[] }).items;

  await t.test('an exec readiness probe holds back the next ordinal until it passes', async () => {
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'slow', namespace: 'default' },
      spec: {
        serviceName: 'slow',
        replicas: 2,
        selector: { matchLabels: { app: 'slow' } },
        template: {
          metadata: { labels: { app: 'slow' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'app',
                image: IMAGE,
                imagePullPolicy: 'IfNotPresent',
                command: ['sh', '-c', 'sleep 3; touch /tmp/ready; sleep 3600'],
                readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    }));
    let web0ReadyAt: number | undefined;
    let web1SeenAt: number | undefined;
    let runningUnready = false;
    await until('slow-0 and slow-1 Ready', () => {
      const items = (JSON.parse(b.k(['get', 'pods', '-l', 'app=slow', '-o', 'json'])) as { items: PodJson[] }).items;
      const [p0, p1] = ['slow-0', 'slow-1'].map((n) => items.find((p) => p.metadata.name === n));
      const c0 = p0?.status?.containerStatuses?.[0];
      if (c0?.state?.running && !c0.ready) runningUnready = true;
      if (p1) assert.ok(web0ReadyAt !== undefined || isReady(p0), 'slow-1 exists only once slow-0 is Ready');
      if (isReady(p0)) web0ReadyAt ??= Date.now();
      if (p1) web1SeenAt ??= Date.now();
      return isReady(p0) && isReady(p1);
    }, 120_000);
    assert.ok(runningUnready, 'slow-0 ran unready while its probe failed');
    const p0 = getPod('slow-0')!;
    const started = Date.parse(p0.status!.containerStatuses![0].state!.running!.startedAt);
    const readyAt = Date.parse(condition(p0, 'Ready')!.lastTransitionTime!);
    assert.ok(readyAt - started >= 2000, `Ready ${readyAt - started}ms after the start: only once the file exists`);
    const p1 = getPod('slow-1')!;
    const created = Date.parse(p1.metadata.creationTimestamp);
    assert.ok(created >= readyAt, 'slow-1 was created after slow-0 became Ready');
    assert.ok(created - readyAt <= 3000, `slow-1 was created ${created - readyAt}ms after slow-0 became Ready`);
    const unhealthy = events('slow-0').filter((e) => e.reason === 'Unhealthy');
    assert.ok(unhealthy.length >= 1, 'Unhealthy events were recorded');
    assert.equal(unhealthy[0].type, 'Warning');
    assert.match(unhealthy[0].message, /^Readiness probe failed: cat: can't open '\/tmp\/ready': No such file or directory/);
    b.k(['delete', 'statefulset', 'slow', '--wait=false']);
    b.k(['delete', 'pod', '-l', 'app=slow', '--wait=false']);
  });

  await t.test('a startup tcpSocket probe gates an httpGet readiness probe', async () => {
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'http', namespace: 'default' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: IMAGE,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'mkdir -p /www; echo fine > /www/index.html; sleep 3; exec httpd -f -p 8080 -h /www'],
            ports: [{ name: 'web', containerPort: 8080 }],
            startupProbe: { tcpSocket: { port: 'web' }, periodSeconds: 1, failureThreshold: 30 },
            readinessProbe: { httpGet: { port: 8080, path: '/index.html' }, periodSeconds: 1 },
          },
        ],
      },
    }));
    let unstarted = false;
    const pod = await until('pod http Ready', () => {
      const p = getPod('http');
      const c = p?.status?.containerStatuses?.[0];
      if (c?.state?.running && c.started === false && !c.ready) unstarted = true;
      return isReady(p) && p;
    });
    assert.ok(unstarted, 'the container ran unstarted and unready until the startup probe passed');
    assert.equal(pod.status!.containerStatuses![0].started, true);
    const msgs = events('http').filter((e) => e.reason === 'Unhealthy').map((e) => e.message);
    assert.ok(
      msgs.some((m) => m === `Startup probe failed: dial tcp ${pod.status!.podIP}:8080: connect: connection refused`),
      `a startup failure in the kubelet's words: ${JSON.stringify(msgs)}`,
    );
    assert.ok(!msgs.some((m) => m.startsWith('Readiness')), 'readiness did not run before the start');
    b.k(['delete', 'pod', 'http', '--wait=false']);
  });

  await t.test('a failing liveness probe restarts the container', async () => {
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'live', namespace: 'default' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: IMAGE,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 3600'],
            livenessProbe: { exec: { command: ['test', '-f', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 2 },
          },
        ],
      },
    }));
    const pod = await until('pod live restarted', () => {
      const p = getPod('live');
      const c = p?.status?.containerStatuses?.[0];
      return c && c.restartCount >= 1 && p;
    }, 90_000);
    assert.ok(pod);
    const evs = events('live');
    assert.ok(
      evs.some((e) => e.reason === 'Killing' && e.type === 'Normal' && e.message === 'Container app failed liveness probe, will be restarted'),
      `the Killing event: ${JSON.stringify(evs.map((e) => [e.reason, e.message]))}`,
    );
    assert.ok(evs.some((e) => e.reason === 'Unhealthy' && e.type === 'Warning' && e.message === 'Liveness probe failed: '));
    b.k(['delete', 'pod', 'live', '--wait=false']);
  });
});
