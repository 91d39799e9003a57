// Applies the garbage collector's actions through the API client.
import type { Client, ResourceClient } from '../../client/client.js';
import type { KindDef, KubeObject } from '../../api/types.js';
import { isStatusError } from '../../machinery/errors.js';
import type { GcAction, ObjectRef } from './decide.js';

/** Finds the client for an apiVersion/kind pair. */
export class KindResolver {
  private readonly byKind = new Map<string, ResourceClient<KubeObject>>();

  constructor(client: Client, kinds: KindDef[]) {
    for (const def of kinds) {
      const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
      this.byKind.set(`${apiVersion}/${def.kind}`, client.resource({ group: def.group, version: def.version, resource: def.resource, namespaced: def.namespaced }));
    }
  }

  resolve(apiVersion: string, kind: string): ResourceClient<KubeObject> | undefined {
    return this.byKind.get(`${apiVersion}/${kind}`);
  }
}

/** Applies one action; an object already gone or changed under us is not an error (the item is requeued by its events). */
export async function act(resolver: KindResolver, action: GcAction): Promise<void> {
  const t: ObjectRef = action.target;
  const rc = resolver.resolve(t.apiVersion, t.kind);
  if (!rc) return;
  try {
    switch (action.type) {
      case 'delete':
        await rc.delete(t.name, t.namespace, { propagationPolicy: action.propagationPolicy, preconditions: { uid: t.uid } });
        return;
      case 'removeOwnerReferences': {
        const cur = await rc.get(t.name, t.namespace);
        if (cur.metadata.uid !== t.uid) return;
        const refs = (cur.metadata.ownerReferences ?? []).filter((r) => !action.ownerUids.includes(r.uid));
        await rc.patch(t.name, t.namespace, 'merge', {
          metadata: { uid: t.uid, resourceVersion: cur.metadata.resourceVersion, ownerReferences: refs.length ? refs : null },
        });
        return;
      }
      case 'removeFinalizer': {
        const cur = await rc.get(t.name, t.namespace);
        if (cur.metadata.uid !== t.uid) return;
        const finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== action.finalizer);
        await rc.patch(t.name, t.namespace, 'merge', {
          metadata: { uid: t.uid, resourceVersion: cur.metadata.resourceVersion, finalizers: finalizers.length ? finalizers : null },
        });
        return;
      }
    }
  } catch (err) {
    if (isStatusError(err) && (err.code === 404 || err.code === 409)) return;
    throw err;
  }
}

/** Is the owner really there? Asks the API server, as Kubernetes' collector does before deleting. */
export async function ownerExists(resolver: KindResolver, namespace: string | undefined, owner: { apiVersion: string; kind: string; name: string; uid: string }, namespaced: boolean): Promise<boolean> {
  const rc = resolver.resolve(owner.apiVersion, owner.kind);
  if (!rc) return true; // an owner of a kind berth does not serve is left alone
  try {
    const obj = await rc.get(owner.name, namespaced ? namespace : undefined);
    return obj.metadata.uid === owner.uid;
  } catch (err) {
    if (isStatusError(err) && err.code === 404) return false;
    throw err;
  }
}
