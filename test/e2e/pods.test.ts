// What a user of the seed tutorials checks on pods, with the real kubectl against
// `berth up --runtime runc`: a busybox-static image pulled from a docker-registry on loopback, a
// StatefulSet serving each replica's claim over HTTP (stable hostnames, data following the
// ordinal), exec (exit codes, stdin), cp, port-forward, logs (tail, timestamps, follow), attach,
// CrashLoopBackOff with the 1 s back-off, OOMKilled under a memory limit, a loop-backed claim's
// size as df sees it, full, then grown; and after berth stops, nothing of it left on the host.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { Runc } from '../../src/node/runtime/runc/runc.js';
import { findTool } from '../../src/volumes/tools.js';
import type { Berth } from '../helpers/berth.js';
import { allowOnly, freePort, startRegistry, startTokenProxy } from '../helpers/registry.js';
import { loopDevicesUnder, mountsUnder, netnsNames, podManifest, pushBusybox, readyPod, runcFixture, runcSkip, shContainer, statefulSet } from '../helpers/runc.js';
import { eventually, getPod as podOf, isReady, readyPods, type PodJson } from '../helpers/statefulset.js';

const skip =
  runcSkip() ||
  (!findTool('docker-registry') || !findTool('socat') || !findTool('mkfs.ext4') ? 'needs docker-registry, socat and e2fsprogs (scripts/setup installs them)' : false);

const HTML = '/usr/share/nginx/html';

/** The body of a GET. */
function httpGet(url: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    http
      .get(url, (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => resolve(data));
      })
      .on('error', reject);
  });
}

