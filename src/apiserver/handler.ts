// The API request handler: routes a parsed request to discovery, OpenAPI or a
// resource verb, negotiates the representation (JSON, YAML, Table) and turns
// every failure into a Status. It knows no kind: kinds come from the registry.
import { stringify as toYaml, parse as parseYaml } from 'yaml';
import type { KindDef, KubeObject } from '../api/types.js';
import {
  badRequest,
  conflict,
  internalError,
  methodNotAllowed,
  notAcceptable,
  OBJECT_MODIFIED,
  resourceNotFound,
  StatusError,
  unsupportedMediaType,
  type Status,
} from '../machinery/errors.js';
import { isPlainObject, nowTimestamp } from '../machinery/objects.js';
import { fieldManagerErrors, managerFromUserAgent } from '../machinery/apply/index.js';
import { invalidError } from '../machinery/validation.js';
import { applyJSONPatch, applyMergePatch, applyStrategicMergePatch } from '../machinery/patch/index.js';
import { definitionName, getSchema } from '../machinery/schema.js';
import { decodeKubernetesProtobuf, PROTOBUF_CONTENT_TYPE } from '../machinery/protobuf/decode.js';
import type { CacheEntry, EventType } from './cache.js';
import { AGGREGATED_V2, Discovery, VERSION_INFO } from './discovery.js';
import { buildFilter } from './filters.js';
import { openapiV2, openapiV3GroupVersion, openapiV3Index } from './openapi.js';
import { parseApiPath, type ResourcePath } from './request.js';
import type { DeleteOptions, FieldValidation, Storage, WriteContext } from './resource.js';
import { table, tableRow, type IncludeObject } from './table.js';

export interface ApiRequest {
  method: string;
  url: URL;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body?: Buffer;
  user: string;
}

export interface StreamOut {
  write(chunk: string): void;
  end(): void;
}

export type ApiResponse =
  | { status: number; headers: Record<string, string>; body: string | Buffer }
  | { status: number; headers: Record<string, string>; stream: (out: StreamOut) => () => void };

export interface Registry {
  kinds: KindDef[];
  lookup(group: string, version: string, resource: string): Storage | undefined;
}

export interface HandlerHooks {
  /** Prometheus text for GET /metrics. */
  metrics(): Promise<string>;
  serverAddress: string;
}

const JSON_TYPE = 'application/json';
const TABLE_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const MIN_WATCH_TIMEOUT_S = 1800;
const BOOKMARK_INTERVAL_MS = 60_000;

type Representation = 'json' | 'yaml' | 'table' | 'metadata';

const METADATA_TYPE = 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io';
const METADATA_LIST_TYPE = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io';

/** The metadata-only form metadata clients (the garbage collector among them) ask for. */
function partial(obj: KubeObject): string {
  return JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata });
}

export class ApiHandler {
  private readonly discovery: Discovery;

  constructor(
    private readonly registry: Registry,
    private readonly hooks: HandlerHooks,
  ) {
    this.discovery = new Discovery(registry.kinds);
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    try {
      return await this.route(req);
    } catch (err) {
      const status = err instanceof StatusError ? err : internalError(err);
      return statusResponse(status.toStatus());
    }
  }

