// The prober manager (the kubelet's pkg/kubelet/prober: prober_manager and its workers): one
// worker per (pod, container, probe kind) for the containers that have probes, each on its own
// timer (initial delay, then one check per period), its state machine in state.ts, its checks
// injected (check.ts in the agent, fakes in tests). Results are cached per worker and read by the
// agent when it reports the pod's status (`apply`): `started` from the startup probe, `ready`
// from the readiness probe. A result the status shows that changes calls `changed`, so the agent
// syncs the pod and writes its status at once; a liveness or startup failure calls `kill`.
//
// Workers follow the container instance the runtime last reported (`update`, after each sync):
// a new container ID starts a worker's results over, a stopped container is not probed, and the
// workers of a container that left the spec or of a pod that is gone (`removePod`) stop.
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../api/core/pods.js';
import type { ContainerStatus, PodRuntimeState, RuntimeEvent } from '../runtime/types.js';
import {
  containerProbeStatus,
  initialResult,
  newProbeWorker,
  observe,
  recordOutcome,
  type ProbeKind,
  type ProbedContainer,
  type ProbeOutcome,
  type ProbeWorker,
} from './state.js';

export interface ProbeClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: ProbeClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ProbeManagerDeps {
  /** Runs one check of `probe` against the container (check.ts's runCheck in the agent). */
  check(pod: Pod, container: v1.Container, probe: v1.Probe, kind: ProbeKind, podIP: string | undefined): Promise<ProbeOutcome>;
  /** A result the pod's status shows (started, ready) changed: sync the pod and report its status. */
  changed(pod: Pod): void;
  /** Events to record about the pod (Unhealthy, ProbeWarning). */
  events(pod: Pod, events: RuntimeEvent[]): void;
  /** A liveness or startup probe failed: kill the container (`message` is the Killing event's). */
  kill(pod: Pod, container: string, gracePeriodSeconds: number, message: string): void;
  clock?: ProbeClock;
}

const KINDS: readonly ProbeKind[] = ['startup', 'readiness', 'liveness'];

function probeOf(c: v1.Container, kind: ProbeKind): v1.Probe | undefined {
  return kind === 'startup' ? c.startupProbe : kind === 'readiness' ? c.readinessProbe : c.livenessProbe;
}

/** The containers the kubelet probes: the regular ones and the restartable init containers (sidecars). */
export function probedContainers(pod: Pod): { spec: v1.Container; init: boolean }[] {
  return [
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((spec) => ({ spec, init: true })),
    ...(pod.spec?.containers ?? []).map((spec) => ({ spec, init: false })),
  ];
}

const hasProbes = (c: v1.Container) => !!(c.startupProbe || c.readinessProbe || c.livenessProbe);

/** The container instance a status describes, as the workers see it; none before it was created. */
export function instanceOf(status: ContainerStatus | undefined): Omit<ProbedContainer, 'started'> | undefined {
  if (!status?.containerID) return undefined;
  const running = status.state?.running;
  const startedAt = running?.startedAt ? Date.parse(running.startedAt) : undefined;
  return { id: status.containerID, running: !!running, ...(startedAt !== undefined && !Number.isNaN(startedAt) && { startedAt }) };
}

/** A worker's result for the instance `id`: a worker that has not seen that instance yet holds the initial one. */
function resultFor(w: ProbeWorker | undefined, id: string | undefined): ProbeWorker | undefined {
  if (!w || w.containerID === id) return w;
  return { ...w, result: initialResult(w.kind) };
}

/**
 * A container's status with `started` and `ready` as its probes say (prober_manager's
 * UpdatePodStatus). A container without probes keeps what the runtime reported.
 */
export function applyProbeResults(status: ContainerStatus, workers: { startup?: ProbeWorker; readiness?: ProbeWorker }): ContainerStatus {
  if (!workers.startup && !workers.readiness) return status;
  const id = status.containerID ?? undefined;
  const { started, ready } = containerProbeStatus(!!status.state?.running, {
    startup: resultFor(workers.startup, id),
    readiness: resultFor(workers.readiness, id),
  });
  if (status.started === started && status.ready === ready) return status;
  return { ...status, started, ready };
}

