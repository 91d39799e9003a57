// The PersistentVolume controller's effects: the writes of each action, in
// order, each guarded by the resourceVersion it was decided on (so two claims
// never bind one volume), the provisioners berth serves, and the events.
import type { KubeObject } from '../../api/types.js';
import type { Client, ResourceClient } from '../../client/client.js';
import type { EventRecorder } from '../../client/events.js';
import { isStatusError } from '../../machinery/errors.js';
import { capacityQuantity, type Expanded, type Provisioner } from '../../volumes/provisioner.js';
import { Quantity } from '../../machinery/quantity.js';
import { nowTimestamp } from '../../machinery/objects.js';
import { claimRefFor, type Action, type BindAction, type Claim, type Target, type Volume } from './decide.js';
import { ANN_BOUND_BY_CONTROLLER, ANN_PROVISIONED_BY, requestedStorage } from './match.js';

export interface Lookup {
  claim(namespace: string, name: string): Claim | undefined;
  volume(name: string): Volume | undefined;
  storageClass(name: string): { reclaimPolicy?: string; mountOptions?: string[] } | undefined;
}

/** The highest resourceVersion written per resource, so the wiring can wait to see its own writes. */
export interface Written {
  claims?: number;
  volumes?: number;
}

interface Ctx {
  written: Written;
  /** `kind/namespace/name` → the resourceVersion the last write returned. */
  versions: Map<string, string>;
}

export class VolumeActor {
  private readonly volumes: ResourceClient<KubeObject>;
  private readonly claims: ResourceClient<KubeObject>;

  constructor(
    client: Client,
    private readonly provisioners: Map<string, Provisioner>,
    private readonly recorder: EventRecorder,
    private readonly lookup: Lookup,
    private readonly resync: (claim: Target) => void,
  ) {
    this.volumes = client.resource({ group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false });
    this.claims = client.resource({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true });
  }

  /**
   * Applies the actions in order; the first failed write stops the rest (the caller requeues). The
   * first write to an object carries the resourceVersion it was decided on, later ones the version
   * the previous write returned.
   */
  async apply(actions: Action[], written: Written): Promise<void> {
    const ctx: Ctx = { written, versions: new Map() };
    for (const a of actions) await this.one(a, ctx);
  }

  private async one(a: Action, ctx: Ctx): Promise<void> {
    switch (a.type) {
      case 'bind':
        return this.bind(a, ctx);
      case 'setVolumePhase': {
        const status = { phase: a.phase, message: a.message || null, lastPhaseTransitionTime: a.lastPhaseTransitionTime };
        return this.patch(ctx, a.volume, { status }, 'status');
      }
      case 'setClaimPhase':
        return this.patch(ctx, a.claim, { status: { phase: a.phase } }, 'status');
      case 'annotateClaim':
        return this.patch(ctx, a.claim, { metadata: { annotations: a.annotations } });
      case 'unbindVolume': {
        const spec = a.clearClaimRef ? { claimRef: null } : { claimRef: { uid: null } };
        const metadata = a.clearClaimRef ? { annotations: { [ANN_BOUND_BY_CONTROLLER]: null } } : {};
        return this.patch(ctx, a.volume, { spec, metadata });
      }
      case 'provision':
        return this.provision(a, ctx.written);
      case 'deleteVolume':
        return this.deleteVolume(a);
      case 'expand':
        return this.expand(a, ctx);
      case 'syncClaim':
        this.resync(a.claim);
        return;
      case 'event':
        this.recorder.event(asObject(a.object), a.eventType, a.reason, a.message);
        return;
    }
  }

  /** Kubernetes' bind(): the volume's half first, so a racing claim's claimRef write conflicts. */
  private async bind(a: BindAction, ctx: Ctx): Promise<void> {
    if (a.volumeUpdate)
      await this.patch(ctx, a.volume, { metadata: { annotations: a.volumeUpdate.annotations }, spec: { claimRef: a.volumeUpdate.claimRef } });
    if (a.volumePhase) await this.patch(ctx, a.volume, { status: a.volumePhase }, 'status');
    if (a.claimUpdate) {
      const spec = a.claimUpdate.volumeName ? { volumeName: a.claimUpdate.volumeName } : {};
      await this.patch(ctx, a.claim, { metadata: { annotations: a.claimUpdate.annotations }, spec });
    }
    if (a.claimStatus) await this.patch(ctx, a.claim, { status: a.claimStatus }, 'status');
  }

