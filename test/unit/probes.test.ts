import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Pod } from '../../src/api/core/pods.js';
import { backOffExpired, backOffMessage, decideRestart, type BackOffEntry } from '../../src/node/probes/backoff.js';
import { MAX_OUTPUT_BYTES, runCheck } from '../../src/node/probes/check.js';
import {
  containerProbeStatus,
  newProbeWorker,
  observe,
  recordOutcome,
  type ProbedContainer,
  type ProbeOutcome,
  type ProbeWorker,
} from '../../src/node/probes/state.js';

const S = 1000;
const ok: ProbeOutcome = { result: 'success', output: '' };
const bad: ProbeOutcome = { result: 'failure', output: 'HTTP probe failed with statuscode: 500' };
const running = (over: Partial<ProbedContainer> = {}): ProbedContainer => ({ id: 'c1', running: true, startedAt: 0, started: true, ...over });

/** Drives a worker on a fake clock: observes at `now`, and when due runs `outcome` and records it. */
function tick(w: ProbeWorker, c: ProbedContainer, now: number, outcome?: ProbeOutcome) {
  const o = observe(w, c, now);
  if (!o.probe) return { worker: o.worker, probed: false, nextAt: o.nextAt, events: [], kill: undefined };
  const r = recordOutcome(o.worker, outcome ?? ok, now);
  return { worker: r.worker, probed: true, nextAt: r.nextAt, events: r.events, kill: r.kill };
}

test('initial results follow the kubelet: readiness Failure, liveness Success, startup Unknown', () => {
  assert.equal(newProbeWorker('readiness', {}, { container: 'c' }).result, 'failure');
  assert.equal(newProbeWorker('liveness', {}, { container: 'c' }).result, 'success');
  assert.equal(newProbeWorker('startup', {}, { container: 'c' }).result, 'unknown');
  const t = newProbeWorker('liveness', { successThreshold: 3 }, { container: 'c' }).timing;
  assert.deepEqual(t, { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3, terminationGracePeriodSeconds: undefined });
});

test('the initial delay, then one probe per period', () => {
  let w = newProbeWorker('readiness', { initialDelaySeconds: 5, periodSeconds: 2 }, { container: 'c' });
  let t = tick(w, running({ startedAt: 1000 }), 1000);
  assert.equal(t.probed, false);
  assert.equal(t.nextAt, 6000);
  t = tick(t.worker, running({ startedAt: 1000 }), 5999);
  assert.equal(t.probed, false);
  t = tick(t.worker, running({ startedAt: 1000 }), 6000);
  assert.equal(t.probed, true);
  assert.equal(t.worker.result, 'success');
  assert.equal(t.nextAt, 8000);
  w = t.worker;
  assert.equal(tick(w, running({ startedAt: 1000 }), 7000).probed, false);
  assert.equal(tick(w, running({ startedAt: 1000 }), 8000).probed, true);
});

