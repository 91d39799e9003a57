// Generic storage of one kind (Kubernetes' genericregistry.Store): metadata
// rules, optimistic concurrency, status/spec split, graceful deletion and
// finalizers, list pagination and filtered watches. Everything kind-specific
// comes from the KindDef.
import { randomUUID } from 'node:crypto';
import type { AdmissionContext, KindDef, KubeObject } from '../api/types.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  gone,
  internalError,
  notFound,
  OBJECT_MODIFIED,
  StatusError,
  timeout,
  type GroupResource,
} from '../machinery/errors.js';
import { deepEqual, isPlainObject, nowTimestamp, randomNameSuffix } from '../machinery/objects.js';
import {
  invalid,
  invalidError,
  isDNS1123Label,
  isDNS1123Subdomain,
  Path,
  required,
  validateAnnotations,
  validateLabels,
  type FieldError,
} from '../machinery/validation.js';
import { StoreError, type KeyValue, type Store } from '../store/types.js';
import { recordUpdate, serverSideApply, type ApplyOptions, type ManagedFieldsOptions } from '../machinery/apply/index.js';
import { definitionName, getSchema } from '../machinery/schema.js';
import { decodeEntry, type CacheEntry, type CacheEvent, type EventType, type WatchCache } from './cache.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Per-request settings that shape a write. */
export interface WriteContext {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  /** Warnings for the response's Warning headers. */
  warnings: string[];
  /** The field manager recorded in managedFields. */
  manager: string;
  /** Set by apply, whose merge already recorded managedFields. */
  applying?: boolean;
  /**
   * Set by subresources that rewrite the stored object themselves (pods/binding), as Kubernetes'
   * storage-level GuaranteedUpdate does: no update validation of the kind, status written as
   * given, managedFields untouched.
   */
  storageUpdate?: boolean;
}

/** A compiled filter over objects (label and field selectors together). */
export type ObjectFilter = (obj: KubeObject) => boolean;

