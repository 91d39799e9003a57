// The contract between berth's volume controller and the provisioners that make the storage
// behind a PersistentVolume, plus the pure pieces they share (paths, capacity, node affinity).
// Provisioners do the effects; the controller writes the PV from what they return.
import { basename, dirname, join, resolve } from 'node:path';
import type * as v1 from 'kubernetes-types/core/v1.js';
import { Quantity } from '../machinery/quantity.js';

/** The claim a volume is made for, as recorded in the PV's claimRef. */
export interface ClaimRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface ProvisionRequest {
  claim: ClaimRef;
  /** The PV's name; also names the storage on disk, so it must be one path segment. */
  pvName: string;
  /** The claim's `resources.requests.storage`, in bytes. */
  capacityBytes: bigint;
  /** The selected node (WaitForFirstConsumer), when there is one. */
  node?: string;
  /** The StorageClass's parameters. */
  parameters?: Readonly<Record<string, string>>;
}

/** Exactly one volume source, as it goes into the PV's spec. */
export type PersistentVolumeSourceOf = { local: v1.LocalVolumeSource } | { hostPath: v1.HostPathVolumeSource };

/** What to record on the PV for a provisioned volume. */
export interface ProvisionedVolume {
  source: PersistentVolumeSourceOf;
  /** What the volume holds, in bytes; at least the request (Kubernetes allows more). */
  capacityBytes: bigint;
  /** `capacityBytes` as the PV's `capacity.storage` quantity. */
  capacity: string;
  /** Required for `local` volumes: pins the PV (and so its pods) to the node holding it. */
  nodeAffinity?: v1.VolumeNodeAffinity;
  /** Annotations for the PV's metadata (what the node agent needs to attach it). */
  annotations: Record<string, string>;
}

export interface Provisioner {
  /** The StorageClass `provisioner` this serves, e.g. `berth.dev/local-path`. */
  readonly name: string;
  provision(req: ProvisionRequest): Promise<ProvisionedVolume>;
  /** Removes the storage behind a PV (reclaim policy Delete); missing storage is not an error. */
  delete(pv: v1.PersistentVolume): Promise<void>;
  /**
   * Grows the storage to at least `newBytes`. When the volume is in use its filesystem cannot grow
   * here (this kernel refuses online ext4 growth): the storage grows and `fileSystemResizePending`
   * says the node agent finishes the filesystem when a pod next attaches the volume.
   */
  expand?(pv: v1.PersistentVolume, newBytes: bigint): Promise<Expanded>;
}

export interface Expanded {
  bytes: bigint;
  fileSystemResizePending: boolean;
}

/** Where provisioners keep volumes under berth's data directory. */
export function volumesDir(dataDir: string): string {
  return join(resolve(dataDir), 'volumes');
}

/**
 * The PV name as a file name: refused unless it is one plain path segment, and never one ending
 * like a loop image (`x.img`, `x.img.tmp`), which would collide with PV `x`'s image.
 */
export function checkedVolumeName(pvName: string): string {
  if (pvName === '' || pvName === '.' || pvName === '..' || pvName.includes('/') || pvName.includes('\0'))
    throw new Error(`persistent volume name ${JSON.stringify(pvName)} cannot name a file`);
  if (/\.img(\.tmp)?$/.test(pvName))
    throw new Error(`persistent volume name ${JSON.stringify(pvName)} ends like a loop image file`);
  return pvName;
}

/**
 * Whether `path` is a direct child of `dir`. Deletes go through this so a PV edited (or forged)
 * to point elsewhere can never make a provisioner remove something outside its own directory.
 */
export function isDirectChild(dir: string, path: string): boolean {
  const p = resolve(path);
  return dirname(p) === resolve(dir) && basename(p) !== '' && basename(p) !== '..';
}

/** The `capacity.storage` quantity for a size in bytes: binary suffixes where exact ("64Mi"). */
export function capacityQuantity(bytes: bigint): string {
  return Quantity.fromValue(bytes, 'BinarySI').toString();
}

/** Node affinity that pins a volume to one node by its hostname label, as local volumes need. */
export function nodeAffinityFor(node: string): v1.VolumeNodeAffinity {
  return {
    required: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }],
    },
  };
}

/** `bytes` rounded up to a multiple of `unit`. */
export function roundUp(bytes: bigint, unit: bigint): bigint {
  return ((bytes + unit - 1n) / unit) * unit;
}

/** The path a PV's source points at, whichever of hostPath or local it uses. */
export function sourcePath(pv: v1.PersistentVolume): string | undefined {
  return pv.spec?.local?.path ?? pv.spec?.hostPath?.path;
}

/** Where a provisioner keeps volumes, and the node they are made on when a claim names none (Immediate binding). */
export interface ProvisionerOptions {
  dataDir: string;
  nodeName: string;
}
