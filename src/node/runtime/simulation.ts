// What the simulated runtime's containers do, pure. A pod's `berth.dev/simulate` annotation
// chooses the outcome of its containers (the simulated runtime's equivalent of the e2e suite
// pausing or breaking pods); each step moves a container towards that outcome the way the
// kubelet and a real runtime would get there, with the states, restart counts and events
// Kubernetes reports.
import { createHash } from 'node:crypto';
import type { Container } from '../../api/core/podspec.js';
import { nowTimestamp } from '../../machinery/objects.js';
import type { Pod } from '../../api/core/pods.js';
import { crashLoopMessage, events, pullBackOffMessage } from './messages.js';
import type { ContainerStatus, RuntimeEvent } from './types.js';

export const SIMULATE_ANNOTATION = 'berth.dev/simulate';

export const BEHAVIOURS = ['ready', 'unready', 'fail', 'crashloop', 'imagepullerror'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** The kubelet's container restart back-off: 10 s doubling to 5 min. */
export const INITIAL_BACKOFF_S = 10;
export const MAX_BACKOFF_S = 300;

const FAILURE = `simulated by ${SIMULATE_ANNOTATION}`;

/** The pod's simulated outcome; absent or unknown values mean `ready`. */
export function behaviourOf(pod: Pod): Behaviour {
  const value = pod.metadata.annotations?.[SIMULATE_ANNOTATION];
  return (BEHAVIOURS as readonly string[]).includes(value ?? '') ? (value as Behaviour) : 'ready';
}

export interface SimContainer {
  status: ContainerStatus;
  /** While in CrashLoopBackOff: the current back-off, and when it ends (ms since the epoch). */
  backOffSeconds?: number;
  backOffUntil?: number;
}

/** What a step needs besides the container: the pod, the time, fresh IDs, and where events go. */
export interface StepContext {
  pod: Pod;
  now: number;
  newId(): string;
  events: RuntimeEvent[];
}

/** A stable, digest-shaped image ID: the simulated runtime has every image "present". */
export function imageID(image: string): string {
  const repo = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  return `${repo}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

function base(c: Container, prev: SimContainer | undefined, containerID: string | undefined): ContainerStatus {
  return {
    name: c.name,
    image: c.image ?? '',
    imageID: imageID(c.image ?? ''),
    ...(containerID && { containerID }),
    ready: false,
    started: false,
    restartCount: prev?.status.restartCount ?? 0,
    state: {},
    lastState: prev?.status.lastState ?? {},
  };
}

/** Creates and starts a new instance; a container that ran before counts a restart. */
function run(prev: SimContainer | undefined, c: Container, ctx: StepContext, ready: boolean): SimContainer {
  ctx.events.push(events.imagePresent(c.image ?? ''), events.created(c.name), events.started(c.name));
  const status = base(c, prev, `simulated://${ctx.newId()}`);
  if (prev?.status.containerID) status.restartCount = (prev.status.restartCount ?? 0) + 1;
  const last = prev?.status.state?.terminated;
  if (last) status.lastState = { terminated: last };
  status.ready = ready;
  status.started = true;
  status.state = { running: { startedAt: nowTimestamp(ctx.now) } };
  return { status };
}

/** Stops a running instance as SIGTERM stops a well-behaved process. */
export function stop(prev: SimContainer, ctx: StepContext): SimContainer {
  const running = prev.status.state?.running;
  if (!running) return prev;
  ctx.events.push(events.killing(prev.status.name));
  const terminated = {
    exitCode: 0,
    reason: 'Completed',
    startedAt: running.startedAt,
    finishedAt: nowTimestamp(ctx.now),
    containerID: prev.status.containerID,
  };
  return { status: { ...prev.status, ready: false, started: false, state: { terminated } } };
}

/**
 * Starts an instance that exits with 1 at once, is restarted, and exits again: the container
 * then waits out its back-off in CrashLoopBackOff.
 */
function crash(prev: SimContainer | undefined, c: Container, ctx: StepContext, backOffSeconds: number): SimContainer {
  const containerID = `simulated://${ctx.newId()}`;
  const at = nowTimestamp(ctx.now);
  ctx.events.push(
    events.imagePresent(c.image ?? ''),
    events.created(c.name),
    events.started(c.name),
    events.crashBackOff(c.name, ctx.pod),
  );
  const status = base(c, prev, containerID);
  status.restartCount = (prev?.status.restartCount ?? 0) + 1;
  status.state = { waiting: { reason: 'CrashLoopBackOff', message: crashLoopMessage(backOffSeconds, c.name, ctx.pod) } };
  status.lastState = { terminated: { exitCode: 1, reason: 'Error', startedAt: at, finishedAt: at, containerID } };
  return { status, backOffSeconds, backOffUntil: ctx.now + backOffSeconds * 1000 };
}

/** The instance (started now if it is not running) exits with 1, for good. */
function fail(prev: SimContainer | undefined, c: Container, ctx: StepContext): SimContainer {
  const running = prev?.status.state?.running;
  const current = running ? prev : run(prev, c, ctx, false);
  const startedAt = current.status.state?.running?.startedAt;
  const terminated = { exitCode: 1, reason: 'Error', startedAt, finishedAt: nowTimestamp(ctx.now), containerID: current.status.containerID };
  return { status: { ...current.status, ready: false, started: false, state: { terminated } } };
}

/** The image cannot be pulled: the container waits in ImagePullBackOff. */
function pullFailure(prev: SimContainer | undefined, c: Container, ctx: StepContext): SimContainer {
  const image = c.image ?? '';
  const stopped = prev && stop(prev, ctx);
  ctx.events.push(
    events.pulling(image),
    events.pullFailed(image, FAILURE),
    events.errImagePull(),
    events.pullBackOff(image),
    events.errImagePullBackOff(),
  );
  const status = base(c, stopped, stopped?.status.containerID);
  const last = stopped?.status.state?.terminated;
  if (last) status.lastState = { terminated: last };
  status.state = { waiting: { reason: 'ImagePullBackOff', message: pullBackOffMessage(image) } };
  return { status };
}

/** One step of a container (or restartable init container) towards the pod's behaviour. */
export function stepContainer(prev: SimContainer | undefined, c: Container, behaviour: Behaviour, ctx: StepContext): SimContainer {
  const state = prev?.status.state;
  if (state?.terminated) return prev!;
  switch (behaviour) {
    case 'ready':
    case 'unready': {
      const ready = behaviour === 'ready';
      if (!state?.running) return run(prev, c, ctx, ready);
      // A changed image means a new instance, as the kubelet restarts a container whose spec changed.
      if (prev!.status.image !== c.image) return run(stop(prev!, ctx), c, ctx, ready);
      if (prev!.status.ready === ready) return prev!;
      if (!ready) ctx.events.push(events.readinessFailed(FAILURE));
      return { status: { ...prev!.status, ready } };
    }
    case 'crashloop': {
      if (state?.waiting?.reason !== 'CrashLoopBackOff') return crash(prev, c, ctx, INITIAL_BACKOFF_S);
      if (ctx.now < (prev!.backOffUntil ?? 0)) return prev!;
      return crash(prev, c, ctx, Math.min((prev!.backOffSeconds ?? INITIAL_BACKOFF_S) * 2, MAX_BACKOFF_S));
    }
    case 'imagepullerror':
      return state?.waiting?.reason === 'ImagePullBackOff' ? prev! : pullFailure(prev, c, ctx);
    case 'fail':
      return fail(prev, c, ctx);
  }
}

/** An init container runs to completion, once. */
export function completeInit(prev: SimContainer | undefined, c: Container, ctx: StepContext): SimContainer {
  if (prev) return prev;
  const ran = run(undefined, c, ctx, false);
  const startedAt = ran.status.state!.running!.startedAt;
  const terminated = { exitCode: 0, reason: 'Completed', startedAt, finishedAt: nowTimestamp(ctx.now), containerID: ran.status.containerID };
  return { status: { ...ran.status, ready: true, started: false, state: { terminated } } };
}

/** A container as its last reported status describes it (after a restart of berth). */
export function recoverContainer(status: ContainerStatus): SimContainer {
  const sim: SimContainer = { status: structuredClone(status) };
  if (status.state?.waiting?.reason === 'CrashLoopBackOff') {
    const restarts = Math.max(status.restartCount ?? 1, 1);
    sim.backOffSeconds = Math.min(INITIAL_BACKOFF_S * 2 ** (restarts - 1), MAX_BACKOFF_S);
    const finished = Date.parse(status.lastState?.terminated?.finishedAt ?? '') || 0;
    sim.backOffUntil = finished + sim.backOffSeconds * 1000;
  }
  return sim;
}
