// Builds the object filter of a list, watch or deletecollection from its
// labelSelector and fieldSelector parameters.
import type { KindDef, KubeObject } from '../api/types.js';
import {
  checkFieldSelector,
  fieldLabelNotSupported,
  parseFieldSelector,
  parseLabelSelector,
  unknownFieldSelector,
} from '../machinery/selectors.js';
import type { ObjectFilter } from './resource.js';

export function buildFilter(def: KindDef, q: URLSearchParams): { filter?: ObjectFilter; filtered?: boolean } {
  const labels = parseLabelSelector(q.get('labelSelector') ?? '');
  const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
  if (labels.empty && fields.empty) return {};
  const getters: Record<string, (obj: KubeObject) => string | undefined> = {
    'metadata.name': (o) => o.metadata.name,
    ...(def.namespaced ? { 'metadata.namespace': (o: KubeObject) => o.metadata.namespace } : {}),
    ...def.fieldSelectors,
  };
  // Core kinds word an unsupported field differently from the other groups.
  checkFieldSelector(fields, Object.keys(getters), def.group === '' ? fieldLabelNotSupported : unknownFieldSelector);
  const filter: ObjectFilter = (obj) =>
    labels.matches(obj.metadata.labels) && fields.matches((f) => getters[f]?.(obj));
  return { filter, filtered: true };
}
