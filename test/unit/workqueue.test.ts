import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BucketRateLimiter,
  FakeClock,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  WorkQueue,
  defaultControllerRateLimiter,
  realClock,
} from '../../src/client/workqueue.js';

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves to the promise's value, or 'pending' if it has not settled yet. */
async function peek<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, settle().then(() => 'pending' as const)]);
}

function queue(clock = new FakeClock()) {
  return { q: new WorkQueue<string>({ clock }), clock };
}

test('add deduplicates while an item is queued, in FIFO order', async () => {
  const { q } = queue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
});

test('an item being processed is not handed out again until done', async () => {
  const { q } = queue();
  q.add('a');
  assert.equal(await q.get(), 'a');
  q.add('a');
  q.add('a');
  // Re-added while processing: remembered, but not queued.
  assert.equal(q.len(), 0);
  const next = q.get();
  assert.equal(await peek(next), 'pending');
  q.done('a');
  assert.equal(await next, 'a');
  q.done('a');
  assert.equal(q.len(), 0);
});

test('an item re-added while processing goes to the back of the queue', async () => {
  const { q } = queue();
  q.add('a');
  assert.equal(await q.get(), 'a');
  q.add('a');
  q.add('b');
  q.done('a');
  assert.equal(await q.get(), 'b');
  assert.equal(await q.get(), 'a');
});

test('an item added after done is queued normally', async () => {
  const { q } = queue();
  q.add('a');
  assert.equal(await q.get(), 'a');
  q.done('a');
  assert.equal(q.len(), 0);
  q.add('a');
  assert.equal(q.len(), 1);
  // done for an item not being processed does not duplicate it.
  q.done('a');
  assert.equal(q.len(), 1);
});

test('get waits for an item; concurrent getters receive distinct items in order', async () => {
  const { q } = queue();
  const g1 = q.get();
  const g2 = q.get();
  assert.equal(await peek(g1), 'pending');
  q.add('x');
  q.add('y');
  assert.equal(await g1, 'x');
  assert.equal(await g2, 'y');
  assert.equal(q.len(), 0);
});

test('shutDown wakes waiting getters, hands out what is left, ignores new items', async () => {
  const { q } = queue();
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
  assert.equal(q.shuttingDown(), true);

  const { q: q2 } = queue();
  q2.add('a');
  q2.add('b');
  q2.shutDown();
  q2.add('c');
  assert.equal(q2.len(), 2);
  assert.equal(await q2.get(), 'a');
  assert.equal(await q2.get(), 'b');
  assert.equal(await q2.get(), undefined);
  assert.equal(await q2.get(), undefined);
});

test('shutDownWithDrain waits until every handed-out item is done', async () => {
  const { q } = queue();
  q.add('a');
  q.add('b');
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  const drained = q.shutDownWithDrain();
  assert.equal(await peek(drained), 'pending');
  q.done('a');
  assert.equal(await peek(drained), 'pending');
  q.done('b');
  assert.equal(await peek(drained), undefined);
  assert.equal(await q.get(), undefined);

  const { q: idle } = queue();
  await idle.shutDownWithDrain();

  // A plain shutDown stops waiting for the drain.
  const { q: q3 } = queue();
  q3.add('a');
  await q3.get();
  const d3 = q3.shutDownWithDrain();
  q3.shutDown();
  assert.equal(await peek(d3), undefined);
});

test('addAfter adds once the delay has passed', async () => {
  const { q, clock } = queue();
  q.addAfter('a', 100);
  q.addAfter('b', 50);
  assert.equal(q.len(), 0);
  clock.advance(49);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'b');
  clock.advance(50);
  assert.equal(await q.get(), 'a');
  assert.equal(clock.pendingTimers(), 0);
});

test('addAfter with no delay adds at once', () => {
  const { q } = queue();
  q.addAfter('a', 0);
  q.addAfter('b', -5);
  assert.equal(q.len(), 2);
});

test('addAfter: an earlier time wins, a later one does not postpone', async () => {
  const { q, clock } = queue();
  q.addAfter('a', 100);
  q.addAfter('a', 300);
  clock.advance(100);
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'a');
  q.done('a');
  clock.advance(500);
  assert.equal(q.len(), 0);

  q.addAfter('b', 300);
  q.addAfter('b', 100);
  clock.advance(100);
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'b');
  q.done('b');
  clock.advance(500);
  assert.equal(q.len(), 0);
});

test('items that come due together are added in time order', async () => {
  const { q, clock } = queue();
  q.addAfter('c', 30);
  q.addAfter('a', 10);
  q.addAfter('b', 20);
  clock.advance(100);
  assert.deepEqual([await q.get(), await q.get(), await q.get()], ['a', 'b', 'c']);
});

test('a delayed item already queued is not duplicated', async () => {
  const { q, clock } = queue();
  q.addAfter('a', 10);
  q.add('a');
  clock.advance(10);
  assert.equal(q.len(), 1);
  // Coming due while being processed, it is queued again after done.
  q.addAfter('b', 10);
  q.add('b');
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  clock.advance(10);
  assert.equal(q.len(), 0);
  q.done('b');
  assert.equal(await q.get(), 'b');
});

