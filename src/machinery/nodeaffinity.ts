// Node selector terms (node affinity of pods and of volumes), as Kubernetes'
// component-helpers match them: any term, each term all of its requirements on
// the node's labels (matchExpressions) and name (matchFields on metadata.name).
import type * as v1 from 'kubernetes-types/core/v1.js';
import { Selector, type LabelOperator, type Labels, type Requirement } from './selectors.js';

const NODE_OPERATORS: Record<string, LabelOperator> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
  Gt: 'gt',
  Lt: 'lt',
};

/** A NodeSelectorRequirement list as a selector; undefined (matches nothing) when an operator is unknown. */
function requirementsSelector(exprs: readonly v1.NodeSelectorRequirement[]): Selector | undefined {
  const requirements: Requirement[] = [];
  for (const e of exprs) {
    const operator = NODE_OPERATORS[e.operator];
    if (!operator) return undefined;
    requirements.push({ key: e.key, operator, values: e.values ?? [] });
  }
  return Selector.of(requirements);
}

/** Whether a node (name and labels) matches any of the terms. An empty term matches nothing. */
export function matchesNodeSelectorTerms(terms: readonly v1.NodeSelectorTerm[], node: { name: string; labels?: Labels }): boolean {
  const fields = { 'metadata.name': node.name };
  return terms.some((term) => {
    const exprs = term.matchExpressions ?? [];
    const fieldExprs = term.matchFields ?? [];
    if (!exprs.length && !fieldExprs.length) return false;
    return !!requirementsSelector(exprs)?.matches(node.labels ?? {}) && !!requirementsSelector(fieldExprs)?.matches(fields);
  });
}
