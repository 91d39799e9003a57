// Server-side printing: meta.k8s.io/v1 Table responses built from a kind's printer.
import type { KindDef, KubeObject } from '../api/types.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function tableRow(def: KindDef, obj: KubeObject, include: IncludeObject, now: number): TableRow {
  const row: TableRow = { cells: def.table.row(obj, now) };
  const o = rowObject(obj, include);
  if (o !== undefined) row.object = o;
  return row;
}

export function table(
  def: KindDef,
  objs: KubeObject[],
  include: IncludeObject,
  listMeta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  withColumns = true,
): Record<string, unknown> {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: withColumns ? def.table.columns : [],
    rows: objs.map((o) => tableRow(def, o, include, now)),
  };
}
