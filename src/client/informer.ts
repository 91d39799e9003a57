// An informer: list, then watch from the list's resourceVersion into a local
// cache; handlers hear about adds, updates and deletes. A watch that ends is
// resumed from the last resourceVersion seen (bookmarks keep it fresh); a 410
// Gone means history is lost, so the informer lists again and reports the
// difference. Failures back off and retry; the informer never gives up.
import type { KubeObject } from '../api/types.js';
import { StatusError } from '../machinery/errors.js';
import type { ResourceClient } from './client.js';
import type { WatchStream } from './transport.js';

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch timeout in seconds (the watch is then resumed). */
  watchTimeoutSeconds?: number;
}

export function objectKey(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name}` : String(name);
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;

export class Informer<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private stream?: WatchStream;
  private stopped = false;
  private backoff = MIN_BACKOFF_MS;
  private retryTimer?: NodeJS.Timeout;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private rvWaiters: { rv: number; resolve: () => void }[] = [];

  constructor(
    private readonly client: ResourceClient<T>,
    private readonly opts: InformerOptions = {},
  ) {}

  on(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    return this;
  }

  /** Starts listing and watching; resolves once the first list is in the cache. */
  start(): Promise<void> {
    void this.relist();
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  /**
   * Resolves once the cache reflects resourceVersion `rv` or later (or after `timeoutMs`). Revisions
   * are global, so a controller that wrote at `rv` waits here to see its own write before deciding
   * again (client-go's controllers keep "expectations" for the same purpose).
   */
  waitForResourceVersion(rv: string | number | undefined, timeoutMs = 5000): Promise<void> {
    const want = Number(rv);
    if (!Number.isFinite(want) || Number(this.resourceVersion) >= want) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { rv: want, resolve: () => {} };
      const timer = setTimeout(() => waiter.resolve(), timeoutMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        this.rvWaiters = this.rvWaiters.filter((w) => w !== waiter);
        resolve();
      };
      this.rvWaiters.push(waiter);
    });
  }

  private advance(rv: string): void {
    this.resourceVersion = rv;
    const n = Number(rv);
    for (const w of this.rvWaiters) if (w.rv <= n) w.resolve();
  }

  /** The resourceVersion the cache reflects. */
  get lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stream?.stop();
  }

  private emit<K extends keyof InformerHandlers<T>>(kind: K, ...args: Parameters<NonNullable<InformerHandlers<T>[K]>>): void {
    for (const h of this.handlers) {
      const fn = h[kind] as ((...a: unknown[]) => void) | undefined;
      fn?.(...args);
    }
  }

  private retryLater(action: () => void): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(action, this.backoff);
    this.retryTimer.unref();
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const items: T[] = [];
      let cont: string | undefined;
      let rv = '';
      do {
        const page = await this.client.list(this.opts.namespace, {
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          limit: 500,
          continue: cont,
        });
        items.push(...page.items);
        cont = page.metadata.continue;
        rv = page.metadata.resourceVersion ?? rv;
      } while (cont);
      if (this.stopped) return;
      this.replace(items);
      this.advance(rv);
      this.backoff = MIN_BACKOFF_MS;
      if (!this.synced) {
        this.synced = true;
        for (const w of this.syncWaiters.splice(0)) w();
      }
      this.watch();
    } catch {
      this.retryLater(() => void this.relist());
    }
  }

  /** Replaces the cache with a fresh list, reporting what changed. */
  private replace(items: T[]): void {
    const fresh = new Map(items.map((o) => [objectKey(o), o]));
    for (const [key, old] of this.items)
      if (!fresh.has(key)) {
        this.items.delete(key);
        this.emit('delete', old);
      }
    for (const [key, obj] of fresh) {
      const old = this.items.get(key);
      this.items.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', old, obj);
    }
  }

  private watch(): void {
    if (this.stopped) return;
    this.stream = this.client.watch(
      this.opts.namespace,
      {
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300),
      },
      (ev) => {
        this.backoff = MIN_BACKOFF_MS;
        const obj = ev.object;
        const rv = obj.metadata?.resourceVersion;
        if (ev.type === 'BOOKMARK') {
          if (rv) this.advance(rv);
          return;
        }
        const key = objectKey(obj);
        const old = this.items.get(key);
        if (ev.type === 'DELETED') {
          this.items.delete(key);
          this.emit('delete', obj);
        } else {
          this.items.set(key, obj);
          if (old) this.emit('update', old, obj);
          else this.emit('add', obj);
        }
        if (rv) this.advance(rv);
      },
      (err) => {
        if (this.stopped) return;
        if (err instanceof StatusError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone')) {
          void this.relist();
        } else if (err) {
          this.retryLater(() => this.watch());
        } else {
          this.watch();
        }
      },
    );
  }
}