  private async route(req: ApiRequest): Promise<ApiResponse> {
    const path = req.url.pathname;
    const accept = req.headers['accept'] ?? '';
    switch (path) {
      case '/version':
        return json(200, JSON.stringify(VERSION_INFO));
      case '/healthz':
      case '/livez':
      case '/readyz':
        return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'ok' };
      case '/metrics':
        return { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, body: await this.hooks.metrics() };
      case '/openapi/v2':
        if (!acceptsJson(accept)) throw notAcceptable('only application/json is served for /openapi/v2');
        return json(200, openapiV2(this.registry.kinds));
      case '/openapi/v3':
        return json(200, openapiV3Index(this.registry.kinds));
    }
    if (path.startsWith('/openapi/v3/')) {
      const doc = openapiV3GroupVersion(this.registry.kinds, path.slice('/openapi/v3/'.length));
      if (!doc) throw resourceNotFound();
      return json(200, doc);
    }
    const p = parseApiPath(path);
    switch (p.type) {
      case 'root':
        if (accept.includes('as=APIGroupDiscoveryList') && accept.includes('v=v2'))
          return { status: 200, headers: { 'content-type': AGGREGATED_V2 }, body: this.discovery.aggregated(p.prefix) };
        return json(200, p.prefix === 'api' ? this.discovery.apiVersions(this.hooks.serverAddress) : this.discovery.apiGroupList());
      case 'group': {
        const doc = this.discovery.apiGroup(p.group);
        if (!doc) throw resourceNotFound();
        return json(200, doc);
      }
      case 'groupVersion': {
        const doc = this.discovery.apiResourceList(p.group, p.version);
        if (!doc) throw resourceNotFound();
        return json(200, doc);
      }
      case 'resource':
        return this.resource(req, p.path, p.watchPath);
      default:
        throw resourceNotFound();
    }
  }

  private async resource(req: ApiRequest, p: ResourcePath, watchPath: boolean): Promise<ApiResponse> {
    const storage = this.registry.lookup(p.group, p.version, p.resource);
    if (!storage) throw resourceNotFound();
    const def = storage.def;
    if (!def.namespaced && p.namespace) throw resourceNotFound();
    if (def.namespaced && p.name && !p.namespace) throw resourceNotFound();
    if (p.subresource && !subresourceServed(def, p.subresource)) throw resourceNotFound();
    const q = req.url.searchParams;
    const method = req.method.toUpperCase();
    const rep = representation(req.headers['accept'] ?? '');
    const include = (q.get('includeObject') as IncludeObject | null) ?? 'Metadata';
    const ns = p.namespace;

    if (!p.name) {
      if (method === 'GET') {
        if (watchPath || isTrue(q.get('watch'))) return this.watch(storage, ns, q, rep, include);
        const res = await storage.list(ns, {
          ...buildFilter(def, q),
          limit: q.has('limit') ? Number(q.get('limit')) : undefined,
          continueToken: q.get('continue') || undefined,
          resourceVersion: q.get('resourceVersion') ?? undefined,
          resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
        });
        const listMeta: Record<string, unknown> = { resourceVersion: res.resourceVersion };
        if (res.continueToken) listMeta.continue = res.continueToken;
        if (res.remainingItemCount !== undefined) listMeta.remainingItemCount = res.remainingItemCount;
        if (rep === 'table') return tableResponse(table(def, res.items.map((e) => e.obj), include, listMeta));
        if (rep === 'metadata')
          return {
            status: 200,
            headers: { 'content-type': METADATA_LIST_TYPE },
            body: `{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(listMeta)},"items":[${res.items.map((e) => partial(e.obj)).join(',')}]}`,
          };
        const body = `{"kind":"${def.kind}List","apiVersion":"${storage.apiVersion}","metadata":${JSON.stringify(listMeta)},"items":[${res.items.map((e) => e.json).join(',')}]}`;
        return rep === 'yaml' ? yaml(200, JSON.parse(body)) : json(200, body);
      }
      if (method === 'POST') {
        const ctx = writeContext(req, 'CreateOptions');
        const created = await storage.create(ns, this.decodeBody(req), ctx);
        return this.objectResponse(201, def, created, rep, include, ctx);
      }
      if (method === 'DELETE') {
        const ctx = writeContext(req, 'UpdateOptions');
        const res = await storage.deleteCollection(ns, buildFilter(def, q), this.deleteOptions(req, q), ctx);
        const items = res.items.map((e) => e.obj);
        return withWarnings(
          json(200, JSON.stringify({ kind: `${def.kind}List`, apiVersion: storage.apiVersion, metadata: { resourceVersion: res.resourceVersion }, items })),
          ctx,
        );
      }
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    }

    const name = p.name;
    const sub = p.subresource;
    if (sub === 'scale') return this.scale(req, storage, ns, name, method);
    if (sub === 'binding') {
      if (method !== 'POST') throw methodNotAllowed('the server does not allow this method on the requested resource');
      return this.bind(req, storage, ns!, name);
    }
    const statusSub = sub === 'status' ? 'status' : undefined;
    switch (method) {
      case 'GET':
        return this.objectResponse(200, def, storage.get(ns, name), rep, include);
      case 'PUT': {
        const ctx = writeContext(req, 'UpdateOptions');
        if (sub === 'finalize') {
          const body = this.decodeBody(req) as KubeObject;
          const obj = await storage.modify(
            ns,
            name,
            (cur) => ({ ...cur, spec: { ...(cur.spec as object), finalizers: (body.spec as { finalizers?: string[] })?.finalizers ?? [] } }),
            ctx,
          );
          return this.objectResponse(200, def, obj, rep, include, ctx);
        }
        const updated = await storage.update(ns, name, this.decodeBody(req), ctx, statusSub);
        return this.objectResponse(200, def, updated, rep, include, ctx);
      }
      case 'PATCH': {
        const ctx = writeContext(req, 'PatchOptions');
        if (contentTypeOf(req) === APPLY_TYPE) {
          const res = await storage.apply(ns, name, this.decodeApply(req), isTrue(q.get('force')), ctx, statusSub);
          return this.objectResponse(res.created ? 201 : 200, def, res.entry, rep, include, ctx);
        }
        const patch = this.patchFunction(req, def);
        const patched = await storage.modify(ns, name, patch, ctx, statusSub);
        return this.objectResponse(200, def, patched, rep, include, ctx);
      }
      case 'DELETE': {
        const ctx = writeContext(req, 'UpdateOptions');
        const res = await storage.delete(ns, name, this.deleteOptions(req, q), ctx);
        return this.objectResponse(res.deleted ? 200 : 202, def, { obj: res.obj }, rep, include, ctx);
      }
      default:
        throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
  }

  private watch(
    storage: Storage,
    ns: string | undefined,
    q: URLSearchParams,
    rep: Representation,
    include: IncludeObject,
  ): ApiResponse {
    const def = storage.def;
    const timeoutS = q.has('timeoutSeconds')
      ? Number(q.get('timeoutSeconds'))
      : MIN_WATCH_TIMEOUT_S * (1 + Math.random());
    const bookmarks = isTrue(q.get('allowWatchBookmarks'));
    const opts = {
      ...buildFilter(def, q),
      resourceVersion: q.get('resourceVersion') ?? undefined,
      sendInitialEvents: isTrue(q.get('sendInitialEvents')),
    };
    let firstTable = true;
    const encode = (type: EventType, entry: CacheEntry): string => {
      if (rep === 'table') {
        const t = table(def, [], include, { resourceVersion: entry.obj.metadata.resourceVersion }, firstTable);
        firstTable = false;
        t.rows = [tableRow(def, entry.obj, include, Date.now())];
        return `{"type":"${type}","object":${JSON.stringify(t)}}\n`;
      }
      return `{"type":"${type}","object":${rep === 'metadata' ? partial(entry.obj) : entry.json}}\n`;
    };
    const bookmark = (revision: number, initialEventsEnd?: boolean): string => {
      const metadata: Record<string, unknown> = { resourceVersion: String(revision) };
      if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
      return `${JSON.stringify({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion: storage.apiVersion, metadata } })}\n`;
    };
    // Validate the request (selectors, resourceVersion) before the 200 goes out.
    const buffered: string[] = [];
    let out: StreamOut | undefined;
    const emit = (chunk: string) => (out ? out.write(chunk) : buffered.push(chunk));
    let lastRevision = storage.revision();
    const stopWatch = storage.watch(ns, opts, {
      event: (type, entry) => {
        lastRevision = entry.revision;
        emit(encode(type, entry));
      },
      bookmark: (revision, end) => {
        if (bookmarks || end) emit(bookmark(revision, end));
      },
    });
    const contentType = rep === 'table' ? TABLE_TYPE : rep === 'metadata' ? METADATA_TYPE : JSON_TYPE;
    return {
      status: 200,
      headers: { 'content-type': contentType, 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' },
      stream: (o) => {
        out = o;
        for (const chunk of buffered.splice(0)) o.write(chunk);
        const timers: NodeJS.Timeout[] = [];
        const stop = () => {
          timers.forEach(clearTimeout);
          timers.forEach(clearInterval);
          stopWatch();
        };
        timers.push(
          setTimeout(() => {
            if (bookmarks) o.write(bookmark(Math.max(lastRevision, storage.revision())));
            stop();
            o.end();
          }, timeoutS * 1000),
        );
        if (bookmarks)
          timers.push(setInterval(() => o.write(bookmark(Math.max(lastRevision, storage.revision()))), BOOKMARK_INTERVAL_MS));
        return stop;
      },
    };
  }

  private async scale(
    req: ApiRequest,
    storage: Storage,
    ns: string | undefined,
    name: string,
    method: string,
  ): Promise<ApiResponse> {
    const scaleDef = storage.def.scale!;
    const toScale = (obj: KubeObject) => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: scaleDef.specReplicas(obj) },
      status: { replicas: scaleDef.statusReplicas(obj), selector: scaleDef.selector(obj) },
    });
    const q = req.url.searchParams;
    if (method === 'GET') return json(200, JSON.stringify(toScale(storage.get(ns, name).obj)));
    if (method !== 'PUT' && method !== 'PATCH')
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    const ctx = writeContext(req, 'UpdateOptions');
    const body = method === 'PUT' ? this.decodeBody(req) : undefined;
    const patch = method === 'PATCH' ? this.patchFunction(req, undefined) : undefined;
    const obj = await storage.modify(
      ns,
      name,
      (cur) => {
        const current = toScale(cur);
        const desired = (body ?? patch!(current)) as { spec?: { replicas?: unknown }; metadata?: { resourceVersion?: string } };
        const replicas = desired?.spec?.replicas ?? 0;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas))
          throw badRequest(`Scale in version "v1" cannot be handled as a Scale: spec.replicas must be an integer`);
        if (replicas < 0)
          throw new StatusError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`, {
            name,
            group: 'autoscaling',
            kind: 'Scale',
            causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${replicas}: must be greater than or equal to 0`, field: 'spec.replicas' }],
          });
        const rv = desired?.metadata?.resourceVersion;
        if (rv && rv !== cur.metadata.resourceVersion) throw conflict(storage.gr, name, OBJECT_MODIFIED);
        scaleDef.setSpecReplicas(cur, replicas);
        return cur;
      },
      ctx,
    );
    return withWarnings(json(200, JSON.stringify(toScale(obj.obj))), ctx);
  }

  /** BindingREST: sets the pod's node and PodScheduled=True in one storage-level update. */
  private async bind(req: ApiRequest, storage: Storage, ns: string, name: string): Promise<ApiResponse> {
    const ctx = { ...writeContext(req, 'CreateOptions'), storageUpdate: true };
    const binding = this.decodeBody(req) as { metadata?: { uid?: string }; target?: { name?: string; kind?: string } };
    const node = binding?.target?.name;
    if (!node) throw badRequest('Binding target must name a node');
    const uid = binding.metadata?.uid;
    await storage.modify(
      ns,
      name,
      (cur) => {
        const spec = cur.spec as { nodeName?: string; schedulingGates?: unknown[] };
        if (uid && uid !== cur.metadata.uid)
          throw conflict(storage.gr, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${cur.metadata.uid}`);
        if (cur.metadata.deletionTimestamp) throw conflict(storage.gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
        if (spec.nodeName) throw conflict(storage.gr, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
        if (spec.schedulingGates?.length) throw conflict(storage.gr, name, `pod ${name} has non-empty .spec.schedulingGates`);
        spec.nodeName = node;
        const status = (cur.status ??= {}) as { conditions?: Record<string, unknown>[] };
        const conditions = (status.conditions ??= []);
        const i = conditions.findIndex((c) => c.type === 'PodScheduled');
        // UpdatePodCondition: an unchanged status keeps its transition time.
        if (i < 0 || conditions[i].status !== 'True') {
          const condition = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowTimestamp() };
          if (i < 0) conditions.push(condition);
          else conditions[i] = condition;
        }
        return cur;
      },
      ctx,
    );
    return json(201, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }));
  }

  /** The function that applies the request's patch to the current object. */
  private patchFunction(req: ApiRequest, def: KindDef | undefined): (cur: KubeObject) => unknown {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
    const text = req.body?.toString('utf8') ?? '';
    let patch: unknown;
    try {
      patch = JSON.parse(text);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    switch (type) {
      case 'application/json-patch+json':
        return (cur) => applyJSONPatch(cur, patch);
      case 'application/merge-patch+json':
        return (cur) => applyMergePatch(cur, patch);
      case 'application/strategic-merge-patch+json':
      {
        const definition = def && definitionName(def.group, def.version, def.kind);
        if (!definition) return (cur) => applyMergePatch(cur, patch);
        return (cur) => applyStrategicMergePatch(cur, patch, getSchema(), definition);
      }
      default:
        throw unsupportedMediaType(type);
    }
  }

  /** An apply configuration: YAML (JSON is YAML too). */
  private decodeApply(req: ApiRequest): unknown {
    if (!req.body?.length) throw badRequest('the request body is empty');
    try {
      return parseYaml(req.body.toString('utf8'));
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  }

  private decodeBody(req: ApiRequest): unknown {
    const type = (req.headers['content-type'] ?? JSON_TYPE).split(';')[0].trim();
    if (!req.body?.length) throw badRequest('the request body is empty');
    // Typed client-go clients (kubectl create ...) send protobuf; they accept JSON back.
    if (type === PROTOBUF_CONTENT_TYPE) return decodeKubernetesProtobuf(req.body).object;
    const text = req.body.toString('utf8');
    if (!text.trim()) throw badRequest('the request body is empty');
    if (type === 'application/json' || type === '') {
      try {
        return JSON.parse(text);
      } catch (err) {
        throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
      }
    }
    if (type === 'application/yaml' || type === 'application/x-yaml') {
      try {
        return parseYaml(text);
      } catch (err) {
        throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
      }
    }
    throw unsupportedMediaType(type);
  }

  private deleteOptions(req: ApiRequest, q: URLSearchParams): DeleteOptions {
    let body: Record<string, unknown> = {};
    if (req.body?.length) {
      const parsed = this.decodeBody(req);
      if (isPlainObject(parsed)) body = parsed;
    }
    const num = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : Number(v));
    const grace = num(q.get('gracePeriodSeconds') ?? body.gracePeriodSeconds);
    if (grace !== undefined && (!Number.isInteger(grace) || grace < 0))
      throw badRequest(`invalid gracePeriodSeconds: ${String(grace)}`);
    const policy = (q.get('propagationPolicy') ?? body.propagationPolicy) as DeleteOptions['propagationPolicy'] | undefined;
    if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy))
      throw new StatusError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    const orphanRaw = q.get('orphanDependents') ?? body.orphanDependents;
    return {
      gracePeriodSeconds: grace,
      propagationPolicy: policy,
      orphanDependents: orphanRaw === undefined || orphanRaw === null ? undefined : isTrue(String(orphanRaw)),
      preconditions: body.preconditions as DeleteOptions['preconditions'],
    };
  }

  /** The response for one object; `json` is its serialization when already at hand. */
  private objectResponse(
    status: number,
    def: KindDef,
    entry: { obj: KubeObject; json?: string },
    rep: Representation,
    include: IncludeObject,
    ctx?: WriteContext,
  ): ApiResponse {
    const { obj } = entry;
    let res: ApiResponse;
    if (rep === 'table') res = tableResponse(table(def, [obj], include, { resourceVersion: obj.metadata.resourceVersion }), status);
    else if (rep === 'yaml') res = yaml(status, obj);
    else if (rep === 'metadata') res = { status, headers: { 'content-type': METADATA_TYPE }, body: partial(obj) };
    else res = json(status, entry.json ?? JSON.stringify(obj));
    return ctx ? withWarnings(res, ctx) : res;
  }
}

function subresourceServed(def: KindDef, sub: string): boolean {
  if (sub === 'status') return !!def.statusSubresource;
  if (sub === 'scale') return !!def.scale;
  if (sub === 'binding') return def.group === '' && def.resource === 'pods';
  if (sub === 'finalize') return def.group === '' && def.resource === 'namespaces';
  return false;
}

const APPLY_TYPE = 'application/apply-patch+yaml';

function contentTypeOf(req: ApiRequest): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim();
}

/** The options of a write: dry run, field validation, and the field manager (given, or from the User-Agent). */
function writeContext(req: ApiRequest, optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): WriteContext {
  const q = req.url.searchParams;
  const fieldManager = q.get('fieldManager') ?? undefined;
  const apply = optionsKind === 'PatchOptions' && contentTypeOf(req) === APPLY_TYPE;
  const errs = fieldManagerErrors(fieldManager, apply);
  if (errs.length) throw invalidError('meta.k8s.io', optionsKind, '', errs);
  const dryRun = q.getAll('dryRun');
  for (const d of dryRun) if (d !== 'All') throw badRequest(`Invalid dry run value: ${d}; the only supported value is "All"`);
  const fv = q.get('fieldValidation') ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(fv))
    throw badRequest(`fieldValidation parameter unsupported: ${fv}; valid values are Strict, Warn and Ignore`);
  return {
    dryRun: dryRun.length > 0,
    fieldValidation: fv as FieldValidation,
    warnings: [],
    manager: managerFromUserAgent(fieldManager, req.headers['user-agent']),
  };
}

function isTrue(v: string | null | undefined): boolean {
  return v === 'true' || v === '1';
}

function representation(accept: string): Representation {
  if (!accept) return 'json';
  const types = accept.split(',').map((t) => t.trim().toLowerCase());
  for (const t of types) {
    const [mime, ...params] = t.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((kv) => kv.split('=') as [string, string]));
    if (mime === 'application/json' && p.as === 'table' && p.g === 'meta.k8s.io') return 'table';
    if (mime === 'application/json' && (p.as === 'partialobjectmetadata' || p.as === 'partialobjectmetadatalist') && p.g === 'meta.k8s.io')
      return 'metadata';
    if (mime === 'application/json' && !p.as) return 'json';
    if (mime === 'application/yaml') return 'yaml';
    if (mime === '*/*' || mime === 'application/*') return 'json';
  }
  if (types.some((t) => t.startsWith('application/vnd.kubernetes.protobuf'))) return 'json';
  throw notAcceptable(`only the following media types are accepted: application/json, application/yaml, ${TABLE_TYPE}`);
}

function acceptsJson(accept: string): boolean {
  return !accept || /application\/json|\*\/\*/.test(accept);
}

function json(status: number, body: string | Buffer): ApiResponse {
  return { status, headers: { 'content-type': JSON_TYPE }, body };
}

function yaml(status: number, obj: unknown): ApiResponse {
  return { status, headers: { 'content-type': 'application/yaml' }, body: toYaml(obj) };
}

function tableResponse(t: unknown, status = 200): ApiResponse {
  return { status, headers: { 'content-type': TABLE_TYPE }, body: JSON.stringify(t) };
}

function statusResponse(s: Status): ApiResponse {
  return json(s.code, JSON.stringify(s));
}

function withWarnings(res: ApiResponse, ctx: WriteContext): ApiResponse {
  if (ctx.warnings.length)
    res.headers['warning'] = ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
  return res;
}
