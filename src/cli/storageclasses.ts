// The StorageClasses `berth up` provides: `local-path` (a directory per claim, the default class, as
// on k3s and kind) and, where loop devices work, `berth-loop` (an ext4 image per claim, which
// enforces its size and can grow). Missing ones are created on every start; existing ones are left
// as they are, since a user may have changed or re-annotated them.
import type { Client } from '../client/client.js';
import type { StorageClass } from '../api/storage/storageclasses.js';
import { isStatusError } from '../machinery/errors.js';
import { LOCAL_PATH_PROVISIONER } from '../volumes/localpath.js';
import { LOOP_PROVISIONER } from '../volumes/loop.js';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

export interface ClassOptions {
  /** Mark `local-path` as the default class (false: `--no-default-storage-class`). */
  defaultClass: boolean;
  /** Loop devices are available, so `berth-loop` can work. */
  loop: boolean;
}

function storageClass(name: string, provisioner: string, extra: Partial<StorageClass> = {}): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name },
    provisioner,
    reclaimPolicy: 'Delete',
    // Volumes live on the node, so they are made once a pod is scheduled (rancher's local-path does the same).
    volumeBindingMode: 'WaitForFirstConsumer',
    ...extra,
  };
}

export function berthStorageClasses(o: ClassOptions): StorageClass[] {
  const localPath = storageClass('local-path', LOCAL_PATH_PROVISIONER);
  if (o.defaultClass) localPath.metadata.annotations = { [DEFAULT_CLASS_ANNOTATION]: 'true' };
  // A directory cannot enforce a size, so growing a local-path claim would promise nothing.
  const classes = [localPath];
  if (o.loop) classes.push(storageClass('berth-loop', LOOP_PROVISIONER, { allowVolumeExpansion: true }));
  return classes;
}

/** Creates the classes that do not exist yet. */
export async function ensureStorageClasses(client: Client, classes: StorageClass[]): Promise<void> {
  const api = client.resource<StorageClass>({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', namespaced: false });
  for (const sc of classes) {
    try {
      await api.create(sc);
    } catch (err) {
      if (!isStatusError(err, 'AlreadyExists')) throw err;
    }
  }
}
