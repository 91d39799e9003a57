// Assembles the API server: store, one watch cache and storage per kind,
// namespace bootstrap, the handler, HTTPS and periodic compaction.
import type { Server } from 'node:https';
import type { Logger } from 'pino';
import { kinds as allKinds } from '../api/registry.js';
import type { AdmissionContext, KindDef, KubeObject } from '../api/types.js';
import { firstServiceIP, parseServiceCIDR, ServiceAllocator, type ServiceRange } from './allocators.js';
import { forbidden, notFound } from '../machinery/errors.js';
import { definitionName, unknownFieldPaths } from '../machinery/schema.js';
import type { Store } from '../store/types.js';
import { WatchCache } from './cache.js';
import { ApiHandler, type Registry } from './handler.js';
import { startHttps } from './http.js';
import { Metrics } from './metrics.js';
import type { Credentials } from './pki.js';
import { ResourceStorage, type Storage, type WriteContext } from './resource.js';
import { ConvertedStorage } from './conversion.js';
import type { NodeConnector } from '../node/streams/types.js';
import { PodStreams } from './streams/index.js';

export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const COMPACTION_INTERVAL_MS = 5 * 60_000;

export interface ApiServerOptions {
  store: Store;
  /** The service cluster IP range (default 10.96.0.0/12). */
  serviceCIDR?: string;
  credentials: Credentials;
  host: string;
  port: number;
  log: Logger;
  /** The streams of the nodes' containers (exec, attach, port-forward, logs); absent: none are served. */
  nodeConnector?: NodeConnector;
}

export class ApiServer implements Registry {
  readonly kinds: KindDef[] = allKinds;
  readonly handler: ApiHandler;
  /** Storage of every kind kept in its own keys. */
  private readonly storages = new Map<string, ResourceStorage>();
  /** Kinds served from another kind's storage through conversion. */
  private readonly converted = new Map<string, ConvertedStorage>();
  private https?: Server;
  private compactionTimer?: NodeJS.Timeout;
  readonly metrics = new Metrics();
  readonly serviceRange: ServiceRange;
  private allocator?: ServiceAllocator;

  private constructor(private readonly opts: ApiServerOptions) {
    this.serviceRange = parseServiceCIDR(opts.serviceCIDR ?? '10.96.0.0/12');
    this.handler = new ApiHandler(this, {
      metrics: () => this.metrics.text(),
      serverAddress: `${opts.host}:${opts.port}`,
    });
  }

  static async start(opts: ApiServerOptions): Promise<ApiServer> {
    const server = new ApiServer(opts);
    const deps = {
      admitNamespace: (ns: string, resource: string, group: string, name: string) => server.admitNamespace(ns, resource, group, name),
      allocate: (def: KindDef, key: string, obj: KubeObject) =>
        def.group === '' && def.resource === 'services' ? server.serviceAllocator().allocate(key, obj) : () => {},
      unknownFields: (def: KindDef, obj: unknown) => {
        const definition = definitionName(def.group, def.version, def.kind);
        return definition ? unknownFieldPaths(obj, definition) : [];
      },
      admission: server.admissionContext(),
    };
    await Promise.all(
      server.kinds
        .filter((def) => !def.storedAs)
        .map(async (def) => {
          const cache = await WatchCache.start(opts.store, ResourceStorage.prefixFor(def));
          server.storages.set(storageKey(def.group, def.version, def.resource), new ResourceStorage(def, opts.store, cache, deps));
        }),
    );
    for (const def of server.kinds.filter((d) => d.storedAs)) {
      const at = def.storedAs!;
      const base = server.base(at.group, at.version, at.resource);
      server.converted.set(storageKey(def.group, def.version, def.resource), new ConvertedStorage(def, base, deps.unknownFields));
    }
    await server.bootstrapNamespaces();
    server.https = await startHttps({
      host: opts.host,
      port: opts.port,
      credentials: opts.credentials,
      handler: server.handler,
      log: opts.log,
      streams: new PodStreams(() => server.lookup('', 'v1', 'pods'), opts.nodeConnector, opts.log.child({ component: 'streams' })),
      onRequest: (method, code, seconds) => server.metrics.observeRequest(method, code, seconds),
    });
    await server.bootstrapKubernetesService();
    server.scheduleCompaction();
    return server;
  }

