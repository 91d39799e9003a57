// The PersistentVolume controller's wiring: informers on claims, volumes,
// storage classes and nodes; one queue of `claim:<ns>/<name>` and
// `volume:<name>` keys. A claim is decided against only the volumes that can
// concern it (the one it names, those pre-bound to it, and the unclaimed
// ones), so a thousand claims do not each scan a thousand volumes.
import type { Logger } from 'pino';
import type { KubeObject } from '../../api/types.js';
import type { StorageClass } from '../../api/storage/storageclasses.js';
import type { Client } from '../../client/client.js';
import { EventRecorder } from '../../client/events.js';
import { Informer, objectKey } from '../../client/informer.js';
import { SetIndex } from '../../client/setindex.js';
import { runWorker, WorkQueue } from '../../client/workqueue.js';
import { isStatusError } from '../../machinery/errors.js';
import type { Provisioner } from '../../volumes/provisioner.js';
import { VolumeActor, type Written } from './act.js';
import { claimKey, decideClaim, decideVolume, type Claim, type Volume } from './decide.js';

const WORKERS = 32;

export class VolumeController {
  private readonly claims: Informer<Claim & KubeObject>;
  private readonly volumes: Informer<Volume & KubeObject>;
  private readonly classes: Informer<StorageClass>;
  private readonly nodes: Informer<KubeObject>;
  private readonly queue = new WorkQueue<string>();
  private readonly actor: VolumeActor;
  /** claim key → names of volumes whose claimRef names it. */
  private readonly volumesByClaim = new SetIndex();
  private readonly unclaimed = new Set<string>();
  private readonly written = new Map<string, Written>();

  constructor(
    client: Client,
    provisioners: Provisioner[],
    private readonly log: Logger,
  ) {
    const rc = <T extends KubeObject>(group: string, resource: string, namespaced: boolean) =>
      client.resource<T>({ group, version: 'v1', resource, namespaced });
    this.claims = new Informer(rc<Claim & KubeObject>('', 'persistentvolumeclaims', true));
    this.volumes = new Informer(rc<Volume & KubeObject>('', 'persistentvolumes', false));
    this.classes = new Informer(rc<StorageClass>('storage.k8s.io', 'storageclasses', false));
    this.nodes = new Informer(rc<KubeObject>('', 'nodes', false));
    this.actor = new VolumeActor(
      client,
      new Map(provisioners.map((p) => [p.name, p])),
      new EventRecorder(client, 'persistentvolume-controller', log),
      {
        claim: (ns, name) => this.claims.get(`${ns}/${name}`),
        volume: (name) => this.volumes.get(name),
        storageClass: (name) => this.classes.get(name) as { reclaimPolicy?: string; mountOptions?: string[] } | undefined,
      },
      (claim) => this.queue.add(`claim:${claim.namespace}/${claim.name}`),
    );
  }

  async start(): Promise<void> {
    this.claims.on({
      add: (c) => this.queue.add(`claim:${objectKey(c)}`),
      update: (_o, c) => this.queue.add(`claim:${objectKey(c)}`),
      // The volume bound to a deleted claim is released.
      delete: (c) => {
        for (const v of this.volumesByClaim.get(claimKey(c.metadata.namespace, c.metadata.name))) this.queue.add(`volume:${v}`);
      },
    });
    this.volumes.on({
      add: (v) => this.volumeChanged(undefined, v),
      update: (o, v) => this.volumeChanged(o, v),
      delete: (v) => {
        this.index(v, false);
        this.claimOf(v);
      },
    });
    // A class appearing (or changing) may let pending claims provision.
    const pending = () => {
      for (const c of this.claims.list()) if (c.status?.phase !== 'Bound') this.queue.add(`claim:${objectKey(c)}`);
    };
    this.classes.on({ add: pending, update: pending });
    await Promise.all([this.volumes.start(), this.classes.start(), this.nodes.start()]);
    await this.claims.start();
    const onError = (err: unknown, key: string) => {
      if (isStatusError(err) && err.code === 409) this.log.debug({ err, key }, 'volume sync raced; retrying');
      else this.log.warn({ err, key }, 'volume sync failed; retrying');
    };
    for (let i = 0; i < WORKERS; i++) void runWorker(this.queue, (key) => this.sync(key), onError);
  }

  stop(): void {
    for (const i of [this.claims, this.volumes, this.classes, this.nodes]) i.stop();
    this.queue.shutDown();
  }

  private volumeChanged(old: Volume | undefined, v: Volume): void {
    if (old) this.index(old, false);
    this.index(v, true);
    this.queue.add(`volume:${v.metadata.name}`);
    this.claimOf(v);
    // A volume nobody claims may suit a pending claim.
    if (!v.spec?.claimRef && (!old || old.spec?.claimRef))
      for (const c of this.claims.list()) if (c.status?.phase !== 'Bound') this.queue.add(`claim:${objectKey(c)}`);
  }

  private claimOf(v: Volume): void {
    const ref = v.spec?.claimRef;
    if (ref?.name) this.queue.add(`claim:${ref.namespace}/${ref.name}`);
  }

  private index(v: Volume, present: boolean): void {
    const name = v.metadata.name!;
    const ref = v.spec?.claimRef;
    if (!ref) {
      if (present) this.unclaimed.add(name);
      else this.unclaimed.delete(name);
      return;
    }
    this.volumesByClaim.set(claimKey(ref.namespace, ref.name), name, present);
  }

  private async sync(key: string): Promise<void> {
    const written = this.written.get(key) ?? {};
    await Promise.all([this.claims.waitForResourceVersion(written.claims), this.volumes.waitForResourceVersion(written.volumes)]);
    const next: Written = {};
    this.written.set(key, next);
    const now = Date.now();
    if (key.startsWith('claim:')) {
      const claim = this.claims.get(key.slice('claim:'.length));
      if (!claim) {
        this.written.delete(key);
        return;
      }
      const actions = decideClaim(claim, this.candidates(claim), this.classes.list(), now, {
        nodeLabels: (name) => this.nodes.get(name)?.metadata.labels,
      });
      await this.actor.apply(actions, next);
    } else {
      const volume = this.volumes.get(key.slice('volume:'.length));
      if (!volume) {
        this.written.delete(key);
        return;
      }
      const ref = volume.spec?.claimRef;
      const claim = ref ? this.claims.get(`${ref.namespace}/${ref.name}`) : undefined;
      const claims = new Map(claim ? [[claimKey(ref!.namespace, ref!.name), claim]] : []);
      await this.actor.apply(decideVolume(volume, claims, now), next);
    }
  }

  /** The volumes a claim's decision can involve: the one it names, those pre-bound to it, the unclaimed. */
  private candidates(claim: Claim): Volume[] {
    const names = new Set<string>(this.unclaimed);
    for (const n of this.volumesByClaim.get(claimKey(claim.metadata.namespace, claim.metadata.name))) names.add(n);
    if (claim.spec?.volumeName) names.add(claim.spec.volumeName);
    return [...names].map((n) => this.volumes.get(n)).filter((v): v is Volume & KubeObject => !!v);
  }
}
