// The PodSpec every workload kind shares: defaulting (SetDefaults_PodSpec, SetDefaults_Pod,
// SetDefaults_Container and the volume-source defaulters of pkg/apis/core/v1), validation
// (ValidatePodSpec and its helpers in pkg/apis/core/validation), and the QoS class.
// Paths, reasons and messages are Kubernetes' own, including its quirks, because clients
// and people match on them.
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { LabelSelector as LabelSelectorV1, ObjectMeta as ObjectMetaV1 } from 'kubernetes-types/meta/v1.js';
import type { Mutable } from '../types.js';
import {
  Path,
  duplicate,
  forbidden,
  formatValue,
  invalid,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  notSupported,
  required,
  tooLong,
  validateAnnotations,
  validateLabels,
  type FieldError,
} from '../../machinery/validation.js';
import { Quantity, QuantityError, quantityFromJSON, QUANTITY_FORMAT_ERROR } from '../../machinery/quantity.js';
import { validateLabelSelector } from '../../machinery/selectors.js';
import { isPlainObject } from '../../machinery/objects.js';
import {
  PORT_PROTOCOLS,
  isValidPortName,
  isValidPortNum,
  validateDNS1123Label,
  validateIP,
  validateQualifiedName,
} from './endpoints.js';
import {
  defaultPersistentVolumeClaimSpec,
  validatePersistentVolumeClaimSpec,
} from './persistentvolumeclaims.js';

// kubernetes-types declares every field readonly; these are the shapes the server mutates.
export type PodSpec = Mutable<v1.PodSpec>;
export type PodTemplateSpec = Mutable<v1.PodTemplateSpec>;
export type Container = Mutable<v1.Container>;
export type Volume = Mutable<v1.Volume>;
export type ObjectMeta = Mutable<ObjectMetaV1>;
type LabelSelector = Mutable<LabelSelectorV1>;
type ContainerPort = Mutable<v1.ContainerPort>;
type EnvVar = Mutable<v1.EnvVar>;
type EnvFromSource = Mutable<v1.EnvFromSource>;
type HTTPGetAction = Mutable<v1.HTTPGetAction>;
type Lifecycle = Mutable<v1.Lifecycle>;
type LifecycleHandler = Mutable<v1.LifecycleHandler>;
type PersistentVolumeClaimSpec = Mutable<v1.PersistentVolumeClaimSpec>;
type PodSecurityContext = Mutable<v1.PodSecurityContext>;
type Probe = Mutable<v1.Probe>;
type ResourceRequirements = Mutable<v1.ResourceRequirements>;
type SecurityContext = Mutable<v1.SecurityContext>;
type Toleration = Mutable<v1.Toleration>;
type VolumeMount = Mutable<v1.VolumeMount>;

// --- error helpers ---------------------------------------------------------

/** An Invalid error whose value is already rendered (Go's %#v of a struct or map). */
export function invalidRendered(path: Path, rendered: string, detail: string): FieldError {
  return {
    type: 'FieldValueInvalid',
    field: String(path),
    message: `Invalid value: ${rendered}${detail ? `: ${detail}` : ''}`,
  };
}

export function notFound(path: Path, value: unknown, detail = ''): FieldError {
  return {
    type: 'FieldValueNotFound',
    field: String(path),
    message: `Not found: ${formatValue(value)}${detail ? `: ${detail}` : ''}`,
  };
}

export const IS_NEGATIVE_MSG = 'must be greater than or equal to 0';
const IS_NOT_POSITIVE_MSG = 'must be greater than zero';
const FIELD_IMMUTABLE_MSG = 'field is immutable';
const FILE_MODE_MSG = 'must be a number between 0 and 0777 (octal), both inclusive';

export function validateNonnegative(value: number, path: Path): FieldError[] {
  return value < 0 ? [invalid(path, value, IS_NEGATIVE_MSG)] : [];
}

export function validateImmutable(
  newValue: unknown,
  oldValue: unknown,
  path: Path,
  equal: (a: unknown, b: unknown) => boolean = deepEqual,
): FieldError[] {
  return equal(newValue, oldValue) ? [] : [invalid(path, newValue ?? null, FIELD_IMMUTABLE_MSG)];
}

export const inclusiveRange = (lo: number, hi: number) => `must be between ${lo} and ${hi}, inclusive`;

/** Kubernetes' RegexError wording: `msg (e.g. 'a',  or 'b', regex used for validation is 're')`. */
function regexError(msg: string, re: string, ...examples: string[]): string {
  let s = `${msg} (e.g. `;
  examples.forEach((e, i) => {
    if (i > 0) s += ' or ';
    s += `'${e}', `;
  });
  return `${s}regex used for validation is '${re}')`;
}

function forEachMessage(messages: string[], path: Path, value: unknown): FieldError[] {
  return messages.map((m) => invalid(path, value, m));
}

/** NameIsDNSSubdomain with `prefix`: a name prefix may end in a dash. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
}
export const nameIsDNSSubdomain = (name: string, prefix = false) =>
  isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);

export function validateDNS1123Subdomain(value: string, path: Path): FieldError[] {
  return forEachMessage(isDNS1123Subdomain(value), path, value);
}

// --- Go value rendering, for the errors Kubernetes prints with %#v ----------
// (Pointer addresses and long structs, which no client can match on, are elided.)

const goQuote = (s: unknown) => JSON.stringify(String(s ?? ''));

export function goStringMap(m: Record<string, string> | undefined | null): string {
  if (m == null) return 'map[string]string(nil)';
  const entries = Object.keys(m)
    .sort()
    .map((k) => `${goQuote(k)}:${goQuote(m[k])}`);
  return `map[string]string{${entries.join(', ')}}`;
}

function goStringSlice(a: string[] | undefined | null): string {
  return a == null ? '[]string(nil)' : `[]string{${a.map(goQuote).join(', ')}}`;
}

export function goLabelSelector(sel: LabelSelector): string {
  const exprs =
    sel.matchExpressions == null
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${sel.matchExpressions
          .map(
            (e) =>
              `v1.LabelSelectorRequirement{Key:${goQuote(e.key)}, Operator:${goQuote(e.operator)}, Values:${goStringSlice(e.values)}}`,
          )
          .join(', ')}}`;
  return `v1.LabelSelector{MatchLabels:${goStringMap(sel.matchLabels)}, MatchExpressions:${exprs}}`;
}

export function goIntOrString(v: number | string | undefined): string {
  return typeof v === 'string'
    ? `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`
    : `intstr.IntOrString{Type:0, IntVal:${v ?? 0}, StrVal:""}`;
}

// --- small generic helpers -------------------------------------------------

/** apiequality.Semantic.DeepEqual on JSON values: an empty list or map equals an absent one. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const blank = (v: unknown) =>
    v === undefined || v === null || (Array.isArray(v) ? v.length === 0 : isPlainObject(v) && Object.keys(v).length === 0);
  if (blank(a) && blank(b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}

/** Exact equality of JSON values, for raw data that Kubernetes compares byte for byte. */
export function exactEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  return ak.length === bk.length && ak.every((k) => exactEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * What changed between two specs, one field a line. Kubernetes appends a cmp.Diff of its Go
 * structs to some errors; this says the same in JSON field names.
 */
export function specDiff(typeName: string, oldValue: object, newValue: object): string {
  const o = oldValue as Record<string, unknown>;
  const n = newValue as Record<string, unknown>;
  const lines = [`  ${typeName}{`];
  for (const k of [...new Set([...Object.keys(o), ...Object.keys(n)])].sort()) {
    if (deepEqual(o[k], n[k])) continue;
    if (o[k] !== undefined) lines.push(`- \t${k}: ${JSON.stringify(o[k])},`);
    if (n[k] !== undefined) lines.push(`+ \t${k}: ${JSON.stringify(n[k])},`);
  }
  lines.push('  }');
  return lines.join('\n');
}

// --- quantities ----------------------------------------------------------

/**
 * A quantity from a JSON value, rounded up to milli precision as SetDefaults_ResourceList does
 * (Quantity.RoundUp(-3), which leaves quantities already at that precision, and their text,
 * alone). Undefined when it does not parse.
 */
export function parseQuantityValue(v: unknown): Quantity | undefined {
  let q: Quantity | undefined;
  try {
    q = quantityFromJSON(v);
  } catch (e) {
    if (e instanceof QuantityError) return undefined;
    throw e;
  }
  if (!q) return undefined;
  const milli = Quantity.fromMilli(q.milliValue(), q.format);
  return milli.cmp(q) === 0 ? q : milli;
}

/** Why a JSON value is not a quantity, in Kubernetes' words. */
function quantityProblem(v: unknown): string {
  try {
    quantityFromJSON(v);
  } catch (e) {
    if (e instanceof QuantityError) return e.message;
    throw e;
  }
  return QUANTITY_FORMAT_ERROR;
}

/** A quantity in its canonical serialized form; unparsable values are left for validation. */
function canonicalQuantity(v: unknown): unknown {
  return parseQuantityValue(v)?.toString() ?? v;
}

/** Rewrites every quantity in a resource list to its canonical form. */
export function canonicalizeResourceList(list: Record<string, unknown> | undefined): void {
  if (!list) return;
  for (const k of Object.keys(list)) list[k] = canonicalQuantity(list[k]);
}

/** A value that is no quantity: Kubernetes rejects it while decoding the request. */
export function quantityFormatError(path: Path, value: unknown): FieldError {
  return invalid(path, value, quantityProblem(value));
}

const sumQuantities = (a: Quantity, b: Quantity) => Quantity.fromMilli(a.milliValue() + b.milliValue(), a.format);

/** ValidateResourceQuantityValue: not negative, and whole for integer resources. */
export function validateResourceQuantityValue(name: string, q: Quantity, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (q.sign() < 0) errs.push(invalid(path, q.toString(), IS_NEGATIVE_MSG));
  if (isIntegerResourceName(name) && q.milliValue() % 1000n !== 0n) errs.push(invalid(path, q.toString(), 'must be an integer'));
  return errs;
}

/** ValidatePositiveQuantityValue. */
export function validatePositiveQuantity(q: Quantity, path: Path): FieldError[] {
  return q.sign() <= 0 ? [invalid(path, q.toString(), IS_NOT_POSITIVE_MSG)] : [];
}

/** validateBasicResource (volume and claim capacities): Kubernetes shows the quantity's integer value. */
export function validateBasicResource(q: Quantity, path: Path): FieldError[] {
  return q.value() < 0n ? [invalid(path, Number(q.value()), 'must be a valid resource quantity')] : [];
}

// --- resource names (pkg/apis/core/helper) --------------------------------

const STANDARD_RESOURCES = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
]);
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const INTEGER_RESOURCES = new Set([
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);

const isHugePageResourceName = (name: string) => name.startsWith('hugepages-');
export const isNativeResource = (name: string) => !name.includes('/') || name.includes('kubernetes.io/');
const isOvercommitAllowed = (name: string) => isNativeResource(name) && !isHugePageResourceName(name);
function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}
const isIntegerResourceName = (name: string) => INTEGER_RESOURCES.has(name) || isExtendedResourceName(name);
const isStandardResourceName = (name: string) =>
  STANDARD_RESOURCES.has(name) || isHugePageResourceName(name) || name.startsWith('requests.hugepages-');

