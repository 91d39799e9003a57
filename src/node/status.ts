// The pod status the kubelet reports, pure: phase (getPhase), the conditions the kubelet owns
// (pkg/kubelet/status/generate.go), addresses and container statuses from the runtime. What
// others set (qosClass, nominatedNodeName, conditions the kubelet does not own) is kept, and a
// condition keeps its transition time while its status stays, as the status manager does.
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../api/core/pods.js';
import type { Mutable } from '../api/types.js';
import type { ContainerStatus, PodRuntimeState } from './runtime/types.js';

type PodStatus = Mutable<v1.PodStatus>;
type PodCondition = Mutable<v1.PodCondition>;
type Container = v1.Container;

const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

const isRestartableInit = (c: Container) => c.restartPolicy === 'Always';
const find = (statuses: ContainerStatus[], name: string) => statuses.find((s) => s.name === name);
/** Go's %s of a []string. */
const goList = (names: string[]) => `[${names.join(' ')}]`;

/** Succeeded and Failed are final: a pod never leaves them. */
export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** HasAnyRegularContainerStarted: the pod was initialized once, even if sidecars restart since. */
function anyRegularStarted(pod: Pod, state: PodRuntimeState): boolean {
  return (pod.spec?.containers ?? []).some((c) => {
    const s = find(state.containerStatuses, c.name);
    return !!(s?.state?.running || s?.state?.terminated);
  });
}

/** kubelet's getPhase. `terminal`: the pod's containers will not be restarted. */
export function podPhase(pod: Pod, state: PodRuntimeState, terminal: boolean): string {
  const spec = pod.spec!;
  const init = state.initContainerStatuses;
  let pendingInitialization = 0;
  let failedInitialization = 0;
  for (const c of spec.initContainers ?? []) {
    if (isRestartableInit(c)) continue;
    const s = find(init, c.name);
    if (s?.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (s?.state?.waiting && s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInitialization++;
    } else {
      pendingInitialization++;
    }
  }

  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec.initContainers ?? []) {
    if (!isRestartableInit(c)) continue;
    const s = find(init, c.name);
    if (!s) unknown++;
    else if (s.state?.running) {
      if (!s.started) pendingInitialization++;
      running++;
    } else if (s.state?.terminated) {
      // Stopped sidecars do not count.
    } else if (s.state?.waiting) {
      // One waiting to restart does not count either; one never started holds the pod Pending.
      if (!s.lastState?.terminated) {
        pendingInitialization++;
        waiting++;
      }
    } else {
      pendingInitialization++;
      unknown++;
    }
  }
  for (const c of spec.containers ?? []) {
    const s = find(state.containerStatuses, c.name);
    if (!s) unknown++;
    else if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }

  if (failedInitialization > 0 && spec.restartPolicy === 'Never') return 'Failed';
  if ((pendingInitialization > 0 && !anyRegularStarted(pod, state)) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (spec.restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (spec.restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function initializedCondition(pod: Pod, state: PodRuntimeState, phase: string): PodCondition {
  const inits = pod.spec?.initContainers ?? [];
  if (!inits.length) return { type: 'Initialized', status: 'True' };
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of inits) {
    const s = find(state.initContainerStatuses, c.name);
    if (!s) unknown.push(c.name);
    else if (isRestartableInit(c) ? !s.started : !(s.state?.terminated && s.state.terminated.exitCode === 0)) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && !unknown.length) return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  if (anyRegularStarted(pod, state)) return { type: 'Initialized', status: 'True' };
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length) messages.push(`containers with incomplete status: ${goList(incomplete)}`);
  if (messages.length) return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: messages.join(', ') };
  return { type: 'Initialized', status: 'True' };
}

function containersReadyCondition(pod: Pod, state: PodRuntimeState, phase: string): PodCondition {
  const unknown: string[] = [];
  const unready: string[] = [];
  const check = (c: Container, statuses: ContainerStatus[]) => {
    const s = find(statuses, c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  };
  for (const c of pod.spec?.initContainers ?? []) if (isRestartableInit(c)) check(c, state.initContainerStatuses);
  for (const c of pod.spec?.containers ?? []) check(c, state.containerStatuses);
  if ((phase === 'Succeeded' && !unknown.length) || phase === 'Failed')
    return { type: 'ContainersReady', status: 'False', reason: phase === 'Failed' ? 'PodFailed' : 'PodCompleted' };
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length) messages.push(`containers with unready status: ${goList(unready)}`);
  if (messages.length) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: messages.join(', ') };
  return { type: 'ContainersReady', status: 'True' };
}

/** Ready: ContainersReady, then every readiness gate's condition True. */
function readyCondition(pod: Pod, containersReady: PodCondition, conditions: readonly PodCondition[]): PodCondition {
  if (containersReady.status !== 'True') return { ...containersReady, type: 'Ready' };
  const unready: string[] = [];
  for (const gate of pod.spec?.readinessGates ?? []) {
    const c = conditions.find((x) => x.type === gate.conditionType);
    if (!c) unready.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    else if (c.status !== 'True') unready.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
  }
  if (unready.length) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: unready.join(', ') };
  return { type: 'Ready', status: 'True' };
}

/** The status to report for `pod` given what its runtime says; `now` is an RFC 3339 time. */
export function podStatus(pod: Pod, state: PodRuntimeState, hostIP: string, now: string): PodStatus {
  const old = pod.status ?? {};
  // A terminal phase is final, as the kubelet's status manager keeps it.
  const phase = isTerminalPhase(old.phase) ? old.phase! : podPhase(pod, state, state.terminal);
  const others = (old.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type));
  const containersReady = containersReadyCondition(pod, state, phase);
  const generated: PodCondition[] = [
    { type: 'PodReadyToStartContainers', status: state.sandboxReady ? 'True' : 'False' },
    initializedCondition(pod, state, phase),
    readyCondition(pod, containersReady, others),
    containersReady,
    { type: 'PodScheduled', status: 'True' },
  ];
  const conditions = [
    ...others,
    ...generated.map((c) => {
      const prev = old.conditions?.find((o) => o.type === c.type);
      const since = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
      // Go writes the zero lastProbeTime as null.
      return { ...c, lastProbeTime: null, lastTransitionTime: since } as unknown as PodCondition;
    }),
  ];
  const status: PodStatus = {
    ...old,
    phase,
    conditions,
    hostIP,
    hostIPs: [{ ip: hostIP }],
    startTime: old.startTime ?? now,
    containerStatuses: state.containerStatuses,
  };
  if (state.podIP) {
    status.podIP = state.podIP;
    status.podIPs = [{ ip: state.podIP }];
  }
  if (pod.spec?.initContainers?.length) status.initContainerStatuses = state.initContainerStatuses;
  return status;
}
