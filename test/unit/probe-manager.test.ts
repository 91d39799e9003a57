import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../src/api/core/pods.js';
import { runCheck } from '../../src/node/probes/check.js';
import { streamsExecRunner } from '../../src/node/probes/exec.js';
import { applyProbeResults, ProbeManager, type ProbeClock } from '../../src/node/probes/manager.js';
import { newProbeWorker, type ProbeKind, type ProbeOutcome } from '../../src/node/probes/state.js';
import type { ContainerStatus, PodRuntimeState, RuntimeEvent } from '../../src/node/runtime/types.js';
import { podStatus } from '../../src/node/status.js';
import type { ContainerStreams, StreamIO } from '../../src/node/streams/types.js';

const S = 1000;

/** A clock whose timers run only when the test advances it. */
class FakeClock implements ProbeClock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown) => void this.timers.delete(h as number);
  get pending() {
    return this.timers.size;
  }
  /** Runs every timer due up to `to`, in order, letting the checks they start settle. */
  async advanceTo(to: number) {
    for (;;) {
      await flush();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= to && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = to;
    await flush();
  }
}
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

interface Harness {
  clock: FakeClock;
  manager: ProbeManager;
  checks: { at: number; container: string; kind: ProbeKind }[];
  changed: number[];
  events: RuntimeEvent[];
  kills: { container: string; grace: number; message: string }[];
  /** What the next checks of a kind answer. */
  answer: Partial<Record<ProbeKind, ProbeOutcome>>;
  /** Checks wait for this while set. */
  gate?: Promise<void>;
}

const OK: ProbeOutcome = { result: 'success', output: '' };
const BAD: ProbeOutcome = { result: 'failure', output: 'HTTP probe failed with statuscode: 503' };

function harness(): Harness {
  const clock = new FakeClock();
  const h: Harness = { clock, checks: [], changed: [], events: [], kills: [], answer: {} } as unknown as Harness;
  h.manager = new ProbeManager({
    clock,
    check: async (_pod, c, _probe, kind) => {
      h.checks.push({ at: clock.now(), container: c.name, kind });
      if (h.gate) await h.gate;
      return h.answer[kind] ?? OK;
    },
    changed: () => h.changed.push(clock.now()),
    events: (_pod, evs) => h.events.push(...evs),
    kill: (_pod, container, grace, message) => h.kills.push({ container, grace, message }),
  });
  return h;
}

function pod(containers: v1.Container[], extra: Partial<v1.PodSpec> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'default', uid: 'u1' }, spec: { containers, ...extra } } as Pod;
}

function running(name: string, id: string, startedAt = 0, over: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    name,
    image: 'img',
    imageID: '',
    restartCount: 0,
    containerID: `runc://${id}`,
    ready: true,
    started: true,
    state: { running: { startedAt: new Date(startedAt).toISOString() } },
    ...over,
  };
}

function exited(name: string, id: string): ContainerStatus {
  return { name, image: 'img', imageID: '', restartCount: 0, containerID: `runc://${id}`, ready: false, started: false, state: { terminated: { exitCode: 137, reason: 'Error' } } };
}

const state = (...containerStatuses: ContainerStatus[]): PodRuntimeState => ({
  sandboxReady: true,
  podIP: '10.244.0.5',
  initContainerStatuses: [],
  containerStatuses,
  terminal: false,
});

const readyOf = (h: Harness, p: Pod, s: PodRuntimeState, name = 'app') => h.manager.apply(p, s).containerStatuses.find((c) => c.name === name)!;

