// The PersistentVolume controller's binding decisions, pure: a claim or a volume,
// the snapshot of the others, and `now` give the actions that move the pair one
// step toward being bound (Kubernetes' pv_controller syncClaim and syncVolume).
// - A claim without `pv.kubernetes.io/bind-completed` is unbound: it binds to the
//   volume it names, or to the best match (match.ts), or its class's provisioner
//   is asked for one, or it waits (WaitForFirstConsumer, no class, no match).
// - A bound claim whose volume is gone, or bound to another claim, is Lost.
// - A volume is Available until claimed, Bound while its claim names it, and
//   Released once its claim is gone; then its reclaim policy runs.
//
// Concurrency. Decisions are per object on one consistent snapshot, so two claims
// decided against the same snapshot may both pick the same Available volume. The
// effect layer is what keeps that safe, as in Kubernetes: every write carries the
// resourceVersion of the object it was decided on (`Target.resourceVersion`) as a
// precondition, and the volume's claimRef is written first. The second claim's
// claimRef write then fails with a conflict, the rest of its `bind` is skipped, and
// its next sync sees the volume taken. Actions on one object apply in order; only
// the first write carries the snapshot's resourceVersion, later ones the version
// the previous write returned. Events may repeat on every sync (Kubernetes emits
// them the same way and its recorder aggregates them).
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../../api/types.js';
import type { StorageClass } from '../../api/storage/storageclasses.js';
import { nowTimestamp } from '../../machinery/objects.js';
import type { Labels } from '../../machinery/selectors.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  findMatchingVolume,
  hasAnnotation,
  isVolumeBoundToClaim,
  requestedStorage,
  storageOf,
  volumeMismatch,
  volumeModeMismatch,
  volumeStorage,
  type Claim,
  type Volume,
} from './match.js';

export type { Claim, Volume } from './match.js';
export { findMatchingVolume } from './match.js';

/** A provisioner name that provisions nothing: classes of pre-created local volumes use it. */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

export type VolumePhase = 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed';
export type ClaimPhase = 'Pending' | 'Bound' | 'Lost';
export type EventType = 'Normal' | 'Warning';