  /** A volume from the claim's class provisioner, pre-bound to the claim, which then binds to it. */
  private async provision(a: Extract<Action, { type: 'provision' }>, written: Written): Promise<void> {
    const provisioner = this.provisioners.get(a.provisioner);
    // A provisioner berth does not serve is external: the claim waits (decide recorded why).
    if (!provisioner) return;
    const claim = this.lookup.claim(a.claim.namespace!, a.claim.name);
    if (!claim || claim.metadata.uid !== a.claim.uid) return;
    const pvName = `pvc-${claim.metadata.uid}`;
    if (this.lookup.volume(pvName)) return;
    const cls = this.lookup.storageClass(a.storageClassName);
    const bytes = requestedStorage(claim).value();
    try {
      const made = await provisioner.provision({
        claim: { namespace: claim.metadata.namespace!, name: claim.metadata.name!, uid: claim.metadata.uid! },
        pvName,
        capacityBytes: bytes,
        node: a.selectedNode,
        parameters: {},
      });
      const pv = await this.volumes.create({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: pvName, annotations: { ...made.annotations, [ANN_PROVISIONED_BY]: provisioner.name } },
        spec: {
          ...made.source,
          capacity: { storage: made.capacity },
          accessModes: claim.spec?.accessModes,
          volumeMode: claim.spec?.volumeMode,
          storageClassName: a.storageClassName,
          persistentVolumeReclaimPolicy: cls?.reclaimPolicy ?? 'Delete',
          mountOptions: cls?.mountOptions,
          nodeAffinity: made.nodeAffinity,
          claimRef: claimRefFor(claim),
        },
      });
      note(written, 'volumes', pv);
      this.recorder.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
    } catch (err) {
      if (isStatusError(err, 'AlreadyExists')) return;
      this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${a.storageClassName}": ${(err as Error).message}`);
      throw err;
    }
  }

  /**
   * Grows the volume as Kubernetes' resizer reports it: the claim shows `Resizing` and the size being
   * allocated, the provisioner grows the storage (the loop provisioner its image and, when no pod uses
   * it, its filesystem), then the volume's capacity and the claim's status carry the new size; a volume
   * in use is left `FileSystemResizePending` for the node agent.
   */
  private async expand(a: Extract<Action, { type: 'expand' }>, ctx: Ctx): Promise<void> {
    const provisioner = this.provisioners.get(a.provisioner);
    const volume = this.lookup.volume(a.volume.name);
    const claim = this.lookup.claim(a.claim.namespace!, a.claim.name);
    if (!volume || !claim) return;
    if (!provisioner?.expand) {
      this.recorder.event(claim, 'Warning', 'VolumeResizeFailed', `provisioner ${a.provisioner} cannot expand volumes`);
      return;
    }
    const now = nowTimestamp();
    await this.patch(ctx, a.claim, {
      status: { allocatedResources: { storage: a.size }, conditions: [{ type: 'Resizing', status: 'True', lastTransitionTime: now, lastProbeTime: null }] },
    }, 'status');
    this.recorder.event(claim, 'Normal', 'Resizing', `External resizer is resizing volume ${volume.metadata.name}`);
    let expanded: Expanded;
    try {
      expanded = await provisioner.expand(volume, Quantity.parse(a.size).value());
    } catch (err) {
      this.recorder.event(claim, 'Warning', 'VolumeResizeFailed', `resize volume "${volume.metadata.name}" by resizer "${a.provisioner}" failed: ${(err as Error).message}`);
      throw err;
    }
    const capacity = { storage: capacityQuantity(expanded.bytes) };
    await this.patch(ctx, a.volume, { spec: { capacity } });
    if (expanded.fileSystemResizePending) {
      // In use: the claim keeps its old capacity until the node agent grows the filesystem.
      const pending = {
        type: 'FileSystemResizePending',
        status: 'True',
        lastTransitionTime: nowTimestamp(),
        lastProbeTime: null,
        message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.',
      };
      await this.patch(ctx, a.claim, { status: { allocatedResources: { storage: a.size }, conditions: [pending] } }, 'status');
      this.recorder.event(claim, 'Normal', 'FileSystemResizeRequired', 'Require file system resize of volume on node');
      return;
    }
    await this.patch(ctx, a.claim, { status: { capacity, allocatedResources: { storage: a.size }, conditions: [] } }, 'status');
    this.recorder.event(claim, 'Normal', 'VolumeResizeSuccessful', 'Resize volume succeeded');
  }

  /** Reclaim policy Delete: the storage first, then the object, so no storage outlives its record. */
  private async deleteVolume(a: Extract<Action, { type: 'deleteVolume' }>): Promise<void> {
    const provisioner = this.provisioners.get(a.provisioner);
    const volume = this.lookup.volume(a.volume.name);
    if (!provisioner || !volume || volume.metadata.deletionTimestamp) return;
    try {
      await provisioner.delete(volume);
    } catch (err) {
      this.recorder.event(volume, 'Warning', 'VolumeFailedDelete', (err as Error).message);
      throw err;
    }
    try {
      await this.volumes.delete(a.volume.name, undefined, { preconditions: { uid: a.volume.uid } });
    } catch (err) {
      if (!isStatusError(err, 'NotFound')) throw err;
    }
  }

  /** A merge patch guarded by the object's last known resourceVersion. */
  private async patch(ctx: Ctx, t: Target, patch: Record<string, unknown>, subresource?: string): Promise<void> {
    const key = `${t.kind}/${t.namespace ?? ''}/${t.name}`;
    const resourceVersion = ctx.versions.get(key) ?? t.resourceVersion;
    const metadata = { ...((patch.metadata as Record<string, unknown>) ?? {}), ...(resourceVersion ? { resourceVersion } : {}) };
    const client = t.kind === 'PersistentVolume' ? this.volumes : this.claims;
    const obj = await client.patch(t.name, t.namespace, 'merge', { ...patch, metadata }, { subresource });
    ctx.versions.set(key, obj.metadata.resourceVersion!);
    note(ctx.written, t.kind === 'PersistentVolume' ? 'volumes' : 'claims', obj);
  }
}

function note(written: Written, kind: keyof Written, obj: KubeObject): void {
  const rv = Number(obj.metadata.resourceVersion);
  if (rv > (written[kind] ?? 0)) written[kind] = rv;
}

function asObject(t: Target): KubeObject {
  return { apiVersion: 'v1', kind: t.kind, metadata: { name: t.name, namespace: t.namespace, uid: t.uid, resourceVersion: t.resourceVersion } };
}
