// berth.dev/local-path: a plain directory per claim, as rancher's local-path-provisioner makes.
// A directory cannot enforce a size, so the capacity recorded is the request. The PV uses a
// `local` source, which Kubernetes requires to carry node affinity: pods follow their data.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type * as v1 from 'kubernetes-types/core/v1.js';
import {
  type ProvisionRequest,
  type ProvisionedVolume,
  type Provisioner,
  capacityQuantity,
  checkedVolumeName,
  isDirectChild,
  nodeAffinityFor,
  sourcePath,
  volumesDir,
  type ProvisionerOptions,
} from './provisioner.js';

export const LOCAL_PATH_PROVISIONER = 'berth.dev/local-path';

export class LocalPathProvisioner implements Provisioner {
  readonly name = LOCAL_PATH_PROVISIONER;
  private readonly root: string;

  constructor(private readonly options: ProvisionerOptions) {
    this.root = volumesDir(options.dataDir);
  }

  async provision(req: ProvisionRequest): Promise<ProvisionedVolume> {
    const path = join(this.root, checkedVolumeName(req.pvName));
    await mkdir(path, { recursive: true });
    // World-writable, as rancher's: the pod's user is unknown here, and mkdir's mode is umasked.
    await chmod(path, 0o777);
    return {
      source: { local: { path } },
      capacityBytes: req.capacityBytes,
      capacity: capacityQuantity(req.capacityBytes),
      nodeAffinity: nodeAffinityFor(req.node ?? this.options.nodeName),
      annotations: {},
    };
  }

  async delete(pv: v1.PersistentVolume): Promise<void> {
    const path = sourcePath(pv);
    if (path === undefined) throw new Error(`persistent volume ${pv.metadata?.name} has no local or hostPath source`);
    if (!isDirectChild(this.root, path))
      throw new Error(`refusing to delete ${path}: not a volume directory under ${this.root}`);
    await rm(path, { recursive: true, force: true });
  }
}
