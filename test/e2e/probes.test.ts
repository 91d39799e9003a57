// Probes with `berth up --runtime runc`, as root: a StatefulSet whose exec readiness probe holds
// back the next ordinal until it passes (and lets it be created right after), a startup tcpSocket
// probe gating an httpGet readiness probe against a busybox httpd, and a liveness probe whose
// failures restart the container with the kubelet's events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podManifest, runcFixture, runcSkip, shContainer, statefulSet } from '../helpers/runc.js';
import { eventually, getPod as podOf, isReady, podCondition as condition, type PodJson } from '../helpers/statefulset.js';

const skip = runcSkip();
const IMAGE = 'berth-test/busybox:probes';

interface EventJson {
  type: string;
  reason: string;
  message: string;
  count?: number;
}

test('probes with the runc runtime', { skip, timeout: 300_000 }, async (t) => {
  const b = await runcFixture(t, 'probes', IMAGE).start();
  const getPod = (name: string) => podOf(b, name);
  const events = (name: string): EventJson[] =>
    (JSON.parse(b.k(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json'])) as { items: EventJson[] }).items;

  await t.test('an exec readiness probe holds back the next ordinal until it passes', async () => {
    const container = shContainer(IMAGE, 'sleep 3; touch /tmp/ready; sleep 3600', { readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 } });
    b.k(['apply', '-f', '-'], JSON.stringify(statefulSet('slow', container, { replicas: 2 })));
    let web0ReadyAt: number | undefined;
    let web1Early = false;
    let runningUnready = false;
    await eventually('slow-0 and slow-1 Ready', () => {
      const items = (JSON.parse(b.k(['get', 'pods', '-l', 'app=slow', '-o', 'json'])) as { items: PodJson[] }).items;
      const [p0, p1] = ['slow-0', 'slow-1'].map((n) => items.find((p) => p.metadata.name === n));
      const c0 = p0?.status?.containerStatuses?.[0];
      if (c0?.state?.running && !c0.ready) runningUnready = true;
      if (p1 && web0ReadyAt === undefined && !isReady(p0)) web1Early = true;
      if (isReady(p0)) web0ReadyAt ??= Date.now();
      return web1Early || (isReady(p0) && isReady(p1));
    }, 120_000);
    assert.ok(!web1Early, 'slow-1 exists only once slow-0 is Ready');
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
    b.k(['apply', '-f', '-'], podManifest('http', {
      containers: [
        shContainer(IMAGE, 'mkdir -p /www; echo fine > /www/index.html; sleep 3; exec httpd -f -p 8080 -h /www', {
          ports: [{ name: 'web', containerPort: 8080 }],
          startupProbe: { tcpSocket: { port: 'web' }, periodSeconds: 1, failureThreshold: 30 },
          readinessProbe: { httpGet: { port: 8080, path: '/index.html' }, periodSeconds: 1 },
        }),
      ],
    }));
    let unstarted = false;
    const pod = await eventually('pod http Ready', () => {
      const p = getPod('http');
      const c = p?.status?.containerStatuses?.[0];
      if (c?.state?.running && c.started === false && !c.ready) unstarted = true;
      return isReady(p) && p;
    }, 60_000);
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
    b.k(['apply', '-f', '-'], podManifest('live', {
      containers: [shContainer(IMAGE, 'touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 3600', { livenessProbe: { exec: { command: ['test', '-f', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 2 } })],
    }));
    const pod = await eventually('pod live restarted', () => {
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
