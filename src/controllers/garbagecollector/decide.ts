// The garbage collector's decisions, as a pure function of one object, the
// state of its owners and its dependents (Kubernetes' ownerReferences model):
// - an object all of whose owners are gone is deleted; dangling references to
//   some gone owners are removed;
// - an owner deleted with propagationPolicy Orphan (finalizer "orphan") first
//   has its reference removed from every dependent;
// - an owner deleted with Foreground (finalizer "foregroundDeletion") has its
//   dependents deleted, and goes once no dependent blocks it.

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/** Where an object lives: enough to address it through the API. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
}

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  blockOwnerDeletion?: boolean;
}

export interface GraphNode {
  ref: ObjectRef;
  owners: OwnerRef[];
  deleting: boolean;
  finalizers: string[];
}

export type OwnerState = 'present' | 'absent';

export type GcAction =
  | { type: 'delete'; target: ObjectRef; propagationPolicy: 'Background' | 'Foreground' }
  | { type: 'removeOwnerReferences'; target: ObjectRef; ownerUids: string[] }
  | { type: 'removeFinalizer'; target: ObjectRef; finalizer: string };

/**
 * What to do about `node`.
 * @param ownerState state of each owner uid of `node` (present when unknown)
 * @param dependents the objects whose ownerReferences name `node`
 */
export function decide(node: GraphNode, ownerState: (uid: string) => OwnerState, dependents: GraphNode[]): GcAction[] {
  const actions: GcAction[] = [];
  const uid = node.ref.uid;
  if (node.deleting && node.finalizers.includes(ORPHAN_FINALIZER)) {
    for (const d of dependents) actions.push({ type: 'removeOwnerReferences', target: d.ref, ownerUids: [uid] });
    if (dependents.length === 0) actions.push({ type: 'removeFinalizer', target: node.ref, finalizer: ORPHAN_FINALIZER });
    return actions;
  }
  if (node.deleting && node.finalizers.includes(FOREGROUND_FINALIZER)) {
    for (const d of dependents)
      if (!d.deleting) actions.push({ type: 'delete', target: d.ref, propagationPolicy: 'Foreground' });
    const blocking = dependents.filter((d) => d.owners.some((o) => o.uid === uid && o.blockOwnerDeletion));
    if (blocking.length === 0) actions.push({ type: 'removeFinalizer', target: node.ref, finalizer: FOREGROUND_FINALIZER });
    return actions;
  }
  if (node.owners.length === 0 || node.deleting) return actions;
  const absent = node.owners.filter((o) => ownerState(o.uid) === 'absent').map((o) => o.uid);
  if (absent.length === node.owners.length) actions.push({ type: 'delete', target: node.ref, propagationPolicy: 'Background' });
  else if (absent.length > 0) actions.push({ type: 'removeOwnerReferences', target: node.ref, ownerUids: absent });
  return actions;
}