test('readiness: not ready until the probe passes, then the change is reported at once', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'img', readinessProbe: { httpGet: { port: 80 }, initialDelaySeconds: 2, periodSeconds: 5 } }]);
  const s = state(running('app', 'a', 0));
  h.answer.readiness = BAD;
  const applied = h.manager.update(p, s);
  assert.equal(applied.containerStatuses[0].ready, false, 'not ready before the first success');
  assert.equal(applied.containerStatuses[0].started, true);
  // The pod's conditions follow.
  const status = podStatus(p, applied, '10.0.0.1', '2026-01-01T00:00:00Z');
  assert.equal(status.conditions!.find((c) => c.type === 'Ready')!.status, 'False');
  assert.equal(status.conditions!.find((c) => c.type === 'ContainersReady')!.message, 'containers with unready status: [app]');

  await h.clock.advanceTo(1999);
  assert.equal(h.checks.length, 0, 'the initial delay');
  await h.clock.advanceTo(2000);
  assert.deepEqual(h.checks, [{ at: 2000, container: 'app', kind: 'readiness' }]);
  assert.deepEqual(h.events, [{ type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' }]);
  assert.deepEqual(h.changed, [], 'failure was already the result');
  h.answer.readiness = OK;
  await h.clock.advanceTo(7000);
  assert.deepEqual(h.checks.map((c) => c.at), [2000, 7000]);
  assert.deepEqual(h.changed, [7000], 'the success is reported when it happens');
  assert.equal(readyOf(h, p, s).ready, true);
  const ready = podStatus(p, h.manager.apply(p, s), '10.0.0.1', '2026-01-01T00:00:00Z');
  assert.equal(ready.conditions!.find((c) => c.type === 'Ready')!.status, 'True');

  // failureThreshold (3) failures make it unready again, and that is reported too.
  h.answer.readiness = BAD;
  await h.clock.advanceTo(17000);
  assert.equal(readyOf(h, p, s).ready, true, 'two failures are not enough');
  await h.clock.advanceTo(22000);
  assert.equal(readyOf(h, p, s).ready, false);
  assert.deepEqual(h.changed, [7000, 22000]);
  assert.deepEqual(h.kills, [], 'readiness never kills');
  // A sync finding it unready probes it at once (the kubelet's manual trigger), then per period again.
  await h.clock.advanceTo(22500);
  h.manager.update(p, s);
  await h.clock.advanceTo(22500);
  assert.deepEqual(h.checks.map((c) => c.at), [2000, 7000, 12000, 17000, 22000, 22500]);
  await h.clock.advanceTo(32500);
  assert.deepEqual(h.checks.map((c) => c.at).slice(6), [27500, 32500]);
});

test('startup gates liveness and readiness; started is false until it passes', async () => {
  const h = harness();
  const p = pod([
    {
      name: 'app',
      image: 'img',
      startupProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 30 },
      readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
      livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
    },
  ]);
  const s = state(running('app', 'a', 0));
  h.answer.startup = BAD;
  const applied = h.manager.update(p, s).containerStatuses[0];
  assert.equal(applied.started, false);
  assert.equal(applied.ready, false);
  await h.clock.advanceTo(2000);
  assert.deepEqual(
    h.checks.map((c) => c.kind),
    ['startup', 'startup', 'startup'],
    'only the startup probe runs before the container started',
  );
  assert.equal(h.events[0].message, 'Startup probe failed: HTTP probe failed with statuscode: 503');
  h.answer.startup = OK;
  await h.clock.advanceTo(3000);
  assert.deepEqual(h.changed, [3000, 3000], 'started is reported, and readiness runs at once');
  assert.deepEqual(h.checks.filter((c) => c.at === 3000).map((c) => c.kind), ['startup', 'readiness']);
  assert.deepEqual(readyOf(h, p, s).started, true);
  assert.deepEqual(readyOf(h, p, s).ready, true);
  await h.clock.advanceTo(4000);
  const after = h.checks.filter((c) => c.at === 4000).map((c) => c.kind).sort();
  assert.deepEqual(after, ['liveness', 'readiness'], 'the startup probe stops, the others run per period');
  assert.deepEqual(h.changed, [3000, 3000]);
});

test('a sync finding a started container unready probes its readiness at once, the initial delay respected', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'img', readinessProbe: { exec: { command: ['x'] }, periodSeconds: 10, initialDelaySeconds: 3 } }]);
  const s = state(running('app', 'a', 0));
  h.answer.readiness = BAD;
  h.manager.update(p, s);
  await h.clock.advanceTo(1000);
  h.manager.update(p, s);
  await h.clock.advanceTo(2000);
  assert.equal(h.checks.length, 0, 'not inside the initial delay');
  await h.clock.advanceTo(3000);
  assert.deepEqual(h.checks.map((c) => c.at), [3000]);
  h.answer.readiness = OK;
  await h.clock.advanceTo(5000);
  h.manager.update(p, s);
  await h.clock.advanceTo(5000);
  assert.deepEqual(h.checks.map((c) => c.at), [3000, 5000], 'probed at the sync, not at the tick (13000)');
  assert.equal(readyOf(h, p, s).ready, true);
  h.manager.update(p, s);
  await h.clock.advanceTo(6000);
  assert.equal(h.checks.length, 2, 'a ready container waits for its tick');
});

test('liveness: the threshold kills the container with the kubelet message; the next instance is probed afresh', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'img', livenessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1, failureThreshold: 2, terminationGracePeriodSeconds: 5 } }], {
    terminationGracePeriodSeconds: 30,
  });
  h.answer.liveness = BAD;
  h.manager.update(p, state(running('app', 'a', 0)));
  await h.clock.advanceTo(3000);
  assert.equal(h.checks.length, 2, 'probing stops once the failure is reported');
  assert.deepEqual(h.kills, [{ container: 'app', grace: 5, message: 'Container app failed liveness probe, will be restarted' }]);
  assert.deepEqual(
    h.events.map((e) => e.message),
    ['Liveness probe failed: HTTP probe failed with statuscode: 503', 'Liveness probe failed: HTTP probe failed with statuscode: 503'],
  );
  assert.deepEqual(h.changed, [], 'liveness does not show in the status');
  // The runtime reports it stopped, then its replacement.
  h.manager.update(p, state(exited('app', 'a')));
  await h.clock.advanceTo(5000);
  assert.equal(h.checks.length, 2);
  h.answer.liveness = OK;
  h.manager.update(p, state(running('app', 'b', 5000)));
  await h.clock.advanceTo(5000);
  assert.equal(h.checks.length, 3, 'the new instance is probed at once');
  assert.equal(h.kills.length, 1);
});