test('readiness: failures count to the threshold, successes to the success threshold', () => {
  const c = running();
  let w = newProbeWorker('readiness', { periodSeconds: 1, successThreshold: 2, failureThreshold: 2 }, { container: 'c' });
  let t = tick(w, c, 0, ok);
  assert.equal(t.worker.result, 'failure', 'one success is not enough');
  t = tick(t.worker, c, 1 * S, ok);
  assert.equal(t.worker.result, 'success');
  t = tick(t.worker, c, 2 * S, bad);
  assert.equal(t.worker.result, 'success', 'one failure is not enough');
  assert.deepEqual(t.events, [{ type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 500' }]);
  t = tick(t.worker, c, 3 * S, ok);
  t = tick(t.worker, c, 4 * S, bad);
  assert.equal(t.worker.result, 'success', 'the run starts over after a success');
  t = tick(t.worker, c, 5 * S, bad);
  assert.equal(t.worker.result, 'failure');
  assert.equal(t.kill, undefined, 'readiness never restarts');
  t = tick(t.worker, c, 6 * S, bad);
  assert.equal(t.probed, true, 'readiness keeps probing');
  w = t.worker;
  // An errored probe is thrown away.
  const r = recordOutcome(w, { result: 'unknown', output: 'boom' }, 7 * S);
  assert.equal(r.worker.result, 'failure');
  assert.equal(r.worker.resultRun, w.resultRun);
  assert.equal(r.events[0]!.message, 'Readiness probe errored and resulted in unknown state: boom');
});

test('liveness: the threshold kills the container, then probing waits for the next instance', () => {
  const opts = { container: 'web', podGracePeriodSeconds: 30 };
  let w = newProbeWorker('liveness', { periodSeconds: 10, failureThreshold: 3, terminationGracePeriodSeconds: 5 }, opts);
  let t = tick(w, running(), 0, bad);
  assert.equal(t.events[0]!.message, 'Liveness probe failed: HTTP probe failed with statuscode: 500');
  t = tick(t.worker, running(), 10 * S, bad);
  assert.equal(t.kill, undefined);
  assert.equal(t.worker.result, 'success');
  t = tick(t.worker, running(), 20 * S, bad);
  assert.deepEqual(t.kill, {
    event: { type: 'Normal', reason: 'Killing', message: 'Container web failed liveness probe, will be restarted' },
    gracePeriodSeconds: 5,
  });
  assert.equal(t.worker.result, 'failure');
  assert.equal(tick(t.worker, running(), 30 * S).probed, false, 'on hold');
  // The restarted instance starts over.
  t = tick(t.worker, running({ id: 'c2', startedAt: 35 * S }), 35 * S, ok);
  assert.equal(t.probed, true);
  assert.equal(t.worker.result, 'success');
  assert.equal(t.worker.onHold, false);

  w = newProbeWorker('liveness', { failureThreshold: 1 }, { container: 'web', restartPolicy: 'Never', podGracePeriodSeconds: 30 });
  const k = tick(w, running(), 0, bad).kill!;
  assert.equal(k.event.message, 'Container web failed liveness probe');
  assert.equal(k.gracePeriodSeconds, 30);
});

test('startup gates liveness and readiness, and stops once started', () => {
  const startup = newProbeWorker('startup', { periodSeconds: 1, failureThreshold: 30 }, { container: 'db' });
  const readiness = newProbeWorker('readiness', { periodSeconds: 1 }, { container: 'db' });
  const notStarted = running({ started: false });
  assert.deepEqual(containerProbeStatus(true, { startup, readiness }), { started: false, ready: false });
  const r = tick(readiness, notStarted, 0);
  assert.equal(r.probed, false);
  assert.equal(r.nextAt, 1 * S);
  let s = tick(startup, notStarted, 0, bad);
  assert.equal(s.worker.result, 'unknown');
  assert.equal(s.events[0]!.message, 'Startup probe failed: HTTP probe failed with statuscode: 500');
  s = tick(s.worker, notStarted, 1 * S, ok);
  assert.equal(s.worker.result, 'success');
  assert.deepEqual(containerProbeStatus(true, { startup: s.worker, readiness }), { started: true, ready: false });
  assert.equal(tick(s.worker, running(), 2 * S).probed, false, 'startup stops');
  const r2 = tick(r.worker, running(), 1 * S, ok);
  assert.equal(r2.probed, true);
  assert.deepEqual(containerProbeStatus(true, { startup: s.worker, readiness: r2.worker }), { started: true, ready: true });
  assert.deepEqual(containerProbeStatus(false, { startup: s.worker, readiness: r2.worker }), { started: false, ready: false });

  // A startup failure reaching its threshold kills the container.
  const f = tick(newProbeWorker('startup', { failureThreshold: 1 }, { container: 'db' }), notStarted, 0, bad);
  assert.equal(f.kill!.event.message, 'Container db failed startup probe, will be restarted');
});

test('probes stop while the container is not running, and liveness holds during deletion', () => {
  let t = tick(newProbeWorker('liveness', {}, { container: 'c' }), running(), 0, ok);
  t = tick(t.worker, running({ running: false }), 10 * S);
  assert.equal(t.probed, false);
  assert.equal(t.nextAt, undefined);
  assert.equal(t.worker.result, 'failure');
  const d = tick(newProbeWorker('liveness', {}, { container: 'c' }), running({ podDeleting: true }), 0);
  assert.equal(d.probed, false);
  assert.equal(d.worker.result, 'success');
  assert.equal(tick(newProbeWorker('readiness', {}, { container: 'c' }), running({ podDeleting: true }), 0).probed, true);
});

test('crash loop back-off: immediate first restart, doubling to the cap, reset after a long run', () => {
  const policy = { initialMs: 10 * S, maxMs: 40 * S };
  let entry: BackOffEntry | undefined;
  let d = decideRestart(entry, 0, 0, policy);
  assert.equal(d.restart, true);
  entry = d.entry;
  d = decideRestart(entry, 1 * S, 2 * S, policy);
  assert.deepEqual(d, { restart: false, entry, backOffMs: 10 * S, until: 11 * S });
  d = decideRestart(entry, 1 * S, 11 * S, policy);
  assert.equal(d.restart, true);
  entry = d.entry;
  assert.equal(entry.backOffMs, 20 * S);
  const waits: number[] = [];
  let finished = 11 * S;
  for (let i = 0; i < 3; i++) {
    const w = decideRestart(entry, finished, finished, policy);
    assert.equal(w.restart, false);
    if (!w.restart) waits.push(w.backOffMs);
    const r = decideRestart(entry, finished, w.restart ? finished : w.until, policy);
    entry = r.entry;
    finished = (w.restart ? finished : w.until) + 1 * S;
  }
  assert.deepEqual(waits, [20 * S, 40 * S, 40 * S]);
  // Ran more than twice the cap since the last failure: starts over and restarts at once.
  const late = entry.lastUpdate + 81 * S;
  d = decideRestart(entry, late, late, policy);
  assert.deepEqual(d, { restart: true, entry: { backOffMs: 10 * S, lastUpdate: late } });
  assert.equal(backOffExpired(entry, late, policy), true);
  const pod = { metadata: { name: 'web-0', namespace: 'default', uid: 'u1' } } as Pod;
  assert.equal(backOffMessage(20 * S, 'c', pod), 'back-off 20s restarting failed container=c pod=web-0_default(u1)');
  assert.equal(backOffMessage(300 * S, 'c', pod), 'back-off 5m0s restarting failed container=c pod=web-0_default(u1)');
  // The kubelet's defaults.
  assert.equal(decideRestart(undefined, 0, 0).entry.backOffMs, 10 * S);
});

async function listen(server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test('httpGet: success, status codes, redirects, refused, timeout', async (t) => {
  const server = http.createServer((req, res) => {
    if (req.url === '/ok') return res.end(`hello ${req.headers['x-probe']} ${req.headers['user-agent']}`);
    if (req.url === '/fail') return (res.statusCode = 500), res.end();
    if (req.url === '/local') return res.writeHead(302, { location: '/ok' }).end();
    if (req.url === '/away') return res.writeHead(301, { location: 'http://example.invalid/' }).end('moved');
    if (req.url === '/loop') return res.writeHead(302, { location: '/loop' }).end();
    if (req.url === '/slow') return setTimeout(() => res.end(), 3000).unref();
    if (req.url === '/big') return res.end('x'.repeat(50_000));
  });
  const port = await listen(server);
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const target = { podIP: '127.0.0.1', ports: [{ name: 'http', containerPort: port }] };
  const probe = (path: string, timeoutSeconds = 1) =>
    runCheck({ timeoutSeconds, httpGet: { path, port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } }, target);
  assert.deepEqual(await probe('/ok'), { result: 'success', output: 'hello yes kube-probe/1.30' });
  assert.deepEqual(await probe('/fail'), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  assert.deepEqual(await probe('/local'), { result: 'success', output: 'hello yes kube-probe/1.30' });
  assert.deepEqual(await probe('/away'), { result: 'success', output: 'Probe terminated redirects, Response body: moved', warning: true });
  assert.deepEqual(await probe('/loop'), { result: 'failure', output: `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects` });
  const big = await probe('/big');
  assert.equal(big.output.length, MAX_OUTPUT_BYTES);
  assert.deepEqual(await probe('/slow'), {
    result: 'failure',
    output: `Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  });
  const closed = await closedPort();
  assert.deepEqual(await runCheck({ httpGet: { path: '/x', port: closed } }, target), {
    result: 'failure',
    output: `Get "http://127.0.0.1:${closed}/x": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
  });
  assert.equal((await runCheck({ httpGet: { port: 'nope' } }, target)).result, 'unknown');
});

/** Listens without accepting and fills its own queue, then prints its port. */
const STUCK_LISTENER = `
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
held = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False); c.connect_ex(('127.0.0.1', port)); held.append(c)
time.sleep(0.2)
print(port, flush=True)
time.sleep(30)
`;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

test('tcpSocket: connect, refused, timeout', async (t) => {
  const server = net.createServer((sock) => sock.destroy());
  const port = await listen(server);
  t.after(() => server.close());
  assert.deepEqual(await runCheck({ tcpSocket: { port } }, { podIP: '127.0.0.1' }), { result: 'success', output: '' });
  const closed = await closedPort();
  assert.deepEqual(await runCheck({ tcpSocket: { port: closed } }, { podIP: '127.0.0.1' }), {
    result: 'failure',
    output: `dial tcp 127.0.0.1:${closed}: connect: connection refused`,
  });
  // A listener whose accept queue is full drops SYNs, so the connect hangs until the timeout. Node
  // always accepts, so the listener is a python3 one-liner; without python3 this part is skipped.
  if (spawnSync('python3', ['--version']).status !== 0) {
    t.diagnostic('python3 not found: the timeout case is not checked');
    return;
  }
  const stuck = spawn('python3', ['-c', STUCK_LISTENER], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => stuck.kill());
  const stuckPort = Number(String((await once(stuck.stdout, 'data'))[0]).trim());
  const r = await runCheck({ tcpSocket: { port: stuckPort }, timeoutSeconds: 1 }, { podIP: '127.0.0.1' });
  assert.deepEqual(r, { result: 'failure', output: `dial tcp 127.0.0.1:${stuckPort}: i/o timeout` });
});

test('exec: exit codes, truncated output, timeouts, errors', async () => {
  const calls: [string[], number][] = [];
  const exec = async (command: string[], timeoutMs: number) => {
    calls.push([command, timeoutMs]);
    if (command[0] === 'ok') return { exitCode: 0, output: 'fine' };
    if (command[0] === 'big') return { exitCode: 1, output: Buffer.alloc(20_000, 'y') };
    if (command[0] === 'slow') return { exitCode: -1, output: '', timedOut: true };
    throw new Error('container not running');
  };
  const target = { podIP: '10.244.0.5', exec };
  assert.deepEqual(await runCheck({ exec: { command: ['ok'] }, timeoutSeconds: 3 }, target), { result: 'success', output: 'fine' });
  assert.deepEqual(calls[0], [['ok'], 3000]);
  const big = await runCheck({ exec: { command: ['big'] } }, target);
  assert.equal(big.result, 'failure');
  assert.equal(big.output.length, MAX_OUTPUT_BYTES);
  assert.deepEqual(await runCheck({ exec: { command: ['slow', '-x'] } }, target), { result: 'failure', output: 'command "slow -x" timed out' });
  assert.deepEqual(await runCheck({ exec: { command: ['gone'] } }, target), { result: 'unknown', output: 'container not running' });
  assert.equal((await runCheck({ exec: { command: ['ok'] } }, { podIP: 'x' })).result, 'unknown');
});
