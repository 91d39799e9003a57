// The StatefulSet controller's wiring: informers on StatefulSets, Pods,
// PersistentVolumeClaims and ControllerRevisions, indexes from each object to
// the set it concerns, and a work queue of set keys. A sync waits until the
// informers show this controller's own last writes for the set (revisions are
// global, so one number says it), then decides and acts.
import type { Logger } from 'pino';
import type { KubeObject } from '../../api/types.js';
import type { Client } from '../../client/client.js';
import { EventRecorder } from '../../client/events.js';
import { Informer, objectKey } from '../../client/informer.js';
import { SetIndex } from '../../client/setindex.js';
import { runWorker, WorkQueue } from '../../client/workqueue.js';
import { isStatusError } from '../../machinery/errors.js';
import { StatefulSetActor, type Written } from './act.js';
import { decide } from './decide.js';
import { claimTemplates, controllerOf, parentAndOrdinal, type Claim, type Pod, type StatefulSet } from './identity.js';
import type { ControllerRevision } from './revision.js';

const WORKERS = 4;
const COALESCE_ABOVE_MS = 2;

export class StatefulSetController {
  private readonly sets: Informer<StatefulSet>;
  private readonly pods: Informer<Pod>;
  private readonly claims: Informer<Claim>;
  private readonly revisions: Informer<ControllerRevision>;
  private readonly queue = new WorkQueue<string>();
  private readonly actor: StatefulSetActor;
  /** `namespace/set` → keys of pods named `<set>-<ordinal>`. */
  private readonly podsBySet = new SetIndex();
  /** namespace → claim name → claim. */
  private readonly claimsByNamespace = new Map<string, Map<string, Claim>>();
  /** set uid (or `orphans/<namespace>`) → keys of its revisions. */
  private readonly revisionsByOwner = new SetIndex();
  private readonly revisionIndex = new Map<string, string>();
  /** set key → how long its last sync took (ms). */
  private readonly syncCost = new Map<string, number>();
  /** set key → what this controller last wrote for it. */
  private readonly written = new Map<string, Written>();

  constructor(
    client: Client,
    private readonly log: Logger,
  ) {
    const rc = <T extends KubeObject>(group: string, resource: string) =>
      client.resource<T>({ group, version: 'v1', resource, namespaced: true });
    this.sets = new Informer(rc<StatefulSet>('apps', 'statefulsets'));
    this.pods = new Informer(rc<Pod>('', 'pods'));
    this.claims = new Informer(rc<Claim>('', 'persistentvolumeclaims'));
    this.revisions = new Informer(rc<ControllerRevision>('apps', 'controllerrevisions'));
    this.actor = new StatefulSetActor(client, new EventRecorder(client, 'statefulset-controller', log));
  }

  async start(): Promise<void> {
    this.sets.on({
      add: (s) => this.queue.add(objectKey(s)),
      update: (_o, s) => this.queue.add(objectKey(s)),
      delete: (s) => {
        this.written.delete(objectKey(s));
        this.syncCost.delete(objectKey(s));
      },
    });
    this.pods.on({
      add: (p) => this.podChanged(p, true),
      update: (_o, p) => this.podChanged(p, true),
      delete: (p) => this.podChanged(p, false),
    });
    this.claims.on({
      add: (c) => this.claimChanged(c, true),
      update: (_o, c) => this.claimChanged(c, true),
      delete: (c) => this.claimChanged(c, false),
    });
    this.revisions.on({
      add: (r) => this.revisionChanged(r, true),
      update: (_o, r) => this.revisionChanged(r, true),
      delete: (r) => this.revisionChanged(r, false),
    });
    // Dependents first, so the first sync of every set sees them.
    await Promise.all([this.pods.start(), this.claims.start(), this.revisions.start()]);
    await this.sets.start();
    const onError = (err: unknown, key: string) => {
      if (isStatusError(err) && (err.code === 409 || err.reason === 'AlreadyExists')) this.log.debug({ err, statefulset: key }, 'sync raced; retrying');
      else this.log.warn({ err, statefulset: key }, 'statefulset sync failed; retrying');
    };
    for (let i = 0; i < WORKERS; i++) void runWorker(this.queue, (key) => this.sync(key), onError);
  }

  stop(): void {
    for (const i of [this.sets, this.pods, this.claims, this.revisions]) i.stop();
    this.queue.shutDown();
  }

