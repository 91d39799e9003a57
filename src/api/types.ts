// What the API server knows about a kind. The HTTP layer is generic: every
// kind-specific behaviour lives in one KindDef, registered in api/registry.ts.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from '../machinery/validation.js';

/** kubernetes-types declares every field readonly; server code builds and mutates objects. */
export type Mutable<T> = T extends (infer E)[]
  ? Mutable<E>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

export type Metadata = Mutable<ObjectMeta>;

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: Metadata;
  [field: string]: unknown;
}

/** A column of a server-side printed Table (meta.k8s.io/v1 TableColumnDefinition). */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0: shown by default; 1: only with `-o wide`. */
  priority: number;
}

/** ObjectMeta's field docs, which Kubernetes' printers give as the Name and Age column descriptions. */
export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const AGE_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

export interface TablePrinter<T> {
  columns: TableColumn[];
  /** One cell per column, in order; `now` is ms since the epoch (for AGE cells). */
  row(obj: T, now: number): unknown[];
}

/** Where the scale subresource reads and writes replicas. */
export interface ScaleDef<T> {
  specReplicas(obj: T): number;
  setSpecReplicas(obj: T, replicas: number): void;
  statusReplicas(obj: T): number;
  /** The label selector in string form, for Scale.status.selector. */
  selector(obj: T): string;
}

/**
 * What admission may read of other kinds: the server's watch caches, read-only (kube-apiserver's
 * admission plugins read informer listers the same way). Objects returned must not be modified.
 */
export interface AdmissionContext {
  /** The object, or undefined when there is none (`namespace` is ignored for cluster-scoped kinds). */
  get(group: string, resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Every object of the kind, in all namespaces unless one is given. */
  list(group: string, resource: string, namespace?: string): KubeObject[];
}

export interface KindDef<T extends KubeObject = KubeObject> {
  group: string; // '' for core
  version: string;
  kind: string;
  /** Plural, lower case: the URL segment. */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Has a status subresource: writes to the main resource keep the stored status,
   *  writes to /status keep everything but status (and metadata labels/annotations/finalizers/ownerReferences). */
  statusSubresource?: boolean;
  /** Keep the status given on create (nodes); otherwise a status subresource's status starts empty. */
  keepStatusOnCreate?: boolean;
  scale?: ScaleDef<T>;
  /** metadata.generation is kept and bumped when anything but metadata and status changes. */
  generation?: boolean;
  /** Checks a name for this kind; defaults to RFC 1123 subdomain. Returns problems. */
  nameValidation?(name: string): string[];
  /** Fills defaults in place, as Kubernetes' defaulting functions do. Must be idempotent. */
  defaults?(obj: T): void;
  /** Strategy hooks run before validation. */
  prepareForCreate?(obj: T): void;
  prepareForUpdate?(obj: T, old: T): void;
  /** Kind-specific validation of a new object (metadata is validated generically). */
  validate?(obj: T): FieldError[];
  /** Kind-specific validation of an update, including immutable fields. */
  validateUpdate?(obj: T, old: T): FieldError[];
  /** Validation of a status update. */
  validateStatusUpdate?(obj: T, old: T): FieldError[];
  /**
   * Mutating admission: runs on creates and updates of the object itself (not its subresources),
   * after defaulting and before the strategy hooks and validation; `old` is undefined on create.
   * May change `obj`; denies by throwing a StatusError (Forbidden).
   */
  mutatingAdmission?(obj: T, old: T | undefined, ctx: AdmissionContext): void;
  /** Validating admission: runs like mutatingAdmission, but after validation; must not change `obj`. */
  validatingAdmission?(obj: T, old: T | undefined, ctx: AdmissionContext): void;
  /** Field selectors beyond metadata.name and metadata.namespace. */
  fieldSelectors?: Record<string, (obj: T) => string | undefined>;
  /** The grace period a delete waits for before the object goes (0: at once), given the
   *  one requested. Only pods are deleted gracefully. */
  gracePeriod?(obj: T, requested: number | undefined): number;
  /** Finalization the kind keeps outside metadata.finalizers (namespaces: spec.finalizers). */
  pendingFinalization?(obj: T): boolean;
  /** Marks an object whose deletion has started (namespaces: status.phase Terminating). */
  prepareForDeletion?(obj: T): void;
  /** Kept in another kind's storage, as two versions of one type (events.k8s.io/v1 Event is
   *  stored as core/v1 Event): where, and the conversions both ways. */
  storedAs?: {
    group: string;
    version: string;
    resource: string;
    toStored(obj: T): KubeObject;
    fromStored(obj: KubeObject): T;
  };
  table: TablePrinter<T>;
}
