// The OpenAPI documents kube-apiserver serves, built from generated/schemas.json
// and the served kinds: /openapi/v2 (Swagger 2.0), the /openapi/v3 discovery
// index and one OpenAPI 3.0 document per group version.
//
// kubectl reads these, so the operations are shaped like kube-apiserver's:
//  - every operation carries x-kubernetes-action and a single-object
//    x-kubernetes-group-version-kind; definitions carry the array form;
//  - the query-param verifier looks for `fieldValidation` (and `dryRun`) among
//    the parameters of the PATCH operation for the kind; when it finds them
//    kubectl leaves field validation to the server;
//  - `kubectl apply` builds its strategic merge patch from the v3 schema only
//    when that PATCH operation accepts application/strategic-merge-patch+json;
//  - `kubectl explain` finds the schema of a kind by its
//    x-kubernetes-group-version-kind in components.schemas.
import { createHash } from 'node:crypto';
import type { KindDef } from '../api/types.js';
import { definitionName, getSchema, type Schema } from '../machinery/schema.js';

export interface OpenAPIOptions {
  /** info.version of the documents: the Kubernetes version berth speaks. */
  version?: string;
}

/** The Kubernetes release the schemas come from (@kubernetes/client-node's models). */
const DEFAULT_VERSION = 'v1.36.0';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const WATCH_EVENT = `${META}.WatchEvent`;
const PATCH = `${META}.Patch`;
const API_RESOURCE_LIST = `${META}.APIResourceList`;
const API_GROUP = `${META}.APIGroup`;
const API_GROUP_LIST = `${META}.APIGroupList`;
const API_VERSIONS = `${META}.APIVersions`;
const SCALE = 'io.k8s.api.autoscaling.v1.Scale';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
/** A response that is a plain string (the streaming subresources), not a definition. */
const STRING_RESPONSE = ':string';
const responseSchema = (d: string, ref: string): Record<string, unknown> => (d === STRING_RESPONSE ? { type: 'string' } : { $ref: ref + d });

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];
const READ_TYPES = ['application/json', 'application/yaml'];
const WATCH_TYPES = ['application/json', 'application/yaml', 'application/json;stream=watch'];

type Action = 'connect' | 'get' | 'list' | 'watch' | 'watchlist' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection';
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface Param {
  name: string;
  in: 'query' | 'path';
  type: 'string' | 'boolean' | 'integer';
  description: string;
  required?: boolean;
}

interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** One operation, independent of the OpenAPI version it is written in. */
interface Operation {
  method: Method;
  id: string;
  description: string;
  action: Action;
  gvk?: GVK;
  tag: string;
  params: Param[];
  /** Request body: its definition and media types. */
  body?: { definition: string; types: string[]; required: boolean };
  /** Status code → definition of the response (undefined: no body). */
  responses: Array<[string, string | undefined]>;
  produces: string[];
}

interface PathItem {
  path: string;
  params: Param[];
  ops: Operation[];
}

