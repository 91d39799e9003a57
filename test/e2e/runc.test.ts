// One container at a time with the real runc, as root: an image built here from Debian's
// busybox-static, imported and unpacked into a temp store, its root assembled as an overlay, a
// config.json from ociSpec, the output read back from the CRI log. Afterwards nothing may remain:
// no runc state, mounts, cgroups, network namespace or temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { Pod } from '../../src/api/core/pods.js';
import { importArchive } from '../../src/node/images/archive.js';
import { ImageStore } from '../../src/node/images/store.js';
import { createNetns, deleteNetns, netnsExists } from '../../src/node/network/netns.js';
import { assembleRootfs, containerDir, removeRootfs } from '../../src/node/runtime/runc/rootfs.js';
import { Runc } from '../../src/node/runtime/runc/runc.js';
import { Conmon } from '../../src/node/runtime/runc/conmon.js';
import { ociSpec } from '../../src/node/runtime/runc/spec.js';
import { findTool } from '../../src/volumes/tools.js';
import { dockerSaveArchive, tarball, type TarEntry } from '../helpers/images.js';
import { cgroupDirs, runcSkip } from '../helpers/runc.js';

const busybox = findTool('busybox');
const skip = runcSkip({ network: false });

const APPLETS = ['sh', 'echo', 'sleep', 'hostname', 'ls', 'cat'];

/** busybox in a lower layer; an upper one deletes /etc/motd and makes /etc/app opaque. */
function busyboxLayers(): Buffer[] {
  const lower: TarEntry[] = [
    { path: 'bin/', type: 'Directory' },
    { path: 'bin/busybox', mode: 0o755, body: readFileSync(busybox!) },
    ...APPLETS.map((a): TarEntry => ({ path: `bin/${a}`, type: 'SymbolicLink', linkpath: 'busybox' })),
    { path: 'etc/', type: 'Directory' },
    { path: 'etc/motd', body: 'welcome\n' },
    { path: 'etc/app/', type: 'Directory' },
    { path: 'etc/app/old.conf', body: 'old\n' },
    { path: 'tmp/', type: 'Directory', mode: 0o1777 },
  ];
  const upper: TarEntry[] = [
    { path: 'etc/', type: 'Directory' },
    { path: 'etc/.wh.motd' },
    { path: 'etc/app/', type: 'Directory' },
    { path: 'etc/app/.wh..wh..opq' },
    { path: 'etc/app/new.conf', body: 'new\n' },
  ];
  return [tarball(lower), tarball(upper)];
}

const pod = (name: string): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { containers: [] } }) as unknown as Pod;


/** This process's hard RLIMIT_NOFILE: a container may not be given more (here it is below ociSpec's default). */
function hardNofile(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === undefined || hard === 'unlimited' ? 1048576 : Number(hard);
}

/** conmon's k8s-file records: an RFC 3339 time with nanoseconds and the zone as an offset. */
const CRI_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([FP]) (.*)$/;

function logRecords(path: string): { stream: string; tag: string; content: string }[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'the log ends with a newline');
  return lines.map((line) => {
    const m = CRI_LINE.exec(line);
    assert.ok(m, `not a CRI log line: ${JSON.stringify(line)}`);
    return { stream: m[2]!, tag: m[3]!, content: m[4]! };
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = new Promise<never>((_, reject) => {
    setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms).unref();
  });
  return Promise.race([p, timeout]);
}

