// Resource requests as kube-scheduler's NodeResourcesFit counts them (component-helpers'
// PodRequests, framework.Resource): cpu in millicores, memory and ephemeral-storage in bytes,
// scalar resources (extended, hugepages-*, kubernetes.io/-prefixed, attachable-volumes-*) in units.
// Other names in a request (storage, pods) are not node resources and are left out.
import type { Node } from '../api/core/nodes.js';
import type { Pod } from '../api/core/pods.js';
import { resourceQuantity } from '../machinery/quantity.js';

/** Resource name → amount (cpu in millicores). Absent means zero. */
export type Resources = Map<string, bigint>;

function isScalarResource(name: string): boolean {
  if (name.startsWith('requests.')) return false;
  return name.includes('/') || name.startsWith('hugepages-') || name.startsWith('attachable-volumes-');
}

/** Whether NodeResourcesFit counts the resource; cpu, memory, ephemeral-storage and the scalars. */
export function isFitResource(name: string): boolean {
  return name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || isScalarResource(name);
}

/** A resource list in scheduler units, leaving out what it does not count and what does not parse. */
export function resourceAmounts(list: Readonly<Record<string, unknown>> | undefined): Resources {
  const out: Resources = new Map();
  for (const name of Object.keys(list ?? {})) {
    if (!isFitResource(name)) continue;
    const q = resourceQuantity(list, name);
    if (!q) continue;
    out.set(name, name === 'cpu' ? q.milliValue() : q.value());
  }
  return out;
}

/** Adds `r` (times `sign`) into `into`; drops entries that reach zero. */
export function addResources(into: Resources, r: ReadonlyMap<string, bigint>, sign: 1n | -1n = 1n): void {
  for (const [name, amount] of r) {
    const sum = (into.get(name) ?? 0n) + sign * amount;
    if (sum === 0n) into.delete(name);
    else into.set(name, sum);
  }
}

function maxInto(into: Resources, r: ReadonlyMap<string, bigint>): void {
  for (const [name, amount] of r) if (amount > (into.get(name) ?? 0n)) into.set(name, amount);
}

/**
 * What the pod asks of its node: its containers' requests summed, or the most any init step needs
 * if more (an init container runs with the restartable "sidecar" init containers started before
 * it; sidecars also run alongside the containers), plus the pod's overhead.
 */
export function podRequests(pod: Pod): Resources {
  const spec = pod.spec;
  const reqs: Resources = new Map();
  for (const c of spec?.containers ?? []) addResources(reqs, resourceAmounts(c.resources?.requests));
  const sidecars: Resources = new Map();
  const initMax: Resources = new Map();
  for (const c of spec?.initContainers ?? []) {
    const r = resourceAmounts(c.resources?.requests);
    if (c.restartPolicy === 'Always') {
      addResources(reqs, r);
      addResources(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      const step = new Map(sidecars);
      addResources(step, r);
      maxInto(initMax, step);
    }
  }
  maxInto(reqs, initMax);
  addResources(reqs, resourceAmounts(spec?.overhead));
  return reqs;
}

/** The node's status.allocatable in scheduler units. */
export function nodeAllocatable(node: Node): Resources {
  return resourceAmounts(node.status?.allocatable);
}

/**
 * NodeResourcesFit's insufficient resources, as `Insufficient <name>` reasons in its order (cpu,
 * memory, ephemeral-storage, then the scalars). Only requested resources are checked.
 */
export function insufficientResources(request: ReadonlyMap<string, bigint>, allocatable: ReadonlyMap<string, bigint>, requested: ReadonlyMap<string, bigint> | undefined): string[] {
  const rank = (name: string) => ['cpu', 'memory', 'ephemeral-storage'].indexOf(name) >>> 0;
  const names = [...request.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const reasons: string[] = [];
  for (const name of names) {
    const want = request.get(name)!;
    if (want <= 0n) continue;
    const free = (allocatable.get(name) ?? 0n) - (requested?.get(name) ?? 0n);
    if (want > free) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}