/** The object an action writes, with the resourceVersion it was decided on (the write's precondition). */
export interface Target {
  kind: 'PersistentVolume' | 'PersistentVolumeClaim';
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export type ClaimRef = Mutable<ObjectReference>;

export interface ClaimStatus {
  phase: 'Bound';
  accessModes: string[];
  capacity: Record<string, string>;
}

/**
 * One binding, written in this order and abandoned at the first failed write (Kubernetes' bind()):
 * the volume's claimRef and annotations, the volume's phase, the claim's volumeName and annotations,
 * the claim's status. Only the parts that differ from the snapshot are present.
 */
export interface BindAction {
  type: 'bind';
  volume: Target;
  claim: Target;
  /** Set spec.claimRef; merge `annotations` into the volume's. */
  volumeUpdate?: { claimRef: ClaimRef; annotations: Record<string, string> };
  volumePhase?: { phase: 'Bound'; lastPhaseTransitionTime: string };
  /** Set spec.volumeName when given; merge `annotations` into the claim's. */
  claimUpdate?: { volumeName?: string; annotations: Record<string, string> };
  claimStatus?: ClaimStatus;
}

export type Action =
  | BindAction
  /** Write status.phase, status.message ("" clears it) and status.lastPhaseTransitionTime. */
  | { type: 'setVolumePhase'; volume: Target; phase: VolumePhase; message: string; lastPhaseTransitionTime: string }
  /** Write status.phase, leaving the rest of the status. */
  | { type: 'setClaimPhase'; claim: Target; phase: ClaimPhase }
  /** Merge annotations into the claim's. */
  | { type: 'annotateClaim'; claim: Target; annotations: Record<string, string> }
  /**
   * Ask `provisioner` for a volume of `storageClassName` for the claim (on `selectedNode` for a
   * WaitForFirstConsumer class). Berth's provisioner, when it serves that name, creates the volume
   * pre-bound to the claim (claimRef with the claim's uid) and annotated `pv.kubernetes.io/provisioned-by`;
   * a name nobody serves leaves the claim Pending, as an absent external provisioner does.
   */
  | { type: 'provision'; claim: Target; storageClassName: string; provisioner: string; selectedNode?: string }
  /**
   * Undo the controller's half of a binding: with `clearClaimRef`, remove spec.claimRef and the
   * bound-by-controller annotation; otherwise (the user pre-bound it) clear only claimRef.uid.
   */
  | { type: 'unbindVolume'; volume: Target; clearClaimRef: boolean }
  /** Reclaim policy Delete: `provisioner` deletes the storage, then the PersistentVolume object goes. */
  | { type: 'deleteVolume'; volume: Target; provisioner: string }
  /**
   * Grow the volume to `size` (the claim's request) through `provisioner`; the claim's status tells
   * the progress (Resizing, allocatedResources, then capacity), as with Kubernetes' resizer.
   */
  | { type: 'expand'; claim: Target; volume: Target; provisioner: string; size: string }
  /** Sync the claim: it finishes a binding its volume already holds. */
  | { type: 'syncClaim'; claim: Target }
  | { type: 'event'; object: Target; eventType: EventType; reason: string; message: string };

export interface ClaimOptions {
  /** Labels of a node by name, for the node affinity of volumes when a node was selected. */
  nodeLabels?: (name: string) => Labels | undefined;
}

function target(kind: Target['kind'], obj: Claim | Volume): Target {
  const t: Target = { kind, name: obj.metadata.name ?? '' };
  if (obj.metadata.namespace) t.namespace = obj.metadata.namespace;
  if (obj.metadata.uid) t.uid = obj.metadata.uid;
  if (obj.metadata.resourceVersion) t.resourceVersion = obj.metadata.resourceVersion;
  return t;
}
const claimTarget = (c: Claim) => target('PersistentVolumeClaim', c);
const volumeTarget = (v: Volume) => target('PersistentVolume', v);

function event(object: Target, eventType: EventType, reason: string, message: string): Action {
  return { type: 'event', object, eventType, reason, message };
}

/** Kubernetes' updateClaimStatus without a volume: only the phase, only when it changes. */
function claimPhase(claim: Claim, phase: ClaimPhase): Action[] {
  return claim.status?.phase === phase ? [] : [{ type: 'setClaimPhase', claim: claimTarget(claim), phase }];
}

/** updateClaimStatusWithEvent: the event goes with the transition, not with every sync. */
function claimPhaseWithEvent(claim: Claim, phase: ClaimPhase, reason: string, message: string): Action[] {
  if (claim.status?.phase === phase) return [];
  return [...claimPhase(claim, phase), event(claimTarget(claim), 'Warning', reason, message)];
}

function volumePhase(volume: Volume, phase: VolumePhase, now: number, message = ''): Action[] {
  if (volume.status?.phase === phase) return [];
  return [{ type: 'setVolumePhase', volume: volumeTarget(volume), phase, message, lastPhaseTransitionTime: nowTimestamp(now) }];
}

function volumePhaseWithEvent(volume: Volume, phase: VolumePhase, now: number, reason: string, message: string): Action[] {
  if (volume.status?.phase === phase) return [];
  return [...volumePhase(volume, phase, now, message), event(volumeTarget(volume), 'Warning', reason, message)];
}

/** GetReference of the claim, as the volume's claimRef records it. */
export function claimRefFor(claim: Claim): ClaimRef {
  const ref: ClaimRef = {
    kind: 'PersistentVolumeClaim',
    namespace: claim.metadata.namespace,
    name: claim.metadata.name,
    uid: claim.metadata.uid,
    apiVersion: 'v1',
  };
  if (claim.metadata.resourceVersion) ref.resourceVersion = claim.metadata.resourceVersion;
  return ref;
}

/** Bind volume and claim, writing only what is missing; nothing when both are already bound. */
function bind(volume: Volume, claim: Claim, now: number): Action[] {
  const action: BindAction = { type: 'bind', volume: volumeTarget(volume), claim: claimTarget(claim) };
  const ref = volume.spec?.claimRef;
  if (!ref || ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace || ref.uid !== claim.metadata.uid) {
    // A claimRef the user wrote (pre-binding) gets its uid filled in but stays the user's.
    const annotations: Record<string, string> = {};
    if (!isVolumeBoundToClaim(volume, claim) && !hasAnnotation(volume, ANN_BOUND_BY_CONTROLLER))
      annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
    action.volumeUpdate = { claimRef: claimRefFor(claim), annotations };
  }
  if (volume.status?.phase !== 'Bound') action.volumePhase = { phase: 'Bound', lastPhaseTransitionTime: nowTimestamp(now) };

  const name = volume.metadata.name ?? '';
  const annotations: Record<string, string> = {};
  const setsVolumeName = claim.spec?.volumeName !== name;
  if (setsVolumeName && !hasAnnotation(claim, ANN_BOUND_BY_CONTROLLER)) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
  if (!hasAnnotation(claim, ANN_BIND_COMPLETED)) annotations[ANN_BIND_COMPLETED] = 'yes';
  if (setsVolumeName || Object.keys(annotations).length)
    action.claimUpdate = setsVolumeName ? { volumeName: name, annotations } : { annotations };

  const accessModes = [...(volume.spec?.accessModes ?? [])];
  const capacity = Object.fromEntries(Object.entries(volume.spec?.capacity ?? {}).map(([k, v]) => [k, String(v)]));
  const have = storageOf(claim.status?.capacity);
  const sameCapacity = have !== undefined && have.equals(volumeStorage(volume));
  const sameModes = JSON.stringify(claim.status?.accessModes ?? []) === JSON.stringify(accessModes);
  if (claim.status?.phase !== 'Bound' || !sameModes || !sameCapacity)
    action.claimStatus = { phase: 'Bound', accessModes, capacity };

  return action.volumeUpdate || action.volumePhase || action.claimUpdate || action.claimStatus ? [action] : [];
}

/**
 * What to do about `claim` (syncClaim).
 * @param volumes every PersistentVolume in the snapshot
 * @param classes every StorageClass in the snapshot
 * @param now ms since the epoch, for the volume's lastPhaseTransitionTime
 */
export function decideClaim(
  claim: Claim,
  volumes: readonly Volume[],
  classes: readonly StorageClass[],
  now: number,
  opts: ClaimOptions = {},
): Action[] {
  return hasAnnotation(claim, ANN_BIND_COMPLETED)
    ? decideBoundClaim(claim, volumes, now)
    : decideUnboundClaim(claim, volumes, classes, now, opts);
}

function decideUnboundClaim(
  claim: Claim,
  volumes: readonly Volume[],
  classes: readonly StorageClass[],
  now: number,
  opts: ClaimOptions,
): Action[] {
  const me = claimTarget(claim);
  const volumeName = claim.spec?.volumeName;
  if (volumeName) {
    // The user (or an earlier sync) chose the volume.
    const volume = volumes.find((v) => v.metadata.name === volumeName);
    // Not there yet: keep waiting for it.
    if (!volume) return claimPhase(claim, 'Pending');
    if (!volume.spec?.claimRef) {
      const why = volumeMismatch(volume, claim);
      if (why) return [event(me, 'Warning', 'VolumeMismatch', why), ...claimPhase(claim, 'Pending')];
      return bind(volume, claim, now);
    }
    if (isVolumeBoundToClaim(volume, claim)) return bind(volume, claim, now);
    // The volume is another claim's. If the user named it, say so; if this controller wrote the
    // name, the binding is inconsistent and Kubernetes only logs it, so nothing is written.
    if (hasAnnotation(claim, ANN_BOUND_BY_CONTROLLER)) return [];
    return [
      event(me, 'Warning', 'FailedBinding', `volume "${volumeName}" already bound to a different claim.`),
      ...claimPhase(claim, 'Pending'),
    ];
  }

  const className = claimClass(claim);
  const cls = className ? classes.find((c) => c.metadata.name === className) : undefined;
  const selectedNode = claim.metadata.annotations?.[ANN_SELECTED_NODE];
  const delayBinding = !selectedNode && cls?.volumeBindingMode === 'WaitForFirstConsumer';
  const node = selectedNode ? { name: selectedNode, labels: opts.nodeLabels?.(selectedNode) } : undefined;
  const volume = findMatchingVolume(claim, volumes, { node, delayBinding });
  if (volume) return bind(volume, claim, now);

  if (delayBinding)
    return [
      event(me, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding'),
      ...claimPhase(claim, 'Pending'),
    ];
  if (!className)
    return [
      event(me, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set'),
      ...claimPhase(claim, 'Pending'),
    ];
  return [...provision(claim, className, cls, selectedNode), ...claimPhase(claim, 'Pending')];
}

/** provisionClaim for an external provisioner: every provisioner is external to this controller. */
function provision(claim: Claim, className: string, cls: StorageClass | undefined, selectedNode: string | undefined): Action[] {
  const me = claimTarget(claim);
  if (!cls) return [event(me, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`)];
  const provisioner = cls.provisioner;
  // "kubernetes.io/" names are in-tree plugins; the only one meaningful here provisions nothing.
  if (provisioner === NO_PROVISIONER || !provisioner)
    return [event(me, 'Warning', 'ProvisioningFailed', `no volume plugin matched name: ${provisioner}`)];
  const actions: Action[] = [];
  const ann = claim.metadata.annotations ?? {};
  if (ann[ANN_STORAGE_PROVISIONER] !== provisioner || ann[ANN_BETA_STORAGE_PROVISIONER] !== provisioner)
    actions.push({
      type: 'annotateClaim',
      claim: me,
      annotations: { [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner },
    });
  const request: Action = { type: 'provision', claim: me, storageClassName: className, provisioner };
  if (selectedNode) request.selectedNode = selectedNode;
  actions.push(
    request,
    event(
      me,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    ),
  );
  return actions;
}

function decideBoundClaim(claim: Claim, volumes: readonly Volume[], now: number): Action[] {
  const volumeName = claim.spec?.volumeName;
  if (!volumeName)
    return claimPhaseWithEvent(claim, 'Lost', 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
  const volume = volumes.find((v) => v.metadata.name === volumeName);
  if (!volume)
    return claimPhaseWithEvent(claim, 'Lost', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
  // A volume unbound behind our back is bound again; a bound pair gets any missing part written,
  // then grows when its claim asks for more.
  if (!volume.spec?.claimRef || volume.spec.claimRef.uid === claim.metadata.uid) {
    const binding = bind(volume, claim, now);
    return binding.length ? binding : resize(claim, volume);
  }
  return claimPhaseWithEvent(claim, 'Lost', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
}

/**
 * Expansion (external-resizer's ControllerExpandVolume, then the filesystem): a bound claim that
 * requests more than its volume holds has its volume grown by the provisioner that made it. The
 * PersistentVolumeClaimResize admission plugin already checked that the class allows it.
 */
function resize(claim: Claim, volume: Volume): Action[] {
  const want = requestedStorage(claim);
  if (want.cmp(volumeStorage(volume)) <= 0) return [];
  const provisioner = volume.metadata.annotations?.[ANN_PROVISIONED_BY];
  if (!provisioner)
    return [event(claimTarget(claim), 'Warning', 'ExternalExpanding', 'waiting for an external controller to expand this PVC')];
  return [{ type: 'expand', claim: claimTarget(claim), volume: volumeTarget(volume), provisioner, size: String(claim.spec!.resources!.requests!.storage) }];
}

/** The key `claims` is looked up by in decideVolume. */
export function claimKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

/**
 * What to do about `volume` (syncVolume).
 * @param claims the snapshot's claims by claimKey(namespace, name)
 * @param now ms since the epoch, for lastPhaseTransitionTime
 */
export function decideVolume(volume: Volume, claims: ReadonlyMap<string, Claim>, now: number): Action[] {
  const ref = volume.spec?.claimRef;
  // Unclaimed, or pre-bound by the user to a claim whose own sync will bind it.
  if (!ref || !ref.uid) return volumePhase(volume, 'Available', now);
  let claim = claims.get(claimKey(ref.namespace, ref.name));
  // A claim of that name with another uid is a new claim: the bound one was deleted.
  if (claim && claim.metadata.uid !== ref.uid) claim = undefined;
  if (!claim) return release(volume, now);

  if (!claim.spec?.volumeName) {
    if (volumeModeMismatch(claim, volume))
      return [
        event(
          volumeTarget(volume),
          'Warning',
          'VolumeMismatch',
          `Cannot bind PersistentVolume to requested PersistentVolumeClaim "${claim.metadata.name}" due to incompatible volumeMode.`,
        ),
        event(
          claimTarget(claim),
          'Warning',
          'VolumeMismatch',
          `Cannot bind PersistentVolume "${volume.metadata.name}" to requested PersistentVolumeClaim due to incompatible volumeMode.`,
        ),
      ];
    // Half bound (the claim's half not yet written, or undone by the user): the claim's sync finishes it.
    return [{ type: 'syncClaim', claim: claimTarget(claim) }];
  }
  if (claim.spec.volumeName === volume.metadata.name) return volumePhase(volume, 'Bound', now);

  // The claim went to another volume. One provisioned for it is no longer needed; any other is
  // handed back: the controller's claimRef removed, the user's kept without its uid.
  if (hasAnnotation(volume, ANN_PROVISIONED_BY) && volume.spec?.persistentVolumeReclaimPolicy === 'Delete')
    return release(volume, now);
  return [
    { type: 'unbindVolume', volume: volumeTarget(volume), clearClaimRef: hasAnnotation(volume, ANN_BOUND_BY_CONTROLLER) },
    { type: 'setVolumePhase', volume: volumeTarget(volume), phase: 'Available', message: '', lastPhaseTransitionTime: nowTimestamp(now) },
  ];
}

/** Released (unless already Released or Failed), then the reclaim policy (reclaimVolume). */
function release(volume: Volume, now: number): Action[] {
  const phase = volume.status?.phase;
  const actions = phase === 'Released' || phase === 'Failed' ? [] : volumePhase(volume, 'Released', now);
  // The reclaim steps see the phase just written.
  const released: Volume = { ...volume, status: { ...volume.status, phase: actions.length ? 'Released' : phase } };
  switch (volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain') {
    case 'Retain':
      // The data stays for an administrator; the volume stays Released.
      return actions;
    case 'Recycle':
      // Recycling is deprecated and berth has no recycler, as a cluster without the plugin.
      return [...actions, ...volumePhaseWithEvent(released, 'Failed', now, 'VolumeFailedRecycle', 'No recycler plugin found for the volume!')];
    case 'Delete': {
      const provisioner = volume.metadata.annotations?.[ANN_PROVISIONED_BY];
      if (provisioner) return [...actions, { type: 'deleteVolume', volume: volumeTarget(volume), provisioner }];
      // A volume no provisioner made has nobody to delete its storage.
      return [
        ...actions,
        ...volumePhaseWithEvent(
          released,
          'Failed',
          now,
          'VolumeFailedDelete',
          `error getting deleter volume plugin for volume "${volume.metadata.name}": no deletable volume plugin matched`,
        ),
      ];
    }
    default:
      return actions;
  }
}

