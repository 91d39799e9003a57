// `berth down`, as root with the runc runtime: after a berth is killed with SIGKILL while a pod
// runs, it removes the runc container, the rootfs mount, the pod's network namespace and cgroups,
// the bridge, and the FORWARD rule; against a running berth it stops it, and while one runs a
// second `berth up` on the same data dir refuses.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPluginDir } from '../../src/node/network/cni.js';
import { Runc } from '../../src/node/runtime/runc/runc.js';
import { findTool } from '../../src/volumes/tools.js';
import { BERTH, startBerth, type Berth } from '../helpers/berth.js';
import { dockerSaveArchive, tarball, type TarEntry } from '../helpers/images.js';

const busybox = findTool('busybox');
const skip =
  process.getuid?.() !== 0
    ? 'needs root (runc, overlay mounts, network namespaces)'
    : !findTool('runc') || !busybox || !findTool('setfattr') || !findTool('iptables') || findPluginDir() === undefined
      ? 'needs runc, busybox-static, attr, iptables and the CNI plugins (scripts/setup installs them)'
      : false;

const IMAGE = 'berth-test/busybox:1';

function busyboxImage(): Buffer[] {
  const entries: TarEntry[] = [
    { path: 'bin/', type: 'Directory' },
    { path: 'bin/busybox', mode: 0o755, body: readFileSync(busybox!) },
    ...['sh', 'sleep'].map((a): TarEntry => ({ path: `bin/${a}`, type: 'SymbolicLink', linkpath: 'busybox' })),
    { path: 'tmp/', type: 'Directory', mode: 0o1777 },
  ];
  return [tarball(entries)];
}

const linkExists = (name: string) => spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
const netnsExists = (name: string) => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').some((l) => l.split(' ')[0] === name);
const forwardRule = (bridge: string) =>
  spawnSync('iptables', ['-C', 'FORWARD', '-i', bridge, '!', '-o', bridge, '-m', 'comment', '--comment', 'berth: pod traffic stays on this host', '-j', 'DROP'], {
    stdio: 'ignore',
  }).status === 0;
const mountsUnder = (dir: string) =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(dir));
const podCgroups = (uid: string) =>
  readdirSync('/sys/fs/cgroup')
    .map((c) => join('/sys/fs/cgroup', c, 'berth', `pod${uid}`))
    .filter((p) => existsSync(p));

const berthDown = (dataDir: string) => {
  const r = spawnSync(BERTH, ['down', '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `berth down failed: ${r.stderr}`);
  return r.stdout;
};

test('berth down', { skip, timeout: 400_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-down-'));
  const dataDir = join(dir, 'data');
  let berth: Berth | undefined;
  after(async () => {
    await berth?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const archive = join(dir, 'busybox.tar');
  writeFileSync(archive, dockerSaveArchive([IMAGE], busyboxImage()));
  execFileSync(BERTH, ['image', 'import', '--data-dir', dataDir, archive], { encoding: 'utf8' });

  await t.test('after kill -9 while a pod runs, it removes the containers, mounts, namespaces, bridge and rule', async () => {
    berth = await startBerth({ dataDir, runtime: 'runc' });
    const b = berth;
    const { bridge } = JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as { bridge: string };
    assert.equal(Number(readFileSync(join(dataDir, 'berth.pid'), 'utf8')), b.process.pid);
    b.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sleeper' },
      spec: { containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'Never', command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 1 },
    }));
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
    assert.deepEqual(podCgroups(uid), []);
    assert.equal(existsSync(join(dataDir, 'berth.pid')), false);
    // Nothing left: a second run says so.
    assert.match(berthDown(dataDir), /no berth running on .*, nothing left to remove/);
  });

  await t.test('against a running berth it stops it; while it runs, a second berth up on the data dir refuses', async () => {
    berth = await startBerth({ dataDir, runtime: 'runc' });
    const b = berth;
    const pid = b.process.pid!;
    const { bridge } = JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as { bridge: string };
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
