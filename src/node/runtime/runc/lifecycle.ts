// The kubelet's decisions about a container's life, pure: whether an ended container starts again
// (restartPolicy, init containers, sidecars, the CrashLoopBackOff back-off), how its end is reported
// (terminated state and reason), the words of a failed hook, and the pod's host port mappings.
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../../api/core/pods.js';
import type { PortMapping } from '../../network/config.js';
import { decideRestart, type BackOffEntry, type BackOffPolicy } from '../../probes/backoff.js';
import { podDescription } from '../messages.js';
import type { ContainerExit } from './conmon.js';

/** An init container with restartPolicy Always: a sidecar, running beside the regular containers. */
export const isSidecar = (c: v1.Container) => c.restartPolicy === 'Always';

/** Whether a container that ended with `exitCode` is started again under the pod's restartPolicy. */
export const restarts = (policy: string, exitCode: number) => policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);

export type AfterExit =
  /** It stays ended. */
  | { kind: 'done' }
  /** CrashLoopBackOff until `until` (ms). */
  | { kind: 'wait'; backOffMs: number; until: number }
  /** Start it again now, keeping `entry` as its back-off. */
  | { kind: 'restart'; entry: BackOffEntry };

/**
 * What follows a container's end: a sidecar always restarts, an init container until it succeeds
 * (not under Never), a regular one as the policy says; a restart waits out the back-off.
 */
export function afterExit(
  c: v1.Container,
  isInit: boolean,
  policy: string,
  terminated: v1.ContainerStateTerminated,
  backOff: BackOffEntry | undefined,
  now: number,
  backOffPolicy: BackOffPolicy,
): AfterExit {
  if (!isSidecar(c)) {
    if (isInit && terminated.exitCode === 0) return { kind: 'done' };
    if (!restarts(isInit && policy === 'Always' ? 'OnFailure' : policy, terminated.exitCode)) return { kind: 'done' };
  }
  const decision = decideRestart(backOff, Date.parse(terminated.finishedAt ?? '') || now, now, backOffPolicy);
  return decision.restart ? { kind: 'restart', entry: decision.entry } : { kind: 'wait', backOffMs: decision.backOffMs, until: decision.until };
}

/** The terminated state of an instance that ran from `startedAt`: OOMKilled, Unknown (lost), Completed (0) or Error. */
export function terminatedState(exit: ContainerExit, startedAt: string | undefined, containerID: string | undefined, finishedAt: string): v1.ContainerStateTerminated {
  const reason = exit.oomKilled ? 'OOMKilled' : exit.lost ? 'Unknown' : exit.exitCode === 0 ? 'Completed' : 'Error';
  return { exitCode: exit.exitCode, reason, startedAt, finishedAt, containerID };
}

/** The kubelet's message for a failed lifecycle hook. */
export function hookFailure(pod: Pod, c: v1.Container, handler: v1.LifecycleHandler, why: string): string {
  const what = handler.exec ? `Exec lifecycle hook (${JSON.stringify(handler.exec.command ?? [])})` : handler.httpGet ? `HTTP lifecycle hook (${handler.httpGet.path ?? ''})` : 'Lifecycle hook';
  return `${what} for Container "${c.name}" in Pod "${podDescription(pod)}" failed - error: ${why}`;
}

/** The pod's hostPorts, for CNI's portmap plugin (the CRI's PortMappings). */
export function hostPortMappings(pod: Pod): PortMapping[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => p.hostPort)
      .map((p) => ({ hostPort: p.hostPort!, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase() as PortMapping['protocol'], ...(p.hostIP ? { hostIP: p.hostIP } : {}) })),
  );
}
