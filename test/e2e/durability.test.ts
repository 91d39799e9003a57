// kill -9 in the middle of concurrent writes: every acknowledged write is there
// after the restart, and resourceVersions never go backwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, startBerth } from '../helpers/berth.js';
import type { KubeObject } from '../../src/api/types.js';
import { Informer } from '../../src/client/informer.js';
import { StatusError } from '../../src/machinery/errors.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

test('acknowledged writes survive kill -9', { timeout: 120_000 }, async () => {
  const b = await startBerth();
  try {
    let { client, close } = adminClient(b);
    let cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
    // Per key: the last acknowledged value and the value of a write still in flight.
    const acked = new Map<string, { value: string; rv: number }>();
    const inFlight = new Map<string, string>();
    let maxAckedRv = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = `w${w}-k${i % 20}`;
        const value = `v${i}`;
        inFlight.set(name, value);
        try {
          let res: ConfigMap;
          if (!acked.has(name)) {
            res = await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v: value } });
          } else {
            res = await cms.patch(name, 'default', 'merge', { data: { v: value } });
          }
          const rv = Number(res.metadata.resourceVersion);
          acked.set(name, { value, rv });
          maxAckedRv = Math.max(maxAckedRv, rv);
          inFlight.delete(name);
        } catch {
          return; // the server went away mid-request
        }
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    await new Promise((r) => setTimeout(r, 1500));
    await b.restart({ kill: true });
    stop = true;
    await Promise.all(writers);
    close();
    assert.ok(acked.size > 50, `only ${acked.size} keys were acknowledged`);

    ({ client, close } = adminClient(b));
    cms = client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
    try {
      const list = await cms.list('default');
      assert.ok(Number(list.metadata.resourceVersion) >= maxAckedRv, 'the list is at or after every acknowledged write');
      const stored = new Map(list.items.map((cm) => [cm.metadata.name!, cm]));
      for (const [name, { value, rv }] of acked) {
        const cm = stored.get(name);
        assert.ok(cm, `acknowledged ${name} is missing`);
        const got = cm.data?.v;
        assert.ok(got === value || got === inFlight.get(name), `${name}: acknowledged ${value}, found ${got}`);
        assert.ok(Number(cm.metadata.resourceVersion) >= rv, `${name}: resourceVersion went backwards`);
      }
      const fresh = await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after', namespace: 'default' } });
      assert.ok(Number(fresh.metadata.resourceVersion) > maxAckedRv, 'new writes get newer resourceVersions');
    } finally {
      close();
    }
  } finally {
    await b.stop();
  }
});

test('every object is as it was after a clean restart', { timeout: 60_000 }, async () => {
  const b = await startBerth();
  try {
    b.k(['create', 'namespace', 'keep']);
    b.k(['create', 'configmap', 'c', '-n', 'keep', '--from-literal=a=b']);
    const before = JSON.parse(b.k(['get', 'configmap', 'c', '-n', 'keep', '-o', 'json']));
    await b.restart();
    const afterRestart = JSON.parse(b.k(['get', 'configmap', 'c', '-n', 'keep', '-o', 'json']));
    assert.deepEqual(afterRestart, before);
  } finally {
    await b.stop();
  }
});

test('after a restart, a watch from before it gets 410 Gone and an informer resumes', { timeout: 60_000 }, async () => {
  const b = await startBerth();
  try {
    let { client, close } = adminClient(b);
    const rc = () => client.resource<ConfigMap>({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
    const cm = (name: string): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });
    const first = await rc().create(cm('one'));
    const inf = new Informer(rc(), { namespace: 'default' });
    const deleted: string[] = [];
    inf.on({ delete: (o) => deleted.push(o.metadata.name!) });
    await inf.start();
    await rc().patch('one', 'default', 'merge', { data: { later: 'write' } });
    await b.restart();
    close();
    ({ client, close } = adminClient(b));
    try {
      // History from before the restart is not kept in the watch cache: Kubernetes answers 410 too.
      const gone = await new Promise<Error | undefined>((resolve) => {
        rc().watch('default', { resourceVersion: first.metadata.resourceVersion }, () => {}, resolve);
      });
      assert.ok(gone instanceof StatusError && gone.code === 410, `expected 410, got ${String(gone)}`);
      assert.match(gone.message, /too old resource version/);
      // The informer's watch broke with the restart; it resumes from the last resourceVersion it saw.
      await rc().create(cm('two'));
      await rc().delete('one', 'default');
      const end = Date.now() + 30_000;
      while (inf.get('default/two') === undefined || inf.get('default/one') !== undefined) {
        if (Date.now() > end) assert.fail('informer did not catch up');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(deleted, ['one']);
    } finally {
      close();
      inf.stop();
    }
  } finally {
    await b.stop();
  }
});
