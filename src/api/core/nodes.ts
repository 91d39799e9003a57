// Node (core/v1). The node agent registers and heartbeats its Node; users cordon it
// (spec.unschedulable) and taint it.
import type { Node as NodeV1, Taint } from 'kubernetes-types/core/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import {
  type FieldError,
  Path,
  forbidden,
  invalid,
  isQualifiedName,
  isValidLabelValue,
  notSupported,
  required,
} from '../../machinery/validation.js';
import { isIPv4Bytes, parseCIDR, validateCIDR } from './endpoints.js';
import {
  canonicalizeResourceList,
  invalidRendered,
  parseQuantityValue,
  quantityFormatError,
  validateResourceQuantityValue,
} from './podspec.js';

export type Node = Mutable<NodeV1> & KubeObject;

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const ROLE_LABEL = 'kubernetes.io/role';
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function validateTaints(taints: Mutable<Taint>[], path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Map<string, Set<string>>();
  taints.forEach((t, i) => {
    const p = path.index(i);
    for (const m of isQualifiedName(t.key)) errs.push(invalid(p.child('key'), t.key, m));
    const value = t.value ?? '';
    const valueErrs = isValidLabelValue(value);
    if (valueErrs.length) errs.push(invalid(p.child('value'), value, valueErrs.join(';')));
    if (!t.effect) errs.push(required(p.child('effect')));
    else if (!TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(p.child('effect'), t.effect, TAINT_EFFECTS));
    const keys = seen.get(t.effect) ?? new Set<string>();
    if (keys.has(t.key)) {
      const added = t.timeAdded ? JSON.stringify(t.timeAdded) : '(*v1.Time)(nil)';
      errs.push({
        type: 'FieldValueDuplicate',
        field: String(p),
        message: `Duplicate value: core.Taint{Key:${JSON.stringify(t.key)}, Value:${JSON.stringify(value)}, Effect:${JSON.stringify(t.effect)}, TimeAdded:${added}}: taints must be unique by key and effect pair`,
      });
      return;
    }
    keys.add(t.key);
    seen.set(t.effect, keys);
  });
  return errs;
}

/** ValidateNodeResources: capacity and allocatable are quantities, not negative. */
function validateResources(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ['capacity', 'allocatable'] as const) {
    for (const [name, value] of Object.entries(node.status?.[field] ?? {})) {
      // Kubernetes builds these paths as children, not keys: status.capacity.cpu.
      const p = Path.root('status').child(field).child(name);
      const q = parseQuantityValue(value);
      if (!q) errs.push(quantityFormatError(p, value));
      else errs.push(...validateResourceQuantityValue(name, q, p));
    }
  }
  return errs;
}

function validatePodCIDRs(cidrs: string[]): FieldError[] {
  const errs: FieldError[] = [];
  const path = Path.root('spec').child('podCIDRs');
  cidrs.forEach((c, i) => errs.push(...validateCIDR(path.index(i), c)));
  if (cidrs.length > 1) {
    const addrs = cidrs.map(parseCIDR);
    const valid = addrs.every((a) => a !== undefined);
    const v4 = addrs.filter((a) => a && isIPv4Bytes(a)).length;
    const dualStack = valid && v4 > 0 && v4 < addrs.length;
    if (!dualStack || cidrs.length > 2)
      errs.push(
        invalidRendered(
          path,
          `[]string{${cidrs.map((c) => JSON.stringify(c)).join(', ')}}`,
          'may specify no more than one CIDR for each IP family',
        ),
      );
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push({ type: 'FieldValueDuplicate', field: String(path.index(i)), message: `Duplicate value: ${JSON.stringify(c)}` });
      seen.add(c);
    });
  }
  return errs;
}

function validateNode(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  // Kubernetes reports taints under metadata.
  if (node.spec?.taints?.length) errs.push(...validateTaints(node.spec.taints, Path.root('metadata').child('taints')));
  errs.push(...validateResources(node));
  if (node.spec?.podCIDRs?.length) errs.push(...validatePodCIDRs(node.spec.podCIDRs));
  return errs;
}