test('a failed startup probe kills the container with the startup message; the pod grace period by default', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'img', startupProbe: { exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 2 } }], {
    terminationGracePeriodSeconds: 12,
    restartPolicy: 'Never',
  });
  h.answer.startup = BAD;
  h.manager.update(p, state(running('app', 'a', 0)));
  await h.clock.advanceTo(1000);
  assert.deepEqual(h.kills, [{ container: 'app', grace: 12, message: 'Container app failed startup probe' }], 'no restart announced under Never');
  assert.deepEqual(h.changed, [1000], 'started went from unknown to failure');
});

test('workers stop with the pod or the container; containers without probes keep the runtime status', async () => {
  const h = harness();
  const p = pod([
    { name: 'app', image: 'img', readinessProbe: { exec: { command: ['x'] } }, livenessProbe: { exec: { command: ['x'] } } },
    { name: 'plain', image: 'img' },
  ]);
  const s = state(running('app', 'a'), running('plain', 'p'));
  const applied = h.manager.update(p, s);
  assert.equal(applied.containerStatuses[1], s.containerStatuses[1]);
  assert.equal(h.manager.workerCount, 2);
  await h.clock.advanceTo(0);
  assert.equal(h.checks.length, 2);
  assert.equal(h.clock.pending, 2);
  h.manager.removePod('u1');
  assert.equal(h.manager.workerCount, 0);
  assert.equal(h.clock.pending, 0, 'timers are cleared');
  await h.clock.advanceTo(60_000);
  assert.equal(h.checks.length, 2);
  // A pod without probes has no workers at all.
  const plain = pod([{ name: 'plain', image: 'img' }]);
  assert.equal(h.manager.update(plain, state(running('plain', 'p'))).containerStatuses[0].ready, true);
  assert.equal(h.manager.workerCount, 0);
});

test('a check outliving its container instance is thrown away', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'img', readinessProbe: { exec: { command: ['x'] }, periodSeconds: 10 } }]);
  let release!: () => void;
  h.gate = new Promise<void>((r) => (release = r));
  h.manager.update(p, state(running('app', 'a', 0)));
  await h.clock.advanceTo(0);
  assert.equal(h.checks.length, 1);
  // The container restarts while the check runs.
  h.manager.update(p, state(running('app', 'b', 500)));
  h.gate = undefined;
  release();
  await h.clock.advanceTo(500);
  assert.equal(readyOf(h, p, state(running('app', 'b', 500))).ready, true, 'the new instance was probed and passed');
  assert.deepEqual(h.checks.map((c) => c.at), [0, 500]);
});

test('restartable init containers (sidecars) are probed too', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'img' }], {
    initContainers: [{ name: 'side', image: 'img', restartPolicy: 'Always', readinessProbe: { exec: { command: ['x'] } } }],
  });
  h.answer.readiness = BAD;
  const s: PodRuntimeState = { ...state(running('app', 'a')), initContainerStatuses: [running('side', 's', 0, { ready: true })] };
  assert.equal(h.manager.update(p, s).initContainerStatuses[0].ready, false);
  await h.clock.advanceTo(0);
  assert.equal(h.checks[0].container, 'side');
});

test('applyProbeResults: results of another instance count as initial', () => {
  const w = { ...newProbeWorker('readiness', {}, { container: 'app' }), containerID: 'runc://a', result: 'success' as const };
  assert.equal(applyProbeResults(running('app', 'a'), { readiness: w }).ready, true);
  assert.equal(applyProbeResults(running('app', 'b'), { readiness: w }).ready, false);
  assert.equal(applyProbeResults(exited('app', 'a'), { readiness: w }).ready, false, 'a stopped container is never ready');
});

test('exec probes run through the runtime streams: combined output, exit code, timeout', async () => {
  const calls: { command: string[]; io: StreamIO }[] = [];
  const streams = {
    async exec(_pod: Pod, _c: string, command: string[], io: StreamIO, signal?: AbortSignal) {
      calls.push({ command, io });
      if (command[0] === 'hang') {
        await new Promise((r) => signal!.addEventListener('abort', r));
        return 137;
      }
      io.stdout!.write('out ');
      io.stderr!.write('err');
      return command[0] === 'fail' ? 1 : 0;
    },
  } as unknown as ContainerStreams;
  const p = pod([{ name: 'app', image: 'img' }]);
  const exec = streamsExecRunner(streams, p, 'app');
  assert.deepEqual(await runCheck({ exec: { command: ['ok'] } }, { podIP: '', exec }), { result: 'success', output: 'out err' });
  assert.deepEqual(await runCheck({ exec: { command: ['fail', '1'] } }, { podIP: '', exec }), { result: 'failure', output: 'out err' });
  assert.equal(calls[0].io.tty, false);
  const t0 = Date.now();
  assert.deepEqual(await runCheck({ exec: { command: ['hang', 'now'] }, timeoutSeconds: 1 }, { podIP: '', exec }), {
    result: 'failure',
    output: 'command "hang now" timed out',
  });
  assert.ok(Date.now() - t0 >= 900);
});
