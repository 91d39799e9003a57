// The namespace controller's wiring: watches namespaces; for one being
// deleted, counts what is left through the API and deletes it, then finalizes.
import type { Logger } from 'pino';
import type { KindDef, KubeObject } from '../../api/types.js';
import type { Client, ResourceClient } from '../../client/client.js';
import { Informer } from '../../client/informer.js';
import { runWorker, WorkQueue } from '../../client/workqueue.js';
import { isStatusError } from '../../machinery/errors.js';
import { decide, type NamespaceState } from './decide.js';

const RECHECK_MS = 1000;

export class NamespaceController {
  private readonly namespaces: ResourceClient<KubeObject>;
  private readonly informer: Informer<KubeObject>;
  private readonly queue = new WorkQueue<string>();
  private readonly content: { def: KindDef; rc: ResourceClient<KubeObject> }[];

  constructor(
    client: Client,
    kinds: KindDef[],
    private readonly log: Logger,
  ) {
    this.namespaces = client.resource({ group: '', version: 'v1', resource: 'namespaces', namespaced: false });
    this.informer = new Informer(this.namespaces);
    this.content = kinds
      .filter((d) => d.namespaced)
      .map((def) => ({ def, rc: client.resource({ group: def.group, version: def.version, resource: def.resource, namespaced: true }) }));
  }

  async start(): Promise<void> {
    this.informer.on({
      add: (ns) => this.queue.add(ns.metadata.name!),
      update: (_o, ns) => this.queue.add(ns.metadata.name!),
    });
    await this.informer.start();
    void runWorker(this.queue, (name) => this.sync(name), (err, name) =>
      this.log.warn({ err, namespace: name }, 'namespace cleanup failed; retrying'),
    );
  }

  stop(): void {
    this.informer.stop();
    this.queue.shutDown();
  }

  private async sync(name: string): Promise<void> {
    const ns = this.informer.get(name);
    if (!ns) return;
    const state: NamespaceState = {
      deleting: !!ns.metadata.deletionTimestamp,
      specFinalizers: ((ns.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []),
      content: {},
    };
    if (!state.deleting) return;
    for (const { def, rc } of this.content) {
      const list = await rc.list(name);
      state.content[def.resource] = {
        remaining: list.items.length,
        notDeleting: list.items.filter((o) => !o.metadata.deletionTimestamp).length,
      };
    }
    const action = decide(state);
    switch (action.type) {
      case 'deleteContent':
        for (const { def, rc } of this.content) {
          if (!action.resources.includes(def.resource)) continue;
          const list = await rc.list(name);
          for (const o of list.items) {
            if (o.metadata.deletionTimestamp) continue;
            await rc.delete(o.metadata.name!, name, { propagationPolicy: 'Background' }).catch((err: unknown) => {
              if (!(isStatusError(err) && err.code === 404)) throw err;
            });
          }
        }
        this.queue.addAfter(name, 0);
        return;
      case 'wait':
        this.queue.addAfter(name, RECHECK_MS);
        return;
      case 'finalize':
        await this.finalize(ns, action.finalizers);
        return;
    }
  }

  private async finalize(ns: KubeObject, finalizers: string[]): Promise<void> {
    await this.namespaces.updateSubresource({ ...ns, spec: { ...(ns.spec as object), finalizers } }, 'finalize');
  }
}
