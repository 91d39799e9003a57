// The runc runtime: real processes. Per pod a network namespace on the pod bridge (CNI) and a
// directory `<dataDir>/pods/<ns>_<name>_<uid>/` holding its /etc files, its volumes' mounts and
// its containers' CRI logs (`<container>/<restartCount>.log`); per container an image resolved by
// its pull policy, an overlay root and a runc container created from ociSpec under conmon
// (conmon.ts), which logs its output and records its exit code and OOM kills. Exits are seen by
// polling conmon's exit files. Volumes (volumes.ts) are set up once per pod before its first
// container and released when its sandbox goes; exec, attach, port-forward and logs are in
// streams.ts.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../../api/core/pods.js';
import { VERSION_INFO } from '../../../apiserver/discovery.js';
import { nowTimestamp } from '../../../machinery/objects.js';
import { decidePull, type PullPolicy } from '../../images/policy.js';
import { loadRegistries, pullImage } from '../../images/pull.js';
import { pullSecretCredentials } from '../../images/credentials.js';
import { ImageStore } from '../../images/store.js';
import { CniNetwork, findPluginDir } from '../../network/cni.js';
import { ensureForwardDrop, readIpForward, removeForwardDrop, removeIdlePortmapChains, writeIpForward } from '../../network/firewall.js';
import { createNetns, deleteNetns, netnsPath } from '../../network/netns.js';
import { ensureLocalRoutes, localRoutes, removeLocalRoutes } from '../../network/routes.js';
import { findTool, runTool } from '../../../volumes/tools.js';
import { isTerminalPhase } from '../../status.js';
import { events as ev, pullBackOffMessage } from '../../runtime/messages.js';
import { runCheck } from '../../probes/check.js';
import { streamsExecRunner } from '../../probes/exec.js';
import type { ContainerStatus, PodRuntimeState, Runtime, RuntimeEvent, SyncResult } from '../types.js';
import { processArgs, processUser } from './command.js';
import { containerEnv, CreateContainerConfigError, processEnv } from './env.js';
import { hostnameFile, hostsFile, podNames, resolvConf } from './files.js';
import type { ImageConfig } from './image.js';
import { assembleRootfs, containerDir, removeRootfs } from './rootfs.js';
import { CGROUP_PARENT, podCgroup, removeCgroupEverywhere } from './cgroups.js';
import { Conmon, type ContainerExit } from './conmon.js';
import { Runc } from './runc.js';
import { RuncStreams } from './streams.js';
import { backOffMessage, KUBELET_BACKOFF, type BackOffEntry, type BackOffPolicy } from '../../probes/backoff.js';
import { afterExit, hookFailure, hostPortMappings, isSidecar, restarts, terminatedState } from './lifecycle.js';
import { observeStep } from '../../metrics.js';
import { ociSpec, type BindMount } from './spec.js';
import { containerMounts, detachIdleLoopDevices, MountError, preparePodVolumes, releasePodVolumes, removePodDir, type PreparedVolume, type VolumeLookups } from './volumes.js';
import { volumesDir } from '../../../volumes/provisioner.js';

export const CLUSTER_DOMAIN = 'cluster.local';
/** How often running containers are polled for an exit (a file read each). */
const POLL_MS = 1000;
/** Retry of a container that could not be created (config or create errors). */
const RETRY_MS = 10_000;
/** Retry of a pod whose volumes are not ready (an unbound claim, a missing ConfigMap). */
const MOUNT_RETRY_MS = 2000;
/** The image pull back-off (the kubelet's: 10 s doubling to 5 min). */
const INITIAL_BACKOFF_S = 10;
const MAX_BACKOFF_S = 300;
/** Grace given to containers when berth itself stops (the test harness SIGKILLs berth after 10 s). */
const SHUTDOWN_GRACE_S = 2;
/** The kubelet's lifecycle hooks say `kube-lifecycle/<major>.<minor>`. */
const HOOK_USER_AGENT = `kube-lifecycle/${VERSION_INFO.major}.${VERSION_INFO.minor}`;
/** How long a postStart hook may take before it counts as failed. */
const HOOK_TIMEOUT_MS = 30_000;
/** A container whose exit nobody recorded (its conmon was killed): reported as containerd reports a lost one. */
const lostExit = (): ContainerExit => ({ exitCode: 255, oomKilled: false, finishedAt: Date.now(), lost: true });

export interface RuncRuntimeOptions {
  dataDir: string;
  podCIDR: string;
  /** The pod bridge; `berth0` unless given. */
  bridge?: string;
  /** The node's address (pods' hostIP). */
  hostIP: string;
  log: Logger;
  /** Where configMap, secret and persistentVolumeClaim volumes come from; none are found without it. */
  lookups?: VolumeLookups;
  /** The CrashLoopBackOff policy; the kubelet's (10 s doubling to 5 min) unless given. */
  backOff?: BackOffPolicy;
  /** Run privileged containers (`--allow-privileged`); refused otherwise, as a kubelet without it. */
  allowPrivileged?: boolean;
}