  private podChanged(pod: Pod, present: boolean): void {
    const ns = pod.metadata.namespace!;
    const { parent } = parentAndOrdinal(pod.metadata.name!);
    if (parent) {
      const key = `${ns}/${parent}`;
      this.podsBySet.set(key, objectKey(pod), present);
      if (this.sets.get(key)) this.enqueue(key);
    }
    const owner = controllerOf(pod);
    if (owner?.kind === 'StatefulSet' && owner.name !== parent) this.enqueue(`${ns}/${owner.name}`);
  }

  private claimChanged(claim: Claim, present: boolean): void {
    const ns = claim.metadata.namespace!;
    let claims = this.claimsByNamespace.get(ns);
    if (present) {
      if (!claims) this.claimsByNamespace.set(ns, (claims = new Map()));
      claims.set(claim.metadata.name!, claim);
    } else claims?.delete(claim.metadata.name!);
    // A claim named `<template>-<set>-<ordinal>` concerns that set.
    const { parent } = parentAndOrdinal(claim.metadata.name!);
    for (const set of this.sets.list()) {
      if (set.metadata.namespace !== ns) continue;
      if (claimTemplates(set).some((t) => parent === `${t.metadata?.name}-${set.metadata.name}`)) this.enqueue(objectKey(set));
    }
  }

  private revisionChanged(rev: ControllerRevision, present: boolean): void {
    const owner = controllerOf(rev);
    const key = objectKey(rev);
    // Orphans are indexed by namespace: any set there may adopt them.
    const index = owner ? owner.uid : `orphans/${rev.metadata.namespace}`;
    const previous = this.revisionIndex.get(key);
    if (previous !== undefined && (previous !== index || !present)) {
      this.revisionsByOwner.delete(previous, key);
      this.revisionIndex.delete(key);
    }
    if (present) {
      this.revisionsByOwner.add(index, key);
      this.revisionIndex.set(key, index);
    }
    if (owner?.kind === 'StatefulSet') this.queue.add(`${rev.metadata.namespace}/${owner.name}`);
    else if (!owner) for (const set of this.sets.list()) if (set.metadata.namespace === rev.metadata.namespace) this.queue.add(objectKey(set));
  }

  /**
   * Queues a sync for a dependent's change. A set whose sync is costly (thousands of pods) waits as
   * long as its last sync took, so bursts of pod events coalesce into fewer syncs and the controller
   * takes at most about half the process's time; small sets sync at once.
   */
  private enqueue(key: string): void {
    const cost = this.syncCost.get(key) ?? 0;
    if (cost > COALESCE_ABOVE_MS) this.queue.addAfter(key, cost);
    else this.queue.add(key);
  }

  private async sync(key: string): Promise<void> {
    const started = performance.now();
    try {
      await this.syncSet(key);
    } finally {
      this.syncCost.set(key, performance.now() - started);
    }
  }

  private async syncSet(key: string): Promise<void> {
    const written = this.written.get(key) ?? {};
    await Promise.all([
      this.sets.waitForResourceVersion(written.sets),
      this.pods.waitForResourceVersion(written.pods),
      this.claims.waitForResourceVersion(written.claims),
      this.revisions.waitForResourceVersion(written.revisions),
    ]);
    const set = this.sets.get(key);
    if (!set) return;
    const pods = [...this.podsBySet.get(key)].map((k) => this.pods.get(k)).filter((p): p is Pod => !!p);
    const revisions = [...this.revisionsByOwner.get(set.metadata.uid!), ...this.revisionsByOwner.get(`orphans/${set.metadata.namespace}`)]
      .map((k) => this.revisions.get(k))
      .filter((r): r is ControllerRevision => !!r);
    const decision = decide({
      set,
      pods,
      claims: this.claimsByNamespace.get(set.metadata.namespace!) ?? new Map(),
      revisions,
      now: Date.now(),
    });
    const next: Written = {};
    this.written.set(key, next);
    let failure: unknown;
    try {
      await this.actor.apply(set, decision.actions, next);
    } catch (err) {
      failure = err;
    }
    if (decision.status) await this.actor.updateStatus(set, decision.status, next);
    if (failure !== undefined) throw failure;
    if (decision.requeueAfterMs !== undefined) this.queue.addAfter(key, decision.requeueAfterMs);
  }
}
