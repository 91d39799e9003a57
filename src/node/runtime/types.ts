// What the node agent needs from a container runtime. The agent owns the Kubernetes side (pod
// status, conditions, phase, events, deletion); a runtime owns sandboxes (the pod's network
// namespace and address) and containers, and reports them in the API's terms. Implemented by
// the simulated runtime, and by the runc runtime to come.
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../../api/types.js';
import type { Pod } from '../../api/core/pods.js';
import type { ContainerStreams } from '../streams/types.js';

export type ContainerStatus = Mutable<v1.ContainerStatus>;

export interface RuntimeInfo {
  /** The scheme of container IDs and of the node's containerRuntimeVersion (`<name>://<version>`). */
  name: string;
  version: string;
  /** How many pods the node takes (its `pods` capacity). */
  maxPods: number;
}

/** Something the runtime did to a pod, reported as the kubelet's event about it. */
export interface RuntimeEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** A pod as its runtime sees it. */
export interface PodRuntimeState {
  /** The sandbox exists and has its network (the PodReadyToStartContainers condition). */
  sandboxReady: boolean;
  /** The pod's address, once its sandbox has one; kept after the sandbox is gone. */
  podIP?: string;
  /** Per container of the spec, in spec order; a container not yet created is missing. */
  initContainerStatuses: ContainerStatus[];
  containerStatuses: ContainerStatus[];
  /** The pod is finished for good: its containers will not run again, whatever the restart policy. */
  terminal: boolean;
}

export interface SyncResult {
  state: PodRuntimeState;
  events: RuntimeEvent[];
  /** Sync the pod again after this many ms, when something is due then (a back-off ending). */
  resyncAfterMs?: number;
}

export interface Runtime {
  readonly info: RuntimeInfo;
  /**
   * Called once, before any sync, with the pods bound to this node: what they already have
   * (addresses, running containers) is kept, and whatever belongs to no pod in the list is removed.
   */
  recover(pods: readonly Pod[]): Promise<void>;
  /** Brings the pod's sandbox and containers to what its spec asks; idempotent and cheap when nothing is due. */
  syncPod(pod: Pod): Promise<SyncResult>;
  /** Stops the pod's containers (forcibly after the grace period) and removes its sandbox; idempotent. */
  killPod(pod: Pod, gracePeriodSeconds: number): Promise<SyncResult>;
  /** Releases everything still held for a pod that is gone from the API. */
  forgetPod(uid: string): Promise<void>;
  /** exec, attach, port-forward and logs into the pods' containers; absent where pods are not processes. */
  readonly streams?: ContainerStreams;
  /**
   * Stops one running container (a failed liveness or startup probe): `message` becomes the Killing
   * event; the container then restarts as its pod's restartPolicy says. Absent where pods are not processes.
   */
  killContainer?(pod: Pod, container: string, gracePeriodSeconds: number, message: string): Promise<void>;
}
