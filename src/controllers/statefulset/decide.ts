// The StatefulSet controller's decisions: a pure function of (set, its pods,
// its claims, its revisions, now) to the actions that move it one step toward
// its spec, and the status it has. Kubernetes' stateful_set_control is the
// reference; where berth differs it says so below (see also the README):
// - a pod that is not Ready and not of the update revision is replaced once the
//   template changes, so a rollout stuck on a broken pod recovers when the
//   template is fixed or rolled back;
// - claims grow with their volumeClaimTemplate;
// - the Waiting condition names the pod progress waits on and why.
import { deepEqual, nowTimestamp } from '../../machinery/objects.js';
import { labelSelectorFromObject } from '../../machinery/selectors.js';
import { desiredClaimOwners, grownStorage, isStale } from './claims.js';
import {
  claimFor,
  claimName,
  claimTemplates,
  controllerOf,
  identityMismatch,
  inOrdinalRange,
  isCreated,
  isFailed,
  isHealthy,
  isMemberOf,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  msUntilAvailable,
  newPod,
  ordinalOf,
  replicaCount,
  revisionOf,
  startOrdinal,
  type Claim,
  type OwnerReference,
  type Pod,
  type StatefulSet,
} from './identity.js';
import { planRevisions, revisionsToPrune, setAtRevision, type ControllerRevision } from './revision.js';

export interface SetState {
  set: StatefulSet;
  /** Pods of the set's namespace named `<set>-<ordinal>` (owned, orphaned or owned by others). */
  pods: Pod[];
  /** Claims of the set's namespace, by name. */
  claims: Map<string, Claim>;
  /** ControllerRevisions owned by the set, and orphaned ones of its namespace (adopted when they match). */
  revisions: ControllerRevision[];
  now: number;
}

export type EventType = 'Normal' | 'Warning';

export type Action =
  | { type: 'createRevision'; revision: ControllerRevision }
  | { type: 'renumberRevision'; name: string; revision: number }
  | { type: 'deleteRevision'; name: string }
  | { type: 'adoptRevision'; revision: ControllerRevision }
  | { type: 'adoptPod'; pod: Pod }
  | { type: 'releasePod'; pod: Pod }
  | { type: 'setClaimOwners'; claim: Claim; ownerReferences: OwnerReference[] }
  | { type: 'resizeClaim'; claim: Claim; storage: string; pod: string }
  | { type: 'createClaim'; claim: Claim; pod: string }
  | { type: 'deletePod'; pod: Pod }
  | { type: 'createPod'; pod: Pod }
  | { type: 'labelPod'; pod: Pod; labels: Record<string, string> }
  | { type: 'event'; eventType: EventType; reason: string; message: string };

export type StatefulSetStatus = NonNullable<StatefulSet['status']>;
type Condition = NonNullable<StatefulSetStatus['conditions']>[number];

export interface Decision {
  actions: Action[];
  /** The status to write, when it differs from the set's. */
  status?: StatefulSetStatus;
  /** Sync again after this many ms (minReadySeconds, readiness deadlines). */
  requeueAfterMs?: number;
}

export const WAITING_CONDITION = 'Waiting';
/** A Running pod still not Ready after this long counts as failing readiness, not as starting. */
export const READINESS_GRACE_MS = 10_000;

/** Why progress waits on a pod: the reason and message of the Waiting condition. */
export interface Blocker {
  reason: string;
  message: string;
  /** Something is wrong (not just starting): recorded as a Warning event too. */
  problem: boolean;
  /** Look again after this long (a starting pod may turn into a failing one). */
  recheckMs?: number;
}

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);

