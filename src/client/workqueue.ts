// The rate-limited work queue controllers feed from informers, with client-go's semantics:
// a key is queued at most once, is never handed to two workers at the same time, and a key
// re-added while a worker holds it is queued again when the worker calls done(). Failed keys
// are retried with per-key exponential backoff bounded by an overall token bucket.

/** Time source and timers, injectable so tests can drive time by hand. Milliseconds throughout. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

// Node's setTimeout overflows past 2^31-1 ms and fires at once; longer waits are re-armed.
const MAX_TIMER_MS = 2 ** 31 - 1;

// Timers are not unref'd: a pending retry is work, and a worker awaiting it must not see the
// process exit under it. The queue clears its timer on shutdown instead.
export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    return setTimeout(fn, Math.min(Math.max(ms, 0), MAX_TIMER_MS));
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that only moves when told to; timers fire synchronously inside advance(). */
export class FakeClock implements Clock {
  private timers: FakeTimer[] = [];
  private nextId = 1;

  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.push({ id, at: this.current + Math.max(ms, 0), fn });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward by `ms`, firing each due timer at its own time, earliest first. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at)) next = t;
      if (!next) break;
      const due = next;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = due.at;
      due.fn();
    }
    this.current = target;
  }

  /** Timers not yet fired. */
  pendingTimers(): number {
    return this.timers.length;
  }
}

/** Decides how long a key waits before it is retried. */
export interface RateLimiter<T> {
  /** The delay, in ms, before `item` may be retried; calling it records one more failure. */
  when(item: T): number;
  /** Clears the item's failure history (call it when the item was processed successfully). */
  forget(item: T): void;
  numRequeues(item: T): number;
}

/** Per-item backoff: base·2^failures, capped at max. */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();

  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
  ) {}

  when(item: T): number {
    const exp = this.failures.get(item) ?? 0;
    this.failures.set(item, exp + 1);
    const backoff = this.baseDelayMs * 2 ** exp;
    return Number.isFinite(backoff) && backoff <= this.maxDelayMs ? backoff : this.maxDelayMs;
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * An overall token bucket (golang.org/x/time/rate semantics): `burst` retries at once, then
 * `qps` per second. Every call takes a token, so waiting callers queue up behind each other.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_item: T): number {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.qps) / 1000) - 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** Asks every limiter (so each records the attempt) and waits for the longest answer. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }

  when(item: T): number {
    let delay = 0;
    for (const l of this.limiters) delay = Math.max(delay, l.when(item));
    return delay;
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.numRequeues(item));
    return n;
  }
}

/** client-go's DefaultControllerRateLimiter: 5 ms doubling up to 1000 s per item, 10 qps / burst 100 overall. */
export function defaultControllerRateLimiter<T>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(5, 1000_000),
    new BucketRateLimiter<T>(10, 100, clock),
  );
}

export interface WorkQueueOptions<T> {
  clock?: Clock;
  rateLimiter?: RateLimiter<T>;
}

/**
 * A deduplicating FIFO with delayed and rate-limited adds (client-go's rate-limiting queue).
 * Items are compared with ===, so keys are normally strings (`namespace/name`).
 */
export class WorkQueue<T = string> {
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter<T>;

  private queue: T[] = [];
  private head = 0;
  /** Items that need processing: queued, or re-added while being processed. */
  private readonly dirty = new Set<T>();
  private readonly processing = new Set<T>();
  private readonly getters: ((item: T | undefined) => void)[] = [];
  private shutdown = false;
  private drainWaiters: (() => void)[] = [];

  /** Delayed adds: the ready time per item, and a heap of (time, item) entries that may be stale. */
  private readonly waiting = new Map<T, number>();
  private heap: { at: number; seq: number; item: T }[] = [];
  private seq = 0;
  private timer: unknown;
  private timerAt = Infinity;

  constructor(opts: WorkQueueOptions<T> = {}) {
    this.clock = opts.clock ?? realClock;
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
  }

