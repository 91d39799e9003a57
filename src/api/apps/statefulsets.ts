// StatefulSet (apps/v1): defaulting (SetDefaults_StatefulSet), the strategy
// (pkg/registry/apps/statefulset), validation (pkg/apis/apps/validation), the scale
// subresource and `kubectl get statefulsets` columns.
import type * as appsv1 from 'kubernetes-types/apps/v1.js';
import { AGE_DESCRIPTION, NAME_DESCRIPTION, type KindDef, type KubeObject, type Mutable } from '../types.js';
import { age } from '../../machinery/duration.js';
import { labelSelectorAsString, labelSelectorFromObject, validateLabelSelector, type Selector } from '../../machinery/selectors.js';
import { StatusError } from '../../machinery/errors.js';
import {
  Path,
  forbidden,
  invalid,
  isDNS1123Label,
  notSupported,
  required,
  validateAnnotations,
  validateLabels,
  duplicate,
  type FieldError,
} from '../../machinery/validation.js';
import {
  deepEqual,
  defaultEmbeddedObjectMeta,
  defaultPodTemplateSpec,
  goIntOrString,
  goLabelSelector,
  goStringMap,
  invalidRendered,
  IS_NEGATIVE_MSG,
  parseQuantityValue,
  validateNonnegative,
  validatePodSpec,
  validatePodSpecificAnnotations,
  type PodSpec,
  type PodTemplateSpec,
  type Volume,
} from '../core/podspec.js';
import {
  defaultPersistentVolumeClaimSpec,
  validatePersistentVolumeClaimSpec,
  type PersistentVolumeClaimSpec,
} from '../core/persistentvolumeclaims.js';
import { validateDNS1123Label } from '../core/endpoints.js';

type ClaimTemplate = Mutable<appsv1.StatefulSetSpec['volumeClaimTemplates'] & object>[number];
export type StatefulSetSpec = Partial<Mutable<appsv1.StatefulSetSpec>>;
export type StatefulSetStatus = Mutable<appsv1.StatefulSetStatus>;
export type StatefulSet = { spec?: StatefulSetSpec; status?: StatefulSetStatus } & KubeObject;

// --- defaulting ------------------------------------------------------------------------

function defaults(sts: StatefulSet): void {
  const spec = (sts.spec ??= {});
  spec.podManagementPolicy ||= 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  if (!strategy.type) {
    strategy.type = 'RollingUpdate';
    strategy.rollingUpdate ??= {};
  }
  if (strategy.type === 'RollingUpdate' && strategy.rollingUpdate && strategy.rollingUpdate.partition == null)
    strategy.rollingUpdate.partition = 0;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  retention.whenDeleted ||= 'Retain';
  retention.whenScaled ||= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  spec.template ??= {} as PodTemplateSpec;
  defaultPodTemplateSpec(spec.template as PodTemplateSpec);
  for (const claim of spec.volumeClaimTemplates ?? []) defaultClaimTemplate(claim);
}

/** A claim template as apps/v1 serializes it: typed, its metadata and status present, the
 *  spec and status defaulted as a PersistentVolumeClaim's. */
function defaultClaimTemplate(claim: ClaimTemplate): void {
  const c = claim as ClaimTemplate & Record<string, unknown>;
  c.apiVersion = 'v1';
  c.kind = 'PersistentVolumeClaim';
  claim.metadata ??= {};
  defaultEmbeddedObjectMeta(claim.metadata);
  claim.spec ??= {};
  defaultPersistentVolumeClaimSpec(claim.spec as PersistentVolumeClaimSpec);
  claim.status ??= {};
  claim.status.phase ||= 'Pending';
}

// --- validation ---------------------------------------------------------------------------

const SPEC = Path.root('spec');

const isValidPercent = (s: string) => /^[0-9]+%$/.test(s);
const PERCENT_MSG =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** intstr's IntValue, as getIntOrPercentValue uses it: a percentage's number, else the integer. */
function intOrPercentValue(v: number | string): number {
  if (typeof v === 'number') return v;
  if (isValidPercent(v)) return Number(v.slice(0, -1));
  return /^[+-]?\d+$/.test(v) ? Number(v) : 0;
}