const NO_LOOKUPS: VolumeLookups = {
  configMap: async () => undefined,
  secret: async () => undefined,
  claim: async () => undefined,
  volume: async () => undefined,
};

interface Ctr {
  status: ContainerStatus;
  /** runc's id while an instance exists (created, running or stopped but not yet deleted). */
  id?: string;
  /** The image pull back-off. */
  backOffSeconds?: number;
  /** Until when the container waits (ImagePullBackOff, CrashLoopBackOff). */
  backOffUntil?: number;
  /** The restart back-off (CrashLoopBackOff). */
  restartBackOff?: BackOffEntry;
  /** When a failed create may be retried. */
  retryAt?: number;
  /** Stopped by killContainer with this message: the Killing event says it. */
  killMessage?: string;
  /** A stop under way (a probe's kill, a deletion, berth stopping may ask at once): the others wait for it. */
  stopping?: Promise<void>;
}

interface Sandbox {
  uid: string;
  netns: string;
  dir: string;
  ip?: string;
  ready: boolean;
  terminal: boolean;
  init: Map<string, Ctr>;
  containers: Map<string, Ctr>;
  /** The pod's volumes, once all are set up. */
  volumes?: Map<string, PreparedVolume>;
  /** Events of work done between syncs (killContainer), reported with the next sync. */
  pending: RuntimeEvent[];
  /** The pod as last synced: its containers' lifecycle hooks and ports. */
  pod: Pod;
}

/** The image could not be had: the container waits in ErrImagePull (or ErrImageNeverPull). */
class ImageError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull',
    message: string,
  ) {
    super(message);
  }
}