/** What keeps `pod` (which should become Running and Ready) from getting there. */
export function diagnose(pod: Pod, claims: Map<string, Claim>, minReadySeconds: number, now: number): Blocker {
  const name = pod.metadata.name;
  if (isTerminating(pod)) return { reason: 'PodTerminating', message: `waiting for pod ${name} to terminate`, problem: false };
  if (isFailed(pod)) return { reason: 'PodFailed', message: `pod ${name} failed: ${pod.status?.message ?? pod.status?.reason ?? 'a container exited with an error'}`, problem: true };
  for (const v of pod.spec?.volumes ?? []) {
    const claimName = v.persistentVolumeClaim?.claimName;
    if (!claimName) continue;
    const claim = claims.get(claimName);
    if (!claim) return { reason: 'ClaimMissing', message: `pod ${name} is waiting for claim ${claimName}, which does not exist`, problem: true };
    if (isTerminating(claim)) return { reason: 'ClaimTerminating', message: `pod ${name} is waiting for claim ${claimName}, which is being deleted`, problem: true };
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (!pod.spec?.nodeName && scheduled?.status === 'False')
    return { reason: 'PodNotScheduled', message: `pod ${name} cannot be scheduled: ${scheduled.message ?? scheduled.reason ?? 'no node fits'}`, problem: true };
  for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const waiting = cs.state?.waiting;
    if (!waiting?.reason || waiting.reason === 'ContainerCreating' || waiting.reason === 'PodInitializing') continue;
    const detail = `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
    if (IMAGE_PULL_REASONS.has(waiting.reason))
      return { reason: 'ImagePullFailing', message: `pod ${name} cannot pull the image of container ${cs.name}: ${detail}`, problem: true };
    if (waiting.reason === 'CrashLoopBackOff')
      return { reason: 'CrashLooping', message: `container ${cs.name} of pod ${name} is crash looping (${cs.restartCount ?? 0} restarts): ${detail}`, problem: true };
    return { reason: 'ContainerWaiting', message: `container ${cs.name} of pod ${name} is waiting: ${detail}`, problem: true };
  }
  if (pod.status?.phase === 'Running' && !isRunningAndReady(pod)) {
    const ready = pod.status.conditions?.find((c) => c.type === 'Ready');
    // Counted from when the containers started running, not from when the pod was first reported.
    const started = (pod.status.containerStatuses ?? []).map((cs) => Date.parse(cs.state?.running?.startedAt ?? '')).filter(Number.isFinite);
    const since = started.length ? Math.max(...started) : Date.parse(ready?.lastTransitionTime ?? pod.status.startTime ?? '');
    const waited = Number.isFinite(since) ? now - since : READINESS_GRACE_MS;
    if (waited < READINESS_GRACE_MS)
      return { reason: 'PodStarting', message: `waiting for pod ${name} to become ready`, problem: false, recheckMs: READINESS_GRACE_MS - waited };
    return { reason: 'ReadinessFailing', message: `pod ${name} is running but not ready: ${ready?.message ?? 'readiness probe failing'}`, problem: true };
  }
  if (isRunningAndReady(pod) && !isRunningAndAvailable(pod, minReadySeconds, now))
    return { reason: 'WaitingForAvailability', message: `waiting for pod ${name} to be ready for minReadySeconds (${minReadySeconds}s)`, problem: false };
  return { reason: 'PodPending', message: `waiting for pod ${name} to start`, problem: false };
}

function intOrPercent(value: number | string | undefined, total: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const pct = Number(value.replace(/%$/, ''));
  return Number.isFinite(pct) ? Math.ceil((pct * total) / 100) : fallback;
}

/** The decision for one set. */
export function decide(state: SetState): Decision {
  const { set, now } = state;
  const actions: Action[] = [];
  const spec: NonNullable<StatefulSet['spec']> | Partial<NonNullable<StatefulSet['spec']>> = set.spec ?? {};
  const minReadySeconds = spec.minReadySeconds ?? 0;
  const deleting = isTerminating(set);
  const revisions = claimRevisions(set, state.revisions, deleting, actions);
  const plan = planRevisions(set, revisions);
  const currentRevision = plan.current.metadata.name!;
  const updateRevision = plan.update.metadata.name!;
  if (plan.create) actions.push({ type: 'createRevision', revision: plan.create });
  if (plan.renumber) actions.push({ type: 'renumberRevision', name: updateRevision, revision: plan.renumber });

  const owned = claimPods(set, state.pods, deleting, actions);

  const start = startOrdinal(set);
  const n = replicaCount(set);
  const replicas: (Pod | undefined)[] = new Array(n).fill(undefined);
  const condemned: Pod[] = [];
  for (const pod of owned) {
    const ord = ordinalOf(pod);
    if (inOrdinalRange(set, ord)) replicas[ord - start] = pod;
    else condemned.push(pod);
  }
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));

  const status = computeStatus(set, owned, plan.current.metadata.name!, updateRevision, plan.collisionCount, minReadySeconds, now);
  let requeueAfterMs = minReadyRequeue(owned, minReadySeconds, now);
  const finish = (blocker: { pod: Pod; blocker: Blocker } | undefined): Decision => {
    const fallback = blocker ?? firstUnhealthy(replicas, state.claims, minReadySeconds, now);
    setWaitingCondition(set, status, fallback, n, now);
    if (fallback?.blocker.recheckMs !== undefined) requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, fallback.blocker.recheckMs);
    const previous = set.status?.conditions?.find((c) => c.type === WAITING_CONDITION);
    const now_ = status.conditions?.find((c) => c.type === WAITING_CONDITION);
    if (fallback?.blocker.problem && (previous?.reason !== now_?.reason || previous?.message !== now_?.message))
      actions.push({ type: 'event', eventType: 'Warning', reason: fallback.blocker.reason, message: fallback.blocker.message });
    const live = new Set([currentRevision, updateRevision, ...owned.map(revisionOf)]);
    for (const r of revisionsToPrune(set, revisions, live)) actions.push({ type: 'deleteRevision', name: r.metadata.name! });
    return { actions, status: sameStatus(set.status, status) ? undefined : status, requeueAfterMs };
  };
  if (deleting) return finish(undefined);

  const monotonic = spec.podManagementPolicy !== 'Parallel';
  const strategy = spec.updateStrategy ?? {};
  const rolling = strategy.type !== 'OnDelete';
  const partition = rolling ? (strategy.rollingUpdate?.partition ?? 0) : 0;
  const isCurrent = (index: number): boolean =>
    rolling &&
    ((strategy.rollingUpdate == null && index < (set.status?.currentReplicas ?? 0)) || (strategy.rollingUpdate?.partition != null && index < partition));
  // A pod kept at the current revision is made from that revision's template, not the set's.
  const currentSet = setAtRevision(set, plan.current);
  const deleted = new Set<Pod>();
  const remove = (pod: Pod) => {
    actions.push({ type: 'deletePod', pod });
    deleted.add(pod);
  };

  // 1. Every ordinal in range: create what is missing, replace what failed, wait (OrderedReady) for each to be ready.
  for (let i = 0; i < n; i++) {
    const ord = start + i;
    const pod = replicas[i];
    if (pod && (isFailed(pod) || isSucceeded(pod))) {
      // As Kubernetes since 1.28: delete now, re-create once the old pod is gone.
      if (!isTerminating(pod)) {
        const failed = isFailed(pod);
        actions.push({
          type: 'event',
          eventType: failed ? 'Warning' : 'Normal',
          reason: failed ? 'RecreatingFailedPod' : 'RecreatingTerminatedPod',
          message: `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is recreating ${failed ? 'failed' : 'terminated'} Pod ${pod.metadata.name}`,
        });
        remove(pod);
      }
      if (monotonic) return finish({ pod, blocker: diagnose(pod, state.claims, minReadySeconds, now) });
      continue;
    }
    if (!pod) {
      const fresh = isCurrent(i) ? newPod(currentSet, ord, currentRevision) : newPod(set, ord, updateRevision);
      const blocked = createClaims(set, fresh, state.claims, actions, true);
      if (blocked) {
        if (monotonic) return finish({ pod: fresh, blocker: blocked });
        continue;
      }
      actions.push({ type: 'createPod', pod: fresh });
      if (monotonic) return finish(undefined);
      continue;
    }
    if (isPending(pod)) createClaims(set, pod, state.claims, actions, false);
    if (isTerminating(pod)) {
      if (monotonic) return finish({ pod, blocker: diagnose(pod, state.claims, minReadySeconds, now) });
      continue;
    }
    // berth: a broken pod of an outdated revision does not hold a changed template back.
    if (rolling && i >= partition && revisionOf(pod) !== updateRevision && !isRunningAndReady(pod)) {
      remove(pod);
      actions.push({
        type: 'event',
        eventType: 'Normal',
        reason: 'ReplacingUnreadyPod',
        message: `replacing pod ${pod.metadata.name}, which is not ready, with revision ${updateRevision}`,
      });
      if (monotonic) return finish({ pod, blocker: { reason: 'PodTerminating', message: `waiting for pod ${pod.metadata.name} to terminate`, problem: false } });
      continue;
    }
    if (monotonic && !isRunningAndAvailable(pod, minReadySeconds, now))
      return finish({ pod, blocker: diagnose(pod, state.claims, minReadySeconds, now) });
    const labels = identityMismatch(set, pod);
    if (labels) actions.push({ type: 'labelPod', pod, labels });
    reconcileClaims(set, pod, state.claims, actions);
  }

  // 2. Claims of scaled-away ordinals get their retention owners before their pods go.
  for (const pod of condemned) reconcileClaims(set, pod, state.claims, actions);

  // 3. Scale down from the highest ordinal; OrderedReady one at a time, only while the rest is healthy.
  const unhealthy = [...replicas, ...[...condemned].reverse()].find((p) => !p || !isHealthy(p));
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return finish({ pod, blocker: diagnose(pod, state.claims, minReadySeconds, now) });
      continue;
    }
    if (monotonic && pod !== unhealthy && !isRunningAndAvailable(pod, minReadySeconds, now))
      return finish({ pod, blocker: diagnose(pod, state.claims, minReadySeconds, now) });
    remove(pod);
    if (monotonic) return finish(undefined);
  }

  // 4. Rolling update, from the highest ordinal down to the partition.
  if (!rolling) return finish(undefined);
  const maxUnavailableSpec = strategy.rollingUpdate?.maxUnavailable;
  if (maxUnavailableSpec === undefined) {
    for (let i = n - 1; i >= partition; i--) {
      const pod = replicas[i];
      if (!pod || deleted.has(pod)) return finish(undefined);
      if (revisionOf(pod) !== updateRevision && !isTerminating(pod)) {
        remove(pod);
        return finish(undefined);
      }
      if (!isHealthy(pod)) return finish({ pod, blocker: diagnose(pod, state.claims, minReadySeconds, now) });
    }
    return finish(undefined);
  }
  const maxUnavailable = Math.max(1, intOrPercent(maxUnavailableSpec as number | string, n, 1));
  const unavailable = replicas.filter((p) => !p || deleted.has(p) || !isHealthy(p) || !isRunningAndAvailable(p, minReadySeconds, now)).length;
  let budget = maxUnavailable - unavailable;
  for (let i = n - 1; i >= partition && budget > 0; i--) {
    const pod = replicas[i];
    if (pod && !deleted.has(pod) && revisionOf(pod) !== updateRevision && !isTerminating(pod)) {
      remove(pod);
      budget--;
    }
  }
  return finish(undefined);
}

/** The set's revisions: its own, and orphans matching its selector, which it adopts (Kubernetes' ClaimControllerRevisions). */
function claimRevisions(set: StatefulSet, revisions: ControllerRevision[], deleting: boolean, actions: Action[]): ControllerRevision[] {
  const selector = labelSelectorFromObject(set.spec?.selector);
  return revisions.filter((r) => {
    const owner = controllerOf(r);
    if (owner) return owner.uid === set.metadata.uid;
    if (deleting || isTerminating(r) || !selector.matches(r.metadata.labels)) return false;
    actions.push({ type: 'adoptRevision', revision: r });
    return true;
  });
}

/** Adopts orphans that match the selector and releases owned pods that stopped matching; returns the set's pods. */
function claimPods(set: StatefulSet, pods: Pod[], deleting: boolean, actions: Action[]): Pod[] {
  const selector = labelSelectorFromObject(set.spec?.selector);
  const owned: Pod[] = [];
  for (const pod of pods) {
    if (!isMemberOf(set, pod)) continue;
    const owner = controllerOf(pod);
    const matches = selector.matches(pod.metadata.labels);
    if (owner?.uid === set.metadata.uid) {
      if (matches || deleting) owned.push(pod);
      else actions.push({ type: 'releasePod', pod });
    } else if (!owner && matches && !deleting && !isTerminating(pod)) {
      actions.push({ type: 'adoptPod', pod });
      owned.push(pod);
    }
  }
  return owned;
}

/**
 * Creates the claims `pod` lacks (before the pod itself); returns why the pod must wait, if a claim is
 * being deleted or still belongs to an earlier pod of this name.
 */
function createClaims(set: StatefulSet, pod: Pod, claims: Map<string, Claim>, actions: Action[], forNewPod: boolean): Blocker | undefined {
  const ordinal = ordinalOf(pod);
  for (const template of claimTemplates(set)) {
    const name = claimName(template, set, ordinal);
    const existing = claims.get(name);
    if (!existing) {
      const claim = claimFor(set, template, ordinal);
      const owners = desiredClaimOwners(set, forNewPod ? undefined : pod, claim);
      if (owners.length) claim.metadata.ownerReferences = owners;
      actions.push({ type: 'createClaim', claim, pod: pod.metadata.name! });
      continue;
    }
    if (isTerminating(existing))
      return { reason: 'ClaimTerminating', message: `pod ${pod.metadata.name} is waiting for claim ${name}, which is being deleted`, problem: true };
    if (forNewPod && isStale(existing, pod.metadata.name!, undefined))
      return { reason: 'ClaimTerminating', message: `pod ${pod.metadata.name} is waiting for claim ${name} of an earlier pod to be deleted`, problem: false };
  }
  return undefined;
}

/** Retention owners and template growth for the claims of an existing pod. */
function reconcileClaims(set: StatefulSet, pod: Pod, claims: Map<string, Claim>, actions: Action[]): void {
  const ordinal = ordinalOf(pod);
  for (const template of claimTemplates(set)) {
    const claim = claims.get(claimName(template, set, ordinal));
    if (!claim || isTerminating(claim)) continue;
    const owners = desiredClaimOwners(set, pod, claim);
    if (!sameOwners(owners, claim.metadata.ownerReferences ?? [])) actions.push({ type: 'setClaimOwners', claim, ownerReferences: owners });
    // Only a bound claim may change its request; a pending one grows once it binds.
    const storage = inOrdinalRange(set, ordinal) && claim.status?.phase === 'Bound' ? grownStorage(template as Claim, claim) : undefined;
    if (storage) actions.push({ type: 'resizeClaim', claim, storage, pod: pod.metadata.name! });
  }
}

function sameOwners(a: OwnerReference[], b: OwnerReference[]): boolean {
  return a.length === b.length && a.every((r, i) => r.uid === b[i].uid);
}

function firstUnhealthy(
  replicas: (Pod | undefined)[],
  claims: Map<string, Claim>,
  minReadySeconds: number,
  now: number,
): { pod: Pod; blocker: Blocker } | undefined {
  const pod = replicas.find((p): p is Pod => !!p && !isRunningAndAvailable(p, minReadySeconds, now));
  return pod && { pod, blocker: diagnose(pod, claims, minReadySeconds, now) };
}

function minReadyRequeue(pods: Pod[], minReadySeconds: number, now: number): number | undefined {
  let soonest: number | undefined;
  for (const p of pods) {
    if (!isRunningAndReady(p)) continue;
    const ms = msUntilAvailable(p, minReadySeconds, now);
    if (ms > 0) soonest = Math.min(soonest ?? Infinity, ms);
  }
  return soonest;
}

/** Status as Kubernetes counts it (computeReplicaStatus, completeRollingUpdate). */
function computeStatus(
  set: StatefulSet,
  pods: Pod[],
  currentRevision: string,
  updateRevision: string,
  collisionCount: number,
  minReadySeconds: number,
  now: number,
): StatefulSetStatus {
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata.generation,
    replicas: 0,
    readyReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    availableReplicas: 0,
    currentRevision,
    updateRevision,
    collisionCount,
  };
  for (const pod of pods) {
    if (isCreated(pod)) status.replicas++;
    if (isRunningAndReady(pod)) {
      status.readyReplicas!++;
      if (isRunningAndAvailable(pod, minReadySeconds, now)) status.availableReplicas!++;
    }
    if (isCreated(pod) && !isTerminating(pod)) {
      if (revisionOf(pod) === currentRevision) status.currentReplicas!++;
      if (revisionOf(pod) === updateRevision) status.updatedReplicas!++;
    }
  }
  if (set.spec?.updateStrategy?.type !== 'OnDelete' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = updateRevision;
  }
  if (set.status?.conditions) status.conditions = set.status.conditions.filter((c) => c.type !== WAITING_CONDITION);
  return status;
}

function setWaitingCondition(
  set: StatefulSet,
  status: StatefulSetStatus,
  blocked: { pod: Pod; blocker: Blocker } | undefined,
  n: number,
  now: number,
): void {
  const previous = set.status?.conditions?.find((c) => c.type === WAITING_CONDITION);
  const converged =
    !blocked && status.replicas === n && status.readyReplicas === n && status.updatedReplicas === n && status.currentRevision === status.updateRevision;
  const next: Condition = blocked
    ? { type: WAITING_CONDITION, status: 'True', reason: blocked.blocker.reason, message: blocked.blocker.message }
    : {
        type: WAITING_CONDITION,
        status: 'False',
        reason: converged ? 'Converged' : 'Progressing',
        message: converged ? `all ${n} replicas are ready at revision ${status.updateRevision}` : 'the set is progressing; no pod is blocking it',
      };
  const unchanged = previous && previous.status === next.status && previous.reason === next.reason && previous.message === next.message;
  next.lastTransitionTime = unchanged ? previous.lastTransitionTime : nowTimestamp(now);
  (status.conditions ??= []).push(next);
}

function sameStatus(a: StatefulSetStatus | undefined, b: StatefulSetStatus): boolean {
  return !!a && deepEqual(a, b);
}