test('shutDown drops delayed items and clears the timer', () => {
  const { q, clock } = queue();
  q.addAfter('a', 100);
  assert.equal(clock.pendingTimers(), 1);
  q.shutDown();
  assert.equal(clock.pendingTimers(), 0);
  clock.advance(1000);
  assert.equal(q.len(), 0);
  q.addAfter('b', 10);
  q.addRateLimited('c');
  assert.equal(clock.pendingTimers(), 0);
});

test('addRateLimited backs off exponentially per item; forget resets', async () => {
  const { q, clock } = queue();
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    const start = clock.now();
    q.addRateLimited('a');
    while (q.len() === 0) clock.advance(1);
    delays.push(clock.now() - start);
    assert.equal(await q.get(), 'a');
    q.done('a');
  }
  assert.deepEqual(delays, [5, 10, 20, 40]);
  assert.equal(q.numRequeues('a'), 4);
  assert.equal(q.numRequeues('b'), 0);
  q.forget('a');
  assert.equal(q.numRequeues('a'), 0);
  q.addRateLimited('a');
  clock.advance(4);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(q.len(), 1);
});

test('the per-item backoff is capped at 1000 seconds', () => {
  const l = new ItemExponentialFailureRateLimiter<string>(5, 1000_000);
  const delays = Array.from({ length: 20 }, () => l.when('a'));
  assert.equal(delays[0], 5);
  assert.equal(delays[17], 655_360);
  assert.equal(delays[18], 1000_000);
  assert.equal(delays[19], 1000_000);
  for (let i = 0; i < 2000; i++) l.when('a');
  assert.equal(l.when('a'), 1000_000);
  assert.equal(l.numRequeues('a'), 2021);
  assert.equal(l.when('b'), 5);
});

test('the token bucket allows a burst of 100, then 10 per second', () => {
  const clock = new FakeClock();
  const bucket = new BucketRateLimiter<string>(10, 100, clock);
  for (let i = 0; i < 100; i++) assert.equal(bucket.when(`k${i}`), 0);
  assert.equal(bucket.when('x'), 100);
  assert.equal(bucket.when('y'), 200);
  // Tokens refill with time, and waiting callers stay queued behind each other.
  clock.advance(200);
  assert.equal(bucket.when('z'), 100);
  // Refilling stops at the burst size.
  clock.advance(60_000);
  for (let i = 0; i < 100; i++) assert.equal(bucket.when(`k${i}`), 0);
  assert.equal(bucket.when('w'), 100);
  assert.equal(bucket.numRequeues('x'), 0);
});

test('the default limiter takes the larger of backoff and bucket delay', () => {
  const clock = new FakeClock();
  const limiter = defaultControllerRateLimiter<string>(clock);
  // Bucket allows the first 100 at once, so the per-item backoff decides.
  assert.equal(limiter.when('a'), 5);
  assert.equal(limiter.when('a'), 10);
  for (let i = 0; i < 98; i++) limiter.when(`k${i}`);
  // Bucket empty: the 101st call waits 100 ms even though its backoff is only 5 ms.
  assert.equal(limiter.when('b'), 100);
  assert.equal(limiter.numRequeues('a'), 2);
  limiter.forget('a');
  assert.equal(limiter.numRequeues('a'), 0);

  const max = new MaxOfRateLimiter<string>(
    new ItemExponentialFailureRateLimiter(1, 1000),
    new ItemExponentialFailureRateLimiter(3, 1000),
  );
  assert.equal(max.when('a'), 3);
  assert.equal(max.when('a'), 6);
  assert.equal(max.numRequeues('a'), 2);
});

test('a custom rate limiter is used', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue<string>({
    clock,
    rateLimiter: { when: () => 1000, forget: () => {}, numRequeues: () => 7 },
  });
  q.addRateLimited('a');
  clock.advance(999);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(await q.get(), 'a');
  assert.equal(q.numRequeues('a'), 7);
});

test('with the real clock, delayed items arrive and shutdown clears pending timers', async () => {
  const live = new Set<unknown>();
  const spy = {
    now: () => realClock.now(),
    setTimer(fn: () => void, ms: number) {
      const h = realClock.setTimer(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimer(h: unknown) {
      live.delete(h);
      realClock.clearTimer(h);
    },
  };
  const q = new WorkQueue<string>({ clock: spy });
  q.addAfter('a', 20);
  // Were this timer left behind, the test process would stay alive for an hour.
  q.addAfter('b', 3_600_000);
  assert.equal(await q.get(), 'a');
  q.done('a');
  assert.equal(live.size, 1);
  q.shutDown();
  assert.equal(live.size, 0);
  assert.equal(await q.get(), undefined);
});

test('the real clock re-arms waits longer than Node timers allow instead of firing at once', async () => {
  let fired = false;
  const h = realClock.setTimer(() => {
    fired = true;
  }, 2 ** 32);
  await new Promise((resolve) => setTimeout(resolve, 20));
  realClock.clearTimer(h);
  assert.equal(fired, false);
});
