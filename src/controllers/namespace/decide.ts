// The namespace controller's decision for a namespace being deleted: delete
// what is left in it, wait while objects are still going away, and remove the
// "kubernetes" finalizer once it is empty, so the namespace itself can go.

export const NAMESPACE_FINALIZER = 'kubernetes';

export type NamespaceAction =
  | { type: 'none' }
  | { type: 'deleteContent'; resources: string[] }
  | { type: 'wait'; remaining: number }
  | { type: 'finalize'; finalizers: string[] };

export interface NamespaceState {
  deleting: boolean;
  specFinalizers: string[];
  /** Per resource, how many objects remain and how many of them are not yet being deleted. */
  content: Record<string, { remaining: number; notDeleting: number }>;
}

export function decide(ns: NamespaceState): NamespaceAction {
  if (!ns.deleting || !ns.specFinalizers.includes(NAMESPACE_FINALIZER)) return { type: 'none' };
  const toDelete = Object.entries(ns.content).filter(([, c]) => c.notDeleting > 0).map(([r]) => r);
  if (toDelete.length) return { type: 'deleteContent', resources: toDelete };
  const remaining = Object.values(ns.content).reduce((n, c) => n + c.remaining, 0);
  if (remaining > 0) return { type: 'wait', remaining };
  return { type: 'finalize', finalizers: ns.specFinalizers.filter((f) => f !== NAMESPACE_FINALIZER) };
}
