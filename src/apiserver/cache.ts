// The watch cache: one per resource, fed by a store watch. It holds every
// object of the resource decoded and serialized once per write, so gets, lists
// and watches are served from memory, and a ring of recent events so watches
// can resume from a recent resourceVersion without touching the store.
import type { KubeObject } from '../api/types.js';
import type { KeyValue, Store, StoreEvent, Watch } from '../store/types.js';

export interface CacheEntry {
  key: string;
  obj: KubeObject;
  /** `obj` serialized; never re-serialized per request. */
  json: string;
  revision: number;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent {
  type: EventType;
  entry: CacheEntry;
  /** The object before this event (absent for ADDED). */
  prev?: CacheEntry;
  revision: number;
}

export type CacheListener = (events: CacheEvent[], revision: number) => void;

const HISTORY = 10_000;

export class WatchCache {
  private readonly entries = new Map<string, CacheEntry>();
  private sortedKeys: string[] | undefined;
  private history: CacheEvent[] = [];
  /** The store revision the cache reflects: every event up to it has been applied. */
  revision = 0;
  /** The oldest revision from which `eventsSince` can answer. */
  private oldest = 0;
  private readonly listeners = new Set<CacheListener>();
  private watch?: Watch;

  private constructor(readonly prefix: string) {}

  static async start(store: Store, prefix: string): Promise<WatchCache> {
    const cache = new WatchCache(prefix);
    const { kvs, revision } = await store.list(prefix);
    for (const kv of kvs) cache.entries.set(kv.key, decodeEntry(kv));
    cache.revision = revision;
    cache.oldest = revision;
    cache.watch = await store.watch(prefix, revision, {
      events: (evs) => cache.apply(evs),
      progress: (rev) => cache.progress(rev),
    });
    return cache;
  }

  stop(): void {
    this.watch?.stop();
    this.listeners.clear();
  }

  get(key: string): CacheEntry | undefined {
    return this.entries.get(key);
  }

  /** Entries whose key starts with `prefix`, in key order. */
  list(prefix = this.prefix): CacheEntry[] {
    if (!this.sortedKeys) this.sortedKeys = [...this.entries.keys()].sort();
    const keys = this.sortedKeys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: CacheEntry[] = [];
    for (let i = lo; i < keys.length && keys[i].startsWith(prefix); i++) out.push(this.entries.get(keys[i])!);
    return out;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Events after `revision`, or undefined when the ring no longer reaches back that far. */
  eventsSince(revision: number): CacheEvent[] | undefined {
    if (revision < this.oldest) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].revision <= revision) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  subscribe(listener: CacheListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(events: StoreEvent[]): void {
    const out: CacheEvent[] = [];
    for (const ev of events) {
      const prev = this.entries.get(ev.kv.key);
      const revision = ev.kv.modRevision;
      if (ev.type === 'delete') {
        if (!prev) continue;
        this.entries.delete(ev.kv.key);
        this.sortedKeys = undefined;
        // A deleted object is reported with the delete's resourceVersion, as Kubernetes does.
        out.push({ type: 'DELETED', entry: withRevision(prev, revision), prev, revision });
      } else {
        const entry = decodeEntry(ev.kv);
        this.entries.set(ev.kv.key, entry);
        if (!prev) this.sortedKeys = undefined;
        out.push({ type: prev ? 'MODIFIED' : 'ADDED', entry, prev, revision });
      }
    }
    if (!out.length) return;
    this.history.push(...out);
    // Trimmed in bulk once it has twice what it keeps, so a write does not copy the whole ring.
    if (this.history.length >= 2 * HISTORY) {
      const drop = this.history.length - HISTORY;
      this.oldest = this.history[drop - 1].revision;
      this.history = this.history.slice(drop);
    }
    this.revision = out[out.length - 1].revision;
    for (const l of this.listeners) l(out, this.revision);
  }

  private progress(revision: number): void {
    if (revision <= this.revision) return;
    this.revision = revision;
    for (const l of this.listeners) l([], revision);
  }
}

/** A stored value as served: decoded, with its revision as resourceVersion, serialized once. */
export function decodeEntry({ key, value, modRevision: revision }: KeyValue): CacheEntry {
  const obj = JSON.parse(value) as KubeObject;
  obj.metadata.resourceVersion = String(revision);
  return { key, obj, json: JSON.stringify(obj), revision };
}

function withRevision(entry: CacheEntry, revision: number): CacheEntry {
  const obj = { ...entry.obj, metadata: { ...entry.obj.metadata, resourceVersion: String(revision) } };
  return { key: entry.key, obj, json: JSON.stringify(obj), revision };
}
