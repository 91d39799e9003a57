// The scheduler's wiring: informers on pods, nodes and claims; a queue of pods to place; workers
// that decide (decide.ts) and bind through the pods/binding subresource. A pod that fits nowhere
// gets PodScheduled=False and a FailedScheduling event, and is tried again with back-off and
// whenever a node or claim changes or a pod leaves a node, as kube-scheduler's queue moves
// unschedulable pods. Each node's pod count and summed requests are kept up to date from the
// informer and from the binds in flight, so a decision reads them instead of listing pods.
import { podHostPorts } from './hostports.js';
import type { Logger } from 'pino';
import type { Node } from '../api/core/nodes.js';
import type { PersistentVolumeClaim } from '../api/core/persistentvolumeclaims.js';
import type { PersistentVolume } from '../api/core/persistentvolumes.js';
import type { StorageClass } from '../api/storage/storageclasses.js';
import type { Pod } from '../api/core/pods.js';
import type { Client, ResourceClient } from '../client/client.js';
import { EventRecorder } from '../client/events.js';
import { Informer, objectKey } from '../client/informer.js';
import { SetIndex } from '../client/setindex.js';
import { ItemExponentialFailureRateLimiter, runWorker, WorkQueue } from '../client/workqueue.js';
import { isStatusError } from '../machinery/errors.js';
import { nowTimestamp } from '../machinery/objects.js';
import { isTerminalPhase } from '../node/status.js';
import {
  DEFAULT_SCHEDULER,
  claimNames,
  needsScheduling,
  schedule,
  schedulingInputsChanged,
  unschedulableCondition,
} from './decide.js';
import { addResources, podRequests, type Resources } from './resources.js';

/** kube-scheduler's pod back-off: 1 s doubling to 10 s. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 10_000;

const SELECTED_NODE = 'volume.kubernetes.io/selected-node';

/** Thrown by a sync to have the pod retried with back-off. */
class Unschedulable extends Error {}

export class Scheduler {
  private readonly pods: ResourceClient<Pod>;
  private readonly claims: ResourceClient<PersistentVolumeClaim>;
  private readonly podInformer: Informer<Pod>;
  private readonly nodeInformer: Informer<Node>;
  private readonly claimInformer: Informer<PersistentVolumeClaim>;
  private readonly volumeInformer: Informer<PersistentVolume>;
  private readonly classInformer: Informer<StorageClass>;
  private readonly queue = new WorkQueue<string>({ rateLimiter: new ItemExponentialFailureRateLimiter(BACKOFF_BASE_MS, BACKOFF_MAX_MS) });
  private readonly events: EventRecorder;
  /** The node each pod counts against, by pod uid: bound pods, and pods this scheduler is binding; with what it requests. */
  private readonly placed = new Map<string, { node: string; requests: Resources; hostPorts: string[] }>();
  private readonly assumed = new Set<string>();
  private readonly counts = new Map<string, number>();
  /** The requests of the pods counted on each node, summed (NodeInfo.Requested). */
  private readonly requested = new Map<string, Resources>();
  /** Host ports held per node, counted by pods. */
  private readonly hostPorts = new Map<string, Map<string, number>>();
  /** Claim key (`namespace/name`) → uids of pods placed on a node that use it. */
  private readonly claimHolders = new SetIndex();
  /** Claim key (`namespace/name`) → keys of pending pods that use it. */
  private readonly claimUsers = new SetIndex();
  /** Keys of pods that fit nowhere at their last attempt, or wait for their claims to bind. */
  private readonly unschedulable = new Set<string>();

