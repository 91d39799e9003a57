// Parsing a Kubernetes API path into what it addresses (RequestInfo in kube-apiserver).

export interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

export type ApiPath =
  | { type: 'resource'; path: ResourcePath; watchPath: boolean }
  | { type: 'groupVersion'; group: string; version: string }
  | { type: 'group'; group: string }
  | { type: 'root'; prefix: 'api' | 'apis' }
  | { type: 'other' };

/** Resources addressed as /api/v1/namespaces/{name}/{subresource} rather than nested resources. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseApiPath(pathname: string): ApiPath {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let rest: string[];
  let group: string;
  let version: string;
  if (parts[0] === 'api') {
    if (parts.length === 1) return { type: 'root', prefix: 'api' };
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length === 1) return { type: 'root', prefix: 'apis' };
    group = parts[1];
    if (parts.length === 2) return { type: 'group', group };
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return { type: 'other' };
  }
  if (rest.length === 0) return { type: 'groupVersion', group, version };
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.has(rest[2])) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 3) return { type: 'other' };
  const [resource, name, subresource] = rest;
  return { type: 'resource', path: { group, version, namespace, resource, name, subresource }, watchPath };
}
