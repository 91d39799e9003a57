// One probe worker's state machine, as the kubelet's prober runs it (pkg/kubelet/prober:
// worker.go's doProbe, results' initial values, prober_manager's started/ready). Pure: the
// caller owns the clock, runs the checks (check.ts) and acts on the decisions.
//
// The kubelet's ticker runs from the worker's start and skips ticks inside the initial delay,
// so its first probe lands somewhere within a period after the delay; here the ticker is
// anchored at the container's start plus the delay, which is deterministic and as early.
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { RuntimeEvent } from '../runtime/types.js';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';
export type ProbeResult = 'success' | 'failure' | 'unknown';

/** What one check (check.ts) found. */
export interface ProbeOutcome {
  /** `unknown`: the probe itself errored; the kubelet throws such a result away. */
  result: ProbeResult;
  output: string;
  /** A success with a warning (an HTTP redirect not followed), reported as ProbeWarning. */
  warning?: boolean;
}

/** A probe's spec with the API's defaults applied. */
export interface ProbeTiming {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  /** Liveness and startup only: the grace period of the kill a failure causes, when set. */
  terminationGracePeriodSeconds?: number;
}

export function probeTiming(kind: ProbeKind, probe: v1.Probe): ProbeTiming {
  return {
    initialDelaySeconds: probe.initialDelaySeconds ?? 0,
    periodSeconds: probe.periodSeconds ?? 10,
    timeoutSeconds: probe.timeoutSeconds ?? 1,
    // The API rejects anything but 1 for liveness and startup; a stored one is read as 1.
    successThreshold: kind === 'readiness' ? (probe.successThreshold ?? 1) : 1,
    failureThreshold: probe.failureThreshold ?? 3,
    terminationGracePeriodSeconds: kind === 'readiness' ? undefined : (probe.terminationGracePeriodSeconds ?? undefined),
  };
}

/** The results manager's value before a container's first conclusive probe. */
export function initialResult(kind: ProbeKind): ProbeResult {
  return kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown';
}

/** The container a worker probes, as the runtime last reported it. */
export interface ProbedContainer {
  /** The ID of the container's current instance: a new ID is a new instance, probed afresh. */
  id: string;
  running: boolean;
  /** When the current instance started running, ms since the epoch. */
  startedAt?: number;
  /** The startup probe has succeeded, or there is none (prober_manager's `started`). */
  started: boolean;
  /** The pod is being deleted: liveness and startup report success, so nothing is restarted. */
  podDeleting?: boolean;
}

export interface ProbeWorker {
  readonly kind: ProbeKind;
  readonly container: string;
  readonly timing: ProbeTiming;
  /** The pod's, used when the probe sets none. */
  readonly podGracePeriodSeconds: number;
  readonly restartPolicy: string;
  /** The instance the state below is about. */
  containerID?: string;
  /** The current (cached) result, what the pod's status reports. */
  result: ProbeResult;
  /** The run of equal conclusive results the thresholds count. */
  lastResult?: ProbeResult;
  resultRun: number;
  /** A liveness or startup failure was reported: nothing more until the container is replaced. */
  onHold: boolean;
  /** When the next probe is due, ms since the epoch. */
  nextProbeAt?: number;
}

export interface WorkerOptions {
  container: string;
  podGracePeriodSeconds?: number;
  restartPolicy?: string;
}

export function newProbeWorker(kind: ProbeKind, probe: v1.Probe, opts: WorkerOptions): ProbeWorker {
  return {
    kind,
    container: opts.container,
    timing: probeTiming(kind, probe),
    podGracePeriodSeconds: opts.podGracePeriodSeconds ?? 30,
    restartPolicy: opts.restartPolicy ?? 'Always',
    result: initialResult(kind),
    resultRun: 0,
    onHold: false,
  };
}

export interface ObserveResult {
  worker: ProbeWorker;
  /** Run the check now, then pass its outcome to `recordOutcome`. */
  probe: boolean;
  /** Observe again at this time (ms) at the latest; none: only once the container changes. */
  nextAt?: number;
}

