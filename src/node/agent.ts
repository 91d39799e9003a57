// The node agent (berth's kubelet): registers the Node and keeps its Lease; watches the pods
// bound to the node and drives each through the runtime on a work queue, reporting status
// through the status subresource and recording the kubelet's events. A pod being deleted is
// stopped, then removed with a zero grace period and a uid precondition, as the kubelet does.
import type { Logger } from 'pino';
import type { Lease } from '../api/coordination/leases.js';
import type { Node } from '../api/core/nodes.js';
import { deepEqual } from '../api/core/podspec.js';
import type { Pod } from '../api/core/pods.js';
import type { Client, ResourceClient } from '../client/client.js';
import { EventRecorder } from '../client/events.js';
import { Informer, objectKey } from '../client/informer.js';
import { runWorker, WorkQueue } from '../client/workqueue.js';
import { VERSION_INFO } from '../apiserver/discovery.js';
import { isStatusError } from '../machinery/errors.js';
import { nowTimestamp } from '../machinery/objects.js';
import { readHostFacts } from './host.js';
import { runCheck } from './probes/check.js';
import { streamsExecRunner } from './probes/exec.js';
import { ProbeManager } from './probes/manager.js';
import { NODE_LEASE_NAMESPACE, newNode, nodeLease, nodeStatus, reconcileNode, type HostFacts, type NodeConfig } from './nodestatus.js';
import type { PodRuntimeState, Runtime, RuntimeEvent } from './runtime/types.js';
import { isTerminalPhase, podStatus } from './status.js';

/** The kubelet's lease renewal interval and node status report frequency. */
const LEASE_RENEW_MS = 10_000;
const STATUS_REPORT_MS = 5 * 60_000;
/** The kubelet's probes say `kube-probe/<major>.<minor>`. */
const PROBE_USER_AGENT = `kube-probe/${VERSION_INFO.major}.${VERSION_INFO.minor}`;

export interface NodeAgentOptions {
  nodeName: string;
  /** The node's address (pods' hostIP). */
  address: string;
  podCIDR: string;
  /** Where pod data lives; its filesystem is the node's ephemeral storage. */
  dataDir: string;
  runtime: Runtime;
  workers?: number;
}

/** metav1.MicroTime, as a Lease's renewTime is written. */
const microseconds = (ms = Date.now()) => new Date(ms).toISOString().replace(/Z$/, '000Z');

/** Swallows the API errors that mean "someone else got there first": the object is gone or changed. */
function ignoreGoneOrChanged(err: unknown): void {
  if (isStatusError(err) && (err.code === 404 || err.code === 409)) return;
  throw err;
}

export class NodeAgent {
  private readonly config: NodeConfig;
  private readonly runtime: Runtime;
  private readonly nodes: ResourceClient<Node>;
  private readonly leases: ResourceClient<Lease>;
  private readonly pods: ResourceClient<Pod>;
  private readonly informer: Informer<Pod>;
  private readonly queue = new WorkQueue<string>();
  private readonly events: EventRecorder;
  /** The pod each key last ran as: a pod deleted or replaced under the same name is stopped by it. */
  private readonly tracked = new Map<string, Pod>();
  private facts?: HostFacts;
  private node?: Node;
  private lease?: Lease;
  private lastStatusReport = 0;
  private heartbeat?: NodeJS.Timeout;
  /** Startup, readiness and liveness probes; only for runtimes whose containers are processes. */
  private readonly probes?: ProbeManager;
  /** Containers failed liveness or startup probes asked to kill, by pod uid; done by the pod's next sync. */
  private readonly probeKills = new Map<string, { container: string; gracePeriodSeconds: number; message: string }[]>();