// Parameter descriptions, in berth's words; names and types are Kubernetes'.
const q = (name: string, type: Param['type'], description: string): Param => ({ name, in: 'query', type, description });
const P = {
  pretty: q('pretty', 'string', "If 'true', the output is pretty printed."),
  dryRun: q('dryRun', 'string', "When present, modifications are not persisted. The only valid value is 'All': run every stage of the request without saving."),
  fieldManager: q('fieldManager', 'string', 'Name of the actor making the change, recorded in managedFields. At most 128 printable characters; required for apply patches.'),
  fieldValidation: q('fieldValidation', 'string', "How the server treats unknown or duplicate fields in the request object: 'Ignore' drops them silently, 'Warn' drops them and returns a warning for each, 'Strict' fails the request with a BadRequest error listing them."),
  force: q('force', 'boolean', 'Force an apply request: take over fields that other managers own. Must be unset for other patch types.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'Request BOOKMARK watch events. The server may ignore it. Ignored when not watching.'),
  continue: q('continue', 'string', 'The continue token returned by a previous list call with a limit, to fetch the next chunk of results.'),
  fieldSelector: q('fieldSelector', 'string', 'Restrict the returned objects by their fields. Defaults to everything.'),
  labelSelector: q('labelSelector', 'string', 'Restrict the returned objects by their labels. Defaults to everything.'),
  limit: q('limit', 'integer', 'Maximum number of objects to return in one list call; the list metadata carries a continue token when more remain.'),
  resourceVersion: q('resourceVersion', 'string', 'Constrains which resource versions the request may be served from (see the API concepts documentation on resource versions). Defaults to unset.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'How resourceVersion is applied to a list call: NotOlderThan or Exact. Defaults to unset.'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', 'With watch=true, start the watch with synthetic ADDED events for the current state, then a BOOKMARK marking the end of that initial set. Requires resourceVersionMatch=NotOlderThan.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'Timeout for the list or watch call, regardless of activity.'),
  watch: q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update and remove notifications. Specify resourceVersion.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'Seconds before the object should be deleted; zero deletes immediately. Defaults to the per-type value.'),
  ignoreStoreReadError: q('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean', 'Delete the object even when it cannot be read from storage (it is corrupt). Skips finalizers and preconditions; use with care.'),
  orphanDependents: q('orphanDependents', 'boolean', "Deprecated: use propagationPolicy. Whether dependents are orphaned."),
  propagationPolicy: q('propagationPolicy', 'string', "Whether and how dependents are garbage collected: 'Orphan', 'Background' or 'Foreground'."),
};
const pathParam = (name: string, description: string): Param => ({ name, in: 'path', type: 'string', description, required: true });
const namespaceParam = pathParam('namespace', 'object name and auth scope, such as for teams and projects');

const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadError, P.orphanDependents, P.propagationPolicy];
const DELETE_COLLECTION_PARAMS = [
  P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.ignoreStoreReadError, P.labelSelector, P.limit,
  P.orphanDependents, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds,
];

