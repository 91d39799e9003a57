// The garbage collector's wiring: an informer per served kind builds the
// owner graph (uid -> object, owner uid -> dependents); a queue of uids runs
// the pure decisions and applies them.
import type { KindDef, KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import { Informer } from '../../client/informer.js';
import { SetIndex } from '../../client/setindex.js';
import { runWorker, WorkQueue } from '../../client/workqueue.js';
import type { Logger } from 'pino';
import { act, KindResolver, ownerExists } from './act.js';
import { decide, type GraphNode, type OwnerState } from './decide.js';

interface Tracked {
  node: GraphNode;
  namespaced: boolean;
}

export class GarbageCollector {
  private readonly graph = new Map<string, Tracked>();
  private readonly dependents = new SetIndex();
  private readonly informers: Informer<KubeObject>[] = [];
  private readonly queue = new WorkQueue<string>();
  private readonly resolver: KindResolver;
  private readonly namespacedKinds = new Set<string>();

  constructor(
    private readonly client: Client,
    private readonly kinds: KindDef[],
    private readonly log: Logger,
  ) {
    this.resolver = new KindResolver(client, kinds);
    for (const def of kinds) if (def.namespaced) this.namespacedKinds.add(`${apiVersionOf(def)}/${def.kind}`);
  }

  async start(workers = 2): Promise<void> {
    for (const def of this.kinds) {
      const inf = new Informer<KubeObject>(
        // Metadata is all the owner graph needs, as Kubernetes' collector watches it.
        this.client.resource({ group: def.group, version: def.version, resource: def.resource, namespaced: def.namespaced, metadataOnly: true }),
      );
      inf.on({
        add: (o) => this.observe(def, o),
        update: (_old, o) => this.observe(def, o),
        delete: (o) => this.forget(o),
      });
      this.informers.push(inf);
    }
    await Promise.all(this.informers.map((i) => i.start()));
    const onError = (err: unknown, uid: string) => this.log.warn({ err, uid }, 'garbage collection failed; retrying');
    for (let i = 0; i < workers; i++) void runWorker(this.queue, (uid) => this.sync(uid), onError);
  }

  stop(): void {
    for (const i of this.informers) i.stop();
    this.queue.shutDown();
  }

  private observe(def: KindDef, obj: KubeObject): void {
    const m = obj.metadata;
    const uid = m.uid!;
    const node: GraphNode = {
      ref: { apiVersion: apiVersionOf(def), kind: def.kind, namespace: m.namespace, name: m.name!, uid },
      owners: (m.ownerReferences ?? []).map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, name: r.name, uid: r.uid, blockOwnerDeletion: r.blockOwnerDeletion })),
      deleting: !!m.deletionTimestamp,
      finalizers: [...(m.finalizers ?? [])],
    };
    const prev = this.graph.get(uid)?.node;
    for (const o of prev?.owners ?? []) this.dependents.delete(o.uid, uid);
    for (const o of node.owners) this.dependents.add(o.uid, uid);
    this.graph.set(uid, { node, namespaced: def.namespaced });
    this.queue.add(uid);
    // Owners waiting on their dependents (orphan/foreground) need another look when a dependent changes.
    for (const o of [...node.owners, ...(prev?.owners ?? [])]) if (this.graph.has(o.uid)) this.queue.add(o.uid);
  }

  private forget(obj: KubeObject): void {
    const uid = obj.metadata.uid!;
    const tracked = this.graph.get(uid);
    this.graph.delete(uid);
    for (const o of tracked?.node.owners ?? []) {
      this.dependents.delete(o.uid, uid);
      if (this.graph.has(o.uid)) this.queue.add(o.uid);
    }
    for (const d of this.dependents.get(uid)) this.queue.add(d);
  }

  private async sync(uid: string): Promise<void> {
    const tracked = this.graph.get(uid);
    if (!tracked) return;
    const { node } = tracked;
    const states = new Map<string, OwnerState>();
    for (const o of node.owners) {
      if (this.graph.has(o.uid)) states.set(o.uid, 'present');
      else {
        const namespaced = this.namespacedKinds.has(`${o.apiVersion}/${o.kind}`);
        states.set(o.uid, (await ownerExists(this.resolver, node.ref.namespace, o, namespaced)) ? 'present' : 'absent');
      }
    }
    const deps = [...this.dependents.get(uid)].flatMap((d) => {
      const t = this.graph.get(d);
      return t ? [t.node] : [];
    });
    for (const action of decide(node, (u) => states.get(u) ?? 'present', deps)) {
      this.log.debug({ action: action.type, target: action.target }, 'garbage collector');
      await act(this.resolver, action);
    }
  }
}

function apiVersionOf(def: KindDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}