test('pods as the tutorials use them, with the runc runtime', { skip, timeout: 300_000 }, async (t) => {
  const { dir, dataDir, start } = runcFixture(t, 'pods');
  let berth: Berth | undefined;
  /** Processes this test started (kubectl port-forward, logs -f, attach): ended by pid. */
  const children = new Set<ChildProcess>();
  t.after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  });
  const registryDir = join(dir, 'registry');
  mkdirSync(registryDir);
  const base = await startRegistry(t, registryDir);
  const host = new URL(base).host;
  const IMAGE = `${host}/berth-test/busybox:1`;
  await pushBusybox(base, 'berth-test/busybox', '1');
  // A token-auth front (alice / s3cret) for the same registry, for imagePullSecrets.
  const authHost = await startTokenProxy(t, base, 'berth-test/busybox');
  allowOnly(dataDir, host, authHost);
  // The tutorials' `busybox:1.28` is Docker Hub's: here docker.io is mirrored to the loopback registry only.
  await pushBusybox(base, 'library/busybox', '1.28');
  appendFileSync(join(dataDir, 'registries.yaml'), `  docker.io:\n    mirrors: ["http://${host}"]\n    mirrorsOnly: true\n`);

  berth = await start(['--restart-backoff', '1']);
  const b = berth;
  const getPod = (name: string) => podOf(b, name);
  const apply = (obj: object) => b.k(['apply', '-f', '-'], JSON.stringify(obj));
  /** A pod `name` with one container of that name running `sh -c script` from the image. */
  const runPod = (name: string, script: string, container: object = {}, spec: object = {}) =>
    b.k(['apply', '-f', '-'], podManifest(name, { ...spec, containers: [shContainer(IMAGE, script, { name, ...container })] }));
  const exec = (pod: string, command: string[], input?: string) => b.kubectl(['exec', ...(input === undefined ? [] : ['-i']), pod, '--', ...command], input);
  const run = (pod: string, ...command: string[]) => {
    const r = exec(pod, command);
    assert.equal(r.status, 0, `kubectl exec ${pod} -- ${command.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** Every pod uid seen, to find their network namespaces after berth stops. */
  const uids = new Set<string>();
  const seen = (p: PodJson | undefined) => p && uids.add(p.metadata.uid);
  /** kubectl as a child process, its stdout collected; killed by pid at the end of the test at the latest. */
  const background = (args: string[]) => {
    const child = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: b.kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    const out = { stdout: '', stderr: '' };
    child.stdout!.on('data', (c: Buffer) => (out.stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out.stderr += c.toString()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(child.pid!, 'SIGTERM');
        await exited;
      }
      children.delete(child);
    };
    return { child, out, stop };
  };

  /** A subtest that, when it fails, prints what a user would look at: the pods and the events. */
  let dumped = false;
  const step = (name: string, fn: (t: TestContext) => Promise<void>) =>
    t.test(name, async (st) => {
      try {
        await fn(st);
      } catch (err) {
        if (berth && !dumped) {
          dumped = true;
          const pods = b.kubectl(['get', 'pods', '-o', 'wide']).stdout;
          const events = b.kubectl(['get', 'events', '--sort-by=.lastTimestamp']).stdout;
          st.diagnostic(`kubectl get pods:\n${pods}\nkubectl get events:\n${events}`);
        }
        throw err;
      }
    });

  await step('a StatefulSet web: stable hostnames, a claim per ordinal that follows it', async () => {
    apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'nginx', labels: { app: 'nginx' } }, spec: { clusterIP: 'None', selector: { app: 'nginx' }, ports: [{ port: 80, name: 'web' }] } });
    const nginx = {
      name: 'nginx',
      image: IMAGE,
      imagePullPolicy: 'Always',
      command: ['httpd', '-f', '-p', '80', '-h', HTML],
      ports: [{ containerPort: 80, name: 'web' }],
      volumeMounts: [{ name: 'www', mountPath: HTML }],
    };
    apply(statefulSet('web', nginx, { replicas: 2, serviceName: 'nginx', app: 'nginx', claims: [{ name: 'www', storage: '16Mi' }] }));
    const first = await readyPods(b, 'default', 'nginx', 2, undefined, 120_000);
    for (const p of first) uids.add(p.uid);
    const pulls = b.k(['get', 'events', '--field-selector', 'involvedObject.name=web-0,reason=Pulling', '-o', 'jsonpath={.items[*].message}']);
    assert.equal(pulls, `Pulling image "${IMAGE}"`, 'the image was pulled from the registry');

    assert.equal(run('web-0', 'hostname'), 'web-0\n');
    assert.equal(run('web-0', 'hostname', '-f'), 'web-0.nginx.default.svc.cluster.local\n');
    for (const i of [0, 1]) run(`web-${i}`, 'sh', '-c', `echo hello $(hostname) > ${HTML}/index.html`);
    assert.equal(run('web-0', 'wget', '-qO-', 'localhost'), 'hello web-0\n');
    assert.equal(run('web-1', 'wget', '-qO-', 'localhost'), 'hello web-1\n');

    b.k(['delete', 'pod', '--all', '--wait=false']);
    const before = new Set(first.map((p) => p.uid));
    const again = await eventually('web-0 and web-1 re-created and Ready', () => {
      const ps = ['web-0', 'web-1'].map(getPod);
      return ps.every((p) => p && !before.has(p.metadata.uid) && isReady(p)) && ps;
    }, 120_000);
    again.forEach(seen);
    for (const i of [0, 1]) assert.equal(run(`web-${i}`, 'wget', '-qO-', 'localhost'), `hello web-${i}\n`, `web-${i} serves its own file again`);
  });

  await step('exec exit codes and stdin, a TTY, cp both ways, port-forward, hostPort', async () => {
    const r = exec('web-0', ['sh', '-c', 'exit 3']);
    assert.equal(r.status, 3, 'kubectl exits with the command\'s code');
    const missing = exec('web-0', ['no-such-command']);
    assert.equal(missing.status, 1, 'a command that cannot start is an error, not an exit code');
    assert.match(missing.stderr, /error: Internal error occurred: error executing command in container: .*executable file not found in \$PATH: unknown/);
    assert.equal(exec('web-0', ['tr', 'a-z', 'A-Z'], 'from stdin\n').stdout, 'FROM STDIN\n');

    // -it needs kubectl's stdin to be a terminal: util-linux's script gives it one, of a set size.
    const tty = spawnSync('script', ['-qec', `stty rows 33 cols 77; kubectl exec -it web-0 -- sh -c 'stty size; tty; exit 4'`, '/dev/null'], {
      env: { ...process.env, KUBECONFIG: b.kubeconfig },
      encoding: 'utf8',
      input: '',
      timeout: 30_000,
    });
    assert.equal(tty.status, 4, `exit code through the TTY: ${tty.stdout}${tty.stderr}`);
    assert.match(tty.stdout, /^33 77\r\n\/dev\/pts\/\d+\r\n/, 'the terminal and its size reach the container, and nothing before');

    // The tutorial's throwaway pod: kubectl run -i --tty ... --rm attaches to its terminal, then deletes it.
    const run_ = spawnSync('script', ['-qec', 'kubectl run -i --tty --image busybox:1.28 dns-test --restart=Never --rm', '/dev/null'], {
      env: { ...process.env, KUBECONFIG: b.kubeconfig },
      encoding: 'utf8',
      input: 'hostname\necho $((6*7))\nexit 3\n',
      timeout: 90_000,
    });
    assert.equal(run_.status, 3, `kubectl run's exit code is the shell's: ${run_.stdout}${run_.stderr}`);
    assert.match(run_.stdout, /dns-test\r\n[^]*42\r\n[^]*pod "dns-test" deleted/);

    const local = join(dir, 'upload.txt');
    writeFileSync(local, 'copied in\n');
    b.k(['cp', local, `web-1:${HTML}/upload.txt`]);
    assert.equal(run('web-1', 'cat', `${HTML}/upload.txt`), 'copied in\n');
    const back = join(dir, 'index-web-1.html');
    b.k(['cp', `web-1:${HTML}/index.html`, back]);
    assert.equal(readFileSync(back, 'utf8'), 'hello web-1\n');

    const port = await freePort();
    const pf = background(['port-forward', 'pod/web-0', `${port}:80`]);
    try {
      await eventually('port-forward listening', () => pf.out.stdout.includes('Forwarding from 127.0.0.1'), 30_000);
      assert.equal(await httpGet(`http://127.0.0.1:${port}/`), 'hello web-0\n');
    } finally {
      await pf.stop();
    }

    // A hostPort maps the node's port to the pod (CNI portmap), and goes with the pod.
    const hostPort = await freePort();
    runPod('hostport', 'exec httpd -f -p 8080 -h /www', { ports: [{ containerPort: 8080, hostPort }] });
    await eventually('hostport Running', () => {
      const p = getPod('hostport');
      seen(p);
      return p?.status?.phase === 'Running';
    }, 60_000);
    assert.equal(await eventually('the page through the host port', () => httpGet(`http://127.0.0.1:${hostPort}/`).catch(() => undefined), 10_000), 'hello from busybox\n');
    b.k(['delete', 'pod', 'hostport']);
    assert.ok(!spawnSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' }).stdout.includes(`--dport ${hostPort} `), 'no NAT rule for the host port remains');
  });

  await step('logs (tail, timestamps, follow) and attach to a pod with stdin', async (t) => {
    runPod('talker', 'for i in 1 2 3; do echo line $i; done; while read l; do echo got $l; done', { stdin: true });
    seen(await readyPod(b, 'talker'));
    await eventually('the first lines logged', () => b.kubectl(['logs', 'talker']).stdout === 'line 1\nline 2\nline 3\n');
    assert.equal(b.k(['logs', 'talker', '--tail=2']), 'line 2\nline 3\n');
    const stamped = b.k(['logs', 'talker', '--timestamps', '--tail=1']);
    const stamp = /^(\S+) line 3\n$/.exec(stamped);
    assert.ok(stamp, stamped);
    const at = Date.parse(stamp[1]!);
    assert.ok(Math.abs(Date.now() - at) < 60_000, `a timestamp of the record: ${stamped}`);
    // As the kubelet prints them: RFC3339NanoFixed in UTC.
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 3\n$/);

    const follow = background(['logs', '-f', 'talker']);
    const attach = background(['attach', '-i', 'talker']);
    try {
      await eventually('logs -f shows the old lines', () => follow.out.stdout.includes('line 3\n'), 20_000);
      // What attach sends the container reads; its answer is in the log and in attach's own output.
      attach.child.stdin!.write('hi there\n');
      await eventually('the echo of the attached line in logs -f', () => follow.out.stdout.includes('got hi there\n'), 20_000);
      assert.equal(follow.out.stdout, 'line 1\nline 2\nline 3\ngot hi there\n');
      await eventually('the echo in attach', () => attach.out.stdout.includes('got hi there\n'), 20_000);
      assert.equal(follow.child.exitCode, null, 'logs -f still follows');
      assert.equal(b.k(['logs', 'talker', '--tail=1']), 'got hi there\n');
    } finally {
      await follow.stop();
      await attach.stop();
    }
    b.k(['delete', 'pod', 'talker', '--wait=false']);
  });

  await step('a crashing container goes into CrashLoopBackOff', async () => {
    runPod('crash', 'echo crash; exit 2');
    const backingOff = await eventually('CrashLoopBackOff', () => {
      const p = getPod('crash');
      seen(p);
      const c = p?.status?.containerStatuses?.[0];
      return c?.state?.waiting?.reason === 'CrashLoopBackOff' && c;
    }, 60_000);
    // With a 1 s back-off the container runs again soon: what kubectl shows flips between the two.
    await eventually('kubectl get pod showing CrashLoopBackOff', () => /crash\s+0\/1\s+CrashLoopBackOff\s+\d+ \(.+ ago\)/.test(b.k(['get', 'pod', 'crash'])), 30_000);
    assert.equal(backingOff.lastState?.terminated?.exitCode, 2);
    assert.equal(backingOff.lastState?.terminated?.reason, 'Error');
    const restarts = backingOff.restartCount;
    assert.ok(restarts >= 1);
    await eventually('the restart count rising', () => (getPod('crash')?.status?.containerStatuses?.[0]?.restartCount ?? 0) > restarts, 30_000);
    assert.equal(b.k(['logs', 'crash', '--previous']), 'crash\n');
    b.k(['delete', 'pod', 'crash', '--wait=false']);
  });

  await step('a memory limit kills an over-allocating container: OOMKilled', async () => {
    runPod('oom', 'exec dd if=/dev/zero of=/dev/null bs=64M count=1', { resources: { limits: { memory: '16Mi' } } }, { restartPolicy: 'Never' });
    const terminated = await eventually('the container terminated', () => {
      const p = getPod('oom');
      seen(p);
      return p?.status?.containerStatuses?.[0]?.state?.terminated;
    }, 60_000);
    assert.equal(terminated.reason, 'OOMKilled');
    assert.equal(terminated.exitCode, 137);
    assert.equal(getPod('oom')?.status?.phase, 'Failed');
    assert.match(b.k(['get', 'pod', 'oom']), /oom\s+0\/1\s+OOMKilled\s+0/);
    b.k(['delete', 'pod', 'oom', '--wait=false']);
  });

  await step('imagePullSecrets: a registry that wants credentials pulls with a docker-registry secret', async () => {
    const private_ = `${authHost}/berth-test/busybox:1`;
    b.k(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=${authHost}`, '--docker-username=alice', '--docker-password=s3cret']);
    runPod('withcred', 'sleep 3600', { image: private_, imagePullPolicy: 'Always' }, { imagePullSecrets: [{ name: 'regcred' }] });
    runPod('nocred', 'sleep 3600', { image: private_, imagePullPolicy: 'Always' });
    await eventually('withcred Running', () => {
      const p = getPod('withcred');
      seen(p);
      return p?.status?.phase === 'Running';
    }, 60_000);
    const waiting = await eventually('nocred waiting on its image', () => {
      const w = getPod('nocred')?.status?.containerStatuses?.[0]?.state?.waiting;
      return w && /ErrImagePull|ImagePullBackOff/.test(w.reason ?? '') && w;
    }, 60_000);
    const failed = b.k(['get', 'events', '--field-selector', 'involvedObject.name=nocred,reason=Failed', '-o', 'jsonpath={.items[*].message}']);
    assert.match(failed, /pull access denied, repository does not exist or may require authorization/, waiting.message);
    b.k(['delete', 'pod', 'withcred', 'nocred', '--wait=false']);
  });

  await step('a loop-backed claim: df shows its size, it fills up, it grows', async () => {
    const app = { name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] };
    apply(statefulSet('disk', app, { claims: [{ name: 'data', storage: '16Mi', storageClassName: 'berth-loop' }] }));
    const [pod] = await readyPods(b, 'default', 'disk', 1, undefined, 60_000);
    uids.add(pod!.uid);
    /** The 1K-blocks column of `df -k /data`. */
    const total = () => {
      const lines = run('disk-0', 'df', '-k', '/data').trim().split('\n');
      return Number(lines[lines.length - 1]!.trim().split(/\s+/)[1]);
    };
    assert.equal(total(), 16384, 'df shows 16 MiB');
    const full = exec('disk-0', ['dd', 'if=/dev/zero', 'of=/data/big', 'bs=1M', 'count=32']);
    assert.notEqual(full.status, 0);
    assert.match(full.stderr, /No space left on device/);
    run('disk-0', 'rm', '/data/big');
    run('disk-0', 'sh', '-c', 'echo kept > /data/kept');

    b.k(['patch', 'pvc', 'data-disk-0', '-p', '{"spec":{"resources":{"requests":{"storage":"32Mi"}}}}']);
    const claim = () => JSON.parse(b.k(['get', 'pvc', 'data-disk-0', '-o', 'json'])) as { status: { capacity?: { storage?: string }; conditions?: { type: string }[] } };
    const pending = () => (claim().status.conditions ?? []).some((c) => c.type === 'FileSystemResizePending');
    await eventually('FileSystemResizePending while the pod uses the claim', pending, 30_000);
    b.k(['delete', 'pod', 'disk-0', '--wait=false']);
    const [again] = await eventually('disk-0 re-created and Ready', () => {
      const p = getPod('disk-0');
      return p && p.metadata.uid !== pod!.uid && isReady(p) && [p];
    }, 60_000);
    seen(again);
    assert.equal(total(), 32768, 'df shows 32 MiB');
    assert.equal(run('disk-0', 'cat', '/data/kept'), 'kept\n', 'the data survived the growth');
    await eventually('the claim\'s capacity 32Mi, no resize pending', () => claim().status.capacity?.storage === '32Mi' && !pending(), 30_000);
  });

  await step('after berth stops, nothing of it remains on the host', async () => {
    assert.notEqual(loopDevicesUnder(dataDir).length, 0, 'a loop device backed the claim');
    const runc = new Runc(dataDir);
    await b.stop();
    berth = undefined;
    assert.deepEqual(await runc.list(), [], 'no runc container remains');
    const names = netnsNames();
    assert.deepEqual([...uids].filter((u) => names.includes(`berth-${u}`)), [], 'no pod network namespace remains');
    assert.deepEqual(loopDevicesUnder(dataDir), [], 'no loop device remains');
    assert.deepEqual(mountsUnder(dataDir), [], 'no mount remains');
  });
});