  constructor(
    client: Client,
    private readonly opts: NodeAgentOptions,
    private readonly log: Logger,
  ) {
    this.runtime = opts.runtime;
    this.config = { name: opts.nodeName, address: opts.address, podCIDR: opts.podCIDR, runtime: opts.runtime.info };
    this.nodes = client.resource<Node>({ group: '', version: 'v1', resource: 'nodes', namespaced: false });
    this.leases = client.resource<Lease>({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true });
    this.pods = client.resource<Pod>({ group: '', version: 'v1', resource: 'pods', namespaced: true });
    this.informer = new Informer(this.pods, { fieldSelector: `spec.nodeName=${opts.nodeName}` });
    this.events = new EventRecorder(client, 'kubelet', log, opts.nodeName);
    // Probes run only where containers are real processes (the runtime has streams). The simulated
    // runtime has none: it simulates readiness itself through its annotation (runtime/simulation.ts),
    // and its pods have no address anything listens on, so its probes are not run.
    const streams = this.runtime.streams;
    if (streams) {
      this.probes = new ProbeManager({
        check: (pod, container, probe, _kind, podIP) =>
          runCheck(probe, {
            podIP: podIP ?? '',
            ports: container.ports,
            exec: streamsExecRunner(streams, pod, container.name),
            userAgent: PROBE_USER_AGENT,
          }),
        changed: (pod) => this.queue.add(objectKey(pod)),
        events: (pod, events) => this.record(pod, events),
        kill: (pod, container, gracePeriodSeconds, message) => {
          // Killed inside the pod's sync, as the kubelet's pod worker does: never beside another sync of the pod.
          const uid = pod.metadata.uid!;
          this.probeKills.set(uid, [...(this.probeKills.get(uid) ?? []), { container, gracePeriodSeconds, message }]);
          this.queue.add(objectKey(pod));
        },
      });
    }
  }

  async start(): Promise<void> {
    this.facts = readHostFacts(this.opts.dataDir);
    await this.register();
    await this.renewLease();
    this.heartbeat = setInterval(() => void this.beat(), LEASE_RENEW_MS);
    this.heartbeat.unref();

    const enqueue = (pod: Pod) => this.queue.add(objectKey(pod));
    this.informer.on({ add: enqueue, update: (_old, pod) => enqueue(pod), delete: enqueue });
    await this.informer.start();
    await this.runtime.recover(this.informer.list());
    const onError = (err: unknown, key: string) => this.log.warn({ err, pod: key }, 'pod sync failed; retrying');
    for (let i = 0; i < (this.opts.workers ?? 32); i++) void runWorker(this.queue, (key) => this.sync(key), onError);
  }

  stop(): void {
    clearInterval(this.heartbeat);
    this.probes?.stop();
    this.informer.stop();
    this.queue.shutDown();
  }

  // --- the Node and its Lease ---

  private async register(): Promise<void> {
    try {
      this.node = await this.nodes.create(newNode(this.config, this.facts!, nowTimestamp()));
      this.lastStatusReport = Date.now();
    } catch (err) {
      if (!isStatusError(err) || err.code !== 409) throw err;
      // Registered before: restore the kubelet's labels, keep the users', and report afresh.
      let existing = await this.nodes.get(this.config.name);
      const reconciled = reconcileNode(existing, this.config, this.facts!);
      if (reconciled) existing = await this.nodes.update(reconciled);
      await this.reportNodeStatus(existing);
    }
  }

  private async reportNodeStatus(node: Node): Promise<void> {
    this.node = await this.nodes.updateStatus({ ...node, status: nodeStatus(this.config, this.facts!, node.status, nowTimestamp()) });
    this.lastStatusReport = Date.now();
  }

  private async renewLease(): Promise<void> {
    try {
      this.lease ??= await this.leases.get(this.config.name, NODE_LEASE_NAMESPACE).catch((err: unknown) => {
        if (isStatusError(err) && err.code === 404) return undefined;
        throw err;
      });
      const lease = nodeLease(this.node!, microseconds(), this.lease);
      this.lease = this.lease ? await this.leases.update(lease) : await this.leases.create(lease);
    } catch (err) {
      // Fetched afresh on the next beat.
      this.lease = undefined;
      throw err;
    }
  }

