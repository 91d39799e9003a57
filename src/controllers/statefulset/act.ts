// The StatefulSet controller's effects: applies a Decision's actions through
// the client, in dependency order (revisions, ownership, claims, then pods),
// each group in slow-start batches as Kubernetes' controllers do, and records
// the events `kubectl describe statefulset` shows.
import type { KubeObject } from '../../api/types.js';
import type { Client, ResourceClient } from '../../client/client.js';
import type { EventRecorder } from '../../client/events.js';
import { isStatusError } from '../../machinery/errors.js';
import type { Action } from './decide.js';
import { controllerRef, type StatefulSet } from './identity.js';

type Kind = 'sets' | 'pods' | 'claims' | 'revisions';

/** The highest resourceVersion written per kind, so the wiring can wait to see its own writes. */
export type Written = Partial<Record<Kind, number>>;

const GROUPS: Action['type'][][] = [
  ['adoptRevision'],
  ['createRevision', 'renumberRevision'],
  ['adoptPod', 'releasePod', 'setClaimOwners'],
  ['resizeClaim'],
  ['deletePod'],
  ['createClaim', 'createPod', 'labelPod'],
  ['deleteRevision'],
];

/**
 * Splits a group into what goes out together: a new pod with its claims is one unit, claims sent
 * first in the same turn, so the store commits them in one transaction with the claims at lower
 * revisions (every watcher sees a pod's claims no later than the pod, at one fsync instead of two).
 * Should a claim fail, its pod stays Pending: the scheduler waits for claims, and the next sync
 * creates the missing ones, as Kubernetes' controller does for a pending pod.
 */
function units(todo: Action[]): Action[][] {
  const byPod = new Map<string, Action[]>();
  const out: Action[][] = [];
  for (const a of todo) {
    const pod = a.type === 'createClaim' ? a.pod : a.type === 'createPod' ? a.pod.metadata.name! : undefined;
    if (pod === undefined) {
      out.push([a]);
      continue;
    }
    let unit = byPod.get(pod);
    if (!unit) {
      byPod.set(pod, (unit = []));
      out.push(unit);
    }
    if (a.type === 'createPod') unit.push(a);
    else unit.unshift(a);
  }
  return out;
}

export class StatefulSetActor {
  private readonly pods: ResourceClient<KubeObject>;
  private readonly claims: ResourceClient<KubeObject>;
  private readonly revisions: ResourceClient<KubeObject>;
  private readonly sets: ResourceClient<KubeObject>;

  constructor(
    client: Client,
    private readonly recorder: EventRecorder,
  ) {
    this.pods = client.resource({ group: '', version: 'v1', resource: 'pods', namespaced: true });
    this.claims = client.resource({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true });
    this.revisions = client.resource({ group: 'apps', version: 'v1', resource: 'controllerrevisions', namespaced: true });
    this.sets = client.resource({ group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true });
  }

  /** Applies the actions; throws the first error after trying all it could (the caller requeues). */
  async apply(set: StatefulSet, actions: Action[], written: Written): Promise<void> {
    const ns = set.metadata.namespace!;
    let firstError: unknown;
    for (const group of GROUPS) {
      const todo = units(actions.filter((a) => group.includes(a.type)));
      const errors = await slowStartBatch(todo, async (unit) => {
        const failed = (await Promise.allSettled(unit.map((a) => this.one(set, ns, a, written)))).find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      });
      firstError ??= errors.find((e) => e !== undefined);
      // Nothing may be created for a revision that does not exist.
      if (firstError !== undefined && (group.includes('createRevision') || group.includes('adoptRevision'))) break;
    }
    for (const a of actions) if (a.type === 'event') this.recorder.event(set, a.eventType, a.reason, a.message);
    if (firstError !== undefined) throw firstError;
  }

  async updateStatus(set: StatefulSet, status: NonNullable<StatefulSet['status']>, written: Written): Promise<void> {
    noteWrite(written, 'sets', await this.sets.updateStatus({ ...set, status }));
  }