/** ValidateNodeUpdate, which also checks status updates: anyone may update node status. */
function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs = validateResources(node);
  const seen = new Set<string>();
  (node.status?.addresses ?? []).forEach((a, i) => {
    const key = `${a.type}\u0000${a.address}`;
    if (seen.has(key))
      errs.push({
        type: 'FieldValueDuplicate',
        field: String(Path.root('status').child('addresses').index(i)),
        message: `Duplicate value: core.NodeAddress{Type:${JSON.stringify(a.type)}, Address:${JSON.stringify(a.address)}}`,
      });
    seen.add(key);
  });
  const cidrsPath = Path.root('spec').child('podCIDRs');
  const oldCIDRs = old.spec?.podCIDRs ?? [];
  const newCIDRs = node.spec?.podCIDRs ?? [];
  // The pod CIDRs may be assigned once, never changed.
  if (oldCIDRs.length) {
    const why = 'node updates may not change podCIDR except from "" to valid';
    if (oldCIDRs.length !== newCIDRs.length) errs.push(forbidden(cidrsPath, why));
    else oldCIDRs.forEach((c, i) => c !== newCIDRs[i] && errs.push(forbidden(cidrsPath, why)));
  }
  if (old.spec?.providerID && old.spec.providerID !== node.spec?.providerID)
    errs.push(forbidden(Path.root('spec').child('providerID'), 'node updates may not change providerID except from "" to valid'));
  if (node.spec?.taints?.length) errs.push(...validateTaints(node.spec.taints, Path.root('metadata').child('taints')));
  if ((node.spec?.externalID ?? '') !== (old.spec?.externalID ?? ''))
    errs.push(forbidden(Path.root('spec').child('externalID'), 'may not be updated'));
  return errs;
}

/** spec.configSource (dynamic kubelet config) is gone; only nodes that already have it keep it. */
function dropConfigSource(node: Node, old?: Node): void {
  if (node.spec?.configSource && !old?.spec?.configSource) delete node.spec.configSource;
}

/** The STATUS cell: Ready, NotReady or Unknown, then SchedulingDisabled when cordoned. */
function statusCell(node: Node): string {
  const ready = (node.status?.conditions ?? []).findLast((c) => c.type === 'Ready');
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

/** Roles come from node-role.kubernetes.io/<role> labels and the kubernetes.io/role label. */
function rolesCell(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith(ROLE_LABEL_PREFIX)) {
      const role = k.slice(ROLE_LABEL_PREFIX.length);
      if (role) roles.add(role);
    } else if (k === ROLE_LABEL && v) {
      roles.add(v);
    }
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function addressCell(node: Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

export const kind: KindDef<Node> = {
  group: '',
  version: 'v1',
  kind: 'Node',
  resource: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  statusSubresource: true,
  keepStatusOnCreate: true,

  defaults(node) {
    const status = node.status;
    if (!status?.capacity && !status?.allocatable) return;
    // The status may be the stored object's: build a new one rather than change it.
    const capacity = status.capacity && { ...status.capacity };
    const allocatable = status.allocatable ? { ...status.allocatable } : capacity && { ...capacity };
    canonicalizeResourceList(capacity);
    canonicalizeResourceList(allocatable);
    node.status = { ...status, ...(capacity && { capacity }), ...(allocatable && { allocatable }) };
  },

  prepareForCreate: (node) => dropConfigSource(node),
  prepareForUpdate: (node, old) => dropConfigSource(node, old),

  validate: validateNode,
  validateUpdate: validateNodeUpdate,
  validateStatusUpdate: validateNodeUpdate,

  fieldSelectors: {
    'spec.unschedulable': (node) => String(node.spec?.unschedulable ?? false),
  },

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'Status', type: 'string', description: 'Whether the node is ready, and whether it takes new pods.', priority: 0 },
      { name: 'Roles', type: 'string', description: 'The roles of the node.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
      { name: 'Version', type: 'string', description: 'The version of the node agent.', priority: 0 },
      { name: 'Internal-IP', type: 'string', description: 'The address of the node inside the cluster.', priority: 1 },
      { name: 'External-IP', type: 'string', description: 'The address of the node outside the cluster.', priority: 1 },
      { name: 'OS-Image', type: 'string', description: 'The operating system of the node.', priority: 1 },
      { name: 'Kernel-Version', type: 'string', description: 'The kernel the node runs.', priority: 1 },
      { name: 'Container-Runtime', type: 'string', description: 'The container runtime and its version.', priority: 1 },
    ],
    row: (node, now) => {
      const info = node.status?.nodeInfo;
      return [
        node.metadata.name,
        statusCell(node),
        rolesCell(node),
        age(node.metadata.creationTimestamp, now),
        info?.kubeletVersion ?? '',
        addressCell(node, 'InternalIP'),
        addressCell(node, 'ExternalIP'),
        info?.osImage || '<unknown>',
        info?.kernelVersion || '<unknown>',
        info?.containerRuntimeVersion || '<unknown>',
      ];
    },
  },
};
