// PersistentVolumes and claims end to end: the PersistentVolume controller, berth's provisioners
// and the scheduler's VolumeBinding, against a real `berth up --runtime simulated`, checked the way
// a user checks them: kubectl get/describe, and the volume directories on disk.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startBerth, type Berth } from '../helpers/berth.js';
import { eventually, readyPods, setManifest, sleep } from '../helpers/statefulset.js';

const yaml = (...docs: object[]) => docs.map((d) => stringify(d)).join('---\n');

function persistentVolume(name: string, storage: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: { capacity: { storage }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', ...spec },
  };
}

function claimManifest(ns: string, name: string, storage: string, storageClassName?: string) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName, resources: { requests: { storage } } },
  };
}

function podManifest(ns: string, name: string, claim: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      containers: [{ name: 'app', image: 'nginx:1.25', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
    },
  };
}

function getJson(b: Berth, args: string[]): any {
  return JSON.parse(b.k([...args, '-o', 'json']));
}

function claimOf(b: Berth, ns: string, name: string): any {
  return getJson(b, ['get', 'pvc', name, '-n', ns]);
}

function volumeOf(b: Berth, name: string): any {
  return getJson(b, ['get', 'pv', name]);
}

function exists(b: Berth, args: string[]): boolean {
  const r = b.kubectl(['get', ...args, '-o', 'name']);
  if (r.status === 0) return true;
  assert.match(r.stderr, /NotFound/);
  return false;
}

function nodeName(b: Berth): string {
  return b.k(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}']);
}

async function bound(b: Berth, ns: string, name: string, ms = 30_000): Promise<any> {
  return eventually(`claim ${ns}/${name} Bound`, () => {
    const c = claimOf(b, ns, name);
    return c.status?.phase === 'Bound' && c.spec.volumeName && c;
  }, ms);
}

/** The values of the `kubernetes.io/hostname` In requirement of a PV's required node affinity. */
function affinityNodes(pv: any): string[] {
  const terms = pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  return terms.flatMap((t: any) =>
    [...(t.matchExpressions ?? []), ...(t.matchFields ?? [])]
      .filter((e: any) => (e.key === 'kubernetes.io/hostname' || e.key === 'metadata.name') && e.operator === 'In')
      .flatMap((e: any) => e.values),
  );
}

function deleteNamespace(b: Berth, ns: string): void {
  b.k(['delete', 'namespace', ns, '--timeout=60s']);
}

function deletePVs(b: Berth, ...names: string[]): void {
  if (names.length) b.k(['delete', 'pv', ...names, '--ignore-not-found', '--timeout=60s']);
}