  constructor(
    client: Client,
    private readonly log: Logger,
    private readonly workers = 16,
  ) {
    this.pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods', namespaced: true });
    this.podInformer = new Informer(this.pods);
    this.nodeInformer = new Informer(client.resource<Node>({ group: '', version: 'v1', resource: 'nodes', namespaced: false }));
    this.claims = client.resource<PersistentVolumeClaim>({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true });
    this.claimInformer = new Informer(this.claims);
    this.volumeInformer = new Informer(client.resource<PersistentVolume>({ group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false }));
    this.classInformer = new Informer(client.resource<StorageClass>({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', namespaced: false }));
    this.events = new EventRecorder(client, DEFAULT_SCHEDULER, log);
  }

  async start(): Promise<void> {
    this.podInformer.on({
      add: (pod) => this.observe(pod, true),
      update: (old, pod) => this.observe(pod, schedulingInputsChanged(old, pod)),
      delete: (pod) => this.forget(pod),
    });
    const retryUnschedulable = () => this.retryUnschedulable();
    const onChange = { add: retryUnschedulable, update: retryUnschedulable, delete: retryUnschedulable };
    this.nodeInformer.on(onChange);
    this.classInformer.on(onChange);
    // A claim or volume change concerns the pods using that claim (thousands may wait on their own).
    const claimChanged = (c: PersistentVolumeClaim) => this.retryUsers(`${c.metadata.namespace}/${c.metadata.name}`);
    this.claimInformer.on({ add: claimChanged, update: (_o, c) => claimChanged(c), delete: claimChanged });
    const volumeChanged = (v: PersistentVolume) => {
      const ref = v.spec?.claimRef;
      if (ref?.name) this.retryUsers(`${ref.namespace}/${ref.name}`);
      else retryUnschedulable();
    };
    this.volumeInformer.on({ add: volumeChanged, update: (_o, v) => volumeChanged(v), delete: volumeChanged });
    await Promise.all([this.podInformer.start(), this.nodeInformer.start(), this.claimInformer.start(), this.volumeInformer.start(), this.classInformer.start()]);
    const onError = (err: unknown, key: string) => {
      if (err instanceof Unschedulable) this.log.debug({ pod: key, reason: err.message }, 'pod unschedulable; retrying');
      else this.log.warn({ err, pod: key }, 'scheduling failed; retrying');
    };
    for (let i = 0; i < this.workers; i++) void runWorker(this.queue, (key) => this.sync(key), onError);
  }

  stop(): void {
    this.podInformer.stop();
    this.nodeInformer.stop();
    this.claimInformer.stop();
    this.volumeInformer.stop();
    this.classInformer.stop();
    this.queue.shutDown();
  }

  private retryUnschedulable(): void {
    for (const key of this.unschedulable) this.queue.add(key);
  }

  private holdClaims(pod: Pod, holding: boolean): void {
    for (const { name } of claimNames(pod)) {
      const key = `${pod.metadata.namespace}/${name}`;
      if (holding) this.claimHolders.add(key, pod.metadata.uid!);
      // A ReadWriteOncePod claim let go may be what a waiting pod needs.
      else if (this.claimHolders.delete(key, pod.metadata.uid!)) this.retryUsers(key);
    }
  }

  /** Requeues the unschedulable pods that use the claim `namespace/name`. */
  private retryUsers(claimKey: string): void {
    for (const key of this.claimUsers.get(claimKey)) if (this.unschedulable.has(key)) this.queue.add(key);
  }

  private indexClaims(pod: Pod, present: boolean): void {
    const key = objectKey(pod);
    for (const { name } of claimNames(pod)) {
      this.claimUsers.set(`${pod.metadata.namespace}/${name}`, key, present);
    }
  }

  private observe(pod: Pod, changed: boolean): void {
    this.indexClaims(pod, needsScheduling(pod));
    const uid = pod.metadata.uid!;
    const node = pod.spec?.nodeName;
    if (isTerminalPhase(pod.status?.phase)) this.place(uid, undefined, pod);
    else if (node) this.place(uid, node, pod);
    else if (!this.assumed.has(uid)) this.place(uid, undefined, pod);
    if (node) this.assumed.delete(uid);
    if (!needsScheduling(pod)) this.unschedulable.delete(objectKey(pod));
    else if (changed) this.queue.add(objectKey(pod));
  }

  private forget(pod: Pod): void {
    this.indexClaims(pod, false);
    this.place(pod.metadata.uid!, undefined, pod);
    this.assumed.delete(pod.metadata.uid!);
    this.unschedulable.delete(objectKey(pod));
  }

  /**
   * Moves the pod's count and requests to `node` (or off every node), and its claims' holders with
   * it. A pod leaving a node frees room there, so the pods that fit nowhere are tried again.
   */
  private place(uid: string, node: string | undefined, pod: Pod): void {
    this.holdClaims(pod, node !== undefined);
    const prev = this.placed.get(uid);
    if (prev?.node === node) return;
    if (prev !== undefined) {
      this.counts.set(prev.node, (this.counts.get(prev.node) ?? 1) - 1);
      const sum = this.requested.get(prev.node);
      if (sum) {
        addResources(sum, prev.requests, -1n);
        if (!sum.size) this.requested.delete(prev.node);
      }
      this.countHostPorts(prev.node, prev.hostPorts, -1);
    }
    if (node === undefined) this.placed.delete(uid);
    else {
      const requests = podRequests(pod);
      const hostPorts = podHostPorts(pod);
      this.placed.set(uid, { node, requests, hostPorts });
      this.countHostPorts(node, hostPorts, 1);
      this.counts.set(node, (this.counts.get(node) ?? 0) + 1);
      if (requests.size) {
        let sum = this.requested.get(node);
        if (!sum) this.requested.set(node, (sum = new Map()));
        addResources(sum, requests);
      }
    }
    if (prev !== undefined) this.retryUnschedulable();
  }

  private countHostPorts(node: string, keys: readonly string[], by: 1 | -1): void {
    if (!keys.length) return;
    let held = this.hostPorts.get(node);
    if (!held) this.hostPorts.set(node, (held = new Map()));
    for (const k of keys) {
      const n = (held.get(k) ?? 0) + by;
      if (n > 0) held.set(k, n);
      else held.delete(k);
    }
    if (!held.size) this.hostPorts.delete(node);
  }

  private async sync(key: string): Promise<void> {
    const pod = this.podInformer.get(key);
    if (!pod || !needsScheduling(pod) || this.assumed.has(pod.metadata.uid!)) {
      this.unschedulable.delete(key);
      return;
    }
    const claims = new Map<string, PersistentVolumeClaim>();
    for (const { name } of claimNames(pod)) {
      const claim = this.claimInformer.get(`${pod.metadata.namespace}/${name}`);
      if (claim) claims.set(name, claim);
    }
    const result = schedule(pod, {
      nodes: this.nodeInformer.list(),
      claims,
      podCounts: this.counts,
      requested: this.requested,
      hostPorts: this.hostPorts,
      volumes: { get: (name) => this.volumeInformer.get(name), values: () => this.volumeInformer.list() },
      classes: { get: (name) => this.classInformer.get(name), values: () => this.classInformer.list() },
      claimInUse: (name) => {
        const uids = this.claimHolders.get(`${pod.metadata.namespace}/${name}`);
        return [...uids].some((uid) => uid !== pod.metadata.uid);
      },
    });
    if (result.type === 'bind') await this.bind(key, pod, result.node);
    else if (result.type === 'bindVolumes') await this.selectNode(key, pod, result.node, result.claims);
    else await this.reportUnschedulable(key, pod, result.message);
  }

  /**
   * VolumeBinding PreBind for WaitForFirstConsumer claims: names the chosen node on each claim
   * (`volume.kubernetes.io/selected-node`), for the volume controller to bind or provision there; the
   * pod is placed once its claims are bound (a claim change brings it back).
   */
  private async selectNode(key: string, pod: Pod, node: string, claimNames: string[]): Promise<void> {
    this.unschedulable.add(key);
    await Promise.all(
      claimNames.map(async (name) => {
        const claim = this.claimInformer.get(`${pod.metadata.namespace}/${name}`);
        if (!claim || claim.metadata.annotations?.[SELECTED_NODE] === node) return;
        try {
          await this.claims.patch(name, pod.metadata.namespace, 'merge', { metadata: { annotations: { [SELECTED_NODE]: node } } });
        } catch (err) {
          if (!(isStatusError(err) && err.code === 404)) throw err;
        }
      }),
    );
  }

  private async bind(key: string, pod: Pod, node: string): Promise<void> {
    const { name, namespace, uid } = pod.metadata;
    // Counted on the node at once, so concurrent decisions see it (kube-scheduler's "assume").
    this.assumed.add(uid!);
    this.place(uid!, node, pod);
    try {
      await this.pods.createSubresource(name!, namespace, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
    } catch (err) {
      this.assumed.delete(uid!);
      const current = this.podInformer.get(key);
      if (current?.metadata.uid === uid && !current?.spec?.nodeName) this.place(uid!, undefined, pod);
      // Gone, being deleted, or bound by someone else: nothing left to do.
      if (isStatusError(err) && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
    this.unschedulable.delete(key);
    this.events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`);
  }

  private async reportUnschedulable(key: string, pod: Pod, message: string): Promise<void> {
    this.unschedulable.add(key);
    const condition = unschedulableCondition(pod, message, nowTimestamp());
    if (condition) {
      try {
        await this.pods.patch(pod.metadata.name!, pod.metadata.namespace, 'strategic', { status: { conditions: [condition] } }, { subresource: 'status' });
      } catch (err) {
        if (isStatusError(err) && err.code === 404) return;
        throw err;
      }
    }
    this.events.event(pod, 'Warning', 'FailedScheduling', message);
    throw new Unschedulable(message);
  }
}