/** doProbe up to the check: what the worker does about the container as it is at `now`. */
export function observe(worker: ProbeWorker, c: ProbedContainer, now: number): ObserveResult {
  let w = worker;
  if (w.containerID !== c.id) {
    // A new instance: its results start over, and a hold from the previous one ends.
    w = { ...w, containerID: c.id, result: initialResult(w.kind), lastResult: undefined, resultRun: 0, onHold: false, nextProbeAt: undefined };
  }
  if (w.onHold) return { worker: w, probe: false };
  if (!c.running) {
    // A stopped container fails every probe; probing resumes with its next instance.
    return { worker: w.result === 'failure' ? w : { ...w, result: 'failure' }, probe: false };
  }
  if (c.podDeleting && w.kind !== 'readiness') {
    return { worker: w.result === 'success' ? w : { ...w, result: 'success' }, probe: false };
  }
  // The first tick: the initial delay after the instance started running.
  if (w.nextProbeAt === undefined) w = { ...w, nextProbeAt: (c.startedAt ?? now) + w.timing.initialDelaySeconds * 1000 };
  const tick = w.nextProbeAt!;
  if (now < tick) return { worker: w, probe: false, nextAt: tick };
  const period = w.timing.periodSeconds * 1000;
  // Startup stops once the container started; the others wait for that.
  if (w.kind === 'startup' ? c.started : !c.started) return { worker: { ...w, nextProbeAt: now + period }, probe: false, nextAt: now + period };
  return { worker: w, probe: true };
}

export interface RestartDecision {
  /** The Killing event: `Container x failed liveness probe, will be restarted`. */
  event: RuntimeEvent;
  gracePeriodSeconds: number;
}

export interface RecordResult {
  worker: ProbeWorker;
  events: RuntimeEvent[];
  /** The result changed (the pod's status may need writing). */
  changed: boolean;
  /** A liveness or startup failure reached its threshold: the container must be killed. */
  kill?: RestartDecision;
  nextAt: number;
}

const KIND_NAMES: Record<ProbeKind, string> = { startup: 'Startup', readiness: 'Readiness', liveness: 'Liveness' };

/** doProbe after the check that started at `at` (ms): thresholds, the cached result, events. */
export function recordOutcome(worker: ProbeWorker, outcome: ProbeOutcome, at: number): RecordResult {
  const kind = KIND_NAMES[worker.kind];
  const nextAt = at + worker.timing.periodSeconds * 1000;
  const events: RuntimeEvent[] = [];
  const warning = (reason: string, message: string) => events.push({ type: 'Warning', reason, message });
  let w: ProbeWorker = { ...worker, nextProbeAt: nextAt };
  if (outcome.result === 'unknown') {
    // A probe that errored says nothing about the container: its result is thrown away.
    warning('Unhealthy', `${kind} probe errored and resulted in unknown state: ${outcome.output}`);
    return { worker: w, events, changed: false, nextAt };
  }
  if (outcome.result === 'failure') warning('Unhealthy', `${kind} probe failed: ${outcome.output}`);
  else if (outcome.warning) warning('ProbeWarning', `${kind} probe warning: ${outcome.output}`);

  if (w.lastResult === outcome.result) w.resultRun++;
  else Object.assign(w, { lastResult: outcome.result, resultRun: 1 });
  const threshold = outcome.result === 'failure' ? w.timing.failureThreshold : w.timing.successThreshold;
  if (w.resultRun < threshold) return { worker: w, events, changed: false, nextAt };

  const changed = w.result !== outcome.result;
  w.result = outcome.result;
  if (outcome.result === 'success' || w.kind === 'readiness') return { worker: w, events, changed, nextAt };
  // Liveness or startup failed: the container is killed; probing waits for its next instance.
  w = { ...w, onHold: true, resultRun: 0 };
  // kuberuntime's computePodActions: the restart is announced only when the policy allows it.
  const failed = `Container ${w.container} failed ${w.kind} probe`;
  const message = w.restartPolicy === 'Never' ? failed : `${failed}, will be restarted`;
  return {
    worker: w,
    events,
    changed,
    nextAt,
    kill: {
      event: { type: 'Normal', reason: 'Killing', message },
      gracePeriodSeconds: w.timing.terminationGracePeriodSeconds ?? w.podGracePeriodSeconds,
    },
  };
}

/** prober_manager's UpdatePodStatus for one container: `started`, then `ready` (only once started). */
export function containerProbeStatus(
  running: boolean,
  workers: { startup?: ProbeWorker; readiness?: ProbeWorker },
): { started: boolean; ready: boolean } {
  const started = running && (workers.startup ? workers.startup.result === 'success' : true);
  const ready = started && (workers.readiness ? workers.readiness.result === 'success' : true);
  return { started, ready };
}