interface Worker {
  readonly kind: ProbeKind;
  readonly probe: v1.Probe;
  state: ProbeWorker;
  timer?: unknown;
  /** A check is running: the worker observes again once it is recorded. */
  inFlight: boolean;
  stopped: boolean;
}

interface ProbedEntry {
  spec: v1.Container;
  /** The instance the runtime last reported; none before the container was created. */
  instance?: Omit<ProbedContainer, 'started'>;
  workers: Partial<Record<ProbeKind, Worker>>;
}

interface PodEntry {
  pod: Pod;
  podIP?: string;
  containers: Map<string, ProbedEntry>;
}

export class ProbeManager {
  private readonly pods = new Map<string, PodEntry>();
  private readonly clock: ProbeClock;

  constructor(private readonly deps: ProbeManagerDeps) {
    this.clock = deps.clock ?? realClock;
  }

  /**
   * After a sync: the pod as the runtime left it. Starts the workers of containers with probes,
   * moves them to the instances reported, stops those of containers gone from the spec, and
   * returns the state with `started` and `ready` as the probes say.
   */
  update(pod: Pod, state: PodRuntimeState): PodRuntimeState {
    const uid = pod.metadata.uid!;
    let entry = this.pods.get(uid);
    const probed = probedContainers(pod).filter((c) => hasProbes(c.spec));
    if (!probed.length) {
      if (entry) this.removePod(uid);
      return state;
    }
    if (!entry) {
      entry = { pod, containers: new Map() };
      this.pods.set(uid, entry);
    }
    entry.pod = pod;
    entry.podIP = state.podIP ?? entry.podIP;
    const names = new Set(probed.map((c) => c.spec.name));
    for (const [name, c] of entry.containers) {
      if (names.has(name)) continue;
      for (const w of Object.values(c.workers)) this.stopWorker(w);
      entry.containers.delete(name);
    }
    const touched: ProbedEntry[] = [];
    for (const { spec, init } of probed) {
      let c = entry.containers.get(spec.name);
      if (!c) {
        c = { spec, workers: {} };
        entry.containers.set(spec.name, c);
        for (const kind of KINDS) {
          const probe = probeOf(spec, kind);
          if (!probe) continue;
          const state = newProbeWorker(kind, probe, {
            container: spec.name,
            podGracePeriodSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
            restartPolicy: init ? 'Always' : pod.spec?.restartPolicy,
          });
          c.workers[kind] = { kind, probe, state, inFlight: false, stopped: false };
        }
      }
      const status = (init ? state.initContainerStatuses : state.containerStatuses).find((s) => s.name === spec.name);
      const instance = instanceOf(status);
      const same = c.instance?.id === instance?.id && c.instance?.running === instance?.running && c.instance?.startedAt === instance?.startedAt;
      c.instance = instance;
      if (!same) touched.push(c);
    }
    // The status returned already shows what these observations find: no `changed` for them.
    for (const c of touched) for (const kind of KINDS) if (c.workers[kind]) this.step(entry, c, c.workers[kind]!, false);
    // prober_manager's UpdatePodStatus: a started container not ready yet has its readiness probed now.
    for (const c of entry.containers.values()) this.triggerReadiness(entry, c);
    return this.apply(pod, state);
  }

  /** The state with each probed container's `started` and `ready` from its workers' cached results. */
  apply(pod: Pod, state: PodRuntimeState): PodRuntimeState {
    const entry = this.pods.get(pod.metadata.uid!);
    if (!entry) return state;
    const map = (statuses: ContainerStatus[]) =>
      statuses.map((s) => {
        const c = entry.containers.get(s.name);
        return c ? applyProbeResults(s, { startup: c.workers.startup?.state, readiness: c.workers.readiness?.state }) : s;
      });
    return { ...state, containerStatuses: map(state.containerStatuses), initContainerStatuses: map(state.initContainerStatuses) };
  }

  /** The pod is gone, finished or being deleted: its workers stop. */
  removePod(uid: string): void {
    const entry = this.pods.get(uid);
    if (!entry) return;
    this.pods.delete(uid);
    for (const c of entry.containers.values()) for (const w of Object.values(c.workers)) this.stopWorker(w);
  }