  private async beat(): Promise<void> {
    try {
      await this.renewLease();
      if (Date.now() - this.lastStatusReport >= STATUS_REPORT_MS) await this.reportNodeStatus(await this.nodes.get(this.config.name));
    } catch (err) {
      this.log.warn({ err }, 'node heartbeat failed');
    }
  }

  // --- pods ---

  private async sync(key: string): Promise<void> {
    const pod = this.informer.get(key);
    const prev = this.tracked.get(key);
    if (prev && prev.metadata.uid !== pod?.metadata.uid) {
      // Gone from the API (or replaced under the same name) without a graceful deletion seen here.
      const result = await this.runtime.killPod(prev, 0);
      this.record(prev, result.events);
      this.forgetProbes(prev);
      await this.runtime.forgetPod(prev.metadata.uid!);
      this.tracked.delete(key);
    }
    if (!pod) return;
    this.tracked.set(key, pod);
    if (pod.metadata.deletionTimestamp) return this.terminate(pod);
    // A finished pod runs nothing more; one the runtime never ran keeps the status it has.
    const finished = isTerminalPhase(pod.status?.phase);
    if (finished) this.forgetProbes(pod);
    else await this.killForProbes(pod);
    const result = finished ? await this.runtime.killPod(pod, 0) : await this.runtime.syncPod(pod);
    this.record(pod, result.events);
    // The probes' verdicts (started, ready) replace the runtime's for containers that have probes.
    const state = !finished && this.probes ? this.probes.update(pod, result.state) : result.state;
    if (!finished || state.containerStatuses.length) await this.reportStatus(pod, state);
    if (result.resyncAfterMs !== undefined) this.queue.addAfter(key, result.resyncAfterMs);
  }

  /** Stops the pod, reports its final status, and removes it from the API. */
  private async terminate(pod: Pod): Promise<void> {
    // No probe restarts a container of a pod being deleted; its containers stop anyway.
    this.forgetProbes(pod);
    const result = await this.runtime.killPod(pod, pod.metadata.deletionGracePeriodSeconds ?? 0);
    this.record(pod, result.events);
    await this.reportStatus(pod, result.state);
    const { name, namespace, uid } = pod.metadata;
    await this.pods.delete(name!, namespace, { gracePeriodSeconds: 0, preconditions: { uid } }).catch(ignoreGoneOrChanged);
  }

  /** Stops probing the pod and drops the kills its probes asked for. */
  private forgetProbes(pod: Pod): void {
    this.probes?.removePod(pod.metadata.uid!);
    this.probeKills.delete(pod.metadata.uid!);
  }

  /** Kills the containers whose liveness or startup probe failed; the sync that follows restarts them. */
  private async killForProbes(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid!;
    const kills = this.probeKills.get(uid);
    if (!kills) return;
    this.probeKills.delete(uid);
    for (const { container, gracePeriodSeconds, message } of kills) {
      try {
        if (!this.runtime.killContainer) throw new Error(`runtime ${this.runtime.info.name} cannot kill a single container`);
        await this.runtime.killContainer(pod, container, gracePeriodSeconds, message);
      } catch (err) {
        this.log.warn({ err, pod: objectKey(pod), container }, 'killing a container whose probe failed failed');
      }
    }
  }

  private record(pod: Pod, events: RuntimeEvent[]): void {
    for (const e of events) this.events.event(pod, e.type, e.reason, e.message);
  }

  /** Writes the pod's status if it changed, and waits until the informer has seen the write. */
  private async reportStatus(pod: Pod, state: PodRuntimeState): Promise<void> {
    const status = podStatus(pod, state, this.config.address, nowTimestamp());
    if (deepEqual(status, pod.status)) return;
    try {
      const updated = await this.pods.updateStatus({ ...pod, status });
      await this.informer.waitForResourceVersion(updated.metadata.resourceVersion);
    } catch (err) {
      // A newer pod is on its way through the informer and will be synced.
      ignoreGoneOrChanged(err);
    }
  }
}