function validateContainerResourceName(name: string, path: Path): FieldError[] {
  const errs = forEachMessage(isQualifiedName(name), path, name);
  if (errs.length) return errs;
  if (!name.includes('/')) {
    if (!isStandardResourceName(name)) return [invalid(path, name, 'must be a standard resource type or fully qualified')];
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePageResourceName(name))
      return [invalid(path, name, 'must be a standard resource for containers')];
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    return [invalid(path, name, "doesn't follow extended resource name standard")];
  }
  return [];
}

// --- image references ------------------------------------------------------

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** The tag of an image reference as the kubelet's ParseImageName reads it: `latest` when there
 *  is neither tag nor digest, '' with only a digest, undefined when the reference is invalid. */
export function imageTag(image: string): string | undefined {
  if (/^[a-f0-9]{64}$/.test(image)) return undefined;
  let rest = image;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) return undefined;
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) return undefined;
  }
  if (rest.length === 0 || rest.length > 255) return undefined;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      if (!DOMAIN_RE.test(first)) return undefined;
      path = rest.slice(slash + 1);
    }
  }
  if (!PATH_RE.test(path)) return undefined;
  return tag || digest ? tag : 'latest';
}

/** Always for `:latest` (or no tag), IfNotPresent otherwise, as SetDefaults_Container decides. */
export const defaultPullPolicy = (image: string | undefined) =>
  imageTag(image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';

// --- defaulting --------------------------------------------------------------

/** The volume sources of a Volume, in the order ValidateVolumes checks them, with the path
 *  segment Kubernetes uses in its messages (its own spelling, typos included). */
const VOLUME_SOURCES: Array<{ key: string; path?: string }> = [
  { key: 'emptyDir' },
  { key: 'hostPath' },
  { key: 'gitRepo' },
  { key: 'gcePersistentDisk', path: 'persistentDisk' },
  { key: 'awsElasticBlockStore' },
  { key: 'secret' },
  { key: 'nfs' },
  { key: 'iscsi' },
  { key: 'glusterfs' },
  { key: 'flocker' },
  { key: 'persistentVolumeClaim' },
  { key: 'rbd' },
  { key: 'cinder' },
  { key: 'cephfs' },
  { key: 'quobyte' },
  { key: 'downwardAPI' },
  { key: 'fc' },
  { key: 'flexVolume' },
  { key: 'configMap' },
  { key: 'azureFile' },
  { key: 'vsphereVolume' },
  { key: 'photonPersistentDisk' },
  { key: 'portworxVolume' },
  { key: 'azureDisk' },
  { key: 'storageos' },
  { key: 'projected' },
  { key: 'scaleIO' },
  { key: 'csi' },
  { key: 'ephemeral' },
  { key: 'image' },
];
/** Where "may not specify more than 1 volume type" points, where it differs from the key. */
const VOLUME_SOURCE_FORBIDDEN_PATH: Record<string, string> = { cephfs: 'cephFS', downwardAPI: 'downwarAPI' };

type AnyVolume = Volume & Record<string, unknown>;

function defaultVolume(v: AnyVolume): void {
  if (!VOLUME_SOURCES.some((s) => v[s.key] != null)) v.emptyDir = {};
  if (v.emptyDir?.sizeLimit !== undefined) v.emptyDir.sizeLimit = canonicalQuantity(v.emptyDir.sizeLimit) as string;
  if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = '';
  if (v.secret && v.secret.defaultMode === undefined) v.secret.defaultMode = 0o644;
  if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = 0o644;
  if (v.downwardAPI) {
    if (v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = 0o644;
    for (const item of v.downwardAPI.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ||= 'v1';
  }
  if (v.projected) {
    if (v.projected.defaultMode === undefined) v.projected.defaultMode = 0o644;
    for (const src of v.projected.sources ?? []) {
      for (const item of src.downwardAPI?.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ||= 'v1';
      if (src.serviceAccountToken && src.serviceAccountToken.expirationSeconds === undefined)
        src.serviceAccountToken.expirationSeconds = 3600;
    }
  }
  if (v.rbd) {
    v.rbd.pool ||= 'rbd';
    v.rbd.user ||= 'admin';
    v.rbd.keyring ||= '/etc/ceph/keyring';
  }
  defaultSharedVolumeSources(v);
  const claimTemplate = v.ephemeral?.volumeClaimTemplate;
  if (claimTemplate) {
    claimTemplate.metadata ??= {};
    defaultEmbeddedObjectMeta(claimTemplate.metadata);
    claimTemplate.spec ??= {} as PersistentVolumeClaimSpec;
    defaultPersistentVolumeClaimSpec(claimTemplate.spec);
  }
  const image = v.image as { reference?: string; pullPolicy?: string } | undefined;
  if (image && !image.pullPolicy) image.pullPolicy = imageTag(image.reference ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The volume sources whose defaults a Pod volume and a PersistentVolume share. */
interface SharedVolumeSources {
  iscsi?: { iscsiInterface?: string };
  azureDisk?: { cachingMode?: string; kind?: string; fsType?: string; readOnly?: boolean };
  scaleIO?: { storageMode?: string; fsType?: string };
}

/** SetDefaults_ISCSIVolumeSource, SetDefaults_AzureDiskVolumeSource, SetDefaults_ScaleIOVolumeSource
 *  and their PersistentVolume counterparts, which set the same values. */
export function defaultSharedVolumeSources(src: SharedVolumeSources): void {
  if (src.iscsi) src.iscsi.iscsiInterface ||= 'default';
  if (src.azureDisk) {
    src.azureDisk.cachingMode ??= 'ReadWrite';
    src.azureDisk.kind ??= 'Shared';
    src.azureDisk.fsType ??= 'ext4';
    src.azureDisk.readOnly ??= false;
  }
  if (src.scaleIO) {
    src.scaleIO.storageMode ||= 'ThinProvisioned';
    src.scaleIO.fsType ||= 'xfs';
  }
}

function defaultHTTPGet(h: HTTPGetAction | undefined): void {
  if (!h) return;
  h.path ||= '/';
  h.scheme ||= 'HTTP';
}

function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  p.timeoutSeconds ||= 1;
  p.periodSeconds ||= 10;
  p.successThreshold ||= 1;
  p.failureThreshold ||= 3;
  defaultHTTPGet(p.httpGet);
  if (p.grpc && p.grpc.service === undefined) p.grpc.service = '';
}

function defaultLifecycle(l: Lifecycle | undefined): void {
  defaultHTTPGet(l?.postStart?.httpGet);
  defaultHTTPGet(l?.preStop?.httpGet);
}

function defaultResources(c: Container): void {
  c.resources ??= {};
  const r = c.resources as ResourceRequirements & Record<string, unknown>;
  canonicalizeResourceList(r.limits as Record<string, unknown> | undefined);
  canonicalizeResourceList(r.requests as Record<string, unknown> | undefined);
  // Empty maps are omitted when Kubernetes serializes ResourceRequirements.
  if (r.limits && Object.keys(r.limits).length === 0) delete r.limits;
  if (r.requests && Object.keys(r.requests).length === 0) delete r.requests;
}

function defaultContainer(c: Container): void {
  c.imagePullPolicy ||= defaultPullPolicy(c.image);
  c.terminationMessagePath ||= '/dev/termination-log';
  c.terminationMessagePolicy ||= 'File';
  for (const p of c.ports ?? []) p.protocol ||= 'TCP';
  for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ||= 'v1';
  defaultResources(c);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultLifecycle(c.lifecycle);
}

/** SetDefaults_Pod's part: only a Pod (not a template) gets requests copied from limits,
 *  enableServiceLinks, and host ports copied from container ports on the host network. */
function defaultPodOnly(spec: PodSpec): void {
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const limits = c.resources?.limits;
    if (!limits) continue;
    const requests = (c.resources!.requests ??= {});
    for (const [k, v] of Object.entries(limits)) if (!(k in requests)) requests[k] = v;
  }
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork) {
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])])
      for (const p of c.ports ?? []) if (!p.hostPort) p.hostPort = p.containerPort;
  }
}

/**
 * Fills a PodSpec's defaults in place. `isPod` adds what SetDefaults_Pod does for a Pod only.
 * Idempotent.
 */
export function defaultPodSpec(spec: PodSpec, isPod: boolean): void {
  if (isPod) defaultPodOnly(spec);
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.restartPolicy ||= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ||= 'default-scheduler';
  // v1 keeps the deprecated serviceAccount field in step with serviceAccountName.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  else delete spec.serviceAccount;
  for (const v of spec.volumes ?? []) defaultVolume(v as AnyVolume);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c as Container);
  canonicalizeResourceList(spec.overhead as Record<string, unknown> | undefined);
}

/** A PodTemplateSpec as Kubernetes serializes it: metadata is always there (with the
 *  zero creationTimestamp Go writes as null), and the spec defaulted as a template. */
export function defaultPodTemplateSpec(template: PodTemplateSpec): void {
  template.metadata ??= {};
  defaultEmbeddedObjectMeta(template.metadata);
  template.spec ??= {} as PodSpec;
  defaultPodSpec(template.spec, false);
}

/** Go serializes a zero metav1.Time as null, so an embedded ObjectMeta always shows one. */
export function defaultEmbeddedObjectMeta(meta: ObjectMeta): void {
  if (meta.creationTimestamp === undefined) (meta as Record<string, unknown>).creationTimestamp = null;
}

// --- QoS class (pkg/apis/core/helper/qos) ------------------------------------

/** ComputePodQOS: Guaranteed when every container limits cpu and memory with requests equal to
 *  limits, BestEffort when nothing requests or limits cpu or memory, Burstable otherwise. */