  stop(): void {
    for (const uid of [...this.pods.keys()]) this.removePod(uid);
  }

  /** How many workers run (tests, metrics). */
  get workerCount(): number {
    let n = 0;
    for (const e of this.pods.values()) for (const c of e.containers.values()) n += Object.keys(c.workers).length;
    return n;
  }

  private stopWorker(w: Worker): void {
    w.stopped = true;
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    w.timer = undefined;
  }

  private schedule(entry: PodEntry, c: ProbedEntry, w: Worker, at: number | undefined): void {
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    w.timer = undefined;
    if (at === undefined || w.stopped) return;
    w.timer = this.clock.setTimeout(() => {
      w.timer = undefined;
      this.step(entry, c, w, true);
    }, Math.max(0, at - this.clock.now()));
  }

  /**
   * Runs the readiness probe of a started, running, unready container now rather than at its next
   * tick (the kubelet's manual trigger), the initial delay still respected.
   */
  private triggerReadiness(entry: PodEntry, c: ProbedEntry): void {
    const w = c.workers.readiness;
    const container = this.probed(entry, c);
    if (!w || w.stopped || w.inFlight || !container?.running || !container.started) return;
    if (w.state.containerID !== container.id || w.state.result === 'success' || w.state.nextProbeAt === undefined) return;
    const now = this.clock.now();
    const earliest = Math.max(now, (container.startedAt ?? now) + w.state.timing.initialDelaySeconds * 1000);
    if (earliest < w.state.nextProbeAt) w.state = { ...w.state, nextProbeAt: earliest };
    this.step(entry, c, w, true);
  }

  /** The container as a worker observes it: `started` is the startup worker's verdict. */
  private probed(entry: PodEntry, c: ProbedEntry): ProbedContainer | undefined {
    if (!c.instance) return undefined;
    const startup = resultFor(c.workers.startup?.state, c.instance.id);
    return {
      ...c.instance,
      started: startup ? startup.result === 'success' : true,
      podDeleting: !!entry.pod.metadata.deletionTimestamp,
    };
  }

  /** One turn of a worker: observe the container; when a check is due, run it and record its outcome. */
  private step(entry: PodEntry, c: ProbedEntry, w: Worker, notify: boolean): void {
    if (w.stopped || w.inFlight) return;
    const container = this.probed(entry, c);
    if (!container) return this.schedule(entry, c, w, undefined);
    const before = w.state.result;
    const o = observe(w.state, container, this.clock.now());
    w.state = o.worker;
    if (notify && w.kind !== 'liveness' && w.state.result !== before) this.deps.changed(entry.pod);
    if (!o.probe) return this.schedule(entry, c, w, o.nextAt);
    this.schedule(entry, c, w, undefined);
    w.inFlight = true;
    const at = this.clock.now();
    const id = container.id;
    const record = (outcome: ProbeOutcome) => {
      w.inFlight = false;
      if (w.stopped) return;
      // The instance changed while the check ran: its outcome is about the old one.
      if (c.instance?.id !== id || !c.instance.running) return this.step(entry, c, w, true);
      const r = recordOutcome(w.state, outcome, at);
      w.state = r.worker;
      if (r.events.length) this.deps.events(entry.pod, r.events);
      if (r.changed && w.kind !== 'liveness') this.deps.changed(entry.pod);
      if (r.kill) this.deps.kill(entry.pod, c.spec.name, r.kill.gracePeriodSeconds, r.kill.event.message);
      this.schedule(entry, c, w, r.nextAt);
      // Started: readiness need not wait for its next tick.
      if (r.changed && w.kind === 'startup' && w.state.result === 'success') this.triggerReadiness(entry, c);
    };
    let pending: Promise<ProbeOutcome>;
    try {
      pending = this.deps.check(entry.pod, c.spec, w.probe, w.kind, entry.podIP);
    } catch (err) {
      pending = Promise.resolve({ result: 'unknown', output: err instanceof Error ? err.message : String(err) });
    }
    pending.then(record, (err: unknown) => record({ result: 'unknown', output: err instanceof Error ? err.message : String(err) }));
  }
}
