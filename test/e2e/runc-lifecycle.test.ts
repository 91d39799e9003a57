// What happens to real containers when berth itself dies, and lifecycle hooks: after `kill -9`
// of berth its containers keep running under conmon (their output still logged), the next
// `berth up` adopts them unchanged, and a container that ended meanwhile is reported with its
// real exit code. postStart runs before the container counts as started, a failing one kills
// it; preStop runs before SIGTERM on deletion. Sidecars start before the containers, restart
// whenever they end, and are stopped once the containers of a finishing pod are done.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.js';
import { importBusybox, podManifest, runcSkip, shContainer } from '../helpers/runc.js';
import { eventually, getPod, sleep } from '../helpers/statefulset.js';

const IMAGE = 'berth-test/busybox:recovery';

const pod = (name: string, spec: object) => podManifest(name, { terminationGracePeriodSeconds: 2, ...spec });
const container = (command: string, extra: object = {}) => shContainer(IMAGE, command, { imagePullPolicy: 'Never', ...extra });

test('containers outlive a killed berth; lifecycle hooks', { skip: runcSkip(), timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-recovery-'));
  const dataDir = join(dir, 'data');
  let berth: Berth | undefined;
  after(async () => {
    await berth?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  importBusybox(dataDir, dir, IMAGE);
  berth = await startBerth({ dataDir, runtime: 'runc' });
  const b = berth;
  const running = (name: string) => getPod(b, name)?.status?.containerStatuses?.[0]?.state?.running;

  await t.test('after kill -9, running containers are adopted and an exit meanwhile is reported', async () => {
    b.k(['apply', '-f', '-'], pod('counter', { containers: [container('i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done')] }));
    b.k(['apply', '-f', '-'], pod('ender', { restartPolicy: 'Never', containers: [container('sleep 3; exit 5')] }));
    await eventually('both running', () => running('counter') && running('ender'), 60_000);
    const before = getPod(b, 'counter')!.status!.containerStatuses![0]!;
    await b.restart({ kill: true }).then(() => undefined, () => undefined);
    // The new berth is up at once; the ender ends while it starts or just after, on its own.
    await eventually('the ender reported with its exit code', () => getPod(b, 'ender')?.status?.phase === 'Failed', 30_000);
    const ender = getPod(b, 'ender')!.status!.containerStatuses![0]!;
    assert.equal(ender.state?.terminated?.exitCode, 5);
    assert.equal(ender.state?.terminated?.reason, 'Error');
    const after = getPod(b, 'counter')!.status!.containerStatuses![0]!;
    assert.equal(after.containerID, before.containerID, 'the same container, adopted');
    assert.equal(after.restartCount, 0);
    assert.ok(after.state?.running, 'still running');
    // Output went on being logged without a gap: consecutive numbers throughout.
    await sleep(500);
    const numbers = b.k(['logs', 'counter']).trim().split('\n').map(Number);
    assert.ok(numbers.length > 20, `${numbers.length} lines`);
    numbers.forEach((n, i) => assert.equal(n, i, 'no line lost across the restart'));
  });

  await t.test('an exit while berth is down is seen by the next berth', async () => {
    b.k(['apply', '-f', '-'], pod('quick', { restartPolicy: 'OnFailure', containers: [container('sleep 2; exit 7')] }));
    await eventually('quick running', () => running('quick'), 60_000);
    await b.restart({ kill: true }).then(() => undefined, () => undefined);
    const restarted = await eventually('quick restarted after its failure', () => {
      const s = getPod(b, 'quick')?.status?.containerStatuses?.[0];
      return s && s.restartCount! >= 1 && s;
    }, 30_000);
    assert.equal(restarted.lastState?.terminated?.exitCode, 7);
  });

  await t.test('postStart runs before the container is started; a failing one kills it; preStop runs on delete', async () => {
    const hostDir = join(dir, 'host');
    b.k(['apply', '-f', '-'], pod('hooks', {
      volumes: [{ name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } }],
      containers: [container('while [ ! -f /tmp/started ]; do sleep 0.05; done; echo saw postStart; sleep 3600', {
        volumeMounts: [{ name: 'host', mountPath: '/host' }],
        lifecycle: { postStart: { exec: { command: ['sh', '-c', 'touch /tmp/started'] } }, preStop: { exec: { command: ['sh', '-c', 'echo bye > /host/prestop'] } } },
      })],
    }));
    await eventually('hooks running', () => running('hooks'), 60_000);
    await eventually('postStart seen by the container', () => b.k(['logs', 'hooks']).includes('saw postStart'), 10_000);
    b.k(['delete', 'pod', 'hooks', '--timeout=60s']);
    assert.ok(existsSync(join(hostDir, 'prestop')), 'preStop wrote its file');
    assert.equal(readFileSync(join(hostDir, 'prestop'), 'utf8'), 'bye\n');

    b.k(['apply', '-f', '-'], pod('badhook', { containers: [container('sleep 3600', { lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo no; exit 1'] } } } })] }));
    const events = await eventually('a FailedPostStartHook event', () => {
      const out = b.k(['get', 'events', '--field-selector', 'involvedObject.name=badhook', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
      return out.includes('FailedPostStartHook') && out;
    }, 60_000);
    assert.match(events, /FailedPostStartHook: Exec lifecycle hook \(\["sh","-c","echo no; exit 1"\]\) for Container "app" in Pod "badhook_default\(.*\)" failed - error: /);
    const killed = await eventually('the container killed and restarted', () => {
      const s = getPod(b, 'badhook')?.status?.containerStatuses?.[0];
      return s?.lastState?.terminated && s;
    }, 60_000);
    assert.notEqual(killed.lastState?.terminated?.exitCode, 0);
    b.k(['delete', 'pod', 'badhook', 'counter', 'ender', 'quick', '--timeout=60s']);
  });

  await t.test('environment from ConfigMaps and Secrets; runAsUser, runAsGroup, readOnlyRootFilesystem; privileged refused', async () => {
    b.k(['create', 'configmap', 'settings', '--from-literal=mode=fast']);
    b.k(['create', 'secret', 'generic', 'creds', '--from-literal=password=hunter2']);
    b.k(['apply', '-f', '-'], pod('envs', {
      containers: [container('echo $MODE $PASS $CFG_mode; id -u; id -g; touch /x 2>&1; sleep 3600', {
        env: [
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        ],
        envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
        securityContext: { runAsUser: 1000, runAsGroup: 3000, readOnlyRootFilesystem: true },
        resources: { requests: { cpu: '50m' }, limits: { cpu: '100m', memory: '32Mi' } },
      })],
    }));
    const logs = await eventually('the container said its environment', () => {
      const out = b.kubectl(['logs', 'envs']).stdout;
      return out.includes('touch') && out;
    }, 60_000);
    assert.equal(logs, "fast hunter2 fast\n1000\n3000\ntouch: /x: Read-only file system\n");
    // Limits and requests are the container's cgroup settings, as the kubelet computes them.
    const uid = getPod(b, 'envs')!.metadata.uid;
    const cgroup = (controller: string, file: string) => readFileSync(`/sys/fs/cgroup/${controller}/berth/pod${uid}/app/${file}`, 'utf8').trim();
    assert.equal(cgroup('cpu', 'cpu.cfs_quota_us'), '10000', '100m of a 100 ms period');
    assert.equal(cgroup('cpu', 'cpu.shares'), '51', '50m requested');
    assert.equal(cgroup('memory', 'memory.limit_in_bytes'), String(32 * 1024 * 1024));

    b.k(['apply', '-f', '-'], pod('noconfig', { containers: [container('sleep 3600', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] })] }));
    b.k(['apply', '-f', '-'], pod('priv', { containers: [container('sleep 3600', { securityContext: { privileged: true } })] }));
    const waitingOf = (name: string) => getPod(b, name)?.status?.containerStatuses?.[0]?.state?.waiting;
    const noconfig = await eventually('noconfig waiting', () => waitingOf('noconfig')?.reason === 'CreateContainerConfigError' && waitingOf('noconfig'), 60_000);
    assert.equal(noconfig.message, 'configmap "nope" not found');
    const priv = await eventually('priv waiting', () => waitingOf('priv')?.reason === 'CreateContainerConfigError' && waitingOf('priv'), 60_000);
    assert.match(priv.message ?? '', /specified privileged container, but is disallowed/);
    b.k(['delete', 'pod', 'envs', 'noconfig', 'priv', '--wait=false']);
  });

  await t.test('a sidecar starts first, is restarted when it ends, and stops when the pod is done', async () => {
    const shared = { name: 'shared', emptyDir: {} };
    const mount = { volumeMounts: [{ name: 'shared', mountPath: '/shared' }] };
    b.k(['apply', '-f', '-'], pod('side', {
      restartPolicy: 'Never',
      volumes: [shared],
      initContainers: [{ ...container('echo up >> /shared/sidecar; sleep 1; exit 1', mount), name: 'sidecar', restartPolicy: 'Always' }],
      containers: [container('while [ $(wc -l < /shared/sidecar) -lt 3 ]; do sleep 0.1; done; echo the sidecar ran thrice', mount)],
    }));
    const done = await eventually('the pod Succeeded', () => {
      const p = getPod(b, 'side');
      return p?.status?.phase === 'Succeeded' && p;
    }, 90_000).catch((err: unknown) => {
      console.log(JSON.stringify(getPod(b, 'side')?.status, null, 1), b.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=side']).stdout);
      throw err;
    });
    assert.match(b.k(['logs', 'side', '-c', 'app']), /the sidecar ran thrice/);
    const sidecar = done.status!.initContainerStatuses![0]!;
    assert.ok(sidecar.restartCount! >= 2, `sidecar restarts: ${sidecar.restartCount}`);
    assert.ok(sidecar.state?.terminated, 'the sidecar is stopped with the pod');
    b.k(['delete', 'pod', 'side', '--timeout=60s']);
  });
});
