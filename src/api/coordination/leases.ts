// Lease (coordination.k8s.io/v1): leader election and node heartbeats.
import type { Lease as LeaseV1, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
import type { KindDef, KubeObject, Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import { type FieldError, Path, invalid } from '../../machinery/validation.js';

/** strategy and preferredHolder (Kubernetes 1.31) belong to coordinated leader election. */
type Spec = Mutable<LeaseSpec> & { strategy?: string; preferredHolder?: string };
export type Lease = Omit<Mutable<LeaseV1>, 'spec'> & { spec?: Spec } & KubeObject;

function validateLease(lease: Lease): FieldError[] {
  const errs: FieldError[] = [];
  const spec = lease.spec ?? {};
  const path = Path.root('spec');
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0)
    errs.push(invalid(path.child('leaseDurationSeconds'), spec.leaseDurationSeconds, 'must be greater than 0'));
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions < 0)
    errs.push(invalid(path.child('leaseTransitions'), spec.leaseTransitions, 'must be greater than or equal to 0'));
  return errs;
}

/**
 * Coordinated leader election is behind a feature gate that Kubernetes 1.32 leaves off:
 * its fields are dropped unless the stored lease already uses them.
 */
function dropDisabledFields(lease: Lease, old?: Lease): void {
  if (!lease.spec) return;
  if (old?.spec?.strategy === undefined) delete lease.spec.strategy;
  if (old?.spec?.preferredHolder === undefined) delete lease.spec.preferredHolder;
}

export const kind: KindDef<Lease> = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  resource: 'leases',
  singular: 'lease',
  namespaced: true,

  prepareForCreate: (lease) => dropDisabledFields(lease),
  prepareForUpdate: (lease, old) => dropDisabledFields(lease, old),

  validate: validateLease,
  validateUpdate: validateLease,

  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
      { name: 'Holder', type: 'string', description: 'The identity of the lease holder.', priority: 0 },
      { name: 'Age', type: 'string', description: 'Time since the object was created.', priority: 0 },
    ],
    row: (lease, now) => [lease.metadata.name, lease.spec?.holderIdentity ?? '', age(lease.metadata.creationTimestamp, now)],
  },
};
