// The typed API client every berth component uses: one ResourceClient per
// kind, Kubernetes verbs, Status errors rebuilt on the client side.
import type { KubeObject } from '../api/types.js';
import { StatusError, type Status } from '../machinery/errors.js';
import type { Transport, WatchStream } from './transport.js';

export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
  /** Read only metadata (PartialObjectMetadata), as Kubernetes' metadata clients do. */
  metadataOnly?: boolean;
}

const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface ObjectList<T> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export type PatchType = 'json' | 'merge' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export class Client {
  constructor(readonly transport: Transport) {}

  resource<T extends KubeObject = KubeObject>(ref: ResourceRef): ResourceClient<T> {
    return new ResourceClient<T>(this.transport, ref);
  }
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Rebuilds the server's Status as a StatusError. */
function toError(status: number, body: string): StatusError {
  try {
    const s = JSON.parse(body) as Status;
    if (s.kind === 'Status') return new StatusError(s.code ?? status, s.reason ?? 'Unknown', s.message ?? '', s.details);
  } catch {
    // not a Status: fall through
  }
  return new StatusError(status, 'Unknown', body.slice(0, 500) || `HTTP ${status}`);
}

export class ResourceClient<T extends KubeObject> {
  constructor(
    private readonly transport: Transport,
    readonly ref: ResourceRef,
  ) {}

  path(namespace?: string, name?: string, subresource?: string): string {
    const { group, version, resource, namespaced } = this.ref;
    let p = group ? `/apis/${group}/${version}` : `/api/${version}`;
    if (namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${resource}`;
    if (name) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  private async call<R>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<R> {
    const res = await this.transport.request({
      method,
      path,
      accept: this.ref.metadataOnly && method === 'GET' ? METADATA_ACCEPT : undefined,
      body: body === undefined ? undefined : JSON.stringify(body),
      contentType: body === undefined ? undefined : contentType,
    });
    if (res.status < 200 || res.status > 299) throw toError(res.status, res.body);
    return JSON.parse(res.body) as R;
  }

  get(name: string, namespace?: string): Promise<T> {
    return this.call('GET', this.path(namespace, name));
  }

  list(namespace?: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    return this.call('GET', this.path(namespace) + query({ ...opts }));
  }

  create(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.call('POST', this.path(obj.metadata.namespace) + writeQuery(opts), obj);
  }

  update(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.call('PUT', this.path(obj.metadata.namespace, obj.metadata.name) + writeQuery(opts), obj);
  }

  updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.updateSubresource(obj, 'status', opts);
  }

  /** PUT to a subresource of the object (status, finalize, scale). */
  updateSubresource<R = T>(obj: KubeObject, subresource: string, opts: WriteOptions = {}): Promise<R> {
    return this.call('PUT', this.path(obj.metadata.namespace, obj.metadata.name, subresource) + writeQuery(opts), obj);
  }

  /** POST to a subresource of the named object (binding, eviction). */
  createSubresource<R = unknown>(name: string, namespace: string | undefined, subresource: string, body: unknown, opts: WriteOptions = {}): Promise<R> {
    return this.call('POST', this.path(namespace, name, subresource) + writeQuery(opts), body);
  }

  patch(name: string, namespace: string | undefined, type: PatchType, patch: unknown, opts: WriteOptions & { subresource?: string } = {}): Promise<T> {
    return this.call('PATCH', this.path(namespace, name, opts.subresource) + writeQuery(opts), patch, PATCH_CONTENT_TYPES[type]);
  }

  delete(name: string, namespace?: string, opts: DeleteOptions = {}): Promise<T> {
    const { dryRun, ...body } = opts;
    return this.call('DELETE', this.path(namespace, name) + query({ dryRun: dryRun ? 'All' : undefined }), {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      ...body,
    });
  }

  /** Starts a watch; `onEvent` gets each event, `onEnd` when the stream closes (with the error, if any). */
  watch(
    namespace: string | undefined,
    opts: WatchOptions,
    onEvent: (ev: WatchEvent<T>) => void,
    onEnd: (err?: StatusError | Error) => void,
  ): WatchStream {
    const path = this.path(namespace) + query({ watch: true, ...opts });
    return this.transport.watch(path, {
      line: (text) => {
        const ev = JSON.parse(text) as WatchEvent<T>;
        if (ev.type === 'ERROR') {
          const s = ev.object as unknown as Status;
          onEnd(new StatusError(s.code, s.reason ?? 'Unknown', s.message ?? ''));
          return;
        }
        onEvent(ev);
      },
      end: (err, response) => onEnd(response ? toError(response.status, response.body) : err),
    }, this.ref.metadataOnly ? METADATA_ACCEPT : undefined);
  }
}

function writeQuery(opts: WriteOptions): string {
  return query({ dryRun: opts.dryRun ? 'All' : undefined, fieldValidation: opts.fieldValidation });
}