/** What `--runtime runc` needs that this machine lacks; empty when all is there. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (run berth as root)');
  if (!findTool('runc')) missing.push('runc (apt-get install runc)');
  if (!findTool('conmon')) missing.push('conmon (apt-get install conmon)');
  if (findPluginDir() === undefined) missing.push('the CNI plugins in /usr/lib/cni or /opt/cni/bin (apt-get install containernetworking-plugins)');
  if (!findTool('iptables')) missing.push('iptables (apt-get install iptables)');
  if (!findTool('ip')) missing.push('ip (apt-get install iproute2)');
  if (!findTool('setfattr')) missing.push('setfattr (apt-get install attr)');
  return missing;
}

/** `<uid>_<container>`: runc allows `_`, which neither a uid nor a container name holds. */
const runcId = (uid: string, name: string) => `${uid}_${name}`;
const parseRuncId = (id: string) => {
  const i = id.indexOf('_');
  return i < 0 ? undefined : { uid: id.slice(0, i), name: id.slice(i + 1) };
};
const netnsName = (uid: string) => `berth-${uid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** This process's hard RLIMIT_NOFILE: runc may not give a container more. */
async function hardNofile(): Promise<number> {
  const line = (await readFile('/proc/self/limits', 'utf8')).split('\n').find((l) => l.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === undefined || hard === 'unlimited' ? 1048576 : Number(hard);
}

export class RuncRuntime implements Runtime {
  readonly info = { name: 'runc', version: '1', maxPods: 110 };
  readonly streams: RuncStreams;
  private readonly runc: Runc;
  private readonly conmon: Conmon;
  private readonly cni: CniNetwork;
  private readonly sandboxes = new Map<string, Sandbox>();
  private store?: ImageStore;
  private nofile = 1048576;
  private ipForwardBefore?: string;
  private closing = false;

  constructor(private readonly opts: RuncRuntimeOptions) {
    this.runc = new Runc(opts.dataDir);
    this.conmon = new Conmon(opts.dataDir, this.runc.root);
    this.streams = new RuncStreams({ runc: this.runc, container: (pod, name) => this.running(pod, name), netns: (pod) => this.podNetns(pod), podDir: (pod) => this.podDir(pod) });
    this.cni = new CniNetwork({ podCIDR: opts.podCIDR, bridge: opts.bridge, dataDir: join(opts.dataDir, 'cni') });
  }

  /** The cluster DNS address written into pods' resolv.conf: the pod bridge's gateway (nothing answers there yet). */
  get clusterDNS(): string {
    const [base] = this.opts.podCIDR.split('/');
    const octets = base!.split('.').map(Number);
    octets[3] = octets[3]! + 1;
    return octets.join('.');
  }

  /** Host setup: the FORWARD drop rule and the local routes, before any pod exists. */
  async start(): Promise<void> {
    this.store = await ImageStore.open(this.opts.dataDir);
    this.nofile = await hardNofile();
    this.ipForwardBefore = await readIpForward();
    await ensureForwardDrop(this.cni.bridge);
    await ensureLocalRoutes(localRoutes());
  }

  /** Stops every pod (berth going down takes its containers along) and undoes the host setup. */
  async close(): Promise<void> {
    this.closing = true;
    // All pods at once: each may wait out the grace period (a pid 1 without a SIGTERM handler does).
    await Promise.all([...this.sandboxes.values()].map((sb) => this.stopAll(sb, SHUTDOWN_GRACE_S, []).catch((err) => this.opts.log.warn({ err }, 'stopping pod failed'))));
    await Promise.all([...this.sandboxes.values()].map((sb) => this.teardown(sb)));
    const step = (what: string, p: Promise<unknown>) => p.catch((err: unknown) => this.opts.log.warn({ err }, `cleanup: ${what} failed`));
    await step('bridge', this.cni.teardown());
    await step('routes', removeLocalRoutes(localRoutes()));
    await step('iptables rule', removeForwardDrop(this.cni.bridge));
    await step('portmap chains', removeIdlePortmapChains());
    if (this.ipForwardBefore !== undefined) await step('ip_forward', writeIpForward(this.ipForwardBefore));
    await removeCgroupEverywhere(CGROUP_PARENT);
  }

  async recover(pods: readonly Pod[]): Promise<void> {
    const byUid = new Map(pods.map((p) => [p.metadata.uid!, p]));
    const adopted = new Set<string>();
    // The pods this data dir has had: only their namespaces are this berth's to remove (other berths may run beside it).
    const podsDir = join(this.opts.dataDir, 'pods');
    const ours = new Set((await readdir(podsDir).catch(() => [] as string[])).map((d) => d.slice(d.lastIndexOf('_') + 1)));
    for (const state of await this.runc.list()) {
      const parsed = parseRuncId(state.id);
      if (parsed) ours.add(parsed.uid);
      const pod = parsed && byUid.get(parsed.uid);
      const inSpec = pod && [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some((c) => c.name === parsed.name);
      // A stopped one is adopted too: conmon recorded how it ended, and the next sync reports it.
      if (pod && inSpec && (state.status === 'running' || state.status === 'stopped') && !isTerminalPhase(pod.status?.phase)) {
        this.adopt(pod, parsed.name, state.id, state.created);
        adopted.add(state.id);
        continue;
      }
      await this.runc.delete(state.id, { force: true }).catch((err) => this.opts.log.warn({ err, id: state.id }, 'removing stale container failed'));
    }
    for (const id of await readdir(join(this.opts.dataDir, 'containers')).catch(() => [] as string[])) {
      if (!adopted.has(id)) {
        await removeRootfs(this.opts.dataDir, id);
        await this.conmon.forget(id);
      }
    }
    // Pod dirs of pods gone: their volumes released (never removed through a mount), then removed.
    for (const d of await readdir(podsDir).catch(() => [] as string[])) {
      const uid = d.slice(d.lastIndexOf('_') + 1);
      if (this.sandboxes.has(uid)) continue;
      if (byUid.has(uid) && !isTerminalPhase(byUid.get(uid)!.status?.phase)) await releasePodVolumes(join(podsDir, d)).catch((err) => this.opts.log.warn({ err, uid }, 'releasing volumes failed'));
      else await removePodDir(join(podsDir, d)).catch((err) => this.opts.log.warn({ err, uid }, 'removing a stale pod dir failed'));
    }
    await detachIdleLoopDevices(volumesDir(this.opts.dataDir)).catch((err) => this.opts.log.warn({ err }, 'detaching idle loop devices failed'));
    // Namespaces of pods not adopted: detach them from the bridge and delete them.
    const { stdout } = await runTool('ip', ['netns', 'list']);
    for (const name of stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
      if (!name.startsWith('berth-')) continue;
      const uid = name.slice('berth-'.length);
      if (this.sandboxes.has(uid) || !ours.has(uid)) continue;
      await this.cni.del(uid, netnsPath(name)).catch((err) => this.opts.log.warn({ err, uid }, 'CNI DEL of a stale pod failed'));
      await deleteNetns(name);
      await removeCgroupEverywhere(podCgroup(uid));
    }
  }

  async syncPod(pod: Pod): Promise<SyncResult> {
    const uid = pod.metadata.uid!;
    const events: RuntimeEvent[] = [];
    let sb = this.sandboxes.get(uid);
    if (!sb) {
      sb = { uid, netns: netnsName(uid), dir: this.podDir(pod), ready: false, terminal: false, init: new Map(), containers: new Map(), pending: [], pod };
      this.sandboxes.set(uid, sb);
    }
    sb.pod = pod;
    events.push(...sb.pending.splice(0));
    if (sb.terminal || this.closing) return this.result(pod, sb, events);
    if (!sb.ready) {
      try {
        const started = performance.now();
        await this.createSandbox(pod, sb, events);
        observeStep('sandbox', started);
      } catch (err) {
        this.opts.log.warn({ err, pod: pod.metadata.name }, 'creating the pod sandbox failed');
        events.push({ type: 'Warning', reason: 'FailedCreatePodSandBox', message: `Failed to create pod sandbox: ${message(err)}` });
        return { ...this.result(pod, sb, events), resyncAfterMs: RETRY_MS };
      }
    }
    // Init containers run to completion one at a time, before any regular container; a sidecar
    // (restartPolicy Always) only has to have started, and keeps running beside them.
    // Once a regular container has started, a sidecar's restarts no longer hold anything up.
    let initDone = true;
    const regularStarted = (pod.spec?.containers ?? []).some((c) => sb.containers.get(c.name)?.status.containerID);
    for (const c of pod.spec?.initContainers ?? []) {
      const ctr = await this.step(pod, sb, sb.init, c, true, events);
      if (isSidecar(c) ? !ctr.status.state?.running && !regularStarted : !ctr.status.state?.terminated) {
        initDone = false;
        break;
      }
    }
    if (initDone) for (const c of pod.spec?.containers ?? []) await this.step(pod, sb, sb.containers, c, false, events);
    const regular = pod.spec?.containers ?? [];
    const policy = pod.spec?.restartPolicy ?? 'Always';
    const finished = (c: v1.Container) => {
      const terminated = sb.containers.get(c.name)?.status.state?.terminated;
      return !!terminated && !restarts(policy, terminated.exitCode);
    };
    if (initDone && regular.length && regular.every(finished)) {
      // Nothing will restart: the pod is finished, its sidecars are stopped and its sandbox goes.
      await this.stopAll(sb, pod.spec?.terminationGracePeriodSeconds ?? 30, events);
      // A sidecar waiting to restart will not: it shows how it last ended.
      for (const ctr of sb.init.values()) {
        const last = ctr.status.state?.waiting && ctr.status.lastState?.terminated;
        if (last) ctr.status = { ...ctr.status, state: { terminated: last }, lastState: {} };
      }
      sb.terminal = true;
      await this.teardown(sb);
    }
    return this.result(pod, sb, events);
  }

  async killPod(pod: Pod, gracePeriodSeconds: number): Promise<SyncResult> {
    const sb = this.sandboxes.get(pod.metadata.uid!);
    const events: RuntimeEvent[] = [];
    if (!sb) return this.result(pod, undefined, events);
    events.push(...sb.pending.splice(0));
    await this.stopAll(sb, gracePeriodSeconds, events);
    await this.teardown(sb);
    sb.terminal = true;
    return this.result(pod, sb, events);
  }

  async forgetPod(uid: string): Promise<void> {
    const sb = this.sandboxes.get(uid);
    if (sb) {
      await this.stopAll(sb, 0, []);
      await this.teardown(sb);
      this.sandboxes.delete(uid);
      await removePodDir(sb.dir);
      return;
    }
    const podsDir = join(this.opts.dataDir, 'pods');
    for (const d of await readdir(podsDir).catch(() => [] as string[])) if (d.endsWith(`_${uid}`)) await removePodDir(join(podsDir, d));
  }

  async killContainer(pod: Pod, container: string, gracePeriodSeconds: number, message: string): Promise<void> {
    const sb = this.sandboxes.get(pod.metadata.uid!);
    const ctr = sb && (sb.containers.get(container) ?? sb.init.get(container));
    if (!sb || !ctr?.id || !ctr.status.state?.running) return;
    ctr.killMessage = message;
    await this.stop(sb, ctr, gracePeriodSeconds, sb.pending);
  }

  /** The running instance of a container, for streams. */
  private running(pod: Pod, name: string): { id: string; bundle: string } | undefined {
    const sb = this.sandboxes.get(pod.metadata.uid!);
    const ctr = sb && (sb.containers.get(name) ?? sb.init.get(name));
    return ctr?.id && ctr.status.state?.running ? { id: ctr.id, bundle: containerDir(this.opts.dataDir, ctr.id) } : undefined;
  }

  /** The pod's network namespace while its sandbox is up. */
  private podNetns(pod: Pod): string | undefined {
    const sb = this.sandboxes.get(pod.metadata.uid!);
    return sb?.ready ? netnsPath(sb.netns) : undefined;
  }

  // --- sandboxes ---

  private podDir(pod: Pod): string {
    return join(this.opts.dataDir, 'pods', `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
  }

  private async createSandbox(pod: Pod, sb: Sandbox, events: RuntimeEvent[]): Promise<void> {
    if (pod.spec?.hostNetwork) throw new Error('hostNetwork pods are not supported by the runc runtime yet');
    const names = podNames(pod, CLUSTER_DOMAIN);
    await mkdir(join(sb.dir, 'etc'), { recursive: true });
    const path = await createNetns(sb.netns);
    const attached = await this.cni.add(sb.uid, path, 'eth0', hostPortMappings(pod));
    sb.ip = attached.addresses[0]?.ip;
    const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => undefined);
    const resolv = resolvConf({ pod, clusterDNS: [this.clusterDNS], clusterDomain: CLUSTER_DOMAIN, hostResolvConf: hostResolv });
    events.push(...resolv.events);
    await writeFile(join(sb.dir, 'etc', 'hosts'), hostsFile(pod, sb.ip ? [sb.ip] : [], names));
    await writeFile(join(sb.dir, 'etc', 'resolv.conf'), resolv.content);
    await writeFile(join(sb.dir, 'etc', 'hostname'), hostnameFile(names));
    sb.ready = true;
  }

  /** Detaches and deletes the pod's network namespace and its cgroups; idempotent. */
  private async teardown(sb: Sandbox): Promise<void> {
    sb.ready = false;
    if (this.cni.attached(sb.uid)) {
      await this.cni.del(sb.uid, netnsPath(sb.netns)).catch((err) => this.opts.log.warn({ err, uid: sb.uid }, 'CNI DEL failed'));
    }
    await deleteNetns(sb.netns).catch((err) => this.opts.log.warn({ err, uid: sb.uid }, 'deleting the network namespace failed'));
    await removeCgroupEverywhere(podCgroup(sb.uid));
    await releasePodVolumes(sb.dir).catch((err) => this.opts.log.warn({ err, uid: sb.uid }, 'releasing the pod volumes failed'));
    sb.volumes = undefined;
  }

  // --- containers ---

  private adopt(pod: Pod, name: string, id: string, created: string): void {
    const uid = pod.metadata.uid!;
    let sb = this.sandboxes.get(uid);
    if (!sb) {
      sb = { uid, netns: netnsName(uid), dir: this.podDir(pod), ip: pod.status?.podIP, ready: true, terminal: false, init: new Map(), containers: new Map(), pending: [], pod };
      this.sandboxes.set(uid, sb);
    }
    const isInit = (pod.spec?.initContainers ?? []).some((c) => c.name === name);
    const reported = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === name);
    const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name)!;
    const status: ContainerStatus = reported?.state?.running
      ? structuredClone(reported)
      : { ...this.baseStatus(spec, undefined), ready: !isInit || isSidecar(spec), started: true, state: { running: { startedAt: nowTimestamp(Date.parse(created)) } } };
    status.containerID = `runc://${id}`;
    (isInit ? sb.init : sb.containers).set(name, { status, id });
  }

  private baseStatus(c: v1.Container, prev: Ctr | undefined): ContainerStatus {
    return {
      name: c.name,
      image: c.image ?? '',
      imageID: prev?.status.imageID ?? '',
      ready: false,
      started: false,
      restartCount: prev?.status.restartCount ?? 0,
      state: {},
      lastState: prev?.status.lastState ?? {},
    };
  }

  /** One step of a container towards running (or, for an init container, having run). */
  private async step(pod: Pod, sb: Sandbox, map: Map<string, Ctr>, c: v1.Container, isInit: boolean, events: RuntimeEvent[]): Promise<Ctr> {
    let ctr = map.get(c.name);
    const now = Date.now();
    if (ctr?.id && ctr.status.state?.running) {
      const exit = await this.exitOf(ctr.id);
      if (!exit) return ctr;
      await this.finish(ctr, exit);
    }
    // The instance that ended last: just now, or before a CrashLoopBackOff wait.
    const terminated = ctr?.status.state?.terminated ?? (ctr?.status.state?.waiting?.reason === 'CrashLoopBackOff' ? ctr.status.lastState?.terminated : undefined);
    if (ctr && terminated) {
      const decision = afterExit(c, isInit, pod.spec?.restartPolicy ?? 'Always', terminated, ctr.restartBackOff, now, this.opts.backOff ?? KUBELET_BACKOFF);
      if (decision.kind === 'done') return ctr;
      if (decision.kind === 'wait') {
        if (ctr.status.state?.terminated || now >= (ctr.backOffUntil ?? 0)) events.push(ev.crashBackOff(c.name, pod));
        ctr.status = {
          ...ctr.status,
          ready: false,
          started: false,
          lastState: { terminated },
          state: { waiting: { reason: 'CrashLoopBackOff', message: backOffMessage(decision.backOffMs, c.name, pod) } },
        };
        ctr.backOffUntil = decision.until;
        return ctr;
      }
      ctr.restartBackOff = decision.entry;
    } else if (ctr?.status.state?.waiting) {
      if (ctr.backOffUntil !== undefined && now < ctr.backOffUntil) {
        if (ctr.status.state.waiting.reason === 'ErrImagePull') {
          events.push(ev.pullBackOff(c.image ?? ''), ev.errImagePullBackOff());
          ctr.status = { ...ctr.status, state: { waiting: { reason: 'ImagePullBackOff', message: pullBackOffMessage(c.image ?? '') } } };
        }
        return ctr;
      }
      if (ctr.retryAt !== undefined && now < ctr.retryAt) return ctr;
    }
    ctr = await this.run(pod, sb, c, ctr, isInit, events);
    map.set(c.name, ctr);
    const postStart = c.lifecycle?.postStart;
    if (postStart && ctr.id) {
      // As the kubelet: the container counts as started once its postStart hook ran; a failed hook kills it.
      const failed = await this.runHook(pod, c, postStart, HOOK_TIMEOUT_MS);
      if (failed !== undefined) {
        events.push({ type: 'Warning', reason: 'FailedPostStartHook', message: hookFailure(pod, c, postStart, failed) });
        ctr.killMessage = `FailedPostStartHook`;
        await this.stop(sb, ctr, pod.spec?.terminationGracePeriodSeconds ?? 30, events);
      }
    }
    return ctr;
  }

  /** Runs a lifecycle handler; resolves with why it failed, undefined when it succeeded. */
  private async runHook(pod: Pod, c: v1.Container, handler: v1.LifecycleHandler, timeoutMs: number): Promise<string | undefined> {
    if (handler.sleep) {
      await sleep(Math.min(handler.sleep.seconds * 1000, timeoutMs));
      return undefined;
    }
    const probe: v1.Probe = { exec: handler.exec, httpGet: handler.httpGet, tcpSocket: handler.tcpSocket, timeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)) };
    const podIP = this.sandboxes.get(pod.metadata.uid!)?.ip ?? '';
    const outcome = await runCheck(probe, { podIP, ports: c.ports, exec: streamsExecRunner(this.streams, pod, c.name), userAgent: HOOK_USER_AGENT });
    return outcome.result === 'success' ? undefined : outcome.output;
  }

  /** How the instance ended, once it did; undefined while it runs. */
  private async exitOf(id: string): Promise<ContainerExit | undefined> {
    const bundle = containerDir(this.opts.dataDir, id);
    const exit = await this.conmon.exit(id, bundle);
    if (exit || (await this.conmon.watching(bundle))) return exit;
    // Its conmon is gone: the exit may have landed meanwhile, else it is lost if the container stopped.
    const state = await this.runc.state(id);
    if (state && state.status !== 'stopped') return undefined;
    return (await this.conmon.exit(id, bundle)) ?? lostExit();
  }

  /** Creates and starts a new instance; a failure leaves the container waiting with the kubelet's reason. */
  private async run(pod: Pod, sb: Sandbox, c: v1.Container, prev: Ctr | undefined, isInit: boolean, events: RuntimeEvent[]): Promise<Ctr> {
    const status = this.baseStatus(c, prev);
    const ran = !!prev?.status.containerID;
    if (ran) status.restartCount = (prev!.status.restartCount ?? 0) + 1;
    const waitingAs = (reason: string, msg: string, extra: Partial<Ctr>): Ctr => ({
      ...extra,
      backOffSeconds: extra.backOffSeconds ?? prev?.backOffSeconds,
      restartBackOff: prev?.restartBackOff,
      status: { ...status, restartCount: prev?.status.restartCount ?? 0, state: { waiting: { reason, message: msg } } },
    });
    const id = runcId(sb.uid, c.name);
    try {
      let started = performance.now();
      const mounts = await this.mounts(pod, sb, c);
      started = observeStep('volumes', started);
      const image = await this.ensureImage(pod, c, events);
      started = observeStep('image', started);
      status.imageID = `${image.reference.replace(/:[^/:]*$/, '')}@${image.digest}`;
      const config = (image.config.config ?? {}) as ImageConfig;
      const names = podNames(pod, CLUSTER_DOMAIN);
      const { configMaps, secrets } = await this.envSources(pod, c);
      const env = containerEnv({ pod, container: c, configMap: (n) => configMaps.get(n), secret: (n) => secrets.get(n), podIPs: sb.ip ? [sb.ip] : [], hostIPs: [this.opts.hostIP] });
      events.push(...env.events);
      const args = processArgs(c, config, env.env);
      const spec = (rootPath: string) =>
        ociSpec({
          pod,
          container: c,
          args,
          env: processEnv(config, env.env, names.utsHostname),
          cwd: c.workingDir || config.WorkingDir || '/',
          user: processUser(pod, c, config),
          rootPath,
          hostname: names.utsHostname,
          mounts,
          netnsPath: netnsPath(sb.netns),
          cgroupsPath: `/${CGROUP_PARENT}/pod${sb.uid}/${c.name}`,
          nofile: this.nofile,
          allowPrivileged: this.opts.allowPrivileged,
        });
      spec('/'); // refusals (privileged) before anything is made
      // A leftover of an earlier instance (a crash between create and delete) goes first.
      if (existsSync(join(this.runc.root, id))) await this.runc.delete(id, { force: true }).catch(() => undefined);
      await removeRootfs(this.opts.dataDir, id);
      const rootfs = await assembleRootfs(this.store!, image.reference, this.opts.dataDir, id);
      started = observeStep('rootfs', started);
      try {
        const bundle = containerDir(this.opts.dataDir, id);
        await writeFile(join(bundle, 'config.json'), JSON.stringify(spec(rootfs.path)));
        const logDir = join(sb.dir, c.name);
        await mkdir(logDir, { recursive: true });
        const logPath = join(logDir, `${status.restartCount}.log`);
        await rm(logPath, { force: true });
        await this.conmon.create(id, { bundle, logPath, stdin: !!c.stdin, stdinOnce: !!c.stdinOnce, tty: !!c.tty });
        events.push(ev.created(c.name));
        await this.runc.start(id);
        observeStep('runc', started);
      } catch (err) {
        await this.runc.delete(id, { force: true }).catch(() => undefined);
        await removeRootfs(this.opts.dataDir, id);
        throw err;
      }
      events.push(ev.started(c.name));
      const last = prev?.status.state?.terminated ?? prev?.status.lastState?.terminated;
      return {
        id,
        backOffSeconds: prev?.backOffSeconds,
        restartBackOff: prev?.restartBackOff,
        status: {
          ...status,
          containerID: `runc://${id}`,
          // Ready while running, as the kubelet reports it without a readiness probe (the probe manager sets it otherwise).
          ready: !isInit || isSidecar(c),
          started: true,
          state: { running: { startedAt: nowTimestamp() } },
          lastState: last ? { terminated: last } : {},
        },
      };
    } catch (err) {
      if (err instanceof ImageError) {
        const backOffSeconds = prev?.status.state?.waiting?.reason === 'ImagePullBackOff' ? Math.min((prev.backOffSeconds ?? INITIAL_BACKOFF_S) * 2, MAX_BACKOFF_S) : INITIAL_BACKOFF_S;
        if (err.reason === 'ErrImageNeverPull') events.push({ type: 'Warning', reason: 'ErrImageNeverPull', message: err.message });
        return waitingAs(err.reason, err.message, { backOffSeconds, backOffUntil: Date.now() + backOffSeconds * 1000 });
      }
      if (err instanceof MountError) {
        // As the kubelet: the pod is still being created, and says why with FailedMount.
        events.push({ type: 'Warning', reason: 'FailedMount', message: err.message });
        return waitingAs('ContainerCreating', err.message, { retryAt: Date.now() + MOUNT_RETRY_MS });
      }
      const reason = err instanceof CreateContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError';
      this.opts.log.warn({ err, pod: pod.metadata.name, container: c.name }, 'creating the container failed');
      events.push({ type: 'Warning', reason: 'Failed', message: `Error: ${message(err)}` });
      return waitingAs(reason, message(err), { retryAt: Date.now() + RETRY_MS });
    }
  }

  /** Registry credentials from the pod's imagePullSecrets (missing secrets are skipped, as the kubelet does). */
  private async pullCredentials(pod: Pod) {
    const lookups = this.opts.lookups ?? NO_LOOKUPS;
    const ns = pod.metadata.namespace ?? 'default';
    const secrets = await Promise.all((pod.spec?.imagePullSecrets ?? []).map((r) => (r.name ? lookups.secret(ns, r.name) : undefined)));
    return pullSecretCredentials(secrets.filter((s): s is NonNullable<typeof s> => s !== undefined));
  }

  /** The ConfigMaps and Secrets the container's environment names, fetched (missing ones absent). */
  private async envSources(pod: Pod, c: v1.Container) {
    const cmNames = new Set<string>();
    const secretNames = new Set<string>();
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) cmNames.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secretNames.add(e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) cmNames.add(f.configMapRef.name);
      if (f.secretRef?.name) secretNames.add(f.secretRef.name);
    }
    const lookups = this.opts.lookups ?? NO_LOOKUPS;
    const ns = pod.metadata.namespace ?? 'default';
    const fetch = async <T>(names: Set<string>, get: (ns: string, name: string) => Promise<T | undefined>) => {
      const found = new Map<string, T>();
      await Promise.all([...names].map(async (n) => {
        const obj = await get(ns, n);
        if (obj !== undefined) found.set(n, obj);
      }));
      return found;
    };
    return { configMaps: await fetch(cmNames, (n, m) => lookups.configMap(n, m)), secrets: await fetch(secretNames, (n, m) => lookups.secret(n, m)) };
  }

  /** The pod's /etc files and the container's volumes (the pod's set up on first use). */
  private async mounts(pod: Pod, sb: Sandbox, c: v1.Container): Promise<BindMount[]> {
    sb.volumes ??= await preparePodVolumes(pod, sb.dir, this.opts.lookups ?? NO_LOOKUPS);
    return [
      { source: join(sb.dir, 'etc', 'hosts'), destination: '/etc/hosts' },
      { source: join(sb.dir, 'etc', 'resolv.conf'), destination: '/etc/resolv.conf' },
      { source: join(sb.dir, 'etc', 'hostname'), destination: '/etc/hostname' },
      ...(await containerMounts(c, sb.volumes)),
    ];
  }

  /** The container's image per its pull policy: the store's, else pulled (registries.yaml applies). */
  private async ensureImage(pod: Pod, c: v1.Container, events: RuntimeEvent[]) {
    const image = c.image ?? '';
    const store = this.store!;
    const present = (await store.find(image).catch(() => [])).length > 0;
    const decision = decidePull(image, c.imagePullPolicy as PullPolicy | undefined, present);
    if (decision.action === 'fail') throw new ImageError('ErrImageNeverPull', decision.message);
    if (decision.action === 'use') events.push(ev.imagePresent(image));
    else {
      events.push(ev.pulling(image));
      try {
        const started = Date.now();
        await pullImage(store, image, { registries: await loadRegistries(this.opts.dataDir), auth: await this.pullCredentials(pod) });
        events.push({ type: 'Normal', reason: 'Pulled', message: `Successfully pulled image "${image}" in ${Date.now() - started}ms` });
      } catch (err) {
        events.push(ev.pullFailed(image, message(err)), ev.errImagePull());
        throw new ImageError('ErrImagePull', message(err));
      }
    }
    return store.resolve(image);
  }

  /** Stops every instance of the pod: SIGTERM, up to the grace period, then SIGKILL. */
  private async stopAll(sb: Sandbox, graceSeconds: number, events: RuntimeEvent[]): Promise<void> {
    const live = [...sb.init.values(), ...sb.containers.values()].filter((c) => c.id);
    await Promise.all(live.map((c) => this.stop(sb, c, graceSeconds, events)));
  }

  /** preStop within the grace period, SIGTERM, and SIGKILL once the grace period is over. */
  private stop(sb: Sandbox, ctr: Ctr, graceSeconds: number, events: RuntimeEvent[]): Promise<void> {
    if (ctr.stopping) return ctr.stopping;
    if (!ctr.id) return Promise.resolve();
    ctr.stopping = this.stopInstance(sb, ctr, ctr.id, graceSeconds, events).finally(() => (ctr.stopping = undefined));
    return ctr.stopping;
  }

  private async stopInstance(sb: Sandbox, ctr: Ctr, id: string, graceSeconds: number, events: RuntimeEvent[]): Promise<void> {
    if (ctr.status.state?.running) events.push(ctr.killMessage ? { type: 'Normal', reason: 'Killing', message: ctr.killMessage } : ev.killing(ctr.status.name));
    ctr.killMessage = undefined;
    let exit = await this.exitOf(id);
    const spec = [...(sb.pod.spec?.containers ?? []), ...(sb.pod.spec?.initContainers ?? [])].find((c) => c.name === ctr.status.name);
    const started = Date.now();
    if (!exit && spec?.lifecycle?.preStop && graceSeconds > 0) {
      const failed = await this.runHook(sb.pod, spec, spec.lifecycle.preStop, graceSeconds * 1000);
      if (failed !== undefined) events.push({ type: 'Warning', reason: 'FailedPreStopHook', message: hookFailure(sb.pod, spec, spec.lifecycle.preStop, failed) });
      // As the kubelet: what the hook used comes off the grace period, but SIGTERM gets at least 2 s.
      graceSeconds = Math.max(graceSeconds - (Date.now() - started) / 1000, 2);
      exit = await this.exitOf(id);
    }
    if (!exit) {
      await this.runc.kill(id, 'SIGTERM').catch(() => undefined);
      const deadline = Date.now() + graceSeconds * 1000;
      while (!(exit = await this.exitOf(id)) && Date.now() < deadline) await sleep(50);
    }
    if (!exit) {
      await this.runc.kill(id, 'SIGKILL').catch(() => undefined);
      const deadline = Date.now() + 10_000;
      while (!(exit = await this.exitOf(id)) && Date.now() < deadline) await sleep(50);
    }
    await this.finish(ctr, exit ?? lostExit());
  }

  /** Records the instance's end and removes it. */
  private async finish(ctr: Ctr, exit: ContainerExit): Promise<void> {
    const id = ctr.id;
    if (!id) return; // finished already (a stop and a sync both saw the end)
    ctr.id = undefined;
    const running = ctr.status.state?.running;
    if (running) {
      const terminated = terminatedState(exit, running.startedAt, ctr.status.containerID, nowTimestamp(exit.finishedAt || Date.now()));
      ctr.status = { ...ctr.status, ready: false, started: false, state: { terminated } };
    }
    await this.runc.delete(id, { force: true }).catch((err) => this.opts.log.warn({ err, id }, 'runc delete failed'));
    await removeRootfs(this.opts.dataDir, id);
    await this.conmon.forget(id);
  }

  private result(pod: Pod, sb: Sandbox | undefined, events: RuntimeEvent[]): SyncResult {
    const statuses = (specs: v1.Container[] | undefined, map: Map<string, Ctr> | undefined) =>
      (specs ?? []).flatMap((c) => {
        const ctr = map?.get(c.name);
        return ctr ? [ctr.status] : [];
      });
    const state: PodRuntimeState = {
      sandboxReady: !!sb?.ready,
      podIP: sb?.ip,
      initContainerStatuses: statuses(pod.spec?.initContainers, sb?.init),
      containerStatuses: statuses(pod.spec?.containers, sb?.containers),
      terminal: sb ? sb.terminal : true,
    };
    let due: number | undefined;
    if (sb && !sb.terminal) {
      const now = Date.now();
      for (const map of [sb.init, sb.containers])
        for (const c of map.values()) {
          // Running ones are polled for their exit; one that ended outside a sync (a failed postStart) gets its restart decided.
          if (c.id || c.status.state?.terminated) due = Math.min(due ?? Infinity, POLL_MS);
          // ErrImagePull turns into ImagePullBackOff on the next sync, as the kubelet reports it.
          if (c.status.state?.waiting?.reason === 'ErrImagePull') due = Math.min(due ?? Infinity, 1000);
          for (const at of [c.backOffUntil, c.retryAt]) if (at !== undefined && at > now) due = Math.min(due ?? Infinity, at - now);
        }
      if (!sb.ready) due = Math.min(due ?? Infinity, RETRY_MS);
    }
    return { state, events, ...(due !== undefined && { resyncAfterMs: due }) };
  }
}