/** `apps` → `Apps`, `storage.k8s.io` → `Storage`, `rbac.authorization.k8s.io` → `RbacAuthorization`, core → `Core`. */
function groupWord(group: string): string {
  if (group === '') return 'Core';
  return group
    .replace(/\.k8s\.io$/, '')
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** `api/v1` or `apis/<group>/<version>`: the key of a group version in the v3 index. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const tagOf = (group: string, version: string): string => `${group === '' ? 'core' : group.split('.')[0]}_${version}`;

/** Kinds whose API is create-only (no list, read, update or delete). */
const CREATE_ONLY = new Set(['/Binding']);

type OpSpec = Omit<Operation, 'tag' | 'gvk'>;
const UNAUTHORIZED: [string, undefined] = ['401', undefined];

// The operation shapes kube-apiserver uses for each verb.
const read = (id: string, description: string, response: string, action: Action = 'get', produces = READ_TYPES): OpSpec => ({
  method: 'get', id, description, action, params: [], responses: [['200', response], UNAUTHORIZED], produces,
});
const create = (id: string, description: string, def: string): OpSpec => ({
  method: 'post', id, description, action: 'post', params: WRITE_PARAMS,
  body: { definition: def, types: ['*/*'], required: true },
  responses: [['200', def], ['201', def], ['202', def], UNAUTHORIZED], produces: READ_TYPES,
});
const replace = (id: string, description: string, def: string): OpSpec => ({
  method: 'put', id, description, action: 'put', params: WRITE_PARAMS,
  body: { definition: def, types: ['*/*'], required: true },
  responses: [['200', def], ['201', def], UNAUTHORIZED], produces: READ_TYPES,
});
const patch = (id: string, description: string, def: string): OpSpec => ({
  method: 'patch', id, description, action: 'patch', params: PATCH_PARAMS,
  body: { definition: PATCH, types: PATCH_TYPES, required: true },
  responses: [['200', def], ['201', def], UNAUTHORIZED], produces: READ_TYPES,
});
const remove = (id: string, description: string): OpSpec => ({
  method: 'delete', id, description, action: 'delete', params: DELETE_PARAMS,
  body: { definition: DELETE_OPTIONS, types: ['*/*'], required: false },
  responses: [['200', STATUS], ['202', STATUS], UNAUTHORIZED], produces: READ_TYPES,
});
const removeCollection = (id: string, description: string): OpSpec => ({
  method: 'delete', id, description, action: 'deletecollection', params: DELETE_COLLECTION_PARAMS,
  body: { definition: DELETE_OPTIONS, types: ['*/*'], required: false },
  responses: [['200', STATUS], UNAUTHORIZED], produces: READ_TYPES,
});

function kindOperations(k: KindDef, all: KindDef[]): PathItem[] {
  const def = definitionName(k.group, k.version, k.kind);
  const listDef = definitionName(k.group, k.version, `${k.kind}List`);
  if (!def) throw new Error(`openapi: no schema for ${k.group}/${k.version} ${k.kind}`);
  const kindGVK: GVK = { group: k.group, version: k.version, kind: k.kind };
  const tag = tagOf(k.group, k.version);
  const withKind = (gvk: GVK) => (o: OpSpec): Operation => ({ ...o, tag, gvk });
  const own = withKind(kindGVK);
  // Operation ids as kube-apiserver names them: patchAppsV1NamespacedStatefulSetStatus.
  const id = (verb: string, suffix = ''): string =>
    `${verb}${groupWord(k.group)}${capital(k.version)}${k.namespaced ? 'Namespaced' : ''}${k.kind}${suffix}`;
  const root = `/${groupVersionPath(k.group, k.version)}`;
  const collection = k.namespaced ? `${root}/namespaces/{namespace}/${k.resource}` : `${root}/${k.resource}`;
  const item = `${collection}/{name}`;
  const scope = k.namespaced ? [namespaceParam] : [];
  const nameOf = (kind: string): Param => pathParam('name', `name of the ${kind}`);

  if (CREATE_ONLY.has(`${k.group}/${k.kind}`)) {
    return [{ path: collection, params: [...scope, P.pretty], ops: [own(create(id('create'), `create a ${k.kind}`, def))] }];
  }

  const items: PathItem[] = [];
  const collectionOps = [
    ...(listDef ? [own(read(id('list'), `list or watch objects of kind ${k.kind}`, listDef, 'list', WATCH_TYPES))] : []),
    own(create(id('create'), `create a ${k.kind}`, def)),
    own(removeCollection(id('deleteCollection'), `delete collection of ${k.kind}`)),
  ];
  items.push({ path: collection, params: [...scope, P.pretty], ops: collectionOps });
  items.push({
    path: item,
    params: [nameOf(k.kind), ...scope, P.pretty],
    ops: [
      own(read(id('read'), `read the specified ${k.kind}`, def)),
      own(replace(id('replace'), `replace the specified ${k.kind}`, def)),
      own(remove(id('delete'), `delete a ${k.kind}`)),
      own(patch(id('patch'), `partially update the specified ${k.kind}`, def)),
    ],
  });

  const subresource = (name: 'status' | 'scale', d: string, gvk: GVK): void => {
    const sub = withKind(gvk);
    const Sub = capital(name);
    items.push({
      path: `${item}/${name}`,
      params: [nameOf(gvk.kind), ...scope, P.pretty],
      ops: [
        sub(read(id('read', Sub), `read ${name} of the specified ${k.kind}`, d)),
        sub(replace(id('replace', Sub), `replace ${name} of the specified ${k.kind}`, d)),
        sub(patch(id('patch', Sub), `partially update ${name} of the specified ${k.kind}`, d)),
      ],
    });
  };
  if (k.statusSubresource) subresource('status', def, kindGVK);
  if (k.scale) subresource('scale', SCALE, { group: 'autoscaling', version: 'v1', kind: 'Scale' });

  // A pod is bound to a node through its binding subresource, when Binding is served.
  const bindingDef = definitionName('', 'v1', 'Binding');
  if (k.group === '' && k.kind === 'Pod' && bindingDef && all.some((o) => o.group === '' && o.kind === 'Binding')) {
    items.push({
      path: `${item}/binding`,
      params: [nameOf('Binding'), ...scope, P.pretty],
      ops: [withKind({ group: '', version: 'v1', kind: 'Binding' })(create(id('create', 'Binding'), 'create binding of a Pod', bindingDef))],
    });
  }

  // The streaming subresources of pods: connect operations (GET and POST) and the log.
  if (k.group === '' && k.kind === 'Pod') {
    const podParams = [nameOf('Pod'), ...scope];
    const connect = (sub: string, kind: string, params: Param[]): void => {
      const gvk = withKind({ group: '', version: 'v1', kind });
      // connectCoreV1GetNamespacedPodExec
      const op = (method: 'get' | 'post'): Operation =>
        gvk({
          method, id: `connect${groupWord(k.group)}${capital(k.version)}${capital(method)}Namespaced${k.kind}${capital(sub)}`, description: `connect ${method.toUpperCase()} requests to ${sub} of Pod`,
          action: 'connect', params: [], responses: [['200', STRING_RESPONSE], UNAUTHORIZED], produces: ['*/*'],
        });
      items.push({ path: `${item}/${sub}`, params: [...podParams, ...params], ops: [op('get'), op('post')] });
    };
    const b = (name: string, d: string) => q(name, 'boolean', d);
    connect('attach', 'PodAttachOptions', [
      q('container', 'string', 'The container in which to execute the command. Defaults to only container if there is only one container in the pod.'),
      b('stderr', 'Stderr if true indicates that stderr is to be redirected for the attach call. Defaults to true.'),
      b('stdin', 'Stdin if true, redirects the standard input stream of the pod for this call. Defaults to false.'),
      b('stdout', 'Stdout if true indicates that stdout is to be redirected for the attach call. Defaults to true.'),
      b('tty', 'TTY if true indicates that a tty will be allocated for the attach call. This is passed through the container runtime so the tty is allocated on the worker node by the container runtime. Defaults to false.'),
    ]);
    connect('exec', 'PodExecOptions', [
      q('command', 'string', 'Command is the remote command to execute. argv array. Not executed within a shell.'),
      q('container', 'string', 'Container in which to execute the command. Defaults to only container if there is only one container in the pod.'),
      b('stderr', 'Redirect the standard error stream of the pod for this call.'),
      b('stdin', 'Redirect the standard input stream of the pod for this call. Defaults to false.'),
      b('stdout', 'Redirect the standard output stream of the pod for this call.'),
      b('tty', 'TTY if true indicates that a tty will be allocated for the exec call. Defaults to false.'),
    ]);
    const logDef = withKind(kindGVK);
    items.push({
      path: `${item}/log`,
      params: [
        q('container', 'string', 'The container for which to stream logs. Defaults to only container if there is one container in the pod.'),
        b('follow', 'Follow the log stream of the pod. Defaults to false.'),
        b('insecureSkipTLSVerifyBackend', "insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to."),
        q('limitBytes', 'integer', 'If set, the number of bytes to read from the server before terminating the log output. This may not display a complete final line of logging, and may return slightly more or slightly less than the specified limit.'),
        nameOf('Pod'),
        ...scope,
        P.pretty,
        b('previous', 'Return previous terminated container logs. Defaults to false.'),
        q('sinceSeconds', 'integer', 'A relative time in seconds before the current time from which to show logs. If this value precedes the time a pod was started, only logs since the pod start will be returned. If this value is in the future, no logs will be returned. Only one of sinceSeconds or sinceTime may be specified.'),
        q('stream', 'string', 'Specify which container log stream to return to the client. Acceptable values are "All", "Stdout" and "Stderr". If not specified, "All" is used, and both stdout and stderr are returned interleaved. Note that when "TailLines" is specified, "Stream" can only be set to nil or "All".'),
        q('tailLines', 'integer', 'If set, the number of lines from the end of the logs to show. If not specified, logs are shown from the creation of the container or sinceSeconds or sinceTime. Note that when "TailLines" is specified, "Stream" can only be set to nil or "All".'),
        b('timestamps', 'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.'),
      ],
      ops: [logDef(read(id('read', 'Log'), 'read log of the specified Pod', STRING_RESPONSE, 'get', ['text/plain', 'application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/cbor']))],
    });
    connect('portforward', 'PodPortForwardOptions', [q('ports', 'integer', 'List of ports to forward Required when using WebSockets')]);
  }

  // The all-namespaces list and the deprecated watch paths, as kube-apiserver still serves them.
  if (listDef) {
    const listParams = [...LIST_PARAMS.filter((p) => p !== P.watch), P.pretty, P.watch];
    const watchRoot = `${root}/watch`;
    const watchCollection = k.namespaced ? `${watchRoot}/namespaces/{namespace}/${k.resource}` : `${watchRoot}/${k.resource}`;
    const deprecated = 'Deprecated: list with watch=true instead';
    const watchList = (opId: string): Operation =>
      own(read(opId, `watch individual changes to a list of ${k.kind}. ${deprecated}.`, WATCH_EVENT, 'watchlist', WATCH_TYPES));
    items.push({ path: watchCollection, params: [...scope, ...listParams], ops: [watchList(id('watch', 'List'))] });
    items.push({
      path: `${watchCollection}/{name}`,
      params: [nameOf(k.kind), ...scope, ...listParams],
      ops: [own(read(id('watch'), `watch changes to an object of kind ${k.kind}. ${deprecated}, selecting the object with fieldSelector=metadata.name=<name>.`, WATCH_EVENT, 'watch', WATCH_TYPES))],
    });
    if (k.namespaced) {
      const G = `${groupWord(k.group)}${capital(k.version)}`;
      items.push({
        path: `${root}/${k.resource}`,
        params: listParams,
        ops: [own(read(`list${G}${k.kind}ForAllNamespaces`, `list or watch objects of kind ${k.kind}`, listDef, 'list', WATCH_TYPES))],
      });
      items.push({ path: `${watchRoot}/${k.resource}`, params: listParams, ops: [watchList(`watch${G}${k.kind}ListForAllNamespaces`)] });
    }
  }
  return items;
}

/** Discovery endpoints of one group version: `GET /apis/apps/v1/`. */
function resourcesOperation(group: string, version: string): PathItem {
  return {
    path: `/${groupVersionPath(group, version)}/`,
    params: [],
    ops: [{ ...read(`get${groupWord(group)}${capital(version)}APIResources`, 'get available resources', API_RESOURCE_LIST), tag: tagOf(group, version) }],
  };
}

function groupOperation(group: string): PathItem {
  return {
    path: `/apis/${group}/`,
    params: [],
    ops: [{ ...read(`get${groupWord(group)}APIGroup`, 'get information of a group', API_GROUP), tag: group.split('.')[0]! }],
  };
}

const ROOT_ITEMS: Record<string, PathItem> = {
  api: {
    path: '/api/',
    params: [],
    ops: [{ ...read('getCoreAPIVersions', 'get available API versions', API_VERSIONS), tag: 'core' }],
  },
  apis: {
    path: '/apis/',
    params: [],
    ops: [{ ...read('getAPIVersions', 'get available API versions', API_GROUP_LIST), tag: 'apis' }],
  },
};

/** Every path item, grouped by the v3 document that holds it (`api/v1`, `apis/apps`, `apis/apps/v1`, `api`, `apis`). */
function pathItemsByDocument(kinds: KindDef[]): Map<string, PathItem[]> {
  const docs = new Map<string, PathItem[]>();
  const add = (doc: string, item: PathItem): void => {
    let list = docs.get(doc);
    if (!list) docs.set(doc, (list = []));
    list.push(item);
  };
  const sorted = [...kinds].sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version) || a.resource.localeCompare(b.resource));
  for (const k of sorted) {
    const doc = groupVersionPath(k.group, k.version);
    if (!docs.has(doc)) {
      add(doc, resourcesOperation(k.group, k.version));
      if (k.group === '') add('api', ROOT_ITEMS.api!);
      else {
        add('apis', ROOT_ITEMS.apis!);
        if (!docs.has(`apis/${k.group}`)) add(`apis/${k.group}`, groupOperation(k.group));
      }
    }
    for (const item of kindOperations(k, sorted)) add(doc, item);
  }
  // The root documents list each item once.
  for (const key of ['api', 'apis']) {
    const items = docs.get(key);
    if (items) docs.set(key, [...new Set(items)]);
  }
  return docs;
}