  get port(): number {
    const addr = this.https?.address();
    return typeof addr === 'object' && addr ? addr.port : this.opts.port;
  }

  serviceAllocator(): ServiceAllocator {
    if (!this.allocator) {
      const services = this.base('', 'v1', 'services');
      this.allocator = new ServiceAllocator(this.serviceRange, () => services.cache.list());
    }
    return this.allocator;
  }

  lookup(group: string, version: string, resource: string): Storage | undefined {
    const key = storageKey(group, version, resource);
    return this.storages.get(key) ?? this.converted.get(key);
  }

  /** The storage of a kind kept in its own keys (the server's own bootstrap and admission use it). */
  private base(group: string, version: string, resource: string): ResourceStorage {
    const s = this.storages.get(storageKey(group, version, resource));
    if (!s) throw new Error(`no storage for ${resource}.${group}/${version}`);
    return s;
  }

  /** Admission's view of other kinds: their watch caches, by group and resource (one version each). */
  private admissionContext(): AdmissionContext {
    const storage = (group: string, resource: string): ResourceStorage => {
      for (const s of this.storages.values()) if (s.gr.group === group && s.gr.resource === resource) return s;
      throw new Error(`no storage for ${resource}.${group}`);
    };
    return {
      get: (group, resource, namespace, name) => storage(group, resource).tryGet(namespace, name)?.obj,
      list: (group, resource, namespace) => {
        const s = storage(group, resource);
        return s.cache.list(s.listPrefix(namespace)).map((e) => e.obj);
      },
    };
  }

  /** NamespaceLifecycle admission: content only in namespaces that exist and are not terminating. */
  private admitNamespace(ns: string, resource: string, group: string, name: string): void {
    const namespaces = this.base('', 'v1', 'namespaces');
    const entry = namespaces.tryGet(undefined, ns);
    if (!entry) throw notFound({ group: '', resource: 'namespaces' }, ns);
    if (entry.obj.metadata.deletionTimestamp)
      throw forbidden({ group, resource }, name, `unable to create new content in namespace ${ns} because it is being terminated`);
  }

  private async bootstrapNamespaces(): Promise<void> {
    const namespaces = this.base('', 'v1', 'namespaces');
    const ctx: WriteContext = { dryRun: false, fieldValidation: 'Ignore', warnings: [], manager: 'berth' };
    for (const name of INITIAL_NAMESPACES)
      if (!namespaces.tryGet(undefined, name))
        await namespaces.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, ctx);
  }

  /** The `kubernetes` service in default, as kube-apiserver keeps it. */
  private async bootstrapKubernetesService(): Promise<void> {
    const ctx: WriteContext = { dryRun: false, fieldValidation: 'Ignore', warnings: [], manager: 'berth' };
    const port = this.port;
    const services = this.base('', 'v1', 'services');
    if (!services.tryGet('default', 'kubernetes'))
      await services.create('default', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: {
          type: 'ClusterIP',
          clusterIP: firstServiceIP(this.serviceRange),
          ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }],
          sessionAffinity: 'None',
        },
      }, ctx);
    else
      await services.modify('default', 'kubernetes', (cur) => {
        const spec = cur.spec as { ports?: { targetPort?: number }[] };
        for (const p of spec.ports ?? []) p.targetPort = port;
        return cur;
      }, ctx);
    // No Endpoints yet: Kubernetes rejects loopback endpoint addresses, and the server listens on
    // loopback until the node agent gives pods a route to it.
  }

  /** Every interval, compacts away history older than the previous interval (as kube-apiserver does). */
  private scheduleCompaction(): void {
    let previous = 0;
    this.compactionTimer = setInterval(() => {
      const target = previous;
      void this.opts.store.revision().then((rev) => {
        previous = rev;
        if (target > 0) return this.opts.store.compact(target);
      }).catch((err: unknown) => this.opts.log.error({ err }, 'compaction failed'));
    }, COMPACTION_INTERVAL_MS);
    this.compactionTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.compactionTimer);
    for (const s of this.storages.values()) s.cache.stop();
    await new Promise<void>((resolve) => {
      if (!this.https) return resolve();
      this.https.close(() => resolve());
      this.https.closeAllConnections();
    });
  }
}

function storageKey(group: string, version: string, resource: string): string {
  return `${group}/${version}/${resource}`;
}