  /** Queues `item` unless it is already queued; an item being processed is queued again after done(). */
  add(item: T): void {
    if (this.shutdown || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.queue.push(item);
    this.dispatch();
  }

  /** Number of items waiting to be handed out (not counting those being processed or delayed). */
  len(): number {
    return this.queue.length - this.head;
  }

  /**
   * The next item, once there is one; the caller must call done(item) when finished with it.
   * After shutdown, items still queued are handed out, then undefined.
   */
  get(): Promise<T | undefined> {
    if (this.len() > 0) return Promise.resolve(this.take());
    if (this.shutdown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `item` as processed; if it was added meanwhile, it is queued again. */
  done(item: T): void {
    if (!this.processing.delete(item)) return;
    if (this.dirty.has(item)) {
      this.queue.push(item);
      this.dispatch();
    } else if (this.processing.size === 0) {
      this.resolveDrain();
    }
  }

  /** Adds `item` after `ms`; a later delay for an item already waiting does not postpone it. */
  addAfter(item: T, ms: number): void {
    if (this.shutdown) return;
    if (ms <= 0) {
      this.add(item);
      return;
    }
    const at = this.clock.now() + ms;
    const existing = this.waiting.get(item);
    if (existing !== undefined && existing <= at) return;
    this.waiting.set(item, at);
    this.heapPush({ at, seq: this.seq++, item });
    this.arm();
  }

  /** Adds `item` when the rate limiter allows: after its backoff, or later if the overall bucket is empty. */
  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** Resets `item`'s backoff; call it once the item has been processed successfully. */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  /** How many times `item` has been re-queued through addRateLimited since it was last forgotten. */
  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }

  shuttingDown(): boolean {
    return this.shutdown;
  }

  /** Stops accepting items; waiting get() calls return undefined once the queue is empty. Delayed adds are dropped. */
  shutDown(): void {
    this.stop();
    this.resolveDrain();
  }

  /** Like shutDown, and resolves once every item handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.stop();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private stop(): void {
    this.shutdown = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.waiting.clear();
    this.heap = [];
    if (this.len() === 0) for (const resolve of this.getters.splice(0)) resolve(undefined);
  }

  private resolveDrain(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private take(): T {
    const item = this.queue[this.head++];
    // Compact now and then instead of shifting on every take.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.processing.add(item);
    this.dirty.delete(item);
    return item;
  }

  private dispatch(): void {
    while (this.getters.length > 0 && this.len() > 0) this.getters.shift()!(this.take());
  }

  // --- delayed adds ---

  private heapPush(entry: { at: number; seq: number; item: T }): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private heapPop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l], h[m])) m = l;
      if (r < h.length && this.before(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }

  private before(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  /** The earliest live heap entry, discarding entries superseded by an earlier addAfter. */
  private peek(): { at: number; item: T } | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0];
      if (this.waiting.get(top.item) === top.at) return top;
      this.heapPop();
    }
    return undefined;
  }

  /** Keeps one timer armed for the earliest waiting item. */
  private arm(): void {
    const next = this.peek();
    const at = next?.at ?? Infinity;
    if (at === this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (next) this.timer = this.clock.setTimer(() => this.onTimer(), at - this.clock.now());
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    for (let next = this.peek(); next && next.at <= now; next = this.peek()) {
      this.heapPop();
      this.waiting.delete(next.item);
      this.add(next.item);
    }
    this.arm();
  }
}

/**
 * A controller worker: takes keys until the queue shuts down, syncs each, forgets its backoff on
 * success and requeues it rate-limited on failure (reported through `onError`).
 */
export async function runWorker<T>(
  queue: WorkQueue<T>,
  sync: (key: T) => Promise<void>,
  onError: (err: unknown, key: T) => void,
): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    try {
      await sync(key);
      queue.forget(key);
    } catch (err) {
      onError(err, key);
      queue.addRateLimited(key);
    } finally {
      queue.done(key);
    }
  }
}
