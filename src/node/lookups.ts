// The API objects a runtime's volumes come from, read with GETs as the kubelet's default
// (Get-based) ConfigMap and Secret managers read them: fresh each time a pod's volumes are set up;
// and the claim status write that ends an expansion the node finished.
import type { ConfigMap } from '../api/core/configmaps.js';
import type { PersistentVolume } from '../api/core/persistentvolumes.js';
import type { PersistentVolumeClaim } from '../api/core/persistentvolumeclaims.js';
import type { Secret } from '../api/core/secrets.js';
import type { Client } from '../client/client.js';
import { isStatusError } from '../machinery/errors.js';
import { capacityQuantity } from '../volumes/provisioner.js';
import type { VolumeLookups } from './runtime/runc/volumes.js';

const orUndefined = <T>(p: Promise<T>): Promise<T | undefined> =>
  p.catch((err: unknown) => {
    if (isStatusError(err) && err.code === 404) return undefined;
    throw err;
  });

export function apiLookups(client: Client): VolumeLookups {
  const configMaps = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
  const secrets = client.resource<Secret>({ group: '', version: 'v1', resource: 'secrets', namespaced: true });
  const claims = client.resource<PersistentVolumeClaim>({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true });
  const volumes = client.resource<PersistentVolume>({ group: '', version: 'v1', resource: 'persistentvolumes', namespaced: false });
  return {
    configMap: (ns, name) => orUndefined(configMaps.get(name, ns)),
    secret: (ns, name) => orUndefined(secrets.get(name, ns)),
    claim: (ns, name) => orUndefined(claims.get(name, ns)),
    volume: (name) => orUndefined(volumes.get(name)),
    // The kubelet's MarkFSResizeFinished: the new capacity, the pending condition gone. Guarded by the
    // resourceVersion read, as the conditions list is replaced whole.
    claimResized: async (claim, bytes) => {
      const conditions = (claim.status?.conditions ?? []).filter((c) => c.type !== 'FileSystemResizePending');
      const patch = {
        metadata: { resourceVersion: claim.metadata.resourceVersion },
        status: { capacity: { storage: capacityQuantity(bytes) }, conditions },
      };
      await claims.patch(claim.metadata.name!, claim.metadata.namespace, 'merge', patch, { subresource: 'status' });
    },
  };
}
