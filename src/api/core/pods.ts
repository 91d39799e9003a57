// Pod (core/v1): defaulting, the create/update strategy (pkg/registry/core/pod), what the
// default admission plugins (Priority, ServiceAccount, DefaultTolerationSeconds) add to
// a new pod, validation (ValidatePodCreate/Update/StatusUpdate), graceful deletion,
// field selectors, and `kubectl get pods` columns.
import type * as v1 from 'kubernetes-types/core/v1.js';
import { AGE_DESCRIPTION, NAME_DESCRIPTION, type KindDef, type KubeObject, type Mutable } from '../types.js';
import { age, humanDuration } from '../../machinery/duration.js';
import {
  Path,
  forbidden,
  invalid,
  isDNS1123Subdomain,
  required,
  type FieldError,
} from '../../machinery/validation.js';
import {
  computePodQOS,
  deepEqual,
  defaultPodSpec,
  inclusiveRange,
  invalidRendered,
  specDiff,
  validateImmutable,
  validatePodSpec,
  validatePodSpecificAnnotations,
  validateTolerations,
  type PodSpec,
} from './podspec.js';
import { validateIP, validateQualifiedName } from './endpoints.js';

type PodStatus = Mutable<v1.PodStatus>;
type ContainerStatus = Mutable<v1.ContainerStatus>;
type Toleration = Mutable<v1.Toleration>;
export type Pod = Mutable<Omit<v1.Pod, 'metadata'>> & KubeObject;

const MAX_INT32 = 2147483647;

// --- defaulting ----------------------------------------------------------------------

/** v1 keeps podIP/podIPs and hostIP/hostIPs in step: the singular field is the first entry. */
function syncPodIPs(status: PodStatus): void {
  if (status.podIP && status.podIPs?.length && status.podIPs[0].ip !== status.podIP) status.podIPs = [{ ip: status.podIP }];
  if (status.podIP && !status.podIPs?.length) status.podIPs = [{ ip: status.podIP }];
  if (status.podIPs?.length) status.podIP = status.podIPs[0].ip;
  if (status.hostIP && status.hostIPs?.length && status.hostIPs[0].ip !== status.hostIP) status.hostIPs = [{ ip: status.hostIP }];
  if (status.hostIP && !status.hostIPs?.length) status.hostIPs = [{ ip: status.hostIP }];
  if (status.hostIPs?.length) status.hostIP = status.hostIPs[0].ip;
}

function defaults(pod: Pod): void {
  pod.spec ??= {} as PodSpec;
  defaultPodSpec(pod.spec as PodSpec, true);
  if (pod.status) syncPodIPs(pod.status);
}

// --- admission and strategy ----------------------------------------------------------

/** The values of the PriorityClasses every cluster has. */
const SYSTEM_PRIORITY_CLASSES: Record<string, number> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

/**
 * What kube-apiserver's default mutating admission plugins add to a new pod: the priority its
 * class resolves to (Priority), the `default` service account (ServiceAccount; berth mounts no
 * token), and five minutes of tolerating not-ready and unreachable nodes (DefaultTolerationSeconds).
 */
function admit(pod: Pod): void {
  const spec = pod.spec as PodSpec;
  const className = spec.priorityClassName ?? '';
  const priority = className ? SYSTEM_PRIORITY_CLASSES[className] : 0;
  if (priority !== undefined) {
    spec.priority ??= priority;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
  }
  if (!spec.serviceAccountName) {
    spec.serviceAccountName = 'default';
    spec.serviceAccount = 'default';
  }
  const tolerations = (spec.tolerations ??= []);
  const tolerates = (key: string) =>
    tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'])
    if (!tolerates(key)) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
}

type AffinityTerm = {
  labelSelector?: Mutable<v1.PodAffinityTerm>['labelSelector'];
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
};

/** matchLabelKeys / mismatchLabelKeys become In / NotIn requirements on the pod's own label
 *  values when the pod is created (MatchLabelKeysInPodAffinity). */
function applyMatchLabelKeys(term: AffinityTerm, labels: Record<string, string>): void {
  if ((!term.matchLabelKeys?.length && !term.mismatchLabelKeys?.length) || !term.labelSelector) return;
  const sel = term.labelSelector;
  for (const [keys, operator] of [
    [term.matchLabelKeys, 'In'],
    [term.mismatchLabelKeys, 'NotIn'],
  ] as const) {
    for (const key of keys ?? []) {
      if (!(key in labels)) continue;
      (sel.matchExpressions ??= []).push({ key, operator, values: [labels[key]] });
    }
  }
}