test('runc runs a container from a stored image', { skip }, async (t) => {
  const suffix = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'berth-runc-e2e-'));
  const dataDir = join(dir, 'data');
  const netns = `berth-e2e-${suffix}`;
  const cgroupName = `berth-e2e-${suffix}`;
  const runc = new Runc(dataDir);
  const conmon = new Conmon(dataDir, runc.root);
  const ids: string[] = [];
  try {
    const store = await ImageStore.open(dataDir);
    const archive = join(dir, 'busybox.tar');
    writeFileSync(archive, dockerSaveArchive(['berth-test/busybox:1'], busyboxLayers()));
    const [image] = (await importArchive(store, archive)).images;
    assert.ok(image);
    const netnsPath = await createNetns(netns);

    /** Resolves with the container's exit code once conmon recorded it. */
    const exited = async (id: string): Promise<number> => {
      for (;;) {
        const exit = await conmon.exit(id, containerDir(dataDir, id));
        if (exit) return exit.exitCode;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    /** Creates (under conmon) and starts a container of pod web-0 running `args`; returns its log path. */
    const run = async (id: string, args: string[]): Promise<{ logPath: string }> => {
      ids.push(id);
      const rootfs = await assembleRootfs(store, image.reference, dataDir, id);
      assert.equal(rootfs.kind, 'overlay');
      const bundle = containerDir(dataDir, id);
      const container: v1.Container = { name: 'app', image: image.reference, command: args };
      const spec = ociSpec({
        pod: pod('web-0'),
        container,
        args,
        env: ['PATH=/bin'],
        cwd: '/',
        user: { uid: 0, gid: 0, additionalGids: [] },
        rootPath: rootfs.path,
        hostname: 'web-0',
        mounts: [],
        netnsPath,
        cgroupsPath: `/${cgroupName}/${id}`,
        nofile: hardNofile(),
      });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
      const logPath = join(bundle, 'app.log');
      await conmon.create(id, { bundle, logPath });
      assert.equal((await runc.state(id))?.status, 'created');
      await runc.start(id);
      return { logPath };
    };

    await t.test('output reaches the CRI log; whiteouts apply', async () => {
      const id = `hello-${suffix}`;
      const { logPath } = await run(id, ['sh', '-c', 'echo hello; hostname; ls /etc/app; cat /etc/motd']);
      assert.equal(await within(exited(id), 10_000, 'container exit'), 1, 'the exit code of the failed cat');
      await runc.waitStopped(id);
      const records = logRecords(logPath);
      assert.deepEqual(
        records.filter((r) => r.stream === 'stdout').map((r) => `${r.tag} ${r.content}`),
        ['F hello', 'F web-0', 'F new.conf'],
      );
      assert.deepEqual(
        records.filter((r) => r.stream === 'stderr').map((r) => r.content),
        ["cat: can't open '/etc/motd': No such file or directory"],
      );
      await runc.delete(id);
      assert.equal(await runc.state(id), undefined);
    });

    await t.test('a long-running container is killed and deleted', async () => {
      const id = `sleep-${suffix}`;
      await run(id, ['sleep', '1000']);
      const state = await runc.state(id);
      assert.equal(state?.status, 'running');
      assert.ok(state.pid > 0);
      assert.deepEqual((await runc.list()).map((c) => c.id), [id]);
      // The container's init ignores signals it has no handler for (pid namespace init), so a bare
      // sleep outlives SIGTERM, as under any CRI runtime; SIGKILL, the kubelet's next step, ends it.
      await runc.kill(id, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await runc.state(id))?.status, 'running');
      await runc.kill(id, 'SIGKILL');
      assert.equal(await within(exited(id), 10_000, 'container exit'), 137, '128 + SIGKILL');
      await runc.waitStopped(id);
      await runc.delete(id);
      assert.deepEqual(await runc.list(), []);
    });

    await t.test('a container that handles SIGTERM stops on it', async () => {
      const id = `term-${suffix}`;
      const { logPath } = await run(id, ['sh', '-c', 'trap "echo terminated; exit 0" TERM; echo ready; sleep 1000 & wait']);
      const deadline = Date.now() + 10_000;
      while (!readFileSync(logPath, 'utf8').includes(' ready\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await runc.kill(id, 'SIGTERM');
      assert.equal(await within(exited(id), 10_000, 'container exit'), 0);
      await runc.waitStopped(id);
      assert.deepEqual(logRecords(logPath).map((r) => r.content), ['ready', 'terminated']);
      await runc.delete(id);
    });

    await t.test('runc errors carry what runc said', async () => {
      await assert.rejects(runc.start('no-such-container'), /runc start no-such-container exited with 1: .*(does not exist|not found)/);
    });
  } finally {
    for (const id of ids) {
      await runc.delete(id, { force: true }).catch(() => undefined);
      await removeRootfs(dataDir, id);
      await conmon.forget(id);
    }
    await deleteNetns(netns);
    for (const id of ids) assert.ok(!existsSync(join(runc.root, id)), `runc state of ${id} remains`);
    const mounts = readFileSync('/proc/mounts', 'utf8');
    assert.ok(!mounts.includes(dir), `mounts remain under ${dir}`);
    rmSync(dir, { recursive: true, force: true });
    // runc deletes the container's own cgroup, not the parent it made for it (as the kubelet owns pod cgroups).
    for (const p of cgroupDirs(cgroupName)) rmdirSync(p);
    assert.deepEqual(cgroupDirs(cgroupName), [], 'cgroups remain');
    assert.ok(!existsSync(dir), 'temp dir remains');
    assert.ok(!(await netnsExists(netns)), 'network namespace remains');
  }
});