/** Definitions reachable from `roots` through $ref. */
function closure(roots: Iterable<string>): string[] {
  const { definitions } = getSchema();
  const seen = new Set<string>();
  const visit = (s: unknown): void => {
    if (Array.isArray(s)) {
      for (const v of s) visit(v);
    } else if (s && typeof s === 'object') {
      for (const [k, v] of Object.entries(s)) {
        if (k === '$ref' && typeof v === 'string') enter(v.slice(v.lastIndexOf('/') + 1));
        else visit(v);
      }
    }
  };
  const enter = (name: string): void => {
    if (seen.has(name)) return;
    const def = definitions[name];
    if (!def) throw new Error(`openapi: no definition ${name}`);
    seen.add(name);
    visit(def);
  };
  for (const r of roots) enter(r);
  return [...seen].sort();
}

/** A definition as served: without berth's own hint on IntOrString. */
function served(name: string, def: Schema): Schema {
  if (name !== INT_OR_STRING) return def;
  const { 'x-kubernetes-int-or-string': _hint, ...rest } = def;
  return rest;
}

function operationDefinitions(items: PathItem[]): Set<string> {
  const names = new Set<string>();
  for (const item of items) {
    for (const o of item.ops) {
      if (o.body) names.add(o.body.definition);
      for (const [, d] of o.responses) if (d && d !== STRING_RESPONSE) names.add(d);
    }
  }
  return names;
}