function validateRollingUpdate(ru: NonNullable<NonNullable<StatefulSetSpec['updateStrategy']>['rollingUpdate']>, path: Path): FieldError[] {
  const errs = validateNonnegative(ru.partition ?? 0, path.child('partition'));
  const mu = ru.maxUnavailable;
  if (mu != null) {
    const p = path.child('maxUnavailable');
    if (typeof mu === 'string') {
      if (!isValidPercent(mu)) errs.push(invalidRendered(p, goIntOrString(mu), PERCENT_MSG));
    } else if (mu < 0) {
      errs.push(invalid(p, mu, IS_NEGATIVE_MSG));
    }
    if (intOrPercentValue(mu) === 0) errs.push(invalidRendered(p, goIntOrString(mu), 'cannot be 0'));
    if (typeof mu === 'string' && isValidPercent(mu) && Number(mu.slice(0, -1)) > 100)
      errs.push(invalidRendered(p, goIntOrString(mu), 'must not be greater than 100%'));
  }
  return errs;
}

function goRollingUpdate(ru: { partition?: number; maxUnavailable?: number | string }): string {
  const mu = ru.maxUnavailable == null ? '(*intstr.IntOrString)(nil)' : `&${goIntOrString(ru.maxUnavailable)}`;
  return `apps.RollingUpdateStatefulSetStrategy{Partition:${ru.partition ?? 0}, MaxUnavailable:${mu}}`;
}

function goUpdateStrategy(s: NonNullable<StatefulSetSpec['updateStrategy']>): string {
  const ru = s.rollingUpdate ? `&${goRollingUpdate(s.rollingUpdate)}` : '(*apps.RollingUpdateStatefulSetStrategy)(nil)';
  return `apps.StatefulSetUpdateStrategy{Type:${JSON.stringify(s.type ?? '')}, RollingUpdate:${ru}}`;
}

/** The volumes a pod of the set gets from the claim templates, for checking volume mounts. */
function claimVolumes(spec: StatefulSetSpec): Volume[] {
  return (spec.volumeClaimTemplates ?? [])
    .filter((c) => c.metadata?.name)
    .map((c) => ({ name: c.metadata!.name!, persistentVolumeClaim: { claimName: c.metadata!.name! } }));
}