  private async one(set: StatefulSet, ns: string, a: Action, written: Written): Promise<void> {
    const note = (kind: Kind, obj: KubeObject) => noteWrite(written, kind, obj);
    const setName = set.metadata.name;
    switch (a.type) {
      case 'createRevision':
        return note('revisions', await this.revisions.create(a.revision));
      case 'renumberRevision':
        return note('revisions', await this.revisions.patch(a.name, ns, 'merge', { revision: a.revision }));
      case 'deleteRevision':
        return ignoreNotFound(this.revisions.delete(a.name, ns)).then((o) => o && note('revisions', o));
      case 'adoptRevision': {
        const ownerReferences = [...(a.revision.metadata.ownerReferences ?? []), controllerRef(set)];
        const patch = { metadata: { ownerReferences, uid: a.revision.metadata.uid } };
        return note('revisions', await this.revisions.patch(a.revision.metadata.name!, ns, 'merge', patch));
      }
      case 'adoptPod':
      case 'releasePod': {
        const others = (a.pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== set.metadata.uid);
        const ownerReferences = a.type === 'adoptPod' ? [...others, controllerRef(set)] : others;
        // The uid guards against patching a different pod that took the name meanwhile.
        return note('pods', await this.pods.patch(a.pod.metadata.name!, ns, 'merge', { metadata: { ownerReferences, uid: a.pod.metadata.uid } }));
      }
      case 'setClaimOwners':
        return note(
          'claims',
          await this.claims.patch(a.claim.metadata.name!, ns, 'merge', { metadata: { ownerReferences: a.ownerReferences, uid: a.claim.metadata.uid } }),
        );
      case 'resizeClaim': {
        const verb = `update Claim ${a.claim.metadata.name} Pod ${a.pod} in StatefulSet ${setName}`;
        try {
          note('claims', await this.claims.patch(a.claim.metadata.name!, ns, 'merge', { spec: { resources: { requests: { storage: a.storage } } } }));
          this.recorder.event(set, 'Normal', 'SuccessfulUpdate', `${verb} success`);
        } catch (err) {
          this.recorder.event(set, 'Warning', 'FailedUpdate', `${verb} failed error: ${(err as Error).message}`);
          throw err;
        }
        return;
      }
      case 'createClaim': {
        try {
          note('claims', await this.claims.create(a.claim));
          this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${a.claim.metadata.name} Pod ${a.pod} in StatefulSet ${setName} success`);
        } catch (err) {
          if (isStatusError(err, 'AlreadyExists')) return;
          this.recorder.event(
            set,
            'Warning',
            'FailedCreate',
            `create Claim ${a.claim.metadata.name} for Pod ${a.pod} in StatefulSet ${setName} failed error: ${(err as Error).message}`,
          );
          throw err;
        }
        return;
      }
      case 'createPod':
        return this.podVerb(set, 'create', a.pod.metadata.name!, async () => note('pods', await this.pods.create(a.pod)));
      case 'deletePod':
        return this.podVerb(set, 'delete', a.pod.metadata.name!, async () => {
          const gone = await ignoreNotFound(this.pods.delete(a.pod.metadata.name!, ns, { preconditions: { uid: a.pod.metadata.uid } }));
          if (gone) note('pods', gone);
        });
      case 'labelPod':
        return this.podVerb(set, 'update', a.pod.metadata.name!, async () =>
          note('pods', await this.pods.patch(a.pod.metadata.name!, ns, 'merge', { metadata: { labels: a.labels, uid: a.pod.metadata.uid } })),
        );
      case 'event':
        return;
    }
  }

  /** A pod write with Kubernetes' events: "create Pod web-0 in StatefulSet web successful". */
  private async podVerb(set: StatefulSet, verb: 'create' | 'delete' | 'update', pod: string, write: () => Promise<void>): Promise<void> {
    const title = verb[0].toUpperCase() + verb.slice(1);
    try {
      await write();
    } catch (err) {
      // A pod that already exists is one the informer has not shown yet: no event, try again later.
      if (verb === 'create' && isStatusError(err, 'AlreadyExists')) throw err;
      this.recorder.event(set, 'Warning', `Failed${title}`, `${verb} Pod ${pod} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`);
      throw err;
    }
    this.recorder.event(set, 'Normal', `Successful${title}`, `${verb} Pod ${pod} in StatefulSet ${set.metadata.name} successful`);
  }
}

function noteWrite(written: Written, kind: Kind, obj: KubeObject): void {
  const rv = Number(obj.metadata.resourceVersion);
  if (rv > (written[kind] ?? 0)) written[kind] = rv;
}

async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return undefined;
    throw err;
  }
}

/**
 * Runs `fn` over the items in batches of 1, 2, 4, ... (client-go's slowStartBatch): a failure stops
 * further batches, so a systematic error costs one request, not thousands. Returns each item's error.
 */
export async function slowStartBatch<T>(items: T[], fn: (item: T) => Promise<void>): Promise<(unknown | undefined)[]> {
  const errors: (unknown | undefined)[] = new Array(items.length).fill(undefined);
  let done = 0;
  for (let size = 1; done < items.length; size *= 2) {
    const batch = items.slice(done, done + size);
    const results = await Promise.allSettled(batch.map(fn));
    results.forEach((r, i) => {
      if (r.status === 'rejected') errors[done + i] = r.reason ?? new Error('failed');
    });
    done += batch.length;
    if (results.some((r) => r.status === 'rejected')) {
      for (let i = done; i < items.length; i++) errors[i] = new Error('skipped after an earlier failure');
      break;
    }
  }
  return errors;
}
