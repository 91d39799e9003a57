// The kubelet's wording for what happens to containers: its events, and the messages of
// container states, shared by every runtime so that `kubectl describe pod` reads the same.
import type { Pod } from '../../api/core/pods.js';
import type { RuntimeEvent } from './types.js';

const normal = (reason: string, message: string): RuntimeEvent => ({ type: 'Normal', reason, message });
const warning = (reason: string, message: string): RuntimeEvent => ({ type: 'Warning', reason, message });

/** `web-0_default(<uid>)`, as the kubelet names a pod in its messages. */
export function podDescription(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
}

export const events = {
  imagePresent: (image: string) => normal('Pulled', `Container image "${image}" already present on machine`),
  pulling: (image: string) => normal('Pulling', `Pulling image "${image}"`),
  pullFailed: (image: string, why: string) => warning('Failed', `Failed to pull image "${image}": ${why}`),
  errImagePull: () => warning('Failed', 'Error: ErrImagePull'),
  pullBackOff: (image: string) => normal('BackOff', `Back-off pulling image "${image}"`),
  errImagePullBackOff: () => warning('Failed', 'Error: ImagePullBackOff'),
  created: (container: string) => normal('Created', `Created container: ${container}`),
  started: (container: string) => normal('Started', `Started container ${container}`),
  killing: (container: string) => normal('Killing', `Stopping container ${container}`),
  crashBackOff: (container: string, pod: Pod) =>
    warning('BackOff', `Back-off restarting failed container ${container} in pod ${podDescription(pod)}`),
  readinessFailed: (output: string) => warning('Unhealthy', `Readiness probe failed: ${output}`),
};

/** The message of a container waiting in CrashLoopBackOff. */
export function crashLoopMessage(backOffSeconds: number, container: string, pod: Pod): string {
  return `back-off ${backOffDuration(backOffSeconds)} restarting failed container=${container} pod=${podDescription(pod)}`;
}

/** The message of a container waiting in ImagePullBackOff. */
export function pullBackOffMessage(image: string): string {
  return `Back-off pulling image "${image}"`;
}

/** Go's time.Duration formatting for whole seconds: 10s, 1m20s, 5m0s. */
function backOffDuration(seconds: number): string {
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}
