// The API server's semantics through berth's own client over HTTPS: concurrency,
// deletion with finalizers and propagation, garbage collection, namespaces,
// watches, pagination, dry runs and bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, startBerth, type Berth } from '../helpers/berth.js';
import { Client as ClientCtor, type Client, type ResourceClient, type WatchEvent } from '../../src/client/client.js';
import type { Transport } from '../../src/client/transport.js';
import { Informer } from '../../src/client/informer.js';
import type { KubeObject } from '../../src/api/types.js';
import { StatusError } from '../../src/machinery/errors.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const cm = (name: string, namespace = 'default', extra: Partial<ConfigMap> = {}): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, ...(extra.metadata ?? {}) },
  data: extra.data ?? { k: 'v' },
});

async function rejects(p: Promise<unknown>, code: number, message?: RegExp): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StatusError, `not a StatusError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected a ${code}`);
}

async function eventually(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('API server semantics', { timeout: 120_000 }, () => {
  let b: Berth;
  let client: Client;
  let close: () => void;
  let cms: ResourceClient<ConfigMap>;
  let namespaces: ResourceClient<KubeObject>;

  before(async () => {
    b = await startBerth();
    ({ client, close } = adminClient(b));
    cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
    namespaces = client.resource({ group: '', version: 'v1', resource: 'namespaces', namespaced: false });
  });
  after(async () => {
    close?.();
    await b?.stop();
  });

  test('optimistic concurrency: a stale resourceVersion gets 409 Conflict', async () => {
    const created = await cms.create(cm('occ'));
    const updated = await cms.update({ ...created, data: { k: 'v2' } });
    assert.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    await rejects(
      cms.update({ ...created, data: { k: 'stale' } }),
      409,
      /Operation cannot be fulfilled on configmaps "occ": the object has been modified/,
    );
    // A write that changes nothing keeps the resourceVersion.
    const same = await cms.update(updated);
    assert.equal(same.metadata.resourceVersion, updated.metadata.resourceVersion);
  });

  test('create with generateName, dry run, and AlreadyExists', async () => {
    const gen = await cms.create({ ...cm(''), metadata: { generateName: 'gen-', namespace: 'default' } });
    assert.match(gen.metadata.name!, /^gen-[a-z0-9]{5}$/);
    const dry = await cms.create(cm('dry'), { dryRun: true });
    assert.equal(dry.metadata.name, 'dry');
    await rejects(cms.get('dry', 'default'), 404, /configmaps "dry" not found/);
    await rejects(cms.create(cm(gen.metadata.name!)), 409, /already exists/);
  });

  test('finalizers hold an object until they are removed', async () => {
    await cms.create(cm('held', 'default', { metadata: { name: 'held', finalizers: ['example.com/hold'] } }));
    const res = await cms.delete('held', 'default');
    assert.ok(res.metadata.deletionTimestamp, 'deletionTimestamp set');
    const still = await cms.get('held', 'default');
    assert.deepEqual(still.metadata.finalizers, ['example.com/hold']);
    await rejects(
      cms.patch('held', 'default', 'merge', { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } }),
      422,
      /no new finalizers can be added if the object is being deleted/,
    );
    await cms.patch('held', 'default', 'merge', { metadata: { finalizers: null } });
    await rejects(cms.get('held', 'default'), 404);
  });

  test('delete preconditions', async () => {
    const obj = await cms.create(cm('pre'));
    await rejects(cms.delete('pre', 'default', { preconditions: { uid: 'other' } }), 409, /Precondition failed: UID in precondition: other/);
    await cms.delete('pre', 'default', { preconditions: { uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion } });
  });

  test('garbage collection: background, foreground and orphan propagation', async () => {
    for (const policy of ['Background', 'Foreground', 'Orphan'] as const) {
      const owner = await cms.create(cm(`owner-${policy.toLowerCase()}`));
      const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name!, uid: owner.metadata.uid!, blockOwnerDeletion: true };
      const depName = `dep-${policy.toLowerCase()}`;
      await cms.create(cm(depName, 'default', { metadata: { name: depName, ownerReferences: [ref] } }));
      await cms.delete(owner.metadata.name!, 'default', { propagationPolicy: policy });
      await eventually(async () => {
        const names = (await cms.list('default')).items.map((o) => o.metadata.name);
        return !names.includes(owner.metadata.name!);
      });
      if (policy === 'Orphan') {
        const dep = await cms.get(depName, 'default');
        assert.equal(dep.metadata.ownerReferences, undefined, 'orphaned dependent has no owner left');
      } else {
        await eventually(async () => !(await cms.list('default')).items.some((o) => o.metadata.name === depName));
      }
    }
  });

  test('deleting a namespace removes everything in it, then the namespace', async () => {
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    for (let i = 0; i < 5; i++) await cms.create(cm(`c${i}`, 'doomed'));
    const deleting = await namespaces.delete('doomed');
    assert.ok(deleting.metadata.deletionTimestamp);
    await rejects(cms.create(cm('late', 'doomed')), 403, /unable to create new content in namespace doomed because it is being terminated/);
    await eventually(async () => {
      try {
        await namespaces.get('doomed');
        return false;
      } catch (err) {
        return err instanceof StatusError && err.code === 404;
      }
    });
    assert.equal((await cms.list('doomed')).items.length, 0);
    await rejects(cms.create(cm('nowhere', 'doomed')), 404, /namespaces "doomed" not found/);
  });

  test('list pagination returns every object exactly once at one revision', async () => {
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pages' } });
    for (let i = 0; i < 25; i++) await cms.create(cm(`p${String(i).padStart(2, '0')}`, 'pages'));
    const first = await cms.list('pages', { limit: 10 });
    assert.equal(first.items.length, 10);
    assert.ok(first.metadata.continue);
    assert.equal(first.metadata.remainingItemCount, 15);
    // Changes after the first page do not show up in later pages of the same list.
    await cms.create(cm('p99', 'pages'));
    const seen = first.items.map((o) => o.metadata.name);
    let cont = first.metadata.continue;
    while (cont) {
      const page = await cms.list('pages', { limit: 10, continue: cont });
      assert.equal(page.metadata.resourceVersion, first.metadata.resourceVersion);
      seen.push(...page.items.map((o) => o.metadata.name));
      cont = page.metadata.continue;
    }
    assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`));
  });

  test('watch from a resourceVersion, with selectors and bookmarks', async () => {
    const start = (await cms.list('default')).metadata.resourceVersion!;
    const events: WatchEvent<ConfigMap>[] = [];
    let ended: Error | undefined;
    const w = cms.watch('default', { resourceVersion: start, labelSelector: 'watch=me', allowWatchBookmarks: true }, (e) => events.push(e), (e) => (ended = e));
    try {
      await cms.create(cm('w1', 'default', { metadata: { name: 'w1', labels: { watch: 'me' } } }));
      await cms.create(cm('w2'));
      await cms.patch('w1', 'default', 'merge', { data: { k: 'changed' } });
      // Leaving the selection is seen as a deletion, as in Kubernetes.
      await cms.patch('w1', 'default', 'merge', { metadata: { labels: { watch: 'no' } } });
      await eventually(() => events.filter((e) => e.type !== 'BOOKMARK').length >= 3);
      assert.deepEqual(
        events.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, e.object.metadata.name]),
        [['ADDED', 'w1'], ['MODIFIED', 'w1'], ['DELETED', 'w1']],
      );
      const revs = events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.deepEqual([...revs].sort((x, y) => x - y), revs);
    } finally {
      w.stop();
    }
    assert.equal(ended, undefined);
  });

  test('a watch ends after timeoutSeconds', async () => {
    const t0 = Date.now();
    await new Promise<void>((resolve) => cms.watch('default', { timeoutSeconds: 1 }, () => {}, () => resolve()));
    assert.ok(Date.now() - t0 < 5000);
  });

  test('an informer lists, watches and resumes across a server restart', async () => {
    const { client: c2, close: close2 } = adminClient(b);
    const rc = c2.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'inf' } });
    await cms.create(cm('before', 'inf'));
    const inf = new Informer(rc, { namespace: 'inf' });
    const added: string[] = [];
    inf.on({ add: (o) => added.push(o.metadata.name!) });
    await inf.start();
    assert.deepEqual(inf.list().map((o) => o.metadata.name), ['before']);
    await cms.create(cm('live', 'inf'));
    await eventually(() => inf.get('inf/live') !== undefined);
    inf.stop();
    close2();
    assert.deepEqual(added, ['before', 'live']);
  });

  test('metadata-only lists and watches return PartialObjectMetadata', async () => {
    const meta = client.resource({ group: '', version: 'v1', resource: 'configmaps', namespaced: true, metadataOnly: true });
    const list = await meta.list('default');
    assert.equal((list as unknown as { kind: string }).kind, 'PartialObjectMetadataList');
    assert.ok(list.items.length > 0);
    for (const item of list.items) {
      assert.equal(item.kind, 'PartialObjectMetadata');
      assert.equal((item as ConfigMap).data, undefined);
    }
    const seen: string[] = [];
    const w = meta.watch('default', { resourceVersion: list.metadata.resourceVersion }, (e) => seen.push(`${e.type} ${e.object.kind}`), () => {});
    try {
      await cms.create(cm('meta-watched'));
      await eventually(() => seen.length > 0);
      assert.deepEqual(seen, ['ADDED PartialObjectMetadata']);
    } finally {
      w.stop();
    }
  });

  test('an informer whose watch gets 410 Gone lists again and reports what changed', async () => {
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'relist' } });
    await cms.create(cm('stays', 'relist'));
    await cms.create(cm('goes', 'relist'));
    // Fault injection on a real connection: the first watch is answered as if history were compacted,
    // after the objects changed behind the informer's back.
    const real = client.transport;
    let watches = 0;
    const transport: Transport = {
      request: (r) => real.request(r),
      watch(path, cb, accept) {
        watches++;
        if (watches > 1) return real.watch(path, cb, accept);
        void (async () => {
          await cms.delete('goes', 'relist');
          await cms.create(cm('new', 'relist'));
          cb.end(new Error('watch failed with 410'), {
            status: 410,
            headers: {},
            body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version' }),
          });
        })();
        return { stop() {} };
      },
    };
    const rc = new ClientCtor(transport).resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
    const inf = new Informer(rc, { namespace: 'relist' });
    const events: string[] = [];
    inf.on({ add: (o) => events.push(`add ${o.metadata.name}`), delete: (o) => events.push(`delete ${o.metadata.name}`) });
    await inf.start();
    await eventually(() => inf.get('relist/new') !== undefined && inf.get('relist/goes') === undefined);
    inf.stop();
    assert.deepEqual(events, ['add goes', 'add stays', 'delete goes', 'add new']);
    assert.ok(watches >= 2);
  });

  test('deletecollection with a label selector', async () => {
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bulk' } });
    for (const [n, tier] of [['a', 'x'], ['b', 'x'], ['c', 'y']])
      await cms.create(cm(n, 'bulk', { metadata: { name: n, labels: { tier } } }));
    const res = await client.transport.request({ method: 'DELETE', path: '/api/v1/namespaces/bulk/configmaps?labelSelector=tier%3Dx' });
    assert.equal(res.status, 200);
    assert.deepEqual((await cms.list('bulk')).items.map((o) => o.metadata.name), ['c']);
  });

  test('bad input gets a clear Status and loses nothing', async () => {
    const send = (method: string, path: string, body: string, contentType = 'application/json') =>
      client.transport.request({ method, path, body, contentType });
    const parse = (body: string) => JSON.parse(body) as { kind: string; reason: string; message: string; code: number };

    let r = await send('POST', '/api/v1/namespaces/default/configmaps', '{"apiVersion":"v1",');
    assert.equal(r.status, 400);
    assert.equal(parse(r.body).kind, 'Status');
    assert.equal(parse(r.body).reason, 'BadRequest');

    r = await send('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ ...cm('big'), data: { k: 'x'.repeat(4 * 1024 * 1024) } }));
    assert.equal(r.status, 413);

    r = await send('GET', '/api/v1/namespaces/default/widgets', '');
    assert.equal(r.status, 404);
    assert.equal(parse(r.body).message, 'the server could not find the requested resource');

    r = await send('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }));
    assert.equal(r.status, 400);

    r = await send('POST', '/api/v1/namespaces/default/configmaps', '[1,2,3]');
    assert.equal(r.status, 400);

    r = await send('PATCH', '/api/v1/namespaces/default/configmaps/occ', 'not json', 'application/merge-patch+json');
    assert.equal(r.status, 400);

    r = await send('PATCH', '/api/v1/namespaces/default/configmaps/occ', '[{"op":"replace","path":"/nope/deeper","value":1}]', 'application/json-patch+json');
    assert.equal(r.status, 422);

    r = await send('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify(cm('Bad_Name')));
    assert.equal(r.status, 422);
    assert.match(parse(r.body).message, /ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);

    r = await send('GET', '/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20b', '');
    assert.equal(r.status, 400);

    r = await send('GET', '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=abc', '');
    assert.equal(r.status, 400);

    // Random paths, methods, content types and bodies: every answer is a response, never a crash.
    await namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fuzz' } });
    const paths = ['/api/v1/namespaces/fuzz/configmaps', '/api/v1/namespaces/fuzz/configmaps/fuzz', '/apis/apps/v1/namespaces/fuzz/statefulsets',
      '/apis/apps/v1/namespaces/fuzz/statefulsets/x/scale', '/api/v1/namespaces/fuzz/pods/p/binding', '/api/v1/namespaces/x/finalize', '/api/v1/nodes/n/status',
      '/api/v1/namespaces/%ZZ/pods', '/apis/nope/v9/things', '/api/v1/watch/namespaces/fuzz/configmaps'];
    const types = ['application/json', 'application/yaml', 'application/merge-patch+json', 'application/json-patch+json',
      'application/strategic-merge-patch+json', 'application/vnd.kubernetes.protobuf', 'text/plain'];
    const bodies = ['', 'null', '{}', '[]', '"x"', '{"metadata":null}', '{"metadata":{"name":5}}', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"z"},"data":{"a":1}}',
      '[{"op":"move","from":"/a","path":"/a/b"}]', '{"spec":{"replicas":"many"}}', 'k8s\u0000\u0001\u0002', '{"$patch":"delete"}', '{"metadata":{"$setElementOrder/finalizers":[1]}}'];
    let seed = 7;
    const pick = <T>(xs: T[]): T => xs[(seed = (seed * 1103515245 + 12345) % 2147483648) % xs.length];
    for (let i = 0; i < 300; i++) {
      const res = await client.transport.request({
        method: pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
        path: `${pick(paths)}?${pick(['', 'watch=1&timeoutSeconds=1', 'dryRun=All', 'fieldValidation=Strict', 'limit=-1', 'continue=zz', 'labelSelector=%21%21', 'gracePeriodSeconds=x'])}`,
        body: pick(bodies),
        contentType: pick(types),
      });
      assert.ok(res.status >= 200 && res.status < 600, `status ${res.status}`);
      if (res.status >= 400) assert.equal(JSON.parse(res.body).kind, 'Status', res.body);
    }
    // The server is still there, and what was stored is intact.
    assert.equal((await cms.get('occ', 'default')).data?.k, 'v2');
  });
});