describe('the seed tutorial: static hostPath volumes for a StatefulSet (--no-default-storage-class)', { timeout: 300_000 }, () => {
  let b: Berth;
  let hostDir: string;
  before(async () => {
    b = await startBerth({ args: ['--no-default-storage-class'] });
    hostDir = mkdtempSync(join(tmpdir(), 'berth-hostpath-'));
  });
  after(async () => {
    await b?.stop();
    rmSync(hostDir, { recursive: true, force: true });
  });

  test('www-web-N bind my-pv1..3 and keep their volumes across pod deletion and scaling to 0 and back', async () => {
    const ns = 'tutorial';
    b.k(['create', 'namespace', ns]);
    const pvs = ['my-pv1', 'my-pv2', 'my-pv3'];
    try {
      b.k(['apply', '-f', '-'], yaml(...pvs.map((n) => persistentVolume(n, '10Gi', { hostPath: { path: join(hostDir, n) } }))));
      for (const n of pvs) assert.match(b.k(['get', 'pv', n]), new RegExp(`\\n${n}\\s+10Gi\\s+RWO\\s+Retain\\s+Available\\s+`));

      // The tutorial's Service is `nginx`; the helper names it `<set>-svc`, so rename both places.
      const manifest = setManifest(ns, 'web', { replicas: 3, storage: '1Gi' }).replaceAll('web-svc', 'nginx');
      b.k(['apply', '-f', '-'], manifest);
      await readyPods(b, ns, 'web', 3, undefined, 60_000);

      const bindings = () => {
        const out = new Map<string, string>();
        for (let i = 0; i < 3; i++) out.set(`www-web-${i}`, claimOf(b, ns, `www-web-${i}`).spec.volumeName);
        return out;
      };
      const first = bindings();
      assert.deepEqual([...first.values()].sort(), pvs, 'each claim has one of the PVs, no PV twice');

      const getPvc = b.k(['get', 'pvc', '-n', ns]);
      for (const [claim, pv] of first) assert.match(getPvc, new RegExp(`\\n${claim}\\s+Bound\\s+${pv}\\s+10Gi\\s+RWO\\s+`));
      const getPv = b.k(['get', 'pv']);
      for (const [claim, pv] of first)
        assert.match(getPv, new RegExp(`\\n${pv}\\s+10Gi\\s+RWO\\s+Retain\\s+Bound\\s+${ns}/${claim}\\s+`));

      const uids = (await readyPods(b, ns, 'web', 3)).map((p) => p.uid);
      b.k(['delete', 'pod', '--all', '-n', ns, '--wait=false']);
      await eventually('three new ready pods', () => {
        const ps = getJson(b, ['get', 'pods', '-n', ns, '-l', 'app=web']).items as any[];
        return (
          ps.length === 3 &&
          ps.every((p) => !uids.includes(p.metadata.uid) && !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'))
        );
      }, 60_000);
      assert.deepEqual(bindings(), first, 'same bindings after kubectl delete pod --all');

      b.k(['scale', 'sts', 'web', '-n', ns, '--replicas=0']);
      await eventually('no pods', () => getJson(b, ['get', 'pods', '-n', ns]).items.length === 0, 60_000);
      assert.deepEqual(bindings(), first, 'same bindings at 0 replicas');
      b.k(['scale', 'sts', 'web', '-n', ns, '--replicas=3']);
      await readyPods(b, ns, 'web', 3, undefined, 60_000);
      assert.deepEqual(bindings(), first, 'same bindings after scaling back to 3');
      const getPvAgain = b.k(['get', 'pv']);
      for (const [claim, pv] of first) assert.match(getPvAgain, new RegExp(`\\n${pv}\\s+10Gi\\s+RWO\\s+Retain\\s+Bound\\s+${ns}/${claim}\\s+`));
    } finally {
      deleteNamespace(b, ns);
      deletePVs(b, ...pvs);
    }
  });
});

describe('PersistentVolumes and claims', { timeout: 600_000 }, () => {
  let b: Berth;
  let node: string;
  let count = 0;
  const namespace = () => {
    const ns = `vol-${++count}`;
    b.k(['create', 'namespace', ns]);
    return ns;
  };
  before(async () => {
    b = await startBerth();
    node = nodeName(b);
  });
  after(async () => {
    await b?.stop();
  });

  test('a StatefulSet claim without a class is provisioned by local-path: a pvc-<uid> directory pinned to the node', async () => {
    const ns = namespace();
    const pvNames: string[] = [];
    try {
      b.k(['apply', '-f', '-'], setManifest(ns, 'web', { replicas: 2 }));
      await readyPods(b, ns, 'web', 2, undefined, 60_000);
      for (let i = 0; i < 2; i++) {
        const claim = await bound(b, ns, `www-web-${i}`);
        assert.equal(claim.spec.storageClassName, 'local-path');
        assert.equal(claim.spec.volumeName, `pvc-${claim.metadata.uid}`);
        pvNames.push(claim.spec.volumeName);
        assert.match(b.k(['get', 'pvc', `www-web-${i}`, '-n', ns]), new RegExp(`\\nwww-web-${i}\\s+Bound\\s+pvc-${claim.metadata.uid}\\s+1Gi\\s+RWO\\s+local-path\\s+`));

        const pv = volumeOf(b, claim.spec.volumeName);
        assert.equal(pv.spec.storageClassName, 'local-path');
        assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
        assert.equal(pv.status.phase, 'Bound');
        assert.equal(pv.spec.claimRef.name, `www-web-${i}`);
        assert.equal(pv.spec.claimRef.uid, claim.metadata.uid);
        assert.equal(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], 'berth.dev/local-path');
        assert.deepEqual(affinityNodes(pv), [node]);
        const dir = join(b.dataDir, 'volumes', claim.spec.volumeName);
        assert.equal(pv.spec.local?.path ?? pv.spec.hostPath?.path, dir);
        assert.ok(existsSync(dir), `${dir} exists`);
        assert.match(
          b.k(['describe', 'pvc', `www-web-${i}`, '-n', ns]),
          new RegExp(`Normal\\s+ProvisioningSucceeded\\s+.*Successfully provisioned volume pvc-${claim.metadata.uid}`),
        );
      }
      assert.match(b.k(['get', 'pv']), new RegExp(`\\n${pvNames[0]}\\s+1Gi\\s+RWO\\s+Delete\\s+Bound\\s+${ns}/www-web-0\\s+local-path\\s+`));
    } finally {
      deleteNamespace(b, ns);
      // Deleting the namespace deletes the claims; their Delete volumes go with them.
      await eventually('provisioned volumes deleted', () => pvNames.every((n) => !exists(b, ['pv', n])));
    }
  });

  test('reclaim policy: a Delete volume and its directory go with the claim; a Retain volume is Released and keeps its data', async () => {
    const ns = namespace();
    const keepClass = {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'keep' },
      provisioner: 'berth.dev/local-path',
      reclaimPolicy: 'Retain',
      volumeBindingMode: 'Immediate',
    };
    let retained: string | undefined;
    try {
      // Delete (local-path, WaitForFirstConsumer: a pod makes it bind).
      b.k(['apply', '-f', '-'], yaml(claimManifest(ns, 'scratch', '1Gi', 'local-path'), podManifest(ns, 'user', 'scratch')));
      const scratch = await bound(b, ns, 'scratch');
      const scratchDir = join(b.dataDir, 'volumes', scratch.spec.volumeName);
      assert.ok(existsSync(scratchDir), `${scratchDir} exists`);
      await eventually('pod user Running', () => b.k(['get', 'pod', 'user', '-n', ns, '-o', 'jsonpath={.status.phase}']) === 'Running');
      b.k(['delete', 'pod', 'user', '-n', ns]);
      b.k(['delete', 'pvc', 'scratch', '-n', ns]);
      await eventually('the Delete volume gone', () => !exists(b, ['pv', scratch.spec.volumeName]));
      assert.ok(!existsSync(scratchDir), `${scratchDir} removed`);

      // Retain (an Immediate class of our own: it binds without a pod).
      b.k(['apply', '-f', '-'], yaml(keepClass));
      assert.match(b.k(['get', 'storageclass', 'keep']), /\nkeep\s+berth.dev\/local-path\s+Retain\s+Immediate\s+/);
      b.k(['apply', '-f', '-'], yaml(claimManifest(ns, 'precious', '1Gi', 'keep')));
      const precious = await bound(b, ns, 'precious');
      retained = precious.spec.volumeName as string;
      assert.equal(volumeOf(b, retained).spec.persistentVolumeReclaimPolicy, 'Retain');
      const dir = join(b.dataDir, 'volumes', retained);
      assert.ok(existsSync(dir), `${dir} exists`);
      writeFileSync(join(dir, 'data.txt'), 'keep me\n');
      b.k(['delete', 'pvc', 'precious', '-n', ns]);
      await eventually('the Retain volume Released', () => volumeOf(b, retained!).status?.phase === 'Released');
      assert.match(b.k(['get', 'pv', retained]), new RegExp(`\\n${retained}\\s+1Gi\\s+RWO\\s+Retain\\s+Released\\s+${ns}/precious\\s+keep\\s+`));
      await sleep(1000);
      assert.equal(volumeOf(b, retained).status.phase, 'Released', 'still Released');
      assert.equal(readFileSync(join(dir, 'data.txt'), 'utf8'), 'keep me\n');
    } finally {
      deleteNamespace(b, ns);
      if (retained) deletePVs(b, retained);
      b.k(['delete', 'storageclass', 'keep', '--ignore-not-found']);
    }
  });

  test('a claim binds the smallest volume that holds it', async () => {
    const ns = namespace();
    const pvs = ['size-1g', 'size-5g', 'size-10g'];
    try {
      b.k(['apply', '-f', '-'], yaml(
        persistentVolume('size-10g', '10Gi', { storageClassName: '', hostPath: { path: '/tmp/berth-size-10g' } }),
        persistentVolume('size-1g', '1Gi', { storageClassName: '', hostPath: { path: '/tmp/berth-size-1g' } }),
        persistentVolume('size-5g', '5Gi', { storageClassName: '', hostPath: { path: '/tmp/berth-size-5g' } }),
      ));
      await eventually('volumes Available', () => pvs.every((n) => volumeOf(b, n).status?.phase === 'Available'));
      b.k(['apply', '-f', '-'], yaml(claimManifest(ns, 'two', '2Gi', '')));
      const claim = await bound(b, ns, 'two');
      assert.equal(claim.spec.volumeName, 'size-5g');
      assert.equal(claim.status.capacity.storage, '5Gi');
      assert.match(b.k(['get', 'pvc', 'two', '-n', ns]), /\ntwo\s+Bound\s+size-5g\s+5Gi\s+RWO\s+/);
      assert.equal(volumeOf(b, 'size-1g').status.phase, 'Available');
      assert.equal(volumeOf(b, 'size-10g').status.phase, 'Available');
    } finally {
      deleteNamespace(b, ns);
      deletePVs(b, ...pvs);
    }
  });

  for (const restart of [false, true])
    test(`six claims created at once for two volumes: two bound, each to its own volume, four Pending${restart ? ' (berth killed and restarted meanwhile)' : ''}`, async () => {
      const ns = namespace();
      const pvs = restart ? ['race-c', 'race-d'] : ['race-a', 'race-b'];
      const claimNames = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
      try {
        b.k(['apply', '-f', '-'], yaml(...pvs.map((n) => persistentVolume(n, '1Gi', { storageClassName: '', hostPath: { path: `/tmp/berth-${n}` } }))));
        await eventually('volumes Available', () => pvs.every((n) => volumeOf(b, n).status?.phase === 'Available'));
        b.k(['apply', '-f', '-'], yaml(...claimNames.map((n) => claimManifest(ns, n, '1Gi', ''))));
        // kill -9 while the controller binds: what it wrote must still be one claim per volume.
        if (restart) await b.restart({ kill: true });
        const boundClaims = () => (getJson(b, ['get', 'pvc', '-n', ns]).items as any[]).filter((c) => c.status?.phase === 'Bound');
        await eventually('two claims bound', () => boundClaims().length === 2);
        await sleep(2000); // let any double binding show
        const claims = getJson(b, ['get', 'pvc', '-n', ns]).items as any[];
        const won = claims.filter((c) => c.status?.phase === 'Bound');
        const lost = claims.filter((c) => c.status?.phase !== 'Bound');
        assert.equal(won.length, 2);
        assert.deepEqual(won.map((c) => c.spec.volumeName).sort(), pvs);
        assert.deepEqual(lost.map((c) => c.status?.phase), ['Pending', 'Pending', 'Pending', 'Pending']);
        for (const c of lost) assert.ok(!c.spec.volumeName, `${c.metadata.name} names no volume`);
        for (const n of pvs) {
          const pv = volumeOf(b, n);
          assert.equal(pv.status.phase, 'Bound');
          const owner = won.find((c) => c.spec.volumeName === n);
          assert.equal(pv.spec.claimRef.name, owner.metadata.name);
          assert.equal(pv.spec.claimRef.uid, owner.metadata.uid);
        }
        const getPv = b.k(['get', 'pv', ...pvs]);
        for (const c of won) assert.match(getPv, new RegExp(`\\n${c.spec.volumeName}\\s+1Gi\\s+RWO\\s+Retain\\s+Bound\\s+${ns}/${c.metadata.name}\\s+`));
      } finally {
        deleteNamespace(b, ns);
        deletePVs(b, ...pvs);
      }
    });

  test('WaitForFirstConsumer: the claim waits for a pod, then binds on the pod\'s node', async () => {
    const ns = namespace();
    let pvName: string | undefined;
    try {
      b.k(['apply', '-f', '-'], yaml(claimManifest(ns, 'later', '1Gi', 'local-path')));
      await eventually('WaitForFirstConsumer event', () =>
        /Normal\s+WaitForFirstConsumer\s+\S+\s+persistentvolume-controller\s+waiting for first consumer to be created before binding/.test(
          b.k(['describe', 'pvc', 'later', '-n', ns]),
        ),
      );
      await sleep(1000);
      assert.match(b.k(['get', 'pvc', 'later', '-n', ns]), /\nlater\s+Pending\s+local-path\s+/);
      assert.equal(claimOf(b, ns, 'later').metadata.annotations?.['volume.kubernetes.io/selected-node'], undefined);

      b.k(['apply', '-f', '-'], yaml(podManifest(ns, 'consumer', 'later')));
      const claim = await bound(b, ns, 'later');
      pvName = claim.spec.volumeName;
      assert.equal(claim.metadata.annotations['volume.kubernetes.io/selected-node'], node);
      assert.deepEqual(affinityNodes(volumeOf(b, pvName!)), [node]);
      await eventually('consumer Running on the node', () => {
        const p = getJson(b, ['get', 'pod', 'consumer', '-n', ns]);
        return p.status?.phase === 'Running' && p.spec.nodeName === node;
      });
    } finally {
      deleteNamespace(b, ns);
      if (pvName) await eventually('provisioned volume deleted', () => !exists(b, ['pv', pvName!]));
    }
  });

  test('a local volume pinned to a node that does not exist keeps its pod Pending, in kube-scheduler\'s words', async () => {
    const ns = namespace();
    const localClass = {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'local-storage' },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
    };
    const elsewhere = (name: string, storageClassName: string) =>
      persistentVolume(name, '1Gi', {
        storageClassName,
        local: { path: `/mnt/disks/${name}` },
        nodeAffinity: {
          required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['no-such-node'] }] }] },
        },
      });
    const failedScheduling = (pod: string) =>
      (getJson(b, ['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${pod},reason=FailedScheduling`]).items as any[]).map(
        (e) => e.message as string,
      );
    try {
      // The usual local-volume setup: a WaitForFirstConsumer class without provisioner. No volume
      // of the class can be used on the one node, so the claim stays unbound.
      b.k(['apply', '-f', '-'], yaml(localClass, elsewhere('far-wffc', 'local-storage')));
      b.k(['apply', '-f', '-'], yaml(claimManifest(ns, 'far', '1Gi', 'local-storage'), podManifest(ns, 'stuck', 'far')));
      const message = await eventually('FailedScheduling for stuck', () => failedScheduling('stuck')[0]);
      // kube-scheduler: "0/1 nodes are available: 1 node(s) didn't find available persistent
      // volumes to bind. preemption: ..." (berth does not preempt, so it has no preemption part).
      assert.match(message, /^0\/1 nodes are available: 1 node\(s\) didn't find available persistent volumes to bind\./);
      assert.match(b.k(['describe', 'pod', 'stuck', '-n', ns]), /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/1 nodes are available: 1 node\(s\) didn't find available persistent volumes to bind\./);
      await sleep(1000);
      const pod = getJson(b, ['get', 'pod', 'stuck', '-n', ns]);
      assert.equal(pod.status.phase, 'Pending');
      assert.equal(pod.spec.nodeName, undefined);
      assert.equal(claimOf(b, ns, 'far').status.phase, 'Pending');
      assert.equal(volumeOf(b, 'far-wffc').status.phase, 'Available');

      // Without a class the claim binds at once (the PV controller does not look at nodes for
      // Immediate binding); the bound volume's node affinity then rules the node out.
      b.k(['apply', '-f', '-'], yaml(elsewhere('far-immediate', '')));
      b.k(['apply', '-f', '-'], yaml(claimManifest(ns, 'far-bound', '1Gi', '')));
      assert.equal((await bound(b, ns, 'far-bound')).spec.volumeName, 'far-immediate');
      b.k(['apply', '-f', '-'], yaml(podManifest(ns, 'stuck-bound', 'far-bound')));
      const conflict = await eventually('FailedScheduling for stuck-bound', () => failedScheduling('stuck-bound')[0]);
      assert.match(conflict, /^0\/1 nodes are available: 1 node\(s\) had volume node affinity conflict\./);
      assert.equal(getJson(b, ['get', 'pod', 'stuck-bound', '-n', ns]).status.phase, 'Pending');
      const cond = (getJson(b, ['get', 'pod', 'stuck-bound', '-n', ns]).status.conditions as any[]).find((c) => c.type === 'PodScheduled');
      assert.equal(cond.status, 'False');
      assert.equal(cond.reason, 'Unschedulable');
    } finally {
      deleteNamespace(b, ns);
      deletePVs(b, 'far-wffc', 'far-immediate');
      b.k(['delete', 'storageclass', 'local-storage', '--ignore-not-found']);
    }
  });
});