function mutatePodAffinity(pod: Pod): void {
  const labels = pod.metadata.labels ?? {};
  for (const affinity of [pod.spec?.affinity?.podAffinity, pod.spec?.affinity?.podAntiAffinity]) {
    if (!affinity) continue;
    for (const t of affinity.preferredDuringSchedulingIgnoredDuringExecution ?? [])
      if (t.podAffinityTerm) applyMatchLabelKeys(t.podAffinityTerm, labels);
    for (const t of affinity.requiredDuringSchedulingIgnoredDuringExecution ?? []) applyMatchLabelKeys(t, labels);
  }
}

function prepareForCreate(pod: Pod): void {
  admit(pod);
  const spec = pod.spec as PodSpec;
  const status: PodStatus = { phase: 'Pending', qosClass: computePodQOS(spec) };
  if (spec.schedulingGates?.length) {
    // Go writes the zero times of a fresh condition as null.
    status.conditions = [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'SchedulingGated',
        message: 'Scheduling is blocked due to non-empty scheduling gates',
        lastProbeTime: null,
        lastTransitionTime: null,
      } as unknown as Mutable<v1.PodCondition>,
    ];
  }
  pod.status = status;
  mutatePodAffinity(pod);
}

function prepareForUpdate(pod: Pod, old: Pod): void {
  // The Priority plugin keeps the priority it resolved when an update leaves it out.
  const spec = pod.spec as PodSpec | undefined;
  if (!spec) return;
  if (spec.priority == null && old.spec?.priority != null) spec.priority = old.spec.priority;
  if (spec.preemptionPolicy == null && old.spec?.preemptionPolicy != null) spec.preemptionPolicy = old.spec.preemptionPolicy;
}

// --- validation ------------------------------------------------------------------------

const SPEC = Path.root('spec');
const METADATA = Path.root('metadata');