export interface ListOptions {
  filter?: ObjectFilter;
  /** True when a selector is set (Kubernetes omits remainingItemCount then). */
  filtered?: boolean;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: CacheEntry[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface WatchOptions {
  filter?: ObjectFilter;
  resourceVersion?: string;
  sendInitialEvents?: boolean;
}

export interface WatchSink {
  event(type: EventType, entry: CacheEntry): void;
  /** A bookmark at `revision`; `initialEventsEnd` marks the end of the initial events. */
  bookmark(revision: number, initialEventsEnd?: boolean): void;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  obj: KubeObject;
  /** False when the object still exists (graceful deletion or pending finalizers). */
  deleted: boolean;
}

/** Hooks the server wires in: checks that depend on other resources or on the schema. */
export interface ResourceDeps {
  /** Rejects creation in a namespace that does not exist or is terminating. */
  admitNamespace(namespace: string, resource: string, group: string, name: string): void;
  /** Paths of fields the schema does not know. */
  unknownFields(def: KindDef, obj: unknown): string[];
  /** Allocates what the object needs from shared pools (service IPs, node ports); returns the release. */
  allocate(def: KindDef, key: string, obj: KubeObject): () => void;
  /** Read-only lookups of other kinds, for the kinds' admission hooks. */
  admission: AdmissionContext;
}

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';
const MAX_CONFLICT_RETRIES = 10;

/** What the handler needs of a kind's storage; ResourceStorage and ConvertedStorage provide it. */
export interface Storage {
  readonly def: KindDef;
  readonly gr: GroupResource;
  readonly apiVersion: string;
  /** The revision the storage's view reflects. */
  revision(): number;
  get(namespace: string | undefined, name: string): CacheEntry;
  list(namespace: string | undefined, opts?: ListOptions): Promise<ListResult>;
  watch(namespace: string | undefined, opts: WatchOptions, sink: WatchSink): () => void;
  create(namespace: string | undefined, input: unknown, ctx: WriteContext): Promise<CacheEntry>;
  update(namespace: string | undefined, name: string, input: unknown, ctx: WriteContext, subresource?: 'status'): Promise<CacheEntry>;
  modify(
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => unknown,
    ctx: WriteContext,
    subresource?: 'status',
  ): Promise<CacheEntry>;
  /** Server-side apply: creates or updates the object from an apply configuration. */
  apply(
    namespace: string | undefined,
    name: string,
    config: unknown,
    force: boolean,
    ctx: WriteContext,
    subresource?: 'status',
  ): Promise<{ entry: CacheEntry; created: boolean }>;
  delete(namespace: string | undefined, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<DeleteResult>;
  deleteCollection(namespace: string | undefined, listOpts: ListOptions, opts: DeleteOptions, ctx: WriteContext): Promise<ListResult>;
}

export class ResourceStorage implements Storage {
  readonly gr: GroupResource;
  readonly apiVersion: string;
  private readonly prefix: string;
  /** The OpenAPI definition of the kind (for managedFields and apply). */
  private readonly definition: string | undefined;

  constructor(
    readonly def: KindDef,
    private readonly store: Store,
    readonly cache: WatchCache,
    private readonly deps: ResourceDeps,
  ) {
    this.gr = { group: def.group, resource: def.resource };
    this.apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    this.prefix = ResourceStorage.prefixFor(def);
    this.definition = definitionName(def.group, def.version, def.kind);
  }

  static prefixFor(def: KindDef): string {
    return `/registry/${def.group || 'core'}/${def.resource}/`;
  }

  key(namespace: string | undefined, name: string): string {
    return this.def.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  listPrefix(namespace: string | undefined): string {
    return this.def.namespaced && namespace ? `${this.prefix}${namespace}/` : this.prefix;
  }

  // --- reads -------------------------------------------------------------------

  revision(): number {
    return this.cache.revision;
  }

  get(namespace: string | undefined, name: string): CacheEntry {
    const entry = this.cache.get(this.key(namespace, name));
    if (!entry) throw notFound(this.gr, name);
    return entry;
  }

  tryGet(namespace: string | undefined, name: string): CacheEntry | undefined {
    return this.cache.get(this.key(namespace, name));
  }

  async list(namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const prefix = this.listPrefix(namespace);
    const filter = opts.filter ?? (() => true);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    let revision = this.cache.revision;
    let after = '';
    if (opts.continueToken) {
      const token = decodeContinue(opts.continueToken, prefix);
      revision = token.revision;
      after = token.after;
    } else if (opts.resourceVersion && opts.resourceVersion !== '0' && opts.resourceVersionMatch === 'Exact') {
      revision = parseRevision(opts.resourceVersion);
    }
    if (revision === this.cache.revision) {
      // The cache is exactly at the requested revision: serve from memory.
      const all = this.cache.list(prefix);
      let start = 0;
      if (after) while (start < all.length && all[start].key <= after) start++;
      const items: CacheEntry[] = [];
      let i = start;
      for (; i < all.length && (!limit || items.length < limit); i++) if (filter(all[i].obj)) items.push(all[i]);
      const more = limit > 0 && i < all.length;
      return this.page(items, revision, more, more ? all.length - i : 0, opts.filtered);
    }
    if (revision > this.cache.revision) {
      throw timeout(`Too large resource version: ${revision}, current: ${this.cache.revision}`);
    }
    return this.listFromStore(prefix, revision, after, limit, filter, opts.filtered);
  }

  private async listFromStore(
    prefix: string,
    revision: number,
    after: string,
    limit: number,
    filter: ObjectFilter,
    filtered: boolean | undefined,
  ): Promise<ListResult> {
    const items: CacheEntry[] = [];
    let more = false;
    const chunk = limit ? Math.max(limit, 100) : 0;
    scan: for (;;) {
      let res;
      try {
        res = await this.store.list(prefix, { revision, after, limit: chunk });
      } catch (err) {
        if (err instanceof StoreError && err.code === 'Compacted')
          throw gone(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          );
        throw err;
      }
      for (const kv of res.kvs) {
        if (limit && items.length === limit) {
          more = true;
          break scan;
        }
        after = kv.key;
        const entry = decodeEntry(kv);
        if (filter(entry.obj)) items.push(entry);
      }
      if (!res.more) break;
    }
    return this.page(items, revision, more, undefined, filtered);
  }

  private page(
    items: CacheEntry[],
    revision: number,
    more: boolean,
    remaining: number | undefined,
    filtered: boolean | undefined,
  ): ListResult {
    const result: ListResult = { items, resourceVersion: String(revision) };
    if (more && items.length) {
      result.continueToken = encodeContinue(revision, items[items.length - 1].key);
      if (!filtered && remaining) result.remainingItemCount = remaining;
    }
    return result;
  }

  /** Starts a watch; returns the function that stops it. */
  watch(namespace: string | undefined, opts: WatchOptions, sink: WatchSink): () => void {
    const prefix = this.listPrefix(namespace);
    const filter = opts.filter ?? (() => true);
    const rv = opts.resourceVersion;
    let from: number;
    let backlog: CacheEvent[] = [];
    if (!rv || rv === '0') {
      for (const entry of this.cache.list(prefix)) if (filter(entry.obj)) sink.event('ADDED', entry);
      from = this.cache.revision;
      if (opts.sendInitialEvents) sink.bookmark(from, true);
    } else {
      from = parseRevision(rv);
      if (from > this.cache.revision) throw timeout(`Too large resource version: ${from}, current: ${this.cache.revision}`);
      const since = this.cache.eventsSince(from);
      if (!since) throw gone(`too old resource version: ${from} (${this.cache.revision})`);
      backlog = since;
      if (opts.sendInitialEvents) {
        for (const entry of this.cache.list(prefix)) if (filter(entry.obj)) sink.event('ADDED', entry);
        backlog = [];
        from = this.cache.revision;
        sink.bookmark(from, true);
      }
    }
    const deliver = (events: CacheEvent[]) => {
      for (const ev of events) {
        if (ev.revision <= from || !ev.entry.key.startsWith(prefix)) continue;
        const type = filteredEventType(ev, filter);
        if (type) sink.event(type, ev.entry);
      }
    };
    deliver(backlog);
    return this.cache.subscribe((events) => deliver(events));
  }

  // --- writes ------------------------------------------------------------------

  async create(namespace: string | undefined, input: unknown, ctx: WriteContext): Promise<CacheEntry> {
    const obj = this.decode(input, ctx);
    const meta = obj.metadata;
    this.checkNamespace(namespace, obj);
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomNameSuffix();
    if (this.def.namespaced && namespace) this.deps.admitNamespace(namespace, this.def.resource, this.def.group, meta.name ?? '');
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (this.def.generation) meta.generation = 1;
    else delete meta.generation;
    if (this.def.statusSubresource && !this.def.keepStatusOnCreate) delete obj.status;
    this.def.defaults?.(obj);
    this.def.mutatingAdmission?.(obj, undefined, this.deps.admission);
    this.def.prepareForCreate?.(obj);
    if (!ctx.applying) this.recordManagedFields(undefined, obj, ctx);
    const metaErrs = this.validateMetadata(obj);
    if (metaErrs.length) throw this.invalid(obj, metaErrs);
    const key = this.key(namespace, meta.name!);
    if (this.cache.get(key)) throw alreadyExists(this.gr, meta.name!);
    const release = this.deps.allocate(this.def, key, obj);
    try {
      const errs = this.def.validate?.(obj) ?? [];
      if (errs.length) throw this.invalid(obj, errs);
      this.def.validatingAdmission?.(obj, undefined, this.deps.admission);
      if (ctx.dryRun) return toEntry(key, obj);
      const kv = await this.store.create(key, JSON.stringify(obj));
      return this.fromStore(kv);
    } catch (err) {
      if (err instanceof StoreError && err.code === 'KeyExists') throw alreadyExists(this.gr, meta.name!);
      throw err;
    } finally {
      release();
    }
  }

  /** PUT: replaces the object (or its status), guarded by metadata.resourceVersion when set. */
  async update(
    namespace: string | undefined,
    name: string,
    input: unknown,
    ctx: WriteContext,
    subresource?: 'status',
  ): Promise<CacheEntry> {
    const obj = this.decode(input, ctx);
    if (obj.metadata.name !== name)
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    this.checkNamespace(namespace, obj);
    const cur = this.get(namespace, name);
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== String(cur.revision)) throw conflict(this.gr, name, OBJECT_MODIFIED);
    return this.write(cur, obj, ctx, subresource);
  }

  /** Applies `mutate` to the current object and writes the result, retrying on conflicts
   *  (patches and internal read-modify-write updates). `mutate` returns the new object. */
  async modify(
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => unknown,
    ctx: WriteContext,
    subresource?: 'status',
  ): Promise<CacheEntry> {
    for (let attempt = 0; ; attempt++) {
      const cur = this.get(namespace, name);
      const next = this.decode(mutate(JSON.parse(cur.json) as KubeObject), ctx);
      // A resourceVersion the request asked for is a precondition; one the object merely carries
      // over (a patch keeps the current one) is not, and a write that lost a race is tried again
      // on the newer object, where a real precondition then fails here.
      const rv = next.metadata.resourceVersion;
      if (rv && rv !== String(cur.revision)) throw conflict(this.gr, name, OBJECT_MODIFIED);
      try {
        return await this.write(cur, next, ctx, subresource);
      } catch (err) {
        const retry = err instanceof StatusError && err.reason === 'Conflict' && attempt < MAX_CONFLICT_RETRIES;
        if (!retry) throw err;
      }
    }
  }

  private async write(
    cur: CacheEntry,
    obj: KubeObject,
    ctx: WriteContext,
    subresource: 'status' | undefined,
  ): Promise<CacheEntry> {
    const old = cur.obj;
    const next = this.mergeForUpdate(old, obj, subresource, !!ctx.storageUpdate);
    if (!ctx.applying && !ctx.storageUpdate) this.recordManagedFields(old, next, ctx, subresource);
    const release = subresource ? () => {} : this.deps.allocate(this.def, cur.key, next);
    try {
      return await this.writeMerged(cur, next, ctx, subresource);
    } finally {
      release();
    }
  }

  private async writeMerged(
    cur: CacheEntry,
    next: KubeObject,
    ctx: WriteContext,
    subresource: 'status' | undefined,
  ): Promise<CacheEntry> {
    const old = cur.obj;
    const errs = [...this.validateMetadataUpdate(next, old)];
    if (errs.length === 0) {
      if (subresource === 'status') errs.push(...(this.def.validateStatusUpdate?.(next, old) ?? []));
      else errs.push(...this.validateMetadata(next), ...((!ctx.storageUpdate && this.def.validateUpdate?.(next, old)) || []));
    }
    if (errs.length) throw this.invalid(next, errs);
    if (!subresource && !ctx.storageUpdate) this.def.validatingAdmission?.(next, old, this.deps.admission);
    if (deepEqual(next, old)) return cur;
    const finalize =
      old.metadata.deletionTimestamp &&
      old.metadata.deletionGracePeriodSeconds === 0 &&
      !next.metadata.finalizers?.length &&
      !this.def.pendingFinalization?.(next);
    if (ctx.dryRun) return toEntry(cur.key, next);
    if (finalize) return toEntry(cur.key, (await this.remove(cur, next)).obj);
    return this.put(cur, next);
  }

  /** The stored form of an update: identity and system fields from the old object,
   *  status or spec kept per subresource, defaults applied, generation bumped. */
  private mergeForUpdate(old: KubeObject, obj: KubeObject, subresource: 'status' | undefined, withStatus = false): KubeObject {
    let next: KubeObject;
    if (subresource === 'status') {
      next = { ...(JSON.parse(JSON.stringify(old)) as KubeObject), status: obj.status };
      if (obj.status === undefined) delete next.status;
      // Kubernetes defaults every decoded object, status writes included (e.g. podIPs from podIP).
      this.def.defaults?.(next);
    } else {
      next = obj;
      const m = next.metadata;
      const o = old.metadata;
      m.uid = o.uid;
      m.creationTimestamp = o.creationTimestamp;
      if (o.deletionTimestamp) m.deletionTimestamp = o.deletionTimestamp;
      else delete m.deletionTimestamp;
      if (o.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
      else delete m.deletionGracePeriodSeconds;
      if (this.def.statusSubresource && !withStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      this.def.defaults?.(next);
      // Storage-level updates (pods/binding) skip admission, as Kubernetes' GuaranteedUpdate does.
      if (!withStatus) this.def.mutatingAdmission?.(next, old, this.deps.admission);
      this.def.prepareForUpdate?.(next, old);
      if (this.def.generation) {
        m.generation = o.generation ?? 1;
        if (!deepEqual(specOf(next), specOf(old))) m.generation += 1;
      } else delete m.generation;
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    next.apiVersion = this.apiVersion;
    next.kind = this.def.kind;
    return next;
  }

  async apply(
    namespace: string | undefined,
    name: string,
    config: unknown,
    force: boolean,
    ctx: WriteContext,
    subresource?: 'status',
  ): Promise<{ entry: CacheEntry; created: boolean }> {
    const applyCtx: WriteContext = { ...ctx, applying: true };
    const opts = (): ApplyOptions => ({ ...this.managedFieldsOptions(ctx, subresource), force, name, namespace });
    for (let attempt = 0; ; attempt++) {
      const cur = this.tryGet(namespace, name);
      try {
        if (cur) {
          const entry = await this.modify(namespace, name, (live) => serverSideApply(live, config, opts()), applyCtx, subresource);
          return { entry, created: false };
        }
        if (subresource) throw notFound(this.gr, name);
        return { entry: await this.create(namespace, serverSideApply(undefined, config, opts()), applyCtx), created: true };
      } catch (err) {
        // Created or deleted by someone else meanwhile: apply again to what is there now.
        const raced = err instanceof StatusError && (err.reason === 'AlreadyExists' || (cur && err.code === 404));
        if (!raced || attempt >= MAX_CONFLICT_RETRIES) throw err;
      }
    }
  }

  /** Where fields of a write may not be set, so nobody owns them through it. */
  private managedFieldsOptions(ctx: WriteContext, subresource: 'status' | undefined): ManagedFieldsOptions & { manager: string } {
    const resetFields = !this.def.statusSubresource ? [] : subresource === 'status' ? [['spec']] : [['status']];
    return {
      schema: getSchema(),
      definition: this.definition ?? '',
      apiVersion: this.apiVersion,
      subresource,
      now: nowTimestamp(),
      resetFields,
      manager: ctx.manager,
    };
  }

  /** Records in metadata.managedFields what a create, update or patch changed, for its manager. */
  private recordManagedFields(old: KubeObject | undefined, next: KubeObject, ctx: WriteContext, subresource?: 'status'): void {
    if (!this.definition) return;
    recordUpdate(old, next, this.managedFieldsOptions(ctx, subresource));
  }

  async delete(
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions,
    ctx: WriteContext,
  ): Promise<DeleteResult> {
    for (let attempt = 0; ; attempt++) {
      const cur = this.get(namespace, name);
      try {
        return await this.deleteEntry(cur, opts, ctx);
      } catch (err) {
        const retry = err instanceof StoreError && err.code === 'Conflict' && attempt < MAX_CONFLICT_RETRIES;
        if (!retry) throw err instanceof StoreError ? this.storeError(err, name) : err;
      }
    }
  }

  private async deleteEntry(cur: CacheEntry, opts: DeleteOptions, ctx: WriteContext): Promise<DeleteResult> {
    const old = cur.obj;
    const name = old.metadata.name!;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid)
      throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
      throw conflict(
        this.gr,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    const next = JSON.parse(cur.json) as KubeObject;
    const m = next.metadata;
    m.finalizers = finalizersFor(m.finalizers ?? [], opts);
    if (!m.finalizers.length) delete m.finalizers;
    const grace = this.def.gracePeriod?.(old, opts.gracePeriodSeconds) ?? 0;
    const pending = !!m.finalizers?.length || !!this.def.pendingFinalization?.(next);
    if (!pending && grace === 0) {
      if (ctx.dryRun) return { obj: old, deleted: true };
      return this.remove(cur, undefined);
    }
    const now = Date.now();
    if (!m.deletionTimestamp) {
      m.deletionTimestamp = nowTimestamp(now + grace * 1000);
      m.deletionGracePeriodSeconds = grace;
      this.def.prepareForDeletion?.(next);
    } else if (grace < (m.deletionGracePeriodSeconds ?? 0)) {
      // A delete may shorten, never lengthen, a graceful deletion under way.
      m.deletionTimestamp = nowTimestamp(now + grace * 1000);
      m.deletionGracePeriodSeconds = grace;
    }
    if (deepEqual(next, old)) return { obj: old, deleted: false };
    if (ctx.dryRun) return { obj: next, deleted: false };
    return { obj: (await this.putRaw(cur, next)).obj, deleted: false };
  }

  /** Deletes every object the options select, one by one. */
  async deleteCollection(
    namespace: string | undefined,
    listOpts: ListOptions,
    opts: DeleteOptions,
    ctx: WriteContext,
  ): Promise<ListResult> {
    const { items, resourceVersion } = await this.list(namespace, { ...listOpts, limit: 0, continueToken: undefined });
    const deleted: CacheEntry[] = [];
    for (const entry of items) {
      try {
        const res = await this.delete(entry.obj.metadata.namespace, entry.obj.metadata.name!, opts, ctx);
        deleted.push(toEntry(entry.key, res.obj));
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
    }
    return { items: deleted, resourceVersion };
  }

  // --- internals -----------------------------------------------------------------

  private async put(cur: CacheEntry, next: KubeObject): Promise<CacheEntry> {
    try {
      return await this.putRaw(cur, next);
    } catch (err) {
      throw err instanceof StoreError ? this.storeError(err, next.metadata.name!) : err;
    }
  }

  /** As `put`, with the store's errors as they are: `delete` retries a write that lost a race. */
  private async putRaw(cur: CacheEntry, next: KubeObject): Promise<CacheEntry> {
    const stored = { ...next, metadata: { ...next.metadata } };
    delete stored.metadata.resourceVersion;
    return this.fromStore(await this.store.update(cur.key, JSON.stringify(stored), cur.revision));
  }

  private async remove(cur: CacheEntry, last: KubeObject | undefined): Promise<DeleteResult> {
    const kv = await this.store.delete(cur.key, cur.revision);
    const obj = last ?? cur.obj;
    return { obj: { ...obj, metadata: { ...obj.metadata, resourceVersion: String(kv.modRevision) } }, deleted: true };
  }

  private storeError(err: StoreError, name: string): StatusError {
    if (err.code === 'Conflict') return conflict(this.gr, name, OBJECT_MODIFIED);
    if (err.code === 'NotFound') return notFound(this.gr, name);
    if (err.code === 'KeyExists') return alreadyExists(this.gr, name);
    return internalError(err);
  }

  /** The written object: the cache already holds it, decoded and serialized, when the write commits. */
  private fromStore(kv: KeyValue): CacheEntry {
    const entry = this.cache.get(kv.key);
    return entry && entry.revision === kv.modRevision ? entry : decodeEntry(kv);
  }

  /** Checks the envelope of a request body and applies field validation. */
  private decode(input: unknown, ctx: WriteContext): KubeObject {
    const { kind, version } = this.def;
    if (!isPlainObject(input)) throw badRequest(`Object '${kind}' is invalid: the body must be a JSON or YAML object`);
    const obj = input as KubeObject;
    if (obj.kind !== undefined && obj.kind !== kind)
      throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: the kind in the body (${String(obj.kind)}) does not match the expected kind (${kind})`);
    if (obj.apiVersion !== undefined && obj.apiVersion !== this.apiVersion)
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${this.apiVersion})`);
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (!isPlainObject(obj.metadata))
      throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: metadata must be an object`);
    if (ctx.fieldValidation !== 'Ignore') {
      const unknown = this.deps.unknownFields(this.def, obj);
      if (unknown.length) {
        const texts = unknown.map((f) => `unknown field "${f}"`);
        if (ctx.fieldValidation === 'Strict')
          throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${texts.join(', ')}`);
        ctx.warnings.push(...texts);
      }
    }
    obj.apiVersion = this.apiVersion;
    obj.kind = kind;
    return obj;
  }

  private checkNamespace(namespace: string | undefined, obj: KubeObject): void {
    const meta = obj.metadata;
    if (!this.def.namespaced) {
      delete meta.namespace;
      return;
    }
    if (meta.namespace && namespace && meta.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (namespace) meta.namespace = namespace;
  }

  private validateMetadata(obj: KubeObject): FieldError[] {
    const meta = obj.metadata;
    const path = Path.root('metadata');
    const errs: FieldError[] = [];
    if (!meta.name) {
      errs.push(required(path.child('name'), 'name or generateName is required'));
    } else {
      const check = this.def.nameValidation ?? isDNS1123Subdomain;
      for (const msg of check(meta.name)) errs.push(invalid(path.child('name'), meta.name, msg));
    }
    if (this.def.namespaced) {
      if (!meta.namespace) errs.push(required(path.child('namespace')));
      else for (const msg of isDNS1123Label(meta.namespace)) errs.push(invalid(path.child('namespace'), meta.namespace, msg));
    }
    errs.push(...validateLabels(meta.labels, path.child('labels')));
    errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
    (meta.ownerReferences ?? []).forEach((ref, i) => {
      const p = path.child('ownerReferences').index(i);
      if (!ref.apiVersion) errs.push(invalid(p.child('apiVersion'), ref.apiVersion ?? '', 'version must not be empty'));
      if (!ref.kind) errs.push(invalid(p.child('kind'), ref.kind ?? '', 'kind must not be empty'));
      if (!ref.name) errs.push(invalid(p.child('name'), ref.name ?? '', 'name must not be empty'));
      if (!ref.uid) errs.push(invalid(p.child('uid'), ref.uid ?? '', 'uid must not be empty'));
    });
    const controllers = (meta.ownerReferences ?? []).filter((r) => r.controller).length;
    if (controllers > 1)
      errs.push(invalid(path.child('ownerReferences'), meta.ownerReferences, 'Only one reference can have Controller set to true'));
    (meta.finalizers ?? []).forEach((f, i) => {
      if (typeof f !== 'string' || !f) errs.push(invalid(path.child('finalizers').index(i), f, 'name part must be non-empty'));
    });
    return errs;
  }

  private validateMetadataUpdate(next: KubeObject, old: KubeObject): FieldError[] {
    const path = Path.root('metadata');
    const errs: FieldError[] = [];
    const immutable = ['name', 'namespace', 'uid', 'creationTimestamp'] as const;
    for (const f of immutable)
      if (next.metadata[f] !== old.metadata[f])
        errs.push(invalid(path.child(f), next.metadata[f] ?? '', 'field is immutable'));
    if (old.metadata.deletionTimestamp) {
      const added = (next.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
      if (added.length)
        errs.push({
          type: 'FieldValueForbidden',
          field: 'metadata.finalizers',
          message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
        });
    }
    return errs;
  }

  private invalid(obj: KubeObject, errs: FieldError[]): StatusError {
    return invalidError(this.def.group, this.def.kind, obj.metadata.name ?? obj.metadata.generateName ?? '', errs);
  }
}

function specOf(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

function finalizersFor(current: string[], opts: DeleteOptions): string[] {
  const policy =
    opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
  if (policy === 'Orphan') return [...current.filter((f) => f !== FOREGROUND && f !== ORPHAN), ORPHAN];
  if (policy === 'Foreground') return [...current.filter((f) => f !== FOREGROUND && f !== ORPHAN), FOREGROUND];
  return current;
}

/** Kubernetes' watch filtering: an object entering the selection is ADDED, one leaving it DELETED. */
function filteredEventType(ev: CacheEvent, filter: ObjectFilter): EventType | undefined {
  const now = ev.type !== 'DELETED' && filter(ev.entry.obj);
  const before = ev.prev !== undefined && filter(ev.prev.obj);
  if (ev.type === 'DELETED') return before ? 'DELETED' : undefined;
  if (now && before) return 'MODIFIED';
  if (now) return 'ADDED';
  if (before) return 'DELETED';
  return undefined;
}

function toEntry(key: string, obj: KubeObject): CacheEntry {
  return { key, obj, json: JSON.stringify(obj), revision: Number(obj.metadata.resourceVersion ?? 0) };
}

function parseRevision(rv: string): number {
  const n = Number(rv);
  if (!Number.isSafeInteger(n) || n < 0) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return n;
}

// Continue tokens carry the list's revision and the last key returned, as Kubernetes' do.
function encodeContinue(revision: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: lastKey })).toString('base64url');
}

function decodeContinue(token: string, prefix: string): { revision: number; after: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data');
  }
  const t = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string')
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (!t.start.startsWith(prefix))
    throw badRequest('continue key is not valid: key does not belong to this resource');
  return { revision: t.rv, after: t.start };
}