// --- Swagger 2.0 ---

function v2Param(p: Param): Record<string, unknown> {
  const out: Record<string, unknown> = { description: p.description, in: p.in, name: p.name, type: p.type };
  if (p.required) out.required = true;
  if (p.in === 'query') out.uniqueItems = true;
  return out;
}

const RESPONSE_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '401': 'Unauthorized' };

function v2Operation(o: Operation): Record<string, unknown> {
  const params: Record<string, unknown>[] = [];
  if (o.body) {
    params.push({ in: 'body', name: 'body', required: o.body.required, schema: { $ref: `#/definitions/${o.body.definition}` } });
  }
  params.push(...o.params.map(v2Param));
  const responses: Record<string, unknown> = {};
  for (const [code, d] of o.responses) {
    responses[code] = d ? { description: RESPONSE_TEXT[code], schema: responseSchema(d, '#/definitions/') } : { description: RESPONSE_TEXT[code] };
  }
  const out: Record<string, unknown> = {
    consumes: o.body ? o.body.types : ['*/*'],
    description: o.description,
    operationId: o.id,
  };
  if (params.length > 0) out.parameters = params;
  Object.assign(out, { produces: o.produces, responses, schemes: ['https'], tags: [o.tag], 'x-kubernetes-action': o.action });
  if (o.gvk) out['x-kubernetes-group-version-kind'] = { group: o.gvk.group, kind: o.gvk.kind, version: o.gvk.version };
  return out;
}

