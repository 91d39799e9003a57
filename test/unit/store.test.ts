import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import { StoreError, type StoreEvent } from '../../src/store/types.js';

function withStore(fn: (s: SqliteStore, file: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
    const file = join(dir, 'state.db');
    const s = new SqliteStore(file);
    try {
      await fn(s, file);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const code = (c: string) => (e: unknown) => e instanceof StoreError && e.code === c;

test('create, get, update, delete with revisions', withStore(async (s) => {
  const a = await s.create('/r/pods/ns/a', '{"v":1}');
  assert.equal(a.createRevision, a.modRevision);
  await assert.rejects(s.create('/r/pods/ns/a', '{}'), code('KeyExists'));
  const a2 = await s.update('/r/pods/ns/a', '{"v":2}', a.modRevision);
  assert.ok(a2.modRevision > a.modRevision);
  assert.equal(a2.createRevision, a.createRevision);
  await assert.rejects(s.update('/r/pods/ns/a', '{"v":3}', a.modRevision), (e: unknown) =>
    e instanceof StoreError && e.code === 'Conflict' && e.current?.modRevision === a2.modRevision);
  assert.equal((await s.get('/r/pods/ns/a'))?.value, '{"v":2}');
  assert.equal((await s.get('/r/pods/ns/a', a.modRevision))?.value, '{"v":1}');
  const d = await s.delete('/r/pods/ns/a', a2.modRevision);
  assert.equal(d.value, '{"v":2}');
  assert.equal(await s.get('/r/pods/ns/a'), undefined);
  assert.equal((await s.get('/r/pods/ns/a', a2.modRevision))?.value, '{"v":2}');
  await assert.rejects(s.delete('/r/pods/ns/a'), code('NotFound'));
  await assert.rejects(s.update('/r/pods/ns/a', '{}', d.modRevision), code('NotFound'));
  // Re-created keys start a new life.
  const again = await s.create('/r/pods/ns/a', '{"v":4}');
  assert.equal(again.createRevision, again.modRevision);
}));

test('list by prefix at a revision, with pagination', withStore(async (s) => {
  for (const n of ['c', 'a', 'b']) await s.create(`/r/pods/ns1/${n}`, n);
  await s.create('/r/pods/ns2/x', 'x');
  await s.create('/r/podsx/ns1/z', 'z'); // shares a string prefix but not the key prefix
  const r1 = await s.revision();
  await s.delete('/r/pods/ns1/b');
  await s.update('/r/pods/ns1/a', 'a2', (await s.get('/r/pods/ns1/a'))!.modRevision);

  const now = await s.list('/r/pods/ns1/');
  assert.deepEqual(now.kvs.map((kv) => kv.value), ['a2', 'c']);
  const then = await s.list('/r/pods/ns1/', { revision: r1 });
  assert.deepEqual(then.kvs.map((kv) => kv.value), ['a', 'b', 'c']);
  assert.equal(then.revision, r1);
  const all = await s.list('/r/pods/');
  assert.deepEqual(all.kvs.map((kv) => kv.key), ['/r/pods/ns1/a', '/r/pods/ns1/c', '/r/pods/ns2/x']);

  const p1 = await s.list('/r/pods/', { revision: r1, limit: 2 });
  assert.deepEqual(p1.kvs.map((kv) => kv.value), ['a', 'b']);
  assert.equal(p1.more, true);
  const p2 = await s.list('/r/pods/', { revision: r1, limit: 2, after: p1.kvs[1].key });
  assert.deepEqual(p2.kvs.map((kv) => kv.value), ['c', 'x']);
  assert.equal(p2.more, false);
}));

test('watch replays history then delivers live events in order', withStore(async (s) => {
  const a = await s.create('/r/cm/ns/a', '1');
  const start = a.modRevision;
  await s.update('/r/cm/ns/a', '2', a.modRevision);
  await s.create('/r/other/ns/q', 'q');
  const seen: StoreEvent[] = [];
  const progress: number[] = [];
  const w = await s.watch('/r/cm/', start, { events: (evs) => seen.push(...evs), progress: (r) => progress.push(r) });
  assert.deepEqual(seen.map((e) => [e.type, e.kv.value, e.prevKv?.value]), [['put', '2', '1']]);
  await s.delete('/r/cm/ns/a');
  await s.create('/r/other/ns/r', 'r');
  assert.deepEqual(seen.map((e) => [e.type, e.kv.value]), [['put', '2'], ['delete', '2']]);
  assert.equal(progress.at(-1), await s.revision());
  const revs = seen.map((e) => e.kv.modRevision);
  assert.deepEqual([...revs].sort((x, y) => x - y), revs);
  w.stop();
}));

test('concurrent writes share commits and each gets its own revision', withStore(async (s) => {
  const kvs = await Promise.all(Array.from({ length: 200 }, (_, i) => s.create(`/r/p/ns/k${i}`, String(i))));
  const revs = new Set(kvs.map((kv) => kv.modRevision));
  assert.equal(revs.size, 200);
  // A conflicting write in a batch fails alone.
  const results = await Promise.allSettled([s.create('/r/p/ns/k1', 'dup'), s.create('/r/p/ns/new', 'ok')]);
  assert.equal(results[0].status, 'rejected');
  assert.equal(results[1].status, 'fulfilled');
}));

test('compaction forgets history and answers Compacted', withStore(async (s) => {
  let kv = await s.create('/r/x/ns/a', '0');
  const first = kv.modRevision;
  for (let i = 1; i < 5; i++) kv = await s.update('/r/x/ns/a', String(i), kv.modRevision);
  await s.create('/r/x/ns/gone', 'g');
  await s.delete('/r/x/ns/gone');
  const rev = await s.revision();
  await s.compact(rev - 1);
  assert.equal(await s.compactRevision(), rev - 1);
  await assert.rejects(s.get('/r/x/ns/a', first), code('Compacted'));
  await assert.rejects(s.watch('/r/x/', first, { events() {} }), code('Compacted'));
  assert.equal((await s.get('/r/x/ns/a'))?.value, '4');
  assert.deepEqual((await s.list('/r/x/')).kvs.map((k) => k.value), ['4']);
  const w = await s.watch('/r/x/', rev - 1, { events() {} });
  w.stop();
}));

test('revisions keep growing across reopen and compaction', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  const file = join(dir, 'state.db');
  try {
    let s = new SqliteStore(file);
    const a = await s.create('/r/a', '1');
    const b = await s.delete('/r/a');
    await s.compact(b.modRevision);
    await s.close();
    s = new SqliteStore(file);
    assert.equal(await s.revision(), b.modRevision);
    assert.equal(await s.compactRevision(), b.modRevision);
    const c = await s.create('/r/a', '2');
    assert.ok(c.modRevision > b.modRevision && b.modRevision > a.modRevision);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