export function computePodQOS(spec: PodSpec): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const add = (into: Map<string, Quantity>, name: string, q: Quantity) => {
    const prev = into.get(name);
    into.set(name, prev ? sumQuantities(prev, q) : q);
  };
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const [name, v] of Object.entries(c.resources?.requests ?? {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const q = parseQuantityValue(v);
      if (q && q.sign() > 0) add(requests, name, q);
    }
    const limited = new Set<string>();
    for (const [name, v] of Object.entries(c.resources?.limits ?? {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const q = parseQuantityValue(v);
      if (q && q.sign() > 0) {
        limited.add(name);
        add(limits, name, q);
      }
    }
    if (!limited.has('cpu') || !limited.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || lim.cmp(req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

// --- validation options ------------------------------------------------------

export interface PodSpecValidationOptions {
  /** The spec belongs to a Pod, not a template (PodValidationOptions.ResourceIsPod). */
  isPod: boolean;
  /** The pod's metadata, for the names of the claims ephemeral volumes create. */
  podMeta?: ObjectMeta;
  /** Volumes the spec gets from elsewhere (a StatefulSet's volumeClaimTemplates). */
  extraVolumes?: Volume[];
}

type VolumeMap = Map<string, AnyVolume>;

// --- volumes -------------------------------------------------------------------

export function validatePathNoBacksteps(target: string, path: Path): FieldError[] {
  return target.split(/[\\/]/).includes('..') ? [invalid(path, target, "must not contain '..'")] : [];
}

function validateLocalDescendingPath(target: string, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(invalid(path, target, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(target, path));
  return errs;
}

function validateLocalNonReservedPath(target: string, path: Path): FieldError[] {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(invalid(path, target, "must not start with '..'"));
  return errs;
}

function validateFileMode(mode: number | undefined, path: Path): FieldError[] {
  return mode !== undefined && (mode > 0o777 || mode < 0) ? [invalid(path, mode, FILE_MODE_MSG)] : [];
}

function validateKeyToPath(kp: { key?: string; path?: string; mode?: number }, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!kp.key) errs.push(required(path.child('key')));
  if (!kp.path) errs.push(required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(kp.path ?? '', path.child('path')));
  errs.push(...validateFileMode(kp.mode, path.child('mode')));
  return errs;
}

const VOLUME_DOWNWARD_API_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const ENV_DOWNWARD_API_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
const CONTAINER_RESOURCE_PATHS = [
  'limits.cpu',
  'limits.ephemeral-storage',
  'limits.memory',
  'requests.cpu',
  'requests.ephemeral-storage',
  'requests.memory',
];

/** fieldpath.SplitMaybeSubscriptedPath: `metadata.labels['key']`. */
function splitSubscriptedPath(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const s = fieldPath.slice(0, -2);
  const i = s.indexOf("['");
  if (i <= 0) return undefined;
  return [s.slice(0, i), s.slice(i + 2)];
}

/** ConvertDownwardAPIFieldLabel for v1 pods: the field paths a pod's downward API knows. */
function convertDownwardAPIFieldLabel(version: string, label: string): string | Error {
  if (version !== 'v1') return new Error(`unsupported pod version: ${version}`);
  const sub = splitSubscriptedPath(label);
  if (sub) {
    return sub[0] === 'metadata.annotations' || sub[0] === 'metadata.labels'
      ? label
      : new Error(`field label does not support subscript: ${label}`);
  }
  const known = [
    'metadata.annotations',
    'metadata.labels',
    'metadata.name',
    'metadata.namespace',
    'metadata.uid',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.serviceAccountName',
    'spec.schedulerName',
    'status.phase',
    'status.hostIP',
    'status.hostIPs',
    'status.podIP',
    'status.podIPs',
  ];
  if (known.includes(label)) return label;
  if (label === 'spec.host') return 'spec.nodeName';
  return new Error(`field label not supported: ${label}`);
}

function validateObjectFieldSelector(
  fs: { apiVersion?: string; fieldPath?: string },
  expressions: string[],
  path: Path,
): FieldError[] {
  if (!fs.apiVersion) return [required(path.child('apiVersion'))];
  if (!fs.fieldPath) return [required(path.child('fieldPath'))];
  const internal = convertDownwardAPIFieldLabel(fs.apiVersion, fs.fieldPath);
  if (internal instanceof Error)
    return [invalid(path.child('fieldPath'), fs.fieldPath, `error converting fieldPath: ${internal.message}`)];
  const sub = splitSubscriptedPath(internal);
  if (sub) {
    const [p, key] = sub;
    if (p === 'metadata.annotations') return validateQualifiedName(key.toLowerCase(), path);
    if (p === 'metadata.labels') return validateQualifiedName(key, path);
    return [invalid(path, p, 'does not support subscript')];
  }
  if (!expressions.includes(internal)) return [notSupported(path.child('fieldPath'), internal, [...expressions].sort())];
  return [];
}

const DIVISORS_BINARY = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];

function validateResourceDivisor(resource: string, divisor: unknown, path: Path): FieldError[] {
  if (divisor === undefined || divisor === null) return [];
  const q = parseQuantityValue(divisor);
  if (!q) return [quantityFormatError(path.child('divisor'), divisor)];
  if (q.isZero()) return [];
  const s = q.toString();
  const errs: FieldError[] = [];
  const list = DIVISORS_BINARY.join(', ');
  if (resource === 'limits.cpu' || resource === 'requests.cpu') {
    if (s !== '1m' && s !== '1')
      errs.push(invalid(path.child('divisor'), resource, "only divisor's values 1m and 1 are supported with the cpu resource"));
  } else if (resource === 'limits.memory' || resource === 'requests.memory') {
    if (!DIVISORS_BINARY.includes(s))
      errs.push(invalid(path.child('divisor'), resource, `only divisor's values ${list} are supported with the memory resource`));
  } else if (resource === 'limits.ephemeral-storage' || resource === 'requests.ephemeral-storage') {
    if (!DIVISORS_BINARY.includes(s))
      errs.push(
        invalid(path.child('divisor'), resource, `only divisor's values ${list} are supported with the local ephemeral storage resource`),
      );
  }
  if ((resource.startsWith('requests.hugepages-') || resource.startsWith('limits.hugepages-')) && !DIVISORS_BINARY.includes(s))
    errs.push(invalid(path.child('divisor'), resource, `only divisor's values ${list} are supported with the hugepages resource`));
  return errs;
}

function validateContainerResourceFieldSelector(
  fs: { containerName?: string; resource?: string; divisor?: unknown },
  path: Path,
  volume: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const resource = fs.resource ?? '';
  if (volume && !fs.containerName) errs.push(required(path.child('containerName')));
  else if (!resource) errs.push(required(path.child('resource')));
  else if (
    !CONTAINER_RESOURCE_PATHS.includes(resource) &&
    !resource.startsWith('limits.hugepages-') &&
    !resource.startsWith('requests.hugepages-')
  )
    errs.push(notSupported(path.child('resource'), resource, CONTAINER_RESOURCE_PATHS));
  errs.push(...validateResourceDivisor(resource, fs.divisor, path));
  return errs;
}

function validateDownwardAPIVolumeFile(
  file: { path?: string; fieldRef?: { apiVersion?: string; fieldPath?: string }; resourceFieldRef?: object; mode?: number },
  path: Path,
): FieldError[] {
  const errs: FieldError[] = [];
  if (!file.path) errs.push(required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(file.path ?? '', path.child('path')));
  if (file.fieldRef) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, VOLUME_DOWNWARD_API_PATHS, path.child('fieldRef')));
    if (file.resourceFieldRef)
      errs.push(invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (file.resourceFieldRef) {
    errs.push(...validateContainerResourceFieldSelector(file.resourceFieldRef, path.child('resourceFieldRef'), true));
  } else {
    errs.push(required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateFileMode(file.mode, path.child('mode')));
  return errs;
}

function validateProjectedSources(projected: NonNullable<Volume['projected']>, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const allPaths = new Set<string>();
  const claim = (p: string | undefined, conflictValue: unknown) => {
    if (!p) return;
    if (allPaths.has(p)) errs.push(invalid(path, conflictValue, 'conflicting duplicate paths'));
    else allPaths.add(p);
  };
  (projected.sources ?? []).forEach((source, i) => {
    let n = 0;
    const srcPath = path.child('sources').index(i);
    for (const key of ['secret', 'configMap'] as const) {
      const projection = source[key];
      if (!projection) continue;
      n++;
      const p = srcPath.child(key);
      if (!projection.name) errs.push(required(p.child('name')));
      (projection.items ?? []).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, p.child('items').index(j)));
        claim(kp.path, projection.name ?? '');
      });
    }
    if (source.downwardAPI) {
      n++;
      for (const file of source.downwardAPI.items ?? []) {
        errs.push(...validateDownwardAPIVolumeFile(file, srcPath.child('downwardAPI')));
        claim(file.path, file.path);
      }
    }
    if (source.serviceAccountToken) {
      n++;
      const p = srcPath.child('serviceAccountToken');
      const seconds = source.serviceAccountToken.expirationSeconds ?? 0;
      if (seconds < 600)
        errs.push(invalid(p.child('expirationSeconds'), seconds, 'may not specify a duration less than 10 minutes'));
      if (seconds > 2 ** 32)
        errs.push(invalid(p.child('expirationSeconds'), seconds, 'may not specify a duration larger than 2^32 seconds'));
      if (!source.serviceAccountToken.path) errs.push(required(path.child('path')));
      else errs.push(...validateLocalNonReservedPath(source.serviceAccountToken.path, path.child('path')));
    }
    const ctb = (source as Record<string, unknown>).clusterTrustBundle as
      | { name?: string; signerName?: string; path?: string; labelSelector?: LabelSelector }
      | undefined;
    if (ctb) {
      n++;
      const p = srcPath.child('clusterTrustBundle');
      if (ctb.name !== undefined && ctb.signerName !== undefined)
        errs.push(invalid(p, ctb, 'only one of name and signerName may be used'));
      else if (ctb.name === undefined && ctb.signerName === undefined)
        errs.push(required(p, 'either name or signerName must be specified'));
      if (!ctb.path) errs.push(required(p.child('path')));
      errs.push(...validateLocalNonReservedPath(ctb.path ?? '', p.child('path')));
      claim(ctb.path ?? '', ctb.path ?? '');
    }
    if (n > 1) errs.push(forbidden(srcPath, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

// The checks of the volume sources a PersistentVolume has too.

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

export function validateHostPathVolumeSource(hp: { path?: string; type?: string }, path: Path): FieldError[] {
  if (!hp.path) return [required(path.child('path'))];
  const errs = validatePathNoBacksteps(hp.path, path.child('path'));
  if (hp.type != null && !HOST_PATH_TYPES.includes(hp.type)) errs.push(notSupported(path.child('type'), hp.type, HOST_PATH_TYPES));
  return errs;
}

export function validateNFSVolumeSource(nfs: { server?: string; path?: string }, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!nfs.server) errs.push(required(path.child('server')));
  if (!nfs.path) errs.push(required(path.child('path')));
  if (!(nfs.path ?? '').startsWith('/')) errs.push(invalid(path.child('path'), nfs.path ?? '', 'must be an absolute path'));
  return errs;
}

export function validateCSIDriverName(driver: string, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!driver) errs.push(required(path));
  if (driver.length > 63) errs.push(tooLong(path, 63));
  errs.push(...forEachMessage(isDNS1123Subdomain(driver.toLowerCase()), path, driver));
  return errs;
}

/** Required fields of the volume sources berth does not look into further. */
const REQUIRED_SOURCE_FIELDS: Record<string, string[]> = {
  gcePersistentDisk: ['pdName'],
  awsElasticBlockStore: ['volumeID'],
  iscsi: ['targetPortal', 'iqn'],
  glusterfs: ['endpoints', 'path'],
  rbd: ['monitors', 'image'],
  cinder: ['volumeID'],
  cephfs: ['monitors'],
  quobyte: ['registry', 'volume'],
  flexVolume: ['driver'],
  azureFile: ['secretName', 'shareName'],
  vsphereVolume: ['volumePath'],
  photonPersistentDisk: ['pdID'],
  portworxVolume: ['volumeID'],
  azureDisk: ['diskName', 'diskURI'],
  storageos: ['volumeName'],
  scaleIO: ['gateway', 'system', 'volumeName'],
};

function validateVolumeSource(v: AnyVolume, path: Path, opts: PodSpecValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const { key, path: sub } of VOLUME_SOURCES) {
    const src = v[key] as Record<string, unknown> | null | undefined;
    if (src == null) continue;
    if (n > 0) {
      errs.push(forbidden(path.child(VOLUME_SOURCE_FORBIDDEN_PATH[key] ?? key), 'may not specify more than 1 volume type'));
      continue;
    }
    n++;
    const p = path.child(sub ?? key);
    switch (key) {
      case 'emptyDir': {
        const limit = src.sizeLimit;
        if (limit !== undefined) {
          const q = parseQuantityValue(limit);
          if (!q) errs.push(quantityFormatError(p.child('sizeLimit'), limit));
          else if (q.sign() < 0)
            errs.push(forbidden(p.child('sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
        }
        break;
      }
      case 'hostPath':
        errs.push(...validateHostPathVolumeSource(src, p));
        break;
      case 'gitRepo': {
        const g = src as { repository?: string; directory?: string };
        if (!g.repository) errs.push(required(p.child('repository')));
        errs.push(...validateLocalDescendingPath(g.directory ?? '', p.child('directory')));
        break;
      }
      case 'secret':
      case 'configMap': {
        const s = src as { secretName?: string; name?: string; defaultMode?: number; items?: [] };
        if (key === 'secret' ? !s.secretName : !s.name) errs.push(required(p.child(key === 'secret' ? 'secretName' : 'name')));
        errs.push(...validateFileMode(s.defaultMode, p.child('defaultMode')));
        (s.items ?? []).forEach((kp, i) => errs.push(...validateKeyToPath(kp, p.child('items').index(i))));
        break;
      }
      case 'nfs':
        errs.push(...validateNFSVolumeSource(src, p));
        break;
      case 'persistentVolumeClaim':
        if (!(src as { claimName?: string }).claimName) errs.push(required(p.child('claimName')));
        break;
      case 'downwardAPI': {
        const d = src as NonNullable<Volume['downwardAPI']>;
        errs.push(...validateFileMode(d.defaultMode, p.child('defaultMode')));
        for (const file of d.items ?? []) errs.push(...validateDownwardAPIVolumeFile(file, p));
        break;
      }
      case 'projected': {
        const pr = src as NonNullable<Volume['projected']>;
        errs.push(...validateFileMode(pr.defaultMode, p.child('defaultMode')));
        errs.push(...validateProjectedSources(pr, p));
        break;
      }
      case 'csi': {
        const csi = src as { driver?: string; nodePublishSecretRef?: { name?: string } };
        errs.push(...validateCSIDriverName(csi.driver ?? '', p.child('driver')));
        if (csi.nodePublishSecretRef) {
          if (!csi.nodePublishSecretRef.name) errs.push(required(p.child('nodePublishSecretRef').child('name')));
          else
            errs.push(
              ...forEachMessage(nameIsDNSSubdomain(csi.nodePublishSecretRef.name), p.child('name'), csi.nodePublishSecretRef.name),
            );
        }
        break;
      }
      case 'ephemeral': {
        const template = (src as NonNullable<Volume['ephemeral']>).volumeClaimTemplate;
        if (!template) {
          errs.push(required(p.child('volumeClaimTemplate')));
        } else {
          const tp = p.child('volumeClaimTemplate');
          errs.push(...validateTemplateObjectMeta(template.metadata, tp.child('metadata')));
          errs.push(...validatePersistentVolumeClaimSpec(template.spec ?? ({} as PersistentVolumeClaimSpec), tp.child('spec')));
        }
        const podName = opts.podMeta?.name;
        if (podName && v.name) {
          const pvcName = `${podName}-${v.name}`;
          for (const m of isDNS1123Subdomain(pvcName)) errs.push(invalid(p.child('name'), v.name, `PVC name "${pvcName}": ${m}`));
        }
        break;
      }
      case 'image': {
        const img = src as { reference?: string; pullPolicy?: string };
        if (opts.isPod && !img.reference) errs.push(required(p.child('reference')));
        errs.push(...validatePullPolicy(img.pullPolicy, p.child('pullPolicy')));
        break;
      }
      default:
        for (const f of REQUIRED_SOURCE_FIELDS[key] ?? []) {
          const value = src[f];
          if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0))
            errs.push(required(p.child(f)));
        }
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a volume type'));
  return errs;
}

/** ValidateTemplateObjectMeta: an embedded template's metadata may only carry labels and annotations. */
export function validateTemplateObjectMeta(meta: ObjectMeta | undefined, path: Path): FieldError[] {
  const errs = validateAnnotations(meta?.annotations, path.child('annotations'));
  errs.push(...validateLabels(meta?.labels, path.child('labels')));
  for (const [k, v] of Object.entries(meta ?? {}) as Array<[string, unknown]>) {
    // Go compares each other field with its zero value.
    if (k === 'labels' || k === 'annotations' || v == null || v === '' || v === 0 || v === false) continue;
    if ((Array.isArray(v) || isPlainObject(v)) && Object.keys(v).length === 0) continue;
    errs.push(forbidden(path.child(k), 'cannot be set'));
  }
  return errs;
}

function validateVolumes(volumes: Volume[] | undefined, path: Path, opts: PodSpecValidationOptions): [VolumeMap, FieldError[]] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  const created = new Set<string>();
  const podName = opts.podMeta?.name;
  if (podName) for (const v of volumes ?? []) if (v.ephemeral) created.add(`${podName}-${v.name}`);
  const map: VolumeMap = new Map();
  (volumes ?? []).forEach((vol, i) => {
    const v = vol as AnyVolume;
    const p = path.index(i);
    const el = validateVolumeSource(v, p, opts);
    if (!v.name) el.push(required(p.child('name')));
    else el.push(...validateDNS1123Label(v.name, p.child('name')));
    if (names.has(v.name)) el.push(duplicate(p.child('name'), v.name));
    if (el.length === 0) {
      names.add(v.name);
      map.set(v.name, v);
    } else {
      errs.push(...el);
    }
    const claimName = v.persistentVolumeClaim?.claimName;
    if (claimName && created.has(claimName))
      errs.push(
        invalid(p.child('persistentVolumeClaim').child('claimName'), claimName, 'must not reference a PVC that gets created for an ephemeral volume'),
      );
  });
  return [map, errs];
}

function validateVolumeMounts(
  mounts: VolumeMount[] | undefined,
  devices: Map<string, string>,
  volumes: VolumeMap,
  container: Container,
  path: Path,
): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  const devicePaths = new Set(devices.values());
  (mounts ?? []).forEach((m, i) => {
    const p = path.index(i);
    if (!m.name) errs.push(required(p.child('name')));
    if (!volumes.has(m.name)) errs.push(notFound(p.child('name'), m.name));
    if (!m.mountPath) errs.push(required(p.child('mountPath')));
    if (mountPoints.has(m.mountPath)) errs.push(invalid(p.child('mountPath'), m.mountPath, 'must be unique'));
    mountPoints.add(m.mountPath);
    if (devices.has(m.name)) errs.push(invalid(p.child('name'), m.name, 'must not already exist in volumeDevices'));
    if (devicePaths.has(m.mountPath))
      errs.push(invalid(p.child('mountPath'), m.mountPath, 'must not already exist as a path in volumeDevices'));
    if (volumes.get(m.name)?.image) {
      if (m.subPath) errs.push(invalid(p.child('subPath'), m.subPath, 'not allowed in image volume sources'));
      if (m.subPathExpr) errs.push(invalid(p.child('subPathExpr'), m.subPathExpr, 'not allowed in image volume sources'));
    }
    // Kubernetes reports these against the list, not the item.
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, path.child('subPath')));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(invalid(p.child('subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, path.child('subPathExpr')));
    }
    if (m.mountPropagation != null) {
      const mp = path.child('mountPropagation');
      const supported = ['Bidirectional', 'HostToContainer', 'None'];
      if (!supported.includes(m.mountPropagation)) errs.push(notSupported(mp, m.mountPropagation, supported));
      if (m.mountPropagation === 'Bidirectional' && container.securityContext?.privileged !== true)
        errs.push(forbidden(mp, 'Bidirectional mount propagation is available only to privileged containers'));
    }
    const rro = (m as VolumeMount & { recursiveReadOnly?: string }).recursiveReadOnly;
    if (rro != null && rro !== 'Disabled') {
      const rp = path.child('recursiveReadOnly');
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (!m.readOnly) errs.push(forbidden(rp, 'may only be specified when readOnly is true'));
        if (m.mountPropagation != null && m.mountPropagation !== 'None')
          errs.push(forbidden(rp, 'may only be specified when mountPropagation is None or not specified'));
      } else {
        errs.push(notSupported(rp, rro, ['Disabled', 'Enabled', 'IfPossible']));
      }
    }
  });
  return errs;
}

function validateVolumeDevices(container: Container, mounts: Map<string, string>, volumes: VolumeMap, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  const names = new Set<string>();
  const mountPaths = new Set(mounts.values());
  (container.volumeDevices ?? []).forEach((d, i) => {
    const p = path.index(i);
    const vol = volumes.get(d.name);
    if (!d.name) errs.push(required(p.child('name')));
    if (names.has(d.name)) errs.push(invalid(p.child('name'), d.name, 'must be unique'));
    if (vol && !vol.persistentVolumeClaim && !vol.ephemeral)
      errs.push(invalid(p.child('name'), d.name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    if (!vol) errs.push(notFound(p.child('name'), d.name));
    if (!d.devicePath) errs.push(required(p.child('devicePath')));
    if (paths.has(d.devicePath)) errs.push(invalid(p.child('devicePath'), d.devicePath, 'must be unique'));
    if (d.devicePath && validatePathNoBacksteps(d.devicePath, p).length)
      errs.push(invalid(p.child('devicePath'), d.devicePath, "can not contain backsteps ('..')"));
    else paths.add(d.devicePath);
    if (mounts.has(d.name)) errs.push(invalid(p.child('name'), d.name, 'must not already exist in volumeMounts'));
    if (mountPaths.has(d.devicePath))
      errs.push(invalid(p.child('devicePath'), d.devicePath, 'must not already exist as a path in volumeMounts'));
    if (d.name) names.add(d.name);
  });
  return errs;
}

// --- containers --------------------------------------------------------------

function validatePortNumOrName(port: number | string | undefined, path: Path): FieldError[] {
  if (typeof port === 'string') return forEachMessage(isValidPortName(port), path, port);
  return forEachMessage(isValidPortNum(port ?? 0), path, port ?? 0);
}

function validateContainerPorts(ports: ContainerPort[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (ports ?? []).forEach((port, i) => {
    const p = path.index(i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length) errs.push(...forEachMessage(msgs, p.child('name'), port.name));
      else if (names.has(port.name)) errs.push(duplicate(p.child('name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(p.child('containerPort')));
    else errs.push(...forEachMessage(isValidPortNum(port.containerPort), p.child('containerPort'), port.containerPort));
    if (port.hostPort) errs.push(...forEachMessage(isValidPortNum(port.hostPort), p.child('hostPort'), port.hostPort));
    if (!port.protocol) errs.push(required(p.child('protocol')));
    else if (!PORT_PROTOCOLS.includes(port.protocol)) errs.push(notSupported(p.child('protocol'), port.protocol, PORT_PROTOCOLS));
  });
  return errs;
}

const ENV_VAR_NAME_RE = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** IsEnvVarName: names a container environment accepts. */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!ENV_VAR_NAME_RE.test(value))
    errs.push(
      regexError(
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
        '[-._a-zA-Z][-._a-zA-Z0-9]*',
        'my.env-name',
        'MY_ENV.NAME',
        'MyEnvName1',
      ),
    );
  errs.push(...hasChDirPrefix(value));
  return errs;
}

function hasChDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

/** IsConfigMapKey: keys of ConfigMaps and Secrets. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!/^[-._a-zA-Z0-9]+$/.test(value))
    errs.push(
      regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", '[-._a-zA-Z0-9]+', 'key.name', 'KEY_NAME', 'key-name'),
    );
  errs.push(...hasChDirPrefix(value));
  return errs;
}

function validateKeySelector(s: { name?: string; key?: string }, path: Path): FieldError[] {
  const errs = forEachMessage(nameIsDNSSubdomain(s.name ?? ''), path.child('name'), s.name ?? '');
  if (!s.key) errs.push(required(path.child('key')));
  else errs.push(...forEachMessage(isConfigMapKey(s.key), path.child('key'), s.key));
  return errs;
}

function validateEnv(env: EnvVar[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (env ?? []).forEach((ev, i) => {
    const p = path.index(i);
    if (!ev.name) errs.push(required(p.child('name')));
    else errs.push(...forEachMessage(isEnvVarName(ev.name), p.child('name'), ev.name));
    const from = ev.valueFrom;
    if (!from) return;
    const fp = p.child('valueFrom');
    let n = 0;
    if (from.fieldRef) {
      n++;
      errs.push(...validateObjectFieldSelector(from.fieldRef, ENV_DOWNWARD_API_PATHS, fp.child('fieldRef')));
    }
    if (from.resourceFieldRef) {
      n++;
      errs.push(...validateContainerResourceFieldSelector(from.resourceFieldRef, fp.child('resourceFieldRef'), false));
    }
    if (from.configMapKeyRef) {
      n++;
      errs.push(...validateKeySelector(from.configMapKeyRef, fp.child('configMapKeyRef')));
    }
    if (from.secretKeyRef) {
      n++;
      errs.push(...validateKeySelector(from.secretKeyRef, fp.child('secretKeyRef')));
    }
    if (n === 0)
      errs.push(invalid(fp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (ev.value) errs.push(invalid(fp, '', 'may not be specified when `value` is not empty'));
    else if (n > 1) errs.push(invalid(fp, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateEnvFrom(envFrom: EnvFromSource[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (envFrom ?? []).forEach((ev, i) => {
    const p = path.index(i);
    if (ev.prefix) errs.push(...forEachMessage(isEnvVarName(ev.prefix), p.child('prefix'), ev.prefix));
    let n = 0;
    for (const [key, ref] of [
      ['configMapRef', ev.configMapRef],
      ['secretRef', ev.secretRef],
    ] as const) {
      if (!ref) continue;
      n++;
      if (!ref.name) errs.push(required(p.child(key).child('name')));
      else errs.push(...forEachMessage(nameIsDNSSubdomain(ref.name, true), p.child(key).child('name'), ref.name));
    }
    if (n === 0) errs.push(invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

function validatePullPolicy(policy: string | undefined, path: Path): FieldError[] {
  if (!policy) return [required(path)];
  return PULL_POLICIES.includes(policy) ? [] : [notSupported(path, policy, PULL_POLICIES)];
}

/** validateResourceRequirements for a container (or the pod overhead). */
export function validateContainerResources(
  resources: ResourceRequirements | undefined,
  claimNames: Set<string>,
  path: Path,
): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = path.child('limits');
  const reqPath = path.child('requests');
  const limits = new Map<string, Quantity>();
  let cpuOrMemory = false;
  let hugePages = false;
  /** The checks of a limit or a request alike; the quantity, when it parses. */
  const checkEntry = (name: string, raw: unknown, p: Path): Quantity | undefined => {
    errs.push(...validateContainerResourceName(name, p));
    const q = parseQuantityValue(raw);
    if (!q) {
      errs.push(quantityFormatError(p, raw));
      return undefined;
    }
    errs.push(...validateResourceQuantityValue(name, q, p));
    if (isHugePageResourceName(name)) hugePages = true;
    if (name === 'cpu' || name === 'memory') cpuOrMemory = true;
    return q;
  };
  for (const name of Object.keys(resources?.limits ?? {}).sort()) {
    const q = checkEntry(name, resources!.limits![name], limPath.key(name));
    if (q) limits.set(name, q);
  }
  for (const name of Object.keys(resources?.requests ?? {}).sort()) {
    const q = checkEntry(name, resources!.requests![name], reqPath.key(name));
    if (!q) continue;
    const limit = limits.get(name);
    if (limit) {
      const cmp = q.cmp(limit);
      if (cmp !== 0 && !isOvercommitAllowed(name))
        errs.push(invalid(reqPath, q.toString(), `must be equal to ${name} limit of ${limit.toString()}`));
      else if (cmp > 0) errs.push(invalid(reqPath, q.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`));
    } else if (!isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  if (!cpuOrMemory && hugePages) errs.push(forbidden(path, 'HugePages require cpu or memory'));
  const seen = new Set<string>();
  (resources?.claims ?? []).forEach((claim, i) => {
    const p = path.child('claims').index(i);
    const name = claim.name;
    if (!name) {
      errs.push(required(p));
      return;
    }
    const request = (claim as { request?: string }).request;
    const key = request ? `${name}/${request}` : name;
    if (seen.has(name)) errs.push(duplicate(p, name));
    else {
      if (request) errs.push(...validateDNS1123Label(request, p.child('request')));
      if (seen.has(key)) errs.push(duplicate(p, key));
      else if (!request) for (const k of seen) if (k.startsWith(`${name}/`)) errs.push(duplicate(p, name));
      seen.add(key);
    }
    if (!claimNames.has(name)) {
      const detail = `must be one of the names in pod.spec.resourceClaims${
        claimNames.size === 0 ? ' which is empty' : `: ${[...claimNames].sort().join(', ')}`
      }`;
      errs.push(notFound(p, name, detail));
    }
  });
  return errs;
}

function validateResizePolicy(container: Container, restartPolicy: string | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (container.resizePolicy ?? []).forEach((rp, i) => {
    if (seen.has(rp.resourceName)) errs.push(duplicate(path.index(i), rp.resourceName));
    seen.add(rp.resourceName);
    if (!rp.resourceName) errs.push(required(path));
    else if (rp.resourceName !== 'cpu' && rp.resourceName !== 'memory')
      errs.push(notSupported(path, rp.resourceName, ['cpu', 'memory']));
    if (!rp.restartPolicy) errs.push(required(path));
    else if (rp.restartPolicy !== 'NotRequired' && rp.restartPolicy !== 'RestartContainer')
      errs.push(notSupported(path, rp.restartPolicy, ['NotRequired', 'RestartContainer']));
    if (restartPolicy === 'Never' && rp.restartPolicy !== 'NotRequired')
      errs.push(invalid(path, rp.restartPolicy, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
  });
  return errs;
}

const isValidUserID = (id: number) => (id >= 0 && id <= 2147483647 ? [] : [inclusiveRange(0, 2147483647)]);

function validateSeccompProfile(sp: { type?: string; localhostProfile?: string } | undefined, path: Path): FieldError[] {
  if (!sp) return [];
  const errs: FieldError[] = [];
  const types = ['Localhost', 'RuntimeDefault', 'Unconfined'];
  if (!sp.type) errs.push(required(path.child('type'), 'type is required when seccompProfile is set'));
  else if (!types.includes(sp.type)) errs.push(notSupported(path.child('type'), sp.type, types));
  if (sp.type === 'Localhost') {
    if (sp.localhostProfile == null)
      errs.push(required(path.child('localhostProfile'), 'must be set when seccomp type is Localhost'));
    else errs.push(...validateLocalDescendingPath(sp.localhostProfile, path.child('localhostProfile')));
  } else if (sp.localhostProfile != null) {
    errs.push(invalidRendered(path.child('localhostProfile'), `core.SeccompProfile{Type:${goQuote(sp.type)}, LocalhostProfile:(*string)(...)}`, 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

function validateAppArmorProfile(profile: { type?: string; localhostProfile?: string } | undefined, path: Path): FieldError[] {
  if (!profile) return [];
  const errs: FieldError[] = [];
  switch (profile.type) {
    case 'Localhost': {
      const lp = profile.localhostProfile;
      if (lp == null) errs.push(required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
      else {
        if (lp.trim() !== lp) errs.push(invalid(path.child('localhostProfile'), lp, 'must not be padded with whitespace'));
        else if (lp === '') errs.push(required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
        if (lp.length > 4095) errs.push(tooLong(path.child('localhostProfile'), 4095));
      }
      break;
    }
    case 'RuntimeDefault':
    case 'Unconfined':
      if (profile.localhostProfile != null)
        errs.push(invalid(path.child('localhostProfile'), profile.localhostProfile, 'can only be set when AppArmor type is Localhost'));
      break;
    case undefined:
    case '':
      errs.push(required(path.child('type'), 'type is required when appArmorProfile is set'));
      break;
    default:
      errs.push(notSupported(path.child('type'), profile.type, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  }
  return errs;
}

function validateSecurityContext(sc: SecurityContext | undefined, path: Path, hostUsers: boolean): FieldError[] {
  if (!sc) return [];
  const errs: FieldError[] = [];
  if (sc.runAsUser != null) errs.push(...forEachMessage(isValidUserID(sc.runAsUser), path.child('runAsUser'), sc.runAsUser));
  if (sc.runAsGroup != null) errs.push(...forEachMessage(isValidUserID(sc.runAsGroup), path.child('runAsGroup'), sc.runAsGroup));
  if (sc.procMount != null) {
    if (sc.procMount !== 'Default' && sc.procMount !== 'Unmasked')
      errs.push(notSupported(path.child('procMount'), sc.procMount, ['Default', 'Unmasked']));
    if (hostUsers && sc.procMount === 'Unmasked')
      errs.push(invalid(path.child('procMount'), sc.procMount, '`hostUsers` must be false to use `Unmasked`'));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, path.child('seccompProfile')));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true)
      errs.push(invalidRendered(path, 'core.SecurityContext{...}', 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    if ((sc.capabilities?.add ?? []).includes('CAP_SYS_ADMIN'))
      errs.push(
        invalidRendered(path, 'core.SecurityContext{...}', 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'),
      );
  }
  errs.push(...validateAppArmorProfile(sc.appArmorProfile, path.child('appArmorProfile')));
  return errs;
}

const HTTP_HEADER_RE = /^[-A-Za-z0-9]+$/;

type Handler = {
  exec?: { command?: string[] };
  httpGet?: HTTPGetAction;
  tcpSocket?: { port?: number | string };
  grpc?: { port?: number };
  sleep?: { seconds?: number };
};

function validateHandler(h: Handler, gracePeriod: number | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const one = (key: keyof Handler, check: () => FieldError[]) => {
    if (h[key] == null) return;
    if (n > 0) errs.push(forbidden(path.child(key), 'may not specify more than 1 handler type'));
    else {
      n++;
      errs.push(...check());
    }
  };
  one('exec', () => ((h.exec!.command ?? []).length === 0 ? [required(path.child('exec').child('command'))] : []));
  one('httpGet', () => {
    const g = h.httpGet!;
    const p = path.child('httpGet');
    const e: FieldError[] = [];
    if (!g.path) e.push(required(p.child('path')));
    e.push(...validatePortNumOrName(g.port, p.child('port')));
    if (g.scheme !== 'HTTP' && g.scheme !== 'HTTPS') e.push(notSupported(p.child('scheme'), g.scheme ?? '', ['HTTP', 'HTTPS']));
    for (const header of g.httpHeaders ?? [])
      if (!HTTP_HEADER_RE.test(header.name))
        e.push(
          invalid(
            p.child('httpHeaders'),
            header.name,
            regexError("a valid HTTP header must consist of alphanumeric characters or '-'", '[-A-Za-z0-9]+', 'X-Header-Name'),
          ),
        );
    return e;
  });
  one('tcpSocket', () => validatePortNumOrName(h.tcpSocket!.port, path.child('tcpSocket').child('port')));
  one('grpc', () => validatePortNumOrName(h.grpc!.port ?? 0, path.child('grpc').child('port')));
  one('sleep', () => {
    const seconds = h.sleep!.seconds ?? 0;
    if (gracePeriod !== undefined && (seconds <= 0 || seconds > gracePeriod))
      return [
        invalid(
          path.child('sleep'),
          seconds,
          `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`,
        ),
      ];
    return [];
  });
  if (n === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

function validateProbe(probe: Probe, gracePeriod: number | undefined, path: Path): FieldError[] {
  const { sleep: _ignored, ...handler } = probe as Probe & { sleep?: unknown };
  const errs = validateHandler(handler as Handler, gracePeriod, path);
  errs.push(...validateNonnegative(probe.initialDelaySeconds ?? 0, path.child('initialDelaySeconds')));
  errs.push(...validateNonnegative(probe.timeoutSeconds ?? 0, path.child('timeoutSeconds')));
  errs.push(...validateNonnegative(probe.periodSeconds ?? 0, path.child('periodSeconds')));
  errs.push(...validateNonnegative(probe.successThreshold ?? 0, path.child('successThreshold')));
  errs.push(...validateNonnegative(probe.failureThreshold ?? 0, path.child('failureThreshold')));
  if (probe.terminationGracePeriodSeconds != null && probe.terminationGracePeriodSeconds <= 0)
    errs.push(invalid(path.child('terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  return errs;
}

function validateProbes(c: Container, gracePeriod: number | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (c.livenessProbe) {
    errs.push(...validateProbe(c.livenessProbe, gracePeriod, path.child('livenessProbe')));
    if (c.livenessProbe.successThreshold !== 1)
      errs.push(invalid(path.child('livenessProbe').child('successThreshold'), c.livenessProbe.successThreshold ?? 0, 'must be 1'));
  }
  if (c.readinessProbe) {
    errs.push(...validateProbe(c.readinessProbe, gracePeriod, path.child('readinessProbe')));
    if (c.readinessProbe.terminationGracePeriodSeconds != null)
      errs.push(
        invalid(
          path.child('readinessProbe').child('terminationGracePeriodSeconds'),
          c.readinessProbe.terminationGracePeriodSeconds,
          'must not be set for readinessProbes',
        ),
      );
  }
  if (c.startupProbe) {
    errs.push(...validateProbe(c.startupProbe, gracePeriod, path.child('startupProbe')));
    if (c.startupProbe.successThreshold !== 1)
      errs.push(invalid(path.child('startupProbe').child('successThreshold'), c.startupProbe.successThreshold ?? 0, 'must be 1'));
  }
  return errs;
}

function validateLifecycle(l: Lifecycle, gracePeriod: number | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const handler = (h: LifecycleHandler) => h as Handler;
  if (l.postStart) errs.push(...validateHandler(handler(l.postStart), gracePeriod, path.child('postStart')));
  if (l.preStop) errs.push(...validateHandler(handler(l.preStop), gracePeriod, path.child('preStop')));
  return errs;
}

interface ContainerContext {
  volumes: VolumeMap;
  claimNames: Set<string>;
  restartPolicy: string | undefined;
  hostUsers: boolean;
}

function validateContainerCommon(c: Container, ctx: ContainerContext, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(path.child('name')));
  else errs.push(...validateDNS1123Label(c.name, path.child('name')));
  if (!c.image) errs.push(required(path.child('image')));
  const tmp = c.terminationMessagePolicy;
  if (!tmp) errs.push(required(path.child('terminationMessagePolicy')));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError')
    errs.push(notSupported(path.child('terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']));
  const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.name, m.mountPath] as [string, string]));
  const devices = new Map((c.volumeDevices ?? []).map((d) => [d.name, d.devicePath] as [string, string]));
  errs.push(...validateContainerPorts(c.ports, path.child('ports')));
  errs.push(...validateEnv(c.env, path.child('env')));
  errs.push(...validateEnvFrom(c.envFrom, path.child('envFrom')));
  errs.push(...validateVolumeMounts(c.volumeMounts, devices, ctx.volumes, c, path.child('volumeMounts')));
  errs.push(...validateVolumeDevices(c, mounts, ctx.volumes, path.child('volumeDevices')));
  errs.push(...validatePullPolicy(c.imagePullPolicy, path.child('imagePullPolicy')));
  errs.push(...validateContainerResources(c.resources, ctx.claimNames, path.child('resources')));
  errs.push(...validateResizePolicy(c, ctx.restartPolicy, path.child('resizePolicy')));
  errs.push(...validateSecurityContext(c.securityContext, path.child('securityContext'), ctx.hostUsers));
  return errs;
}

/** AccumulateUniqueHostPorts: a protocol/hostIP/hostPort triple may be bound once. */
function checkHostPortConflicts(containers: Container[], path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    (c.ports ?? []).forEach((port, pi) => {
      if (!port.hostPort) return;
      const key = `${port.protocol ?? ''}/${port.hostIP ?? ''}/${port.hostPort}`;
      if (seen.has(key)) errs.push(duplicate(path.index(ci).child('ports').index(pi).child('hostPort'), key));
      else seen.add(key);
    });
  });
  return errs;
}

function validateContainers(containers: Container[] | undefined, ctx: ContainerContext, gracePeriod: number | undefined, path: Path): FieldError[] {
  if (!containers || containers.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    if (names.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else names.add(c.name);
    if (c.lifecycle) errs.push(...validateLifecycle(c.lifecycle, gracePeriod, p.child('lifecycle')));
    errs.push(...validateProbes(c, gracePeriod, p));
    if (c.restartPolicy != null) errs.push(forbidden(p.child('restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...checkHostPortConflicts(containers, path));
  return errs;
}

function validateInitContainers(
  inits: Container[] | undefined,
  regular: Container[] | undefined,
  ctx: ContainerContext,
  gracePeriod: number | undefined,
  path: Path,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set((regular ?? []).map((c) => c.name));
  (inits ?? []).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    let restartable = false;
    if (c.restartPolicy != null) {
      if (c.restartPolicy !== 'Always') errs.push(notSupported(p.child('restartPolicy'), c.restartPolicy, ['Always']));
      restartable = c.restartPolicy === 'Always';
    }
    if (names.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else if (c.name) names.add(c.name);
    errs.push(...checkHostPortConflicts([c], path));
    if (restartable) {
      if (c.lifecycle) errs.push(...validateLifecycle(c.lifecycle, gracePeriod, p.child('lifecycle')));
      errs.push(...validateProbes(c, gracePeriod, p));
    } else {
      const msg = 'may not be set for init containers without restartPolicy=Always';
      if (c.lifecycle) errs.push(forbidden(p.child('lifecycle'), msg));
      if (c.livenessProbe) errs.push(forbidden(p.child('livenessProbe'), msg));
      if (c.readinessProbe) errs.push(forbidden(p.child('readinessProbe'), msg));
      if (c.startupProbe) errs.push(forbidden(p.child('startupProbe'), msg));
    }
  });
  return errs;
}

// --- pod-level fields ----------------------------------------------------------

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

function validateEnum(value: string | undefined, allowed: string[], path: Path): FieldError[] {
  if (!value) return [required(path)];
  return allowed.includes(value) ? [] : [notSupported(path, value, allowed)];
}

const SYSCTL_RE = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
const SYSCTL_RE_TEXT = '^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$';

/** The namespace a namespaced sysctl belongs to (component-helpers' sysctl.GetNamespace). */
function sysctlNamespace(name: string): 'net' | 'ipc' | undefined {
  const n = name.replace(/\//g, '.');
  if (n.startsWith('net.')) return 'net';
  if (n === 'kernel.sem' || n.startsWith('kernel.shm') || n.startsWith('kernel.msg') || n.startsWith('fs.mqueue.')) return 'ipc';
  return undefined;
}

function validatePodSecurityContext(spec: PodSpec, path: Path): FieldError[] {
  const sc = spec.securityContext as (PodSecurityContext & Record<string, unknown>) | undefined;
  if (!sc) return [];
  const errs: FieldError[] = [];
  if (sc.fsGroup != null) errs.push(...forEachMessage(isValidUserID(sc.fsGroup), path.child('fsGroup'), sc.fsGroup));
  if (sc.runAsUser != null) errs.push(...forEachMessage(isValidUserID(sc.runAsUser), path.child('runAsUser'), sc.runAsUser));
  if (sc.runAsGroup != null) errs.push(...forEachMessage(isValidUserID(sc.runAsGroup), path.child('runAsGroup'), sc.runAsGroup));
  (sc.supplementalGroups ?? []).forEach((g, i) =>
    errs.push(...forEachMessage(isValidUserID(g), path.child('supplementalGroups').index(i), g)),
  );
  if (spec.shareProcessNamespace && spec.hostPID)
    errs.push(invalid(path.child('shareProcessNamespace'), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  const names = new Set<string>();
  (sc.sysctls ?? []).forEach((s, i) => {
    const p = path.child('sysctls').index(i).child('name');
    if (!s.name) errs.push(required(p));
    else if (s.name.length > 253 || !SYSCTL_RE.test(s.name))
      errs.push(invalid(p, s.name, `must have at most 253 characters and match regex ${SYSCTL_RE_TEXT}`));
    else if (names.has(s.name)) errs.push(duplicate(p, s.name));
    const ns = sysctlNamespace(s.name ?? '');
    if (spec.hostNetwork && ns === 'net') errs.push(invalid(p, s.name, "may not be specified when 'hostNetwork' is true"));
    else if (spec.hostIPC && ns === 'ipc') errs.push(invalid(p, s.name, "may not be specified when 'hostIPC' is true"));
    names.add(s.name);
  });
  if (sc.fsGroupChangePolicy != null && sc.fsGroupChangePolicy !== 'Always' && sc.fsGroupChangePolicy !== 'OnRootMismatch')
    errs.push(notSupported(path.child('fsGroupChangePolicy'), sc.fsGroupChangePolicy, ['Always', 'OnRootMismatch']));
  errs.push(...validateSeccompProfile(sc.seccompProfile, path.child('seccompProfile')));
  errs.push(...validateAppArmorProfile(sc.appArmorProfile, path.child('appArmorProfile')));
  const sgp = sc.supplementalGroupsPolicy as string | undefined;
  if (sgp != null && sgp !== 'Merge' && sgp !== 'Strict')
    errs.push(notSupported(path.child('supplementalGroupsPolicy'), sgp, ['Merge', 'Strict']));
  const selinux = sc.seLinuxChangePolicy as string | undefined;
  if (selinux != null && selinux !== 'MountOption' && selinux !== 'Recursive')
    errs.push(notSupported(path.child('seLinuxChangePolicy'), selinux, ['MountOption', 'Recursive']));
  return errs;
}

export function validateTolerations(tolerations: Toleration[] | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (tolerations ?? []).forEach((t, i) => {
    const p = path.index(i);
    if (t.key) errs.push(...validateQualifiedName(t.key, p.child('key')));
    if (!t.key && t.operator !== 'Exists')
      errs.push(
        invalid(p.child('operator'), t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'),
      );
    if (t.tolerationSeconds != null && t.effect !== 'NoExecute')
      errs.push(invalid(p.child('effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    switch (t.operator ?? '') {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(t.value ?? '');
        if (msgs.length) errs.push(invalid(p.child('operator'), t.value ?? '', msgs.join(';')));
        break;
      }
      case 'Exists':
        if (t.value) errs.push(invalid(p.child('operator'), t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(p.child('operator'), t.operator, ['Equal', 'Exists']));
    }
    if (t.effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect))
      errs.push(notSupported(p.child('effect'), t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
  });
  return errs;
}

type NodeSelectorRequirement = { key: string; operator: string; values?: string[] };

function validateNodeSelectorRequirement(rq: NodeSelectorRequirement, checkValues: boolean, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const n = (rq.values ?? []).length;
  switch (rq.operator) {
    case 'In':
    case 'NotIn':
      if (n === 0) errs.push(required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (n > 0) errs.push(forbidden(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (n !== 1) errs.push(required(path.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(invalid(path.child('operator'), rq.operator ?? '', 'not a valid selector operator'));
  }
  errs.push(...validateQualifiedName(rq.key ?? '', path.child('key')));
  if (checkValues)
    (rq.values ?? []).forEach((v, i) => errs.push(...forEachMessage(isValidLabelValue(v), path.child('values').index(i), v)));
  return errs;
}

type NodeSelectorTerm = { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] };

function validateNodeSelectorTerm(term: NodeSelectorTerm, checkValues: boolean, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (term.matchExpressions ?? []).forEach((rq, j) =>
    errs.push(...validateNodeSelectorRequirement(rq, checkValues, path.child('matchExpressions').index(j))),
  );
  (term.matchFields ?? []).forEach((rq, j) => {
    const p = path.child('matchFields').index(j);
    if (rq.operator === 'In' || rq.operator === 'NotIn') {
      if ((rq.values ?? []).length !== 1)
        errs.push(required(p.child('values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else errs.push(invalid(p.child('operator'), rq.operator ?? '', 'not a valid selector operator'));
    if (rq.key !== 'metadata.name') errs.push(invalid(p.child('key'), rq.key ?? '', 'not a valid field selector key'));
    else
      (rq.values ?? []).forEach((v, i) => errs.push(...forEachMessage(isDNS1123Subdomain(v), p.child('values').index(i), v)));
  });
  return errs;
}

/** ValidateNodeSelector: a pod's required node affinity, and a PersistentVolume's node affinity.
 *  `checkValues`: requirement values must be valid label values. */
export function validateNodeSelector(selector: { nodeSelectorTerms?: NodeSelectorTerm[] }, checkValues: boolean, path: Path): FieldError[] {
  const termsPath = path.child('nodeSelectorTerms');
  const terms = selector.nodeSelectorTerms ?? [];
  if (terms.length === 0) return [required(termsPath, 'must have at least one node selector term')];
  return terms.flatMap((t, i) => validateNodeSelectorTerm(t, checkValues, termsPath.index(i)));
}

type PodAffinityTerm = {
  labelSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  namespaces?: string[];
  topologyKey?: string;
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
};

function validateLabelKeys(path: Path, keys: string[] | undefined, selector: LabelSelector | undefined): FieldError[] {
  if (!keys || keys.length === 0) return [];
  if (!selector) return [forbidden(path, 'must not be specified when labelSelector is not set')];
  return keys.flatMap((k, i) => validateQualifiedName(k, path.index(i)));
}

function validatePodAffinityTerm(term: PodAffinityTerm, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateLabelSelector(term.labelSelector, path.child('labelSelector')));
  errs.push(...validateLabelSelector(term.namespaceSelector, path.child('namespaceSelector')));
  for (const ns of term.namespaces ?? []) errs.push(...forEachMessage(isDNS1123Label(ns), path.child('namespace'), ns));
  errs.push(...validateLabelKeys(path.child('matchLabelKeys'), term.matchLabelKeys, term.labelSelector));
  errs.push(...validateLabelKeys(path.child('mismatchLabelKeys'), term.mismatchLabelKeys, term.labelSelector));
  if (term.labelSelector) {
    const indexOf = new Map((term.matchLabelKeys ?? []).map((k, i) => [k, i] as [string, number]));
    const keys = new Set(Object.keys(term.labelSelector.matchLabels ?? {}));
    for (const e of term.labelSelector.matchExpressions ?? []) {
      const i = indexOf.get(e.key);
      if (i !== undefined && keys.has(e.key))
        errs.push(invalid(path.index(i), e.key, 'exists in both matchLabelKeys and labelSelector'));
      keys.add(e.key);
    }
  }
  const mismatch = new Set(term.mismatchLabelKeys ?? []);
  (term.matchLabelKeys ?? []).forEach((k, i) => {
    if (mismatch.has(k)) errs.push(invalid(path.child('matchLabelKeys').index(i), k, 'exists in both matchLabelKeys and mismatchLabelKeys'));
  });
  if (!term.topologyKey) errs.push(required(path.child('topologyKey'), 'can not be empty'));
  errs.push(...validateQualifiedName(term.topologyKey ?? '', path.child('topologyKey')));
  return errs;
}

function validateWeightedTerms(terms: Array<{ weight: number; podAffinityTerm: PodAffinityTerm }> | undefined, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  (terms ?? []).forEach((t, j) => {
    if (!(t.weight > 0 && t.weight <= 100)) errs.push(invalid(path.index(j).child('weight'), t.weight ?? 0, 'must be in the range 1-100'));
    errs.push(...validatePodAffinityTerm(t.podAffinityTerm ?? {}, path.index(j).child('podAffinityTerm')));
  });
  return errs;
}

function validateAffinity(affinity: PodSpec['affinity'], path: Path): FieldError[] {
  if (!affinity) return [];
  const errs: FieldError[] = [];
  const na = affinity.nodeAffinity;
  if (na) {
    const np = path.child('nodeAffinity');
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    if (req) errs.push(...validateNodeSelector(req, true, np.child('requiredDuringSchedulingIgnoredDuringExecution')));
    (na.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      const p = np.child('preferredDuringSchedulingIgnoredDuringExecution').index(i);
      if (!(t.weight > 0 && t.weight <= 100)) errs.push(invalid(p.child('weight'), t.weight ?? 0, 'must be in the range 1-100'));
      errs.push(...validateNodeSelectorTerm(t.preference ?? {}, false, p.child('preference')));
    });
  }
  for (const key of ['podAffinity', 'podAntiAffinity'] as const) {
    const pa = affinity[key];
    if (!pa) continue;
    const p = path.child(key);
    (pa.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) =>
      errs.push(...validatePodAffinityTerm(t, p.child('requiredDuringSchedulingIgnoredDuringExecution').index(i))),
    );
    errs.push(...validateWeightedTerms(pa.preferredDuringSchedulingIgnoredDuringExecution, p.child('preferredDuringSchedulingIgnoredDuringExecution')));
  }
  return errs;
}

function validateDNSConfig(spec: PodSpec, path: Path): FieldError[] {
  const cfg = spec.dnsConfig;
  if (spec.dnsPolicy === 'None') {
    if (!cfg) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (!cfg.nameservers || cfg.nameservers.length === 0)
      return [required(path.child('nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!cfg) return [];
  const errs: FieldError[] = [];
  const ns = cfg.nameservers ?? [];
  if (ns.length > 3) errs.push(invalidRendered(path.child('nameservers'), goStringSlice(ns), 'must not have more than 3 nameservers'));
  ns.forEach((n, i) => errs.push(...validateIP(path.child('nameservers').index(i), n)));
  const searches = cfg.searches ?? [];
  if (searches.length > 32) errs.push(invalidRendered(path.child('searches'), goStringSlice(searches), 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048)
    errs.push(
      invalidRendered(path.child('searches'), goStringSlice(searches), 'must not have more than 2048 characters (including spaces) in the search list'),
    );
  searches.forEach((s, i) => errs.push(...validateDNS1123Subdomain(s.replace(/\.$/, ''), path.child('searches').index(i))));
  (cfg.options ?? []).forEach((o, i) => {
    if (!o.name) errs.push(required(path.child('options').index(i), 'must not be empty'));
  });
  return errs;
}

function validateTopologySpreadConstraints(spec: PodSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const constraints = spec.topologySpreadConstraints ?? [];
  constraints.forEach((c, i) => {
    const p = path.index(i);
    if (!(c.maxSkew > 0)) errs.push(invalid(p.child('maxSkew'), c.maxSkew ?? 0, IS_NOT_POSITIVE_MSG));
    if (!c.topologyKey) errs.push(required(p.child('topologyKey'), 'can not be empty'));
    if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway')
      errs.push(notSupported(p.child('whenUnsatisfiable'), c.whenUnsatisfiable ?? '', ['DoNotSchedule', 'ScheduleAnyway']));
    if (constraints.slice(i + 1).some((o) => o.topologyKey === c.topologyKey && o.whenUnsatisfiable === c.whenUnsatisfiable))
      errs.push(duplicate(p.child('{topologyKey, whenUnsatisfiable}'), `{${c.topologyKey}, ${c.whenUnsatisfiable}}`));
    if (c.minDomains != null) {
      if (c.minDomains <= 0) errs.push(invalid(p.child('minDomains'), c.minDomains, IS_NOT_POSITIVE_MSG));
      if (c.whenUnsatisfiable !== 'DoNotSchedule')
        errs.push(
          invalid(p.child('minDomains'), c.minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${c.whenUnsatisfiable ?? ''}`),
        );
    }
    for (const key of ['nodeAffinityPolicy', 'nodeTaintsPolicy'] as const) {
      const v = c[key];
      if (v != null && v !== 'Honor' && v !== 'Ignore') errs.push(notSupported(p.child(key), v, ['Honor', 'Ignore']));
    }
    const mlk = c.matchLabelKeys ?? [];
    if (mlk.length) {
      const mp = p.child('matchLabelKeys');
      const selectorKeys = new Set<string>();
      if (c.labelSelector) {
        for (const k of Object.keys(c.labelSelector.matchLabels ?? {})) selectorKeys.add(k);
        for (const e of c.labelSelector.matchExpressions ?? []) selectorKeys.add(e.key);
      } else errs.push(forbidden(mp, 'must not be specified when labelSelector is not set'));
      mlk.forEach((k, j) => {
        errs.push(...validateQualifiedName(k, mp.index(j)));
        if (selectorKeys.has(k)) errs.push(invalid(mp.index(j), k, 'exists in both matchLabelKeys and labelSelector'));
      });
    }
    errs.push(...validateLabelSelector(c.labelSelector, p.child('labelSelector')));
  });
  return errs;
}

/**
 * ValidatePodSpec. `path` is where the spec sits (`spec`, `spec.template.spec`).
 */
export function validatePodSpec(spec: PodSpec, path: Path, opts: PodSpecValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.terminationGracePeriodSeconds == null) errs.push(required(path.child('terminationGracePeriodSeconds')));
  const gracePeriod = spec.terminationGracePeriodSeconds ?? undefined;
  const hostUsers = spec.hostUsers !== false;
  const [volumes, volumeErrs] = validateVolumes(spec.volumes, path.child('volumes'), opts);
  errs.push(...volumeErrs);
  for (const extra of opts.extraVolumes ?? []) if (!volumes.has(extra.name)) volumes.set(extra.name, extra as AnyVolume);

  const claimNames = new Set<string>();
  const claimPath = path.child('resourceClaims');
  (spec.resourceClaims ?? []).forEach((claim, i) => {
    const p = claimPath.index(i);
    const c = claim as { name?: string; resourceClaimName?: string; resourceClaimTemplateName?: string };
    if (!c.name) errs.push(required(p.child('name')));
    else if (claimNames.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else {
      errs.push(...validateDNS1123Label(c.name, p.child('name')));
      claimNames.add(c.name);
    }
  });
  const ctx: ContainerContext = { volumes, claimNames, restartPolicy: spec.restartPolicy, hostUsers };
  errs.push(...validateContainers(spec.containers, ctx, gracePeriod, path.child('containers')));
  errs.push(...validateInitContainers(spec.initContainers, spec.containers, ctx, gracePeriod, path.child('initContainers')));

  if (spec.hostNetwork) {
    (spec.containers ?? []).forEach((c, i) =>
      (c.ports ?? []).forEach((port, j) => {
        const hp = port.hostPort ?? 0;
        if ((opts.isPod || hp !== 0) && hp !== port.containerPort)
          errs.push(
            invalid(path.child('containers').index(i).child('ports').index(j).child('hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'),
          );
      }),
    );
  }
  errs.push(...validateEnum(spec.restartPolicy, RESTART_POLICIES, path.child('restartPolicy')));
  errs.push(...validateEnum(spec.dnsPolicy, DNS_POLICIES, path.child('dnsPolicy')));
  errs.push(...validateLabels(spec.nodeSelector, path.child('nodeSelector')));
  errs.push(...validatePodSecurityContext(spec, path.child('securityContext')));
  errs.push(...validateAffinity(spec.affinity, path.child('affinity')));
  errs.push(...validateDNSConfig(spec, path.child('dnsConfig')));
  (spec.readinessGates ?? []).forEach((g, i) =>
    errs.push(...validateQualifiedName(g.conditionType ?? '', path.child('readinessGates').index(i).child('conditionType'))),
  );
  const gates = new Set<string>();
  (spec.schedulingGates ?? []).forEach((g, i) => {
    const p = path.child('schedulingGates').index(i);
    errs.push(...validateQualifiedName(g.name ?? '', p));
    if (gates.has(g.name)) errs.push(duplicate(p, g.name));
    gates.add(g.name);
  });
  errs.push(...validateTopologySpreadConstraints(spec, path.child('topologySpreadConstraints')));
  if (spec.hostUsers === false) {
    if (spec.hostNetwork) errs.push(forbidden(path.child('hostNetwork'), 'when `pod.Spec.HostUsers` is false'));
    if (spec.hostPID) errs.push(forbidden(path.child('HostPID'), 'when `pod.Spec.HostUsers` is false'));
    if (spec.hostIPC) errs.push(forbidden(path.child('HostIPC'), 'when `pod.Spec.HostUsers` is false'));
  }
  if (spec.serviceAccountName)
    errs.push(...forEachMessage(nameIsDNSSubdomain(spec.serviceAccountName), path.child('serviceAccountName'), spec.serviceAccountName));
  if (spec.nodeName) errs.push(...forEachMessage(nameIsDNSSubdomain(spec.nodeName), path.child('nodeName'), spec.nodeName));
  if (spec.activeDeadlineSeconds != null) {
    const v = spec.activeDeadlineSeconds;
    if (v < 1 || v > 2147483647) errs.push(invalid(path.child('activeDeadlineSeconds'), v, inclusiveRange(1, 2147483647)));
  }
  if (spec.hostname) errs.push(...validateDNS1123Label(spec.hostname, path.child('hostname')));
  if (spec.subdomain) errs.push(...validateDNS1123Label(spec.subdomain, path.child('subdomain')));
  errs.push(...validateTolerations(spec.tolerations, path.child('tolerations')));
  (spec.hostAliases ?? []).forEach((a, i) => {
    const p = path.child('hostAliases').index(i);
    errs.push(...validateIP(p.child('ip'), a.ip ?? ''));
    (a.hostnames ?? []).forEach((h, j) => errs.push(...validateDNS1123Subdomain(h, p.child('hostnames').index(j))));
  });
  if (spec.priorityClassName)
    errs.push(...forEachMessage(nameIsDNSSubdomain(spec.priorityClassName), path.child('priorityClassName'), spec.priorityClassName));
  if (spec.runtimeClassName != null)
    errs.push(...forEachMessage(nameIsDNSSubdomain(spec.runtimeClassName), path.child('runtimeClassName'), spec.runtimeClassName));
  if (spec.preemptionPolicy != null) errs.push(...validateEnum(spec.preemptionPolicy, ['PreemptLowerPriority', 'Never'], path.child('preemptionPolicy')));
  if (spec.overhead) errs.push(...validateContainerResources({ limits: spec.overhead }, claimNames, path.child('overhead')));
  if (spec.os) {
    const p = path.child('os');
    if (!spec.os.name) errs.push(required(p.child('name'), 'cannot be empty'));
    else if (spec.os.name !== 'linux' && spec.os.name !== 'windows') errs.push(notSupported(p, spec.os.name, ['linux', 'windows']));
  }
  return errs;
}

// --- annotations and templates ------------------------------------------------

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const APPARMOR_CONTAINER_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function validateSeccompAnnotation(profile: string, path: Path): FieldError[] {
  if (profile === 'runtime/default' || profile === 'docker/default' || profile === 'unconfined') return [];
  if (profile.startsWith('localhost/')) return validateLocalDescendingPath(profile.slice('localhost/'.length), path);
  return [invalid(path, profile, 'must be a valid seccomp profile')];
}

function podSpecContainerNames(spec: PodSpec): Set<string> {
  return new Set(
    [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...((spec.ephemeralContainers ?? []) as Container[])].map((c) => c.name),
  );
}

/** ValidatePodSpecificAnnotations: the annotations that mean something to a pod. */
export function validatePodSpecificAnnotations(annotations: Record<string, string> | undefined, spec: PodSpec, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  const a = annotations ?? {};
  if (MIRROR_POD_ANNOTATION in a && !spec.nodeName)
    errs.push(invalid(path.key(MIRROR_POD_ANNOTATION), a[MIRROR_POD_ANNOTATION], 'must set spec.nodeName if mirror pod annotation is set'));
  if (POD_DELETION_COST in a) {
    const v = a[POD_DELETION_COST];
    const n = Number(v);
    if (!/^[+-]?\d+$/.test(v) || n < -2147483648 || n > 2147483647)
      errs.push(invalid(path.key(POD_DELETION_COST), v, 'must be a 32bit integer'));
  }
  if (SECCOMP_POD_ANNOTATION in a) errs.push(...validateSeccompAnnotation(a[SECCOMP_POD_ANNOTATION], path.child(SECCOMP_POD_ANNOTATION)));
  for (const k of Object.keys(a).sort()) {
    if (k.startsWith(SECCOMP_CONTAINER_PREFIX)) errs.push(...validateSeccompAnnotation(a[k], path.child(k)));
  }
  const names = podSpecContainerNames(spec);
  for (const k of Object.keys(a).sort()) {
    if (!k.startsWith(APPARMOR_CONTAINER_PREFIX)) continue;
    const container = k.slice(APPARMOR_CONTAINER_PREFIX.length);
    if (!names.has(container)) errs.push(invalid(path.key(k), container, 'container not found'));
    const p = a[k];
    if (p !== '' && p !== 'runtime/default' && p !== 'unconfined' && !p.startsWith('localhost/'))
      errs.push(invalid(path.key(k), p, `invalid AppArmor profile name: ${JSON.stringify(p)}`));
  }
  return errs;
}