function v2PathItem(item: PathItem): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of item.ops) out[o.method] = v2Operation(o);
  if (item.params.length > 0) out.parameters = item.params.map(v2Param);
  return out;
}

const SECURITY = {
  definitions: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
  requirement: [{ BearerToken: [] as string[] }],
};

function buildV2(kinds: KindDef[], version: string): Buffer {
  const docs = pathItemsByDocument(kinds);
  const all = [...docs.values()].flat();
  const unique = [...new Map(all.map((i) => [i.path, i])).values()].sort((a, b) => a.path.localeCompare(b.path));
  const paths: Record<string, unknown> = {};
  for (const item of unique) paths[item.path] = v2PathItem(item);
  const { definitions } = getSchema();
  const defs: Record<string, Schema> = {};
  for (const name of closure(operationDefinitions(unique))) defs[name] = served(name, definitions[name]!);
  const doc = {
    swagger: '2.0',
    info: { title: 'Kubernetes', version },
    paths,
    definitions: defs,
    securityDefinitions: SECURITY.definitions,
    security: SECURITY.requirement,
  };
  return Buffer.from(JSON.stringify(doc));
}

// --- OpenAPI 3.0 ---

const V3_REF = '#/components/schemas/';

/** A v2 schema in v3 form: refs under components, and a `$ref` with siblings wrapped in allOf as kube-openapi does. */
function v3Schema(s: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === '$ref') continue;
    if (k === 'properties') {
      out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, ps]) => [p, v3Schema(ps)]));
    } else if (k === 'items' || (k === 'additionalProperties' && typeof v === 'object')) {
      out[k] = v3Schema(v as Schema);
    } else {
      out[k] = v;
    }
  }
  if (!s.$ref) return out;
  const ref = { $ref: V3_REF + s.$ref.slice(s.$ref.lastIndexOf('/') + 1) };
  return Object.keys(out).length === 0 ? ref : { allOf: [ref], ...out };
}

