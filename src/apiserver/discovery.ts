// Discovery documents, built once from the served kinds: the aggregated v2
// documents kubectl 1.32 asks for first, and the legacy per-group-version ones.
import type { KindDef } from '../api/types.js';

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0+berth',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'node' + process.versions.node,
  compiler: 'node',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const SUBRESOURCE_VERBS = ['get', 'patch', 'update'];

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

interface Subresource {
  name: string;
  kind: { group: string; version: string; kind: string };
  verbs: string[];
}

function subresourcesOf(def: KindDef): Subresource[] {
  const own = { group: def.group, version: def.version, kind: def.kind };
  const subs: Subresource[] = [];
  if (def.statusSubresource) subs.push({ name: 'status', kind: own, verbs: SUBRESOURCE_VERBS });
  if (def.scale) subs.push({ name: 'scale', kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: SUBRESOURCE_VERBS });
  if (def.group === '' && def.resource === 'pods') {
    // In kube-apiserver's order; the streaming ones are connect verbs (create for POST, get for GET).
    const core = (kind: string) => ({ group: '', version: 'v1', kind });
    subs.push({ name: 'attach', kind: core('PodAttachOptions'), verbs: ['create', 'get'] });
    subs.push({ name: 'binding', kind: core('Binding'), verbs: ['create'] });
    subs.push({ name: 'exec', kind: core('PodExecOptions'), verbs: ['create', 'get'] });
    subs.push({ name: 'log', kind: own, verbs: ['get'] });
    subs.push({ name: 'portforward', kind: core('PodPortForwardOptions'), verbs: ['create', 'get'] });
  }
  if (def.group === '' && def.resource === 'namespaces')
    subs.push({ name: 'finalize', kind: own, verbs: ['update'] });
  // kube-apiserver lists them by name.
  return subs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export class Discovery {
  readonly groups: { name: string; version: string; kinds: KindDef[] }[] = [];
  private readonly docs = new Map<string, string>();

  constructor(kinds: KindDef[]) {
    for (const def of kinds) {
      let g = this.groups.find((x) => x.name === def.group && x.version === def.version);
      if (!g) this.groups.push((g = { name: def.group, version: def.version, kinds: [] }));
      g.kinds.push(def);
    }
  }

  private cached(key: string, build: () => unknown): string {
    let doc = this.docs.get(key);
    if (doc === undefined) this.docs.set(key, (doc = JSON.stringify(build())));
    return doc;
  }

  /** GET /api or /apis with the aggregated Accept type. */
  aggregated(prefix: 'api' | 'apis'): string {
    return this.cached(`agg:${prefix}`, () => ({
      kind: 'APIGroupDiscoveryList',
      apiVersion: 'apidiscovery.k8s.io/v2',
      metadata: {},
      items: this.groups
        .filter((g) => (prefix === 'api') === (g.name === ''))
        .map((g) => ({
          metadata: { name: g.name, creationTimestamp: null },
          versions: [
            {
              version: g.version,
              freshness: 'Current',
              resources: g.kinds.map((def) => ({
                resource: def.resource,
                responseKind: { group: def.group, version: def.version, kind: def.kind },
                scope: def.namespaced ? 'Namespaced' : 'Cluster',
                singularResource: def.singular,
                verbs: VERBS,
                ...(def.shortNames?.length ? { shortNames: def.shortNames } : {}),
                ...(def.categories?.length ? { categories: def.categories } : {}),
                ...(subresourcesOf(def).length
                  ? {
                      subresources: subresourcesOf(def).map((s) => ({
                        subresource: s.name,
                        responseKind: s.kind,
                        verbs: s.verbs,
                      })),
                    }
                  : {}),
              })),
            },
          ],
        })),
    }));
  }

  /** GET /api (legacy). */
  apiVersions(serverAddress: string): string {
    return this.cached('api', () => ({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    }));
  }

  private groupDoc(name: string) {
    const versions = this.groups.filter((g) => g.name === name);
    const gv = versions.map((g) => ({ groupVersion: `${g.name}/${g.version}`, version: g.version }));
    return { name, versions: gv, preferredVersion: gv[0] };
  }

  /** GET /apis (legacy). */
  apiGroupList(): string {
    return this.cached('apis', () => ({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...new Set(this.groups.filter((g) => g.name).map((g) => g.name))].map((n) => this.groupDoc(n)),
    }));
  }

  /** GET /apis/{group}; undefined for an unknown group. */
  apiGroup(name: string): string | undefined {
    if (!name || !this.groups.some((g) => g.name === name)) return undefined;
    return this.cached(`group:${name}`, () => ({ kind: 'APIGroup', apiVersion: 'v1', ...this.groupDoc(name) }));
  }

  /** GET /api/v1 or /apis/{group}/{version}; undefined when not served. */
  apiResourceList(group: string, version: string): string | undefined {
    const g = this.groups.find((x) => x.name === group && x.version === version);
    if (!g) return undefined;
    return this.cached(`gv:${group}/${version}`, () => ({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: g.kinds.flatMap((def) => [
        {
          name: def.resource,
          singularName: def.singular,
          namespaced: def.namespaced,
          kind: def.kind,
          verbs: VERBS,
          ...(def.shortNames?.length ? { shortNames: def.shortNames } : {}),
          ...(def.categories?.length ? { categories: def.categories } : {}),
        },
        ...subresourcesOf(def).map((s) => ({
          name: `${def.resource}/${s.name}`,
          singularName: '',
          namespaced: def.namespaced,
          ...(s.kind.group !== def.group ? { group: s.kind.group, version: s.kind.version } : {}),
          kind: s.kind.kind,
          verbs: s.verbs,
        })),
      ]),
    }));
  }
}
