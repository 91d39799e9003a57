// `berth down`, as root with the runc runtime: after a berth is killed with SIGKILL while a pod
// runs, it removes the runc container, the rootfs mount, the pod's network namespace and cgroups,
// the bridge, and the FORWARD rule; against a running berth it stops it, and while one runs a
// second `berth up` on the same data dir refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runc } from '../../src/node/runtime/runc/runc.js';
import { BERTH, type Berth } from '../helpers/berth.js';
import { bridgeOf, cgroupDirs, forwardRule, linkExists, mountsUnder, netnsNames, podManifest, runcFixture, runcSkip, shContainer } from '../helpers/runc.js';

const skip = runcSkip();
const IMAGE = 'berth-test/busybox:1';
const netnsExists = (name: string) => netnsNames().includes(name);

const berthDown = (dataDir: string) => {
  const r = spawnSync(BERTH, ['down', '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `berth down failed: ${r.stderr}`);
  return r.stdout;
};

test('berth down', { skip, timeout: 400_000 }, async (t) => {
  const { dataDir, start } = runcFixture(t, 'down', IMAGE);
  let berth: Berth | undefined;

  await t.test('after kill -9 while a pod runs, it removes the containers, mounts, namespaces, bridge and rule', async () => {
    berth = await start();
    const b = berth;
    const bridge = bridgeOf(dataDir);
    assert.equal(Number(readFileSync(join(dataDir, 'berth.pid'), 'utf8')), b.process.pid);
    b.k(['apply', '-f', '-'], podManifest('sleeper', { containers: [shContainer(IMAGE, 'exec sleep 3600', { name: 'c' })] }));
    b.k(['wait', '--for=condition=Ready', 'pod/sleeper', '--timeout=60s']);
    const uid = b.k(['get', 'pod', 'sleeper', '-o', 'jsonpath={.metadata.uid}']).trim();
    const runc = new Runc(dataDir);
    assert.equal((await runc.list()).length, 1);
    assert.ok(netnsExists(`berth-${uid}`) && linkExists(bridge) && forwardRule(bridge));
    assert.notEqual(mountsUnder(dataDir).length, 0, 'the rootfs is mounted');

    b.process.kill('SIGKILL');
    await new Promise((r) => b.process.once('exit', r));
    // Killed, berth left everything behind (the container runs on).
    assert.equal((await runc.list())[0]?.status, 'running');
    assert.ok(netnsExists(`berth-${uid}`) && linkExists(bridge));

    const out = berthDown(dataDir);
    assert.match(out, new RegExp(`removed container ${uid}_c`));
    assert.match(out, new RegExp(`removed network namespace berth-${uid}`));
    assert.match(out, new RegExp(`removed bridge ${bridge}`));
    assert.deepEqual(await runc.list(), []);
    assert.equal(netnsExists(`berth-${uid}`), false, 'the network namespace is gone');
    assert.equal(linkExists(bridge), false, 'the bridge is gone');
    assert.equal(forwardRule(bridge), false, 'the FORWARD rule is gone');
    assert.deepEqual(mountsUnder(dataDir), []);
    assert.deepEqual(cgroupDirs(`berth/pod${uid}`), []);
    assert.equal(existsSync(join(dataDir, 'berth.pid')), false);
    // Nothing left: a second run says so.
    assert.match(berthDown(dataDir), /no berth running on .*, nothing left to remove/);
  });

  await t.test('against a running berth it stops it; while it runs, a second berth up on the data dir refuses', async () => {
    berth = await start();
    const b = berth;
    const pid = b.process.pid!;
    const bridge = bridgeOf(dataDir);
    const second = spawnSync(BERTH, ['up', '--data-dir', dataDir, '--port', '0', '--runtime', 'simulated'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`another berth \\(pid ${pid}\\) is running on ${dataDir}`));
    assert.equal(Number(readFileSync(join(dataDir, 'berth.pid'), 'utf8')), pid, 'the refused berth leaves the pid file alone');
    b.k(['get', 'pods']);

    const exited = new Promise<number | null>((r) => b.process.once('exit', (code) => r(code)));
    const out = berthDown(dataDir);
    assert.match(out, new RegExp(`stopping berth \\(pid ${pid}\\) on ${dataDir}`));
    assert.match(out, new RegExp(`berth \\(pid ${pid}\\) stopped`));
    assert.equal(await exited, 0);
    assert.equal(existsSync(join(dataDir, 'berth.pid')), false);
    assert.equal(linkExists(bridge), false);
    assert.deepEqual(await new Runc(dataDir).list(), []);
  });
});