/** The v3 form of a definition; IntOrString and Quantity become the oneOf types kube-openapi gives them. */
function v3Definition(name: string, def: Schema): Record<string, unknown> {
  if (name === INT_OR_STRING) {
    return { description: def.description, format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  if (name === QUANTITY) return { description: def.description, oneOf: [{ type: 'string' }, { type: 'number' }] };
  return v3Schema(def);
}

function v3Param(p: Param): Record<string, unknown> {
  const out: Record<string, unknown> = { description: p.description, in: p.in, name: p.name };
  if (p.required) out.required = true;
  out.schema = p.in === 'query' ? { type: p.type, uniqueItems: true } : { type: p.type };
  return out;
}

function v3Operation(o: Operation): Record<string, unknown> {
  const out: Record<string, unknown> = { description: o.description, operationId: o.id };
  if (o.params.length > 0) out.parameters = o.params.map(v3Param);
  if (o.body) {
    const schema = { $ref: V3_REF + o.body.definition };
    out.requestBody = {
      content: Object.fromEntries(o.body.types.map((t) => [t, { schema }])),
      required: o.body.required,
    };
  }
  const responses: Record<string, unknown> = {};
  for (const [code, d] of o.responses) {
    responses[code] = d
      ? { content: Object.fromEntries(o.produces.map((t) => [t, { schema: responseSchema(d, V3_REF) }])), description: RESPONSE_TEXT[code] }
      : { description: RESPONSE_TEXT[code] };
  }
  out.responses = responses;
  out.tags = [o.tag];
  out['x-kubernetes-action'] = o.action;
  if (o.gvk) out['x-kubernetes-group-version-kind'] = { group: o.gvk.group, kind: o.gvk.kind, version: o.gvk.version };
  return out;
}

function buildV3(items: PathItem[], version: string): Buffer {
  const paths: Record<string, unknown> = {};
  for (const item of [...items].sort((a, b) => a.path.localeCompare(b.path))) {
    const pi: Record<string, unknown> = {};
    for (const o of item.ops) pi[o.method] = v3Operation(o);
    if (item.params.length > 0) pi.parameters = item.params.map(v3Param);
    paths[item.path] = pi;
  }
  const { definitions } = getSchema();
  const schemas: Record<string, unknown> = {};
  for (const name of closure(operationDefinitions(items))) schemas[name] = v3Definition(name, served(name, definitions[name]!));
  const doc = {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version },
    paths,
    components: { schemas, securitySchemes: SECURITY.definitions },
    security: SECURITY.requirement,
  };
  return Buffer.from(JSON.stringify(doc));
}

// --- cache and entry points ---

interface Built {
  v2?: Buffer;
  v3?: Map<string, { body: Buffer; hash: string }>;
  v3Index?: Buffer;
}

// Built once per kinds list, so serving is a lookup: pass the same array (the
// registry's) on every request.
const cache = new WeakMap<KindDef[], Map<string, Built>>();

function built(kinds: KindDef[], options: OpenAPIOptions): Built {
  const version = options.version ?? DEFAULT_VERSION;
  let byVersion = cache.get(kinds);
  if (!byVersion) cache.set(kinds, (byVersion = new Map()));
  let b = byVersion.get(version);
  if (!b) byVersion.set(version, (b = {}));
  return b;
}

function v3Documents(kinds: KindDef[], options: OpenAPIOptions): Map<string, { body: Buffer; hash: string }> {
  const b = built(kinds, options);
  if (!b.v3) {
    const version = options.version ?? DEFAULT_VERSION;
    b.v3 = new Map();
    for (const [path, items] of pathItemsByDocument(kinds)) {
      const body = buildV3(items, version);
      // kube-apiserver names each document by the SHA-512 of its content, so clients can cache it forever.
      b.v3.set(path, { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() });
    }
  }
  return b.v3;
}

/** GET /openapi/v2: the Swagger 2.0 document (JSON). */
export function openapiV2(kinds: KindDef[], options: OpenAPIOptions = {}): Buffer {
  const b = built(kinds, options);
  b.v2 ??= buildV2(kinds, options.version ?? DEFAULT_VERSION);
  return b.v2;
}

/** GET /openapi/v3: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}, …}}`. */
export function openapiV3Index(kinds: KindDef[], options: OpenAPIOptions = {}): Buffer {
  const b = built(kinds, options);
  if (!b.v3Index) {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    const docs = v3Documents(kinds, options);
    for (const key of [...docs.keys()].sort()) {
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${docs.get(key)!.hash}` };
    }
    b.v3Index = Buffer.from(JSON.stringify({ paths }));
  }
  return b.v3Index;
}

/**
 * GET /openapi/v3/<path> for `path` = `api/v1`, `apis/<group>/<version>`,
 * `apis/<group>`, `api` or `apis` (no leading slash, no query); undefined
 * when no such document exists.
 */
export function openapiV3GroupVersion(kinds: KindDef[], path: string, options: OpenAPIOptions = {}): Buffer | undefined {
  return v3Documents(kinds, options).get(path.replace(/^\/+|\/+$/g, ''))?.body;
}

/** The content hash of a v3 document, as its URL in the index carries it (for ETag and immutable caching). */
export function openapiV3Hash(kinds: KindDef[], path: string, options: OpenAPIOptions = {}): string | undefined {
  return v3Documents(kinds, options).get(path.replace(/^\/+|\/+$/g, ''))?.hash;
}
