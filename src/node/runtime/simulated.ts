// The simulated runtime: sandboxes and containers as bookkeeping, no processes. Pods get
// addresses from the pod range and containers go through the states a real runtime reports,
// instantly, so thousands of pods run on one machine for tests and benchmarks. What a pod's
// containers do is chosen by its `berth.dev/simulate` annotation (simulation.ts).
import { randomBytes } from 'node:crypto';
import type { Pod } from '../../api/core/pods.js';
import { isTerminalPhase } from '../status.js';
import { IPPool } from './ippool.js';
import {
  behaviourOf,
  completeInit,
  recoverContainer,
  stepContainer,
  stop,
  type SimContainer,
  type StepContext,
} from './simulation.js';
import type { PodRuntimeState, Runtime, RuntimeEvent, SyncResult } from './types.js';

/** How long a simulated container takes to exit on SIGTERM. */
const STOP_MS = 200;

interface Sandbox {
  ip?: string;
  ready: boolean;
  terminal: boolean;
  initContainers: Map<string, SimContainer>;
  containers: Map<string, SimContainer>;
}

export interface SimulatedRuntimeOptions {
  /** The range pod addresses come from. */
  podCIDR: string;
  /** The node's address, which host-network pods share. */
  hostIP: string;
  now?: () => number;
}

export class SimulatedRuntime implements Runtime {
  readonly info = { name: 'simulated', version: '1', maxPods: 10_000 };
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly pool: IPPool;
  private readonly now: () => number;

  constructor(private readonly opts: SimulatedRuntimeOptions) {
    this.pool = new IPPool(opts.podCIDR);
    this.now = opts.now ?? Date.now;
  }

  /** Rebuilds sandboxes from the pods' last reported status: the simulated containers "kept running". */
  async recover(pods: readonly Pod[]): Promise<void> {
    for (const pod of pods) {
      const uid = pod.metadata.uid!;
      const status = pod.status;
      if (!status?.podIP && !status?.containerStatuses?.length) continue;
      const terminal = isTerminalPhase(pod.status?.phase);
      if (status.podIP && !terminal && !pod.spec?.hostNetwork) this.pool.reserve(uid, status.podIP);
      const byName = (list: typeof status.containerStatuses) => new Map((list ?? []).map((s) => [s.name, recoverContainer(s)]));
      this.sandboxes.set(uid, {
        ip: status.podIP,
        ready: !terminal,
        terminal,
        initContainers: byName(status.initContainerStatuses),
        containers: byName(status.containerStatuses),
      });
    }
  }

  async syncPod(pod: Pod): Promise<SyncResult> {
    const uid = pod.metadata.uid!;
    let sandbox = this.sandboxes.get(uid);
    if (!sandbox) {
      const ip = pod.spec?.hostNetwork ? this.opts.hostIP : this.pool.allocate(uid);
      sandbox = { ip, ready: true, terminal: false, initContainers: new Map(), containers: new Map() };
      this.sandboxes.set(uid, sandbox);
    }
    const ctx = this.context(pod);
    if (!sandbox.terminal) {
      const behaviour = behaviourOf(pod);
      for (const c of pod.spec?.initContainers ?? []) {
        const prev = sandbox.initContainers.get(c.name);
        const next = c.restartPolicy === 'Always' ? stepContainer(prev, c, behaviour, ctx) : completeInit(prev, c, ctx);
        sandbox.initContainers.set(c.name, next);
      }
      for (const c of pod.spec?.containers ?? []) sandbox.containers.set(c.name, stepContainer(sandbox.containers.get(c.name), c, behaviour, ctx));
      if (behaviour === 'fail') this.removeSandbox(uid, sandbox);
    }
    return this.result(pod, sandbox, ctx.events);
  }

  async killPod(pod: Pod, gracePeriodSeconds: number): Promise<SyncResult> {
    const uid = pod.metadata.uid!;
    if (!this.sandboxes.has(uid)) return this.result(pod, { ready: false, terminal: true, initContainers: new Map(), containers: new Map() }, []);
    // Simulated processes exit on SIGTERM after a moment, as a server shutting down cleanly does (never
    // waiting out the grace period). Stopping at once would let a re-created pod of the same name appear
    // within kubectl's window between its GET and its watch, and `kubectl delete` would then wait forever.
    await new Promise((r) => setTimeout(r, Math.min(gracePeriodSeconds * 1000, STOP_MS)));
    const sandbox = this.sandboxes.get(uid);
    const ctx = this.context(pod);
    if (!sandbox) return this.result(pod, { ready: false, terminal: true, initContainers: new Map(), containers: new Map() }, []);
    for (const map of [sandbox.containers, sandbox.initContainers]) for (const [name, c] of map) map.set(name, stop(c, ctx));
    this.removeSandbox(uid, sandbox);
    return this.result(pod, sandbox, ctx.events);
  }

  async forgetPod(uid: string): Promise<void> {
    this.pool.release(uid);
    this.sandboxes.delete(uid);
  }

  private context(pod: Pod): StepContext {
    return { pod, now: this.now(), newId: () => randomBytes(32).toString('hex'), events: [] };
  }

  /** The sandbox goes and its address is released; the pod keeps reporting the address it had. */
  private removeSandbox(uid: string, sandbox: Sandbox): void {
    sandbox.terminal = true;
    sandbox.ready = false;
    this.pool.release(uid);
  }

  private result(pod: Pod, sandbox: Sandbox, events: RuntimeEvent[]): SyncResult {
    const statuses = (specs: { name: string }[] | undefined, map: Map<string, SimContainer>) =>
      (specs ?? []).flatMap((c) => {
        const sim = map.get(c.name);
        return sim ? [sim.status] : [];
      });
    const state: PodRuntimeState = {
      sandboxReady: sandbox.ready,
      podIP: sandbox.ip,
      initContainerStatuses: statuses(pod.spec?.initContainers, sandbox.initContainers),
      containerStatuses: statuses(pod.spec?.containers, sandbox.containers),
      terminal: sandbox.terminal,
    };
    let due: number | undefined;
    if (!sandbox.terminal)
      for (const map of [sandbox.initContainers, sandbox.containers])
        for (const c of map.values()) if (c.backOffUntil !== undefined) due = Math.min(due ?? Infinity, c.backOffUntil);
    const now = this.now();
    return { state, events, ...(due !== undefined && { resyncAfterMs: Math.max(0, due - now) }) };
  }
}