function validateContainerImages(containers: v1.Container[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (containers ?? []).forEach((c, i) => {
    if (c.image !== undefined && c.image.trim() !== c.image)
      errs.push(invalid(path.index(i).child('image'), c.image, 'must not have leading or trailing whitespace'));
  });
  return errs;
}

/** validatePodMetadataAndSpec minus the generic metadata checks. */
function validatePodMetadataAndSpec(pod: Pod): FieldError[] {
  const spec = (pod.spec ?? {}) as PodSpec;
  const errs = validatePodSpecificAnnotations(pod.metadata.annotations, spec, METADATA.child('annotations'));
  errs.push(...validatePodSpec(spec, SPEC, { isPod: true, podMeta: pod.metadata }));
  if (!spec.serviceAccountName) {
    (spec.volumes ?? []).forEach((v, vi) =>
      (v.projected?.sources ?? []).forEach((src, si) => {
        if (src.serviceAccountToken)
          errs.push(
            forbidden(
              SPEC.child('volumes').index(vi).child('projected').child('sources').index(si).child('serviceAccountToken'),
              'must not be specified when serviceAccountName is not set',
            ),
          );
      }),
    );
  }
  errs.push(...validateContainerImages(spec.containers, SPEC.child('containers')));
  errs.push(...validateContainerImages(spec.initContainers, SPEC.child('initContainers')));
  return errs;
}

function validate(pod: Pod): FieldError[] {
  const errs = validatePodMetadataAndSpec(pod);
  const spec = (pod.spec ?? {}) as PodSpec;
  if ((spec.ephemeralContainers ?? []).length > 0) errs.push(forbidden(SPEC.child('ephemeralContainers'), 'cannot be set on create'));
  if (spec.nodeName && (spec.schedulingGates ?? []).length > 0)
    errs.push(forbidden(SPEC.child('nodeName'), 'cannot be set until all schedulingGates have been cleared'));
  return errs;
}

const APPARMOR_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

function validateAnnotationUpdates(pod: Pod, old: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const path = METADATA.child('annotations');
  const next = pod.metadata.annotations ?? {};
  const prev = old.metadata.annotations ?? {};
  for (const [k, v] of Object.entries(prev)) {
    if (k in next && next[k] === v) continue;
    if (k.startsWith(APPARMOR_PREFIX)) errs.push(forbidden(path.key(k), 'may not remove or update AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION) errs.push(forbidden(path.key(k), 'may not remove or update mirror pod annotation'));
  }
  for (const k of Object.keys(next)) {
    if (k in prev) continue;
    if (k.startsWith(APPARMOR_PREFIX)) errs.push(forbidden(path.key(k), 'may not add AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION) errs.push(forbidden(path.key(k), 'may not add mirror pod annotation'));
  }
  return errs;
}

function validateContainerUpdates(next: v1.Container[] | undefined, prev: v1.Container[] | undefined, path: Path): [FieldError[], boolean] {
  if ((next ?? []).length !== (prev ?? []).length)
    return [[forbidden(path, 'pod updates may not add or remove containers')], true];
  const errs: FieldError[] = [];
  (next ?? []).forEach((c, i) => {
    if (!c.image) errs.push(required(path.index(i).child('image')));
    if (c.image !== undefined && c.image.trim() !== c.image)
      errs.push(invalid(path.index(i).child('image'), c.image, 'must not have leading or trailing whitespace'));
  });
  return [errs, false];
}

function validateOnlyAddedTolerations(next: Toleration[] | undefined, prev: Toleration[] | undefined, path: Path): FieldError[] {
  for (const old of prev ?? []) {
    const found = (next ?? []).some((t) => deepEqual({ ...old, tolerationSeconds: t.tolerationSeconds }, t));
    if (!found) return [forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(next, path);
}

const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/** ValidatePodUpdate: only images, activeDeadlineSeconds, tolerations (added) and scheduling
 *  gates (removed) may change; a gated pod may also gain node selectors. */
function validateUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validatePodMetadataAndSpec(pod);
  errs.push(...validateAnnotationUpdates(pod, old));
  const spec = (pod.spec ?? {}) as PodSpec;
  const oldSpec = (old.spec ?? {}) as PodSpec;

  for (const key of ['containers', 'initContainers'] as const) {
    const [e, stop] = validateContainerUpdates(spec[key], oldSpec[key], SPEC.child(key));
    errs.push(...e);
    if (stop) return errs;
  }

  const ads = SPEC.child('activeDeadlineSeconds');
  if (spec.activeDeadlineSeconds != null) {
    const v = spec.activeDeadlineSeconds;
    if (v < 0 || v > MAX_INT32) return [...errs, invalid(ads, v, inclusiveRange(0, MAX_INT32))];
    if (oldSpec.activeDeadlineSeconds != null && oldSpec.activeDeadlineSeconds < v)
      return [...errs, invalid(ads, v, 'must be less than or equal to previous value')];
  } else if (oldSpec.activeDeadlineSeconds != null) {
    errs.push(invalid(ads, null, 'must not update from a positive integer to nil value'));
  }

  errs.push(...validateOnlyAddedTolerations(spec.tolerations, oldSpec.tolerations, SPEC.child('tolerations')));

  const oldGates = new Set((oldSpec.schedulingGates ?? []).map((g) => g.name));
  (spec.schedulingGates ?? []).forEach((g, i) => {
    if (!oldGates.has(g.name))
      errs.push(
        forbidden(SPEC.child('schedulingGates').index(i).child('name'), `only deletion is allowed, but found new scheduling gate '${g.name}'`),
      );
  });

  if (deepEqual(spec, oldSpec)) return errs;

  const munged = structuredClone(spec);
  (munged.containers ?? []).forEach((c, i) => (c.image = oldSpec.containers![i].image));
  (munged.initContainers ?? []).forEach((c, i) => (c.image = oldSpec.initContainers![i].image));
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (oldGrace != null && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  if ((oldSpec.schedulingGates ?? []).length > 0 && !deepEqual(munged.nodeSelector, oldSpec.nodeSelector)) {
    // A gated pod may gain node selectors, but not change or lose them.
    const next = munged.nodeSelector ?? {};
    for (const [k, v] of Object.entries(oldSpec.nodeSelector ?? {})) {
      if (next[k] !== v) {
        errs.push(
          invalid(SPEC.child('nodeSelector'), next, 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'),
        );
        break;
      }
    }
    munged.nodeSelector = oldSpec.nodeSelector;
  }
  if (!deepEqual(munged, oldSpec))
    errs.push(
      forbidden(
        SPEC,
        `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${specDiff('core.PodSpec', oldSpec, munged)}`,
      ),
    );
  return errs;
}

function validateStateTransitions(
  next: ContainerStatus[] | undefined,
  prev: ContainerStatus[] | undefined,
  path: Path,
  restartPolicy: string | undefined,
  restartable: (name: string) => boolean = () => false,
): FieldError[] {
  if (restartPolicy === 'Always') return [];
  const errs: FieldError[] = [];
  (prev ?? []).forEach((old, i) => {
    const terminated = old.state?.terminated;
    if (!terminated) return;
    if (terminated.exitCode !== 0 && restartPolicy === 'OnFailure') return;
    if (restartable(old.name)) return;
    for (const s of next ?? [])
      if (s.name === old.name && !s.state?.terminated)
        errs.push(forbidden(path.index(i).child('state'), 'may not be transitioned to non-terminated state'));
  });
  return errs;
}

/** validatePodIPs / validateHostIPs: valid, at most one per family, no duplicates. */
function validateIPList(list: Array<{ ip?: string }> | undefined, path: Path, goType: 'PodIP' | 'HostIP'): FieldError[] {
  const errs: FieldError[] = [];
  const ips = (list ?? []).map((p) => p.ip ?? '');
  ips.forEach((ip, i) => errs.push(...validateIP(path.index(i), ip)));
  if (ips.length > 1) {
    const item = (ip: string) => `core.${goType}{IP:${JSON.stringify(ip)}}`;
    const v4 = ips.filter((ip) => !ip.includes(':')).length;
    if (ips.length > 2 || v4 !== 1)
      errs.push(invalidRendered(path, `[]core.${goType}{${ips.map(item).join(', ')}}`, 'may specify no more than one IP for each IP family'));
    const seen = new Set<string>();
    ips.forEach((ip, i) => {
      if (seen.has(ip)) errs.push({ type: 'FieldValueDuplicate', field: String(path.index(i)), message: `Duplicate value: ${item(ip)}` });
      seen.add(ip);
    });
  }
  return errs;
}

const SYSTEM_CONDITIONS = new Set(['PodScheduled', 'Ready', 'Initialized']);

/** ValidatePodStatusUpdate. Spec and metadata come from the stored pod already. */
function validateStatusUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const status = pod.status ?? {};
  const oldStatus = old.status ?? {};
  (status.conditions ?? []).forEach((c, i) => {
    // Kubernetes reports these under metadata, with Go's field name.
    if (!SYSTEM_CONDITIONS.has(c.type)) errs.push(...validateQualifiedName(c.type ?? '', METADATA.child('conditions').index(i).child('Type')));
  });
  const statusPath = Path.root('status');
  const nominated = status.nominatedNodeName ?? '';
  if (nominated && nominated !== (oldStatus.nominatedNodeName ?? ''))
    for (const m of isDNS1123Subdomain(nominated)) errs.push(invalid(statusPath.child('nominatedNodeName'), nominated, m));
  errs.push(...validateImmutable(status.qosClass ?? '', oldStatus.qosClass ?? '', statusPath.child('qosClass')));
  const policy = old.spec?.restartPolicy;
  errs.push(...validateStateTransitions(status.containerStatuses, oldStatus.containerStatuses, statusPath.child('containerStatuses'), policy));
  const restartableInit = new Set((old.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  errs.push(
    ...validateStateTransitions(
      status.initContainerStatuses,
      oldStatus.initContainerStatuses,
      statusPath.child('initContainerStatuses'),
      policy,
      (name) => restartableInit.has(name),
    ),
  );
  errs.push(
    ...validateStateTransitions(
      status.ephemeralContainerStatuses,
      oldStatus.ephemeralContainerStatuses,
      statusPath.child('ephemeralContainerStatuses'),
      'Never',
    ),
  );
  errs.push(...validateIPList(status.podIPs, statusPath.child('podIPs'), 'PodIP'));
  if (status.hostIPs?.length) {
    const p = statusPath.child('hostIPs');
    if ((status.hostIP ?? '') !== status.hostIPs[0].ip)
      errs.push(invalid(p.index(0).child('ip'), status.hostIPs[0].ip, 'must be equal to `hostIP`'));
    errs.push(...validateIPList(status.hostIPs, p, 'HostIP'));
  }
  return errs;
}

// --- deletion ----------------------------------------------------------------------------

/** CheckGracefulDelete: the requested period, else the pod's; at once when the pod never ran
 *  on a node or has finished; a negative period means one second. */
function gracePeriod(pod: Pod, requested: number | undefined): number {
  let period = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 0;
  if (!pod.spec?.nodeName) period = 0;
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') period = 0;
  return period < 0 ? 1 : period;
}

// --- table ---------------------------------------------------------------------------------

const isRestartableInit = (c: v1.Container | undefined) => c?.restartPolicy === 'Always';

/** The row `kubectl get pods` shows, as printPod in pkg/printers/internalversion computes it. */
export function podRow(pod: Pod, now: number): unknown[] {
  const spec = (pod.spec ?? {}) as PodSpec;
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;
  const phase = status.phase ?? '';
  let reason = status.reason || phase;
  for (const c of status.conditions ?? [])
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  const initContainers = new Map((spec.initContainers ?? []).map((c) => [c.name, c] as [string, v1.Container]));
  for (const c of spec.initContainers ?? []) if (isRestartableInit(c)) totalContainers++;
  const finishedAt = (s: ContainerStatus) => {
    const t = s.lastState?.terminated?.finishedAt;
    return t ? Date.parse(t) || 0 : 0;
  };

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    restarts += c.restartCount ?? 0;
    if (c.lastState?.terminated) lastRestart = Math.max(lastRestart, finishedAt(c));
    const restartable = isRestartableInit(initContainers.get(c.name));
    if (restartable) {
      restartableInitRestarts += c.restartCount ?? 0;
      if (c.lastState?.terminated) lastRestartableInitRestart = Math.max(lastRestartableInitRestart, finishedAt(c));
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (restartable && c.started) {
      if (c.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason)
        reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode}`;
      else reason = `Init:${terminated.reason}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  const initialized = (status.conditions ?? []).find((c) => c.type === 'Initialized')?.status === 'True';
  if (!initializing || initialized) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      if (c.lastState?.terminated) lastRestart = Math.max(lastRestart, finishedAt(c));
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A completed container next to running ones does not make the pod Completed.
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsCell = restarts !== 0 && lastRestart !== 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);

  const podIP = status.podIPs?.[0]?.ip || '<none>';
  let readinessGates = '<none>';
  if ((spec.readinessGates ?? []).length > 0) {
    let trueConditions = 0;
    for (const gate of spec.readinessGates ?? []) {
      const c = (status.conditions ?? []).find((cond) => cond.type === gate.conditionType);
      if (c?.status === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${spec.readinessGates!.length}`;
  }
  return [
    pod.metadata.name,
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsCell,
    age(pod.metadata.creationTimestamp, now),
    podIP,
    spec.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    readinessGates,
  ];
}

export const kind: KindDef<Pod> = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  resource: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  statusSubresource: true,
  defaults,
  prepareForCreate,
  prepareForUpdate,
  validate,
  validateUpdate,
  validateStatusUpdate,
  gracePeriod,
  fieldSelectors: {
    'spec.nodeName': (pod) => pod.spec?.nodeName ?? '',
    'spec.restartPolicy': (pod) => pod.spec?.restartPolicy ?? '',
    'spec.schedulerName': (pod) => pod.spec?.schedulerName ?? '',
    'spec.serviceAccountName': (pod) => pod.spec?.serviceAccountName ?? '',
    'spec.hostNetwork': (pod) => String(pod.spec?.hostNetwork ?? false),
    'status.phase': (pod) => pod.status?.phase ?? '',
    'status.podIP': (pod) => pod.status?.podIPs?.[0]?.ip ?? '',
    'status.nominatedNodeName': (pod) => pod.status?.nominatedNodeName ?? '',
  },
  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 },
      { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', priority: 0 },
      { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', priority: 0 },
      {
        name: 'Restarts',
        type: 'string',
        description:
          'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
        priority: 0,
      },
      { name: 'Age', type: 'string', description: AGE_DESCRIPTION, priority: 0 },
      {
        name: 'IP',
        type: 'string',
        description: 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
        priority: 1,
      },
      {
        name: 'Node',
        type: 'string',
        description:
          'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename',
        priority: 1,
      },
      {
        name: 'Nominated Node',
        type: 'string',
        description:
          'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
        priority: 1,
      },
      {
        name: 'Readiness Gates',
        type: 'string',
        description:
          'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
        priority: 1,
      },
    ],
    row: podRow,
  },
};