function validateClaimTemplates(claims: ClaimTemplate[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (claims ?? []).forEach((claim, i) => {
    const p = path.index(i);
    const name = claim.metadata?.name ?? '';
    const np = p.child('metadata').child('name');
    if (!name) errs.push(required(np));
    else {
      errs.push(...validateDNS1123Label(name, np));
      if (names.has(name)) errs.push(duplicate(np, name));
      names.add(name);
    }
    errs.push(...validateLabels(claim.metadata?.labels, p.child('metadata').child('labels')));
    errs.push(...validateAnnotations(claim.metadata?.annotations, p.child('metadata').child('annotations')));
    errs.push(...validatePersistentVolumeClaimSpec((claim.spec ?? {}) as PersistentVolumeClaimSpec, p.child('spec')));
  });
  return errs;
}

interface SpecValidationOptions {
  /** A new set: its service name must be usable as the pods' subdomain. */
  create: boolean;
  /** Check the pod template's spec and the claim templates (see validateStatefulSetSpec). */
  templates: boolean;
}

/**
 * ValidateStatefulSetSpec as Kubernetes 1.32 has it. Beyond 1.32, and as later releases do,
 * berth also checks the service name (1.33) and, on create, the pod template's spec and the
 * claim templates (1.34): a set whose pods can never be created is better refused up front.
 */
function validateStatefulSetSpec(spec: StatefulSetSpec, opts: SpecValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy ?? '';
  if (!pmp) errs.push(required(SPEC.child('podManagementPolicy')));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel')
    errs.push(invalid(SPEC.child('podManagementPolicy'), pmp, "must be 'OrderedReady' or 'Parallel'"));

  const strategy = spec.updateStrategy ?? {};
  const sp = SPEC.child('updateStrategy');
  switch (strategy.type ?? '') {
    case '':
      errs.push(required(sp));
      break;
    case 'OnDelete':
      if (strategy.rollingUpdate)
        errs.push(invalidRendered(sp.child('rollingUpdate'), goRollingUpdate(strategy.rollingUpdate), "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      if (strategy.rollingUpdate) errs.push(...validateRollingUpdate(strategy.rollingUpdate, sp.child('rollingUpdate')));
      break;
    default:
      errs.push(invalidRendered(sp, goUpdateStrategy(strategy), "must be 'RollingUpdate' or 'OnDelete'"));
  }

  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (retention) {
    const rp = SPEC.child('persistentVolumeClaimRetentionPolicy');
    for (const key of ['whenDeleted', 'whenScaled'] as const) {
      const v = retention[key] ?? '';
      if (v !== 'Retain' && v !== 'Delete') errs.push(notSupported(rp.child(key), v, ['Retain', 'Delete']));
    }
  }
  if (opts.templates) errs.push(...validateClaimTemplates(spec.volumeClaimTemplates, SPEC.child('volumeClaimTemplates')));

  errs.push(...validateNonnegative(spec.replicas ?? 0, SPEC.child('replicas')));
  errs.push(...validateNonnegative(spec.minReadySeconds ?? 0, SPEC.child('minReadySeconds')));
  if (spec.ordinals) errs.push(...validateNonnegative(spec.ordinals.start ?? 0, SPEC.child('ordinals.start')));
  if (opts.create && spec.serviceName) errs.push(...validateDNS1123Label(spec.serviceName, SPEC.child('serviceName')));

  const selPath = SPEC.child('selector');
  if (spec.selector == null) {
    errs.push(required(selPath));
  } else {
    errs.push(...validateLabelSelector(spec.selector, selPath));
    if (Object.keys(spec.selector.matchLabels ?? {}).length + (spec.selector.matchExpressions ?? []).length === 0)
      errs.push(invalidRendered(selPath, goLabelSelector(spec.selector), 'empty selector is invalid for statefulset'));
  }

  let selector: Selector | undefined;
  try {
    selector = labelSelectorFromObject(spec.selector);
  } catch (e) {
    if (!(e instanceof StatusError)) throw e;
    errs.push(invalidRendered(selPath, goLabelSelector(spec.selector!), ''));
  }
  const template = (spec.template ?? {}) as PodTemplateSpec;
  const tp = SPEC.child('template');
  if (selector) {
    const labels = template.metadata?.labels;
    if (!selector.empty && !selector.matches(labels))
      errs.push(invalidRendered(tp.child('metadata').child('labels'), goStringMap(labels), '`selector` does not match template `labels`'));
    // Kubernetes checks these under template.labels and template.annotations.
    errs.push(...validateLabels(labels, tp.child('labels')));
    errs.push(...validateAnnotations(template.metadata?.annotations, tp.child('annotations')));
    errs.push(...validatePodSpecificAnnotations(template.metadata?.annotations, template.spec ?? ({} as PodSpec), tp.child('annotations')));
    if (opts.templates)
      errs.push(...validatePodSpec(template.spec ?? ({} as PodSpec), tp.child('spec'), { isPod: false, extraVolumes: claimVolumes(spec) }));
  }

  const restartPolicy = template.spec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') errs.push(notSupported(tp.child('spec').child('restartPolicy'), restartPolicy, ['Always']));
  if (template.spec?.activeDeadlineSeconds != null)
    errs.push(forbidden(tp.child('spec').child('activeDeadlineSeconds'), 'activeDeadlineSeconds in StatefulSet is not Supported'));
  return errs;
}

function validate(sts: StatefulSet): FieldError[] {
  return validateStatefulSetSpec(sts.spec ?? {}, { create: true, templates: true });
}

/** ValidateStatefulSetUpdate. The pod template is checked deeply unless the stored set already
 *  failed that check (sets stored before berth checked templates must stay updatable). */
function validateUpdate(sts: StatefulSet, old: StatefulSet): FieldError[] {
  const oldSpec = old.spec ?? {};
  const templateWasValid =
    validatePodSpec((oldSpec.template?.spec ?? {}) as PodSpec, SPEC, { isPod: false, extraVolumes: claimVolumes(oldSpec) }).length === 0;
  const spec = sts.spec ?? {};
  const errs = validateStatefulSetSpec(spec, { create: false, templates: false });
  if (templateWasValid)
    errs.push(
      ...validatePodSpec((spec.template?.spec ?? {}) as PodSpec, SPEC.child('template').child('spec'), {
        isPod: false,
        extraVolumes: claimVolumes(spec),
      }),
    );
  const rest = structuredClone(spec);
  rest.replicas = oldSpec.replicas;
  rest.template = oldSpec.template;
  rest.updateStrategy = oldSpec.updateStrategy;
  rest.minReadySeconds = oldSpec.minReadySeconds;
  rest.ordinals = oldSpec.ordinals;
  rest.persistentVolumeClaimRetentionPolicy = oldSpec.persistentVolumeClaimRetentionPolicy;
  errs.push(...allowClaimTemplateGrowth(rest, oldSpec));
  if (!deepEqual(rest.volumeClaimTemplates, oldSpec.volumeClaimTemplates)) {
    errs.push(
      forbidden(
        SPEC.child('volumeClaimTemplates'),
        'updates to volumeClaimTemplates are forbidden except increasing resources.requests.storage',
      ),
    );
    rest.volumeClaimTemplates = oldSpec.volumeClaimTemplates;
  }
  if (!deepEqual(rest, oldSpec))
    errs.push(
      forbidden(
        SPEC,
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  return errs;
}

/**
 * berth lets a volumeClaimTemplate's storage request grow (Kubernetes forbids any template change:
 * kubernetes/kubernetes#68737); the controller then grows every claim of the set. A grown request
 * or shrunk request is copied back into `rest` so the generic checks see the rest; shrinking is an error here.
 */
function allowClaimTemplateGrowth(rest: StatefulSetSpec, oldSpec: StatefulSetSpec): FieldError[] {
  const errs: FieldError[] = [];
  const olds = oldSpec.volumeClaimTemplates ?? [];
  (rest.volumeClaimTemplates ?? []).forEach((t, i) => {
    const old = olds[i];
    const want = t.spec?.resources?.requests?.storage;
    const had = old?.spec?.resources?.requests?.storage;
    if (!old || old.metadata?.name !== t.metadata?.name || want === undefined || had === undefined) return;
    const a = parseQuantityValue(want);
    const b = parseQuantityValue(had);
    if (!a || !b || a.cmp(b) === 0) return;
    const path = SPEC.child('volumeClaimTemplates').index(i).child('spec').child('resources').child('requests').child('storage');
    if (a.cmp(b) < 0) errs.push(forbidden(path, `may not be decreased (from ${String(had)} to ${String(want)}): claims can grow but never shrink`));
    t.spec!.resources!.requests!.storage = had;
  });
  return errs;
}

/** ValidateStatefulSetStatusUpdate. */
function validateStatusUpdate(sts: StatefulSet, old: StatefulSet): FieldError[] {
  const s = sts.status ?? ({} as StatefulSetStatus);
  const p = Path.root('status');
  const replicas = s.replicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const errs: FieldError[] = [];
  for (const key of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const)
    errs.push(...validateNonnegative(s[key] ?? 0, p.child(key)));
  if (s.observedGeneration != null) errs.push(...validateNonnegative(s.observedGeneration, p.child('observedGeneration')));
  if (s.collisionCount != null) errs.push(...validateNonnegative(s.collisionCount, p.child('collisionCount')));
  const msg = 'cannot be greater than status.replicas';
  for (const key of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const)
    if ((s[key] ?? 0) > replicas) errs.push(invalid(p.child(key), s[key] ?? 0, msg));
  if (available > ready) errs.push(invalid(p.child('availableReplicas'), available, 'cannot be greater than status.readyReplicas'));
  const oldCount = old.status?.collisionCount;
  if (oldCount != null && (s.collisionCount == null || s.collisionCount < oldCount))
    errs.push(invalid(p.child('collisionCount'), s.collisionCount ?? 0, 'cannot be decremented'));
  return errs;
}

// --- table -----------------------------------------------------------------------------------

/** layoutContainerCells: names and images, comma-joined. */
export function containerCells(spec: PodSpec | undefined): [string, string] {
  const containers = spec?.containers ?? [];
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image ?? '').join(',')];
}

export const kind: KindDef<StatefulSet> = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  resource: 'statefulsets',
  singular: 'statefulset',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  statusSubresource: true,
  generation: true,
  // Pods are named <set>-<ordinal> and take that as their hostname, so the name is a DNS label.
  nameValidation: isDNS1123Label,
  scale: {
    specReplicas: (sts) => sts.spec?.replicas ?? 0,
    setSpecReplicas(sts, replicas) {
      (sts.spec ??= {}).replicas = replicas;
    },
    statusReplicas: (sts) => sts.status?.replicas ?? 0,
    selector(sts) {
      try {
        return labelSelectorAsString(sts.spec?.selector);
      } catch (e) {
        if (e instanceof StatusError) return '';
        throw e;
      }
    },
  },
  defaults,
  prepareForCreate(sts) {
    // Go always writes these two counters, so a new set shows them as zero.
    sts.status = { replicas: 0, availableReplicas: 0 };
  },
  validate,
  validateUpdate,
  validateStatusUpdate,
  table: {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 },
      { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', priority: 0 },
      { name: 'Age', type: 'string', description: AGE_DESCRIPTION, priority: 0 },
      { name: 'Containers', type: 'string', description: 'Names of each container in the template.', priority: 1 },
      { name: 'Images', type: 'string', description: 'Images referenced by each container in the template.', priority: 1 },
    ],
    row(sts, now) {
      const [names, images] = containerCells(sts.spec?.template?.spec as PodSpec | undefined);
      return [
        sts.metadata.name,
        `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 0}`,
        age(sts.metadata.creationTimestamp, now),
        names,
        images,
      ];
    },
  },
};
