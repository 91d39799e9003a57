// The real kubectl against a real `berth up`: the everyday commands of the seed tutorials.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { ROOT, startBerth, type Berth } from '../helpers/berth.js';

const manifest = join(ROOT, 'test/fixtures/web.yaml');

describe('kubectl against berth', { timeout: 180_000 }, () => {
  let b: Berth;
  let scratch: string;
  before(async () => {
    b = await startBerth();
    scratch = mkdtempSync(join(tmpdir(), 'berth-kubectl-'));
  });
  after(async () => {
    await b?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('apply creates, then reports unchanged, then configured after an edit', () => {
    const first = b.k(['apply', '-f', manifest]);
    for (const line of [
      'namespace/tutorial created',
      'service/nginx created',
      'statefulset.apps/web created',
      'persistentvolume/my-pv1 created',
      'persistentvolume/my-pv2 created',
      'persistentvolumeclaim/pv-claim created',
      'storageclass.storage.k8s.io/glusterfs created',
    ])
      assert.ok(first.includes(line), `missing "${line}" in:\n${first}`);
    const rv = b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.metadata.resourceVersion}']);
    const second = b.k(['apply', '-f', manifest]);
    assert.match(second, /service\/nginx unchanged/);
    assert.match(second, /persistentvolume\/my-pv1 unchanged/);
    // As against Kubernetes, kubectl reports a set with volumeClaimTemplates "configured" (the server adds
    // fields to the templates), but the patch it sends changes nothing: the object is not rewritten.
    assert.match(second, /statefulset.apps\/web (configured|unchanged)/);
    assert.equal(b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.metadata.resourceVersion}']), rv);
    const edited = join(scratch, 'web.yaml');
    writeFileSync(edited, readFileSync(manifest, 'utf8').replace('replicas: 3', 'replicas: 2'));
    const third = b.k(['apply', '-f', edited]);
    assert.match(third, /statefulset.apps\/web configured/);
    assert.match(third, /service\/nginx unchanged/);
    assert.equal(b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.spec.replicas}']), '2');
  });

  test('get prints the columns kubectl users know', () => {
    const sts = b.k(['get', 'statefulset', 'web', '-n', 'tutorial']);
    assert.match(sts, /^NAME\s+READY\s+AGE\n/);
    assert.match(sts, /\nweb\s+[0-2]\/2\s+\d+s\n/);
    const wide = b.k(['get', 'sts', '-n', 'tutorial', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\n/);
    assert.match(wide, /\nweb\s+[0-2]\/2\s+\S+\s+nginx\s+nginx:1.25\n/);
    const svc = b.k(['get', 'svc', 'nginx', '-n', 'tutorial']);
    assert.match(svc, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n/);
    assert.match(svc, /\nnginx\s+ClusterIP\s+None\s+<none>\s+80\/TCP\s+\S+\n/);
    const pv = b.k(['get', 'pv']);
    assert.match(pv, /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS/);
    assert.match(pv, /\nmy-pv1\s+10Gi\s+RWO\s+Retain\s+/);
    const ns = b.k(['get', 'ns']);
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'tutorial'])
      assert.match(ns, new RegExp(`\\n${n}\\s+Active\\s+`));
    const sc = b.k(['get', 'storageclass']);
    assert.match(sc, /\nglusterfs\s+kubernetes.io\/glusterfs\s+Retain\s+WaitForFirstConsumer\s+false\s+/);
  });

  test('get of every kind prints Kubernetes\' columns, also with -o wide', () => {
    b.k(['apply', '-f', join(ROOT, 'test/fixtures/all-kinds.yaml')]);
    const columns: Record<string, [string, string]> = {
      pods: ['NAME READY STATUS RESTARTS AGE', 'IP NODE NOMINATED NODE READINESS GATES'],
      services: ['NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE', 'SELECTOR'],
      endpoints: ['NAME ENDPOINTS AGE', ''],
      configmaps: ['NAME DATA AGE', ''],
      secrets: ['NAME TYPE DATA AGE', ''],
      persistentvolumes: ['NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE', 'VOLUMEMODE'],
      persistentvolumeclaims: ['NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE', 'VOLUMEMODE'],
      nodes: ['NAME STATUS ROLES AGE VERSION', 'INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME'],
      namespaces: ['NAME STATUS AGE', ''],
      statefulsets: ['NAME READY AGE', 'CONTAINERS IMAGES'],
      controllerrevisions: ['NAME CONTROLLER REVISION AGE', ''],
      storageclasses: ['NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE', ''],
      endpointslices: ['NAME ADDRESSTYPE PORTS ENDPOINTS AGE', ''],
      leases: ['NAME HOLDER AGE', ''],
    };
    const header = (out: string) => out.split('\n')[0].trim().split(/\s{2,}/).join(' ');
    for (const [resource, [normal, wide]] of Object.entries(columns)) {
      const namespaced = !['persistentvolumes', 'nodes', 'namespaces', 'storageclasses'].includes(resource);
      const args = namespaced ? ['-n', 'tutorial'] : [];
      assert.equal(header(b.k(['get', resource, ...args])), normal, resource);
      assert.equal(header(b.k(['get', resource, ...args, '-o', 'wide'])), `${normal}${wide ? ` ${wide}` : ''}`, `${resource} -o wide`);
      if (namespaced) assert.equal(header(b.k(['get', resource, '-A'])), `NAMESPACE ${normal}`, `${resource} -A`);
      const items = JSON.parse(b.k(['get', resource, ...args, '-o', 'json'])).items;
      assert.ok(items.length > 0, `${resource} has objects`);
    }
    assert.match(b.k(['get', 'events', '-n', 'tutorial']), /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n.*Normal\s+Testing\s+pod\/lone\s+an event for the table/);
    assert.match(b.k(['get', 'secret', 'creds', '-n', 'tutorial', '-o', 'jsonpath={.data.password}']), /^czNjcmV0$/);
  });

  test('core/v1 and events.k8s.io/v1 show the same events', () => {
    const v1 = JSON.parse(b.k(['get', 'events.events.k8s.io', 'lone.1', '-n', 'tutorial', '-o', 'json']));
    assert.equal(v1.apiVersion, 'events.k8s.io/v1');
    assert.equal(v1.note, 'an event for the table');
    assert.equal(v1.regarding.name, 'lone');
    assert.equal(v1.deprecatedCount, 1);
    b.k(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'structured.1', namespace: 'tutorial' },
      eventTime: '2026-01-01T00:00:00.000000Z', reportingController: 'example.com/ctl', reportingInstance: 'ctl-1',
      action: 'Testing', reason: 'Structured', type: 'Normal', note: 'from the events API',
      regarding: { kind: 'Pod', name: 'lone', namespace: 'tutorial' },
    }));
    const core = JSON.parse(b.k(['get', 'events', 'structured.1', '-n', 'tutorial', '-o', 'json']));
    assert.equal(core.apiVersion, 'v1');
    assert.equal(core.message, 'from the events API');
    assert.equal(core.involvedObject.name, 'lone');
    assert.equal(core.reportingComponent, 'example.com/ctl');
  });

  test('get -o yaml, -o json and -o jsonpath show defaulted objects', () => {
    const yaml = b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'yaml']);
    assert.match(yaml, /podManagementPolicy: OrderedReady/);
    assert.match(yaml, /revisionHistoryLimit: 10/);
    assert.match(yaml, /partition: 0/);
    const obj = JSON.parse(b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'json']));
    assert.equal(obj.metadata.generation, 2);
    assert.match(obj.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.equal(obj.spec.template.spec.restartPolicy, 'Always');
    assert.equal(obj.spec.template.spec.containers[0].terminationMessagePath, '/dev/termination-log');
    assert.equal(obj.spec.persistentVolumeClaimRetentionPolicy.whenDeleted, 'Retain');
    assert.equal(b.k(['get', 'pvc', 'pv-claim', '-n', 'tutorial', '-o', 'jsonpath={.spec.volumeMode}']), 'Filesystem');
  });

  test('services get cluster IPs and node ports; kubectl create sends protobuf', () => {
    assert.match(b.k(['get', 'svc', 'kubernetes', '-n', 'default']), /\nkubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/);
    b.k(['create', 'service', 'clusterip', 'web-svc', '-n', 'tutorial', '--tcp=80:8080']);
    b.k(['create', 'service', 'nodeport', 'web-np', '-n', 'tutorial', '--tcp=80:8080']);
    const ip = b.k(['get', 'svc', 'web-svc', '-n', 'tutorial', '-o', 'jsonpath={.spec.clusterIP}']);
    const [a, c] = ip.split('.').map(Number);
    assert.ok(a === 10 && c >= 96 && c < 112, `cluster IP ${ip} is in 10.96.0.0/12`);
    const nodePort = Number(b.k(['get', 'svc', 'web-np', '-n', 'tutorial', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
    assert.ok(nodePort >= 30000 && nodePort <= 32767);
    const dup = b.kubectl(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'dup', namespace: 'tutorial' },
      spec: { clusterIP: ip, ports: [{ port: 80 }] },
    }));
    assert.notEqual(dup.status, 0);
    assert.match(dup.stderr, /failed to allocate IP .*: provided IP is already allocated/);
  });

  test('label and field selectors', () => {
    b.k(['create', 'configmap', 'a', '-n', 'tutorial', '--from-literal=k=v']);
    b.k(['create', 'configmap', 'b', '-n', 'tutorial', '--from-literal=k=v']);
    b.k(['label', 'configmap', 'a', '-n', 'tutorial', 'tier=front']);
    b.k(['label', 'configmap', 'b', '-n', 'tutorial', 'tier=back']);
    const front = b.k(['get', 'cm', '-n', 'tutorial', '-l', 'tier=front', '-o', 'name']);
    assert.equal(front.trim(), 'configmap/a');
    const notFront = b.k(['get', 'cm', '-n', 'tutorial', '-l', 'tier,tier!=front', '-o', 'name']);
    assert.equal(notFront.trim(), 'configmap/b');
    const set = b.k(['get', 'cm', '-n', 'tutorial', '-l', 'tier in (front,back)', '-o', 'name']);
    assert.deepEqual(set.trim().split('\n').sort(), ['configmap/a', 'configmap/b']);
    const byName = b.k(['get', 'cm', '-n', 'tutorial', '--field-selector', 'metadata.name=b', '-o', 'name']);
    assert.equal(byName.trim(), 'configmap/b');
    const bad = b.kubectl(['get', 'cm', '-n', 'tutorial', '--field-selector', 'spec.nope=1']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /field label not supported: spec.nope/);
  });

  test('label and annotate, then patch in all three types', () => {
    b.k(['annotate', 'sts', 'web', '-n', 'tutorial', 'note=hello']);
    assert.equal(b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.metadata.annotations.note}']), 'hello');
    b.k(['patch', 'sts', 'web', '-n', 'tutorial', '-p', '{"spec":{"replicas":3}}']);
    assert.equal(b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.spec.replicas}']), '3');
    b.k(['patch', 'sts', 'web', '-n', 'tutorial', '--type=merge', '-p', '{"spec":{"minReadySeconds":5}}']);
    assert.equal(b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.spec.minReadySeconds}']), '5');
    b.k(['patch', 'sts', 'web', '-n', 'tutorial', '--type=json', '-p',
      '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.k8s.io/nginx:1.20"}]']);
    assert.equal(
      b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']),
      'registry.k8s.io/nginx:1.20',
    );
    // A strategic merge patch merges containers by name instead of replacing the list.
    b.k(['patch', 'sts', 'web', '-n', 'tutorial', '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}']);
    assert.deepEqual(
      b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.spec.template.spec.containers[*].name}']).split(' ').sort(),
      ['nginx', 'sidecar'],
    );
  });

  test('scale changes replicas through the scale subresource', () => {
    assert.match(b.k(['scale', 'statefulset', 'web', '-n', 'tutorial', '--replicas=5']), /statefulset.apps\/web scaled/);
    assert.equal(b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.spec.replicas}']), '5');
  });

  test('describe tells about a StatefulSet', () => {
    const out = b.k(['describe', 'statefulset', 'web', '-n', 'tutorial']);
    assert.match(out, /Name:\s+web/);
    assert.match(out, /Namespace:\s+tutorial/);
    assert.match(out, /Replicas:\s+5 desired/);
    assert.match(out, /Update Strategy:\s+RollingUpdate/);
  });

  test('diff shows what apply would change, using a server-side dry run', () => {
    const edited = join(scratch, 'web-diff.yaml');
    writeFileSync(edited, readFileSync(manifest, 'utf8').replace('image: nginx:1.25', 'image: nginx:1.26'));
    const r = b.kubectl(['diff', '-f', edited]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /-\s+image: registry.k8s.io\/nginx:1.20|\+\s+image: nginx:1.26/);
    // Nothing was written.
    assert.equal(
      b.k(['get', 'sts', 'web', '-n', 'tutorial', '-o', 'jsonpath={.spec.template.spec.containers[?(@.name=="nginx")].image}']),
      'registry.k8s.io/nginx:1.20',
    );
  });

  test('create of an invalid StatefulSet prints the Kubernetes message', () => {
    const bad = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: bad
spec:
  replicas: -1
  serviceName: x
  selector:
    matchLabels:
      app: a
  template:
    metadata:
      labels:
        app: b
    spec:
      containers:
      - name: c
        image: busybox
`;
    const r = b.kubectl(['create', '-f', '-'], bad);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /The StatefulSet "bad" is invalid/);
    assert.match(r.stderr, /spec.replicas: Invalid value: -1: must be greater than or equal to 0/);
    assert.match(r.stderr, /spec.template.metadata.labels: Invalid value: .*`selector` does not match template `labels`/);
    const unknown = b.kubectl(['create', '-f', '-'], bad.replace('replicas: -1', 'replicaz: 1'));
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /unknown field "spec.replicaz"/);
  });

  test('an update to a StatefulSet field that may not change is refused as Kubernetes words it', () => {
    const r = b.kubectl(['patch', 'sts', 'web', '-n', 'tutorial', '-p', '{"spec":{"serviceName":"other"}}']);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden/,
    );
  });

  test('server-side apply: ownership, conflicts and --force-conflicts, managedFields', () => {
    const sts = (replicas: number, image = 'busybox:1.36') => JSON.stringify({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'ssa', namespace: 'tutorial' },
      spec: {
        serviceName: 'ssa', replicas, selector: { matchLabels: { app: 'ssa' } },
        template: { metadata: { labels: { app: 'ssa' } }, spec: { containers: [{ name: 'c', image }] } },
      },
    });
    assert.match(b.k(['apply', '--server-side', '-f', '-'], sts(1)), /statefulset.apps\/ssa serverside-applied/);
    b.k(['scale', 'sts', 'ssa', '-n', 'tutorial', '--replicas=2']);
    const conflict = b.kubectl(['apply', '--server-side', '-f', '-'], sts(3));
    assert.notEqual(conflict.status, 0);
    assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: .spec.replicas|Apply failed with 1 conflict: conflict with "kubectl[^"]*".*: \.spec\.replicas/);
    // Fields nobody else changed apply without conflict; forcing takes the contested one over.
    b.k(['apply', '--server-side', '--force-conflicts', '-f', '-'], sts(3, 'busybox:1.37'));
    const obj = JSON.parse(b.k(['get', 'sts', 'ssa', '-n', 'tutorial', '-o', 'json', '--show-managed-fields']));
    assert.equal(obj.spec.replicas, 3);
    assert.equal(obj.spec.template.spec.containers[0].image, 'busybox:1.37');
    const apply = obj.metadata.managedFields.find((m: { operation: string }) => m.operation === 'Apply');
    assert.equal(apply.manager, 'kubectl');
    assert.ok('f:replicas' in apply.fieldsV1['f:spec']);
  });

  test('watch streams changes', async () => {
    const { spawn } = await import('node:child_process');
    const w = spawn('kubectl', ['get', 'cm', '-n', 'tutorial', '-w', '--output-watch-events'], {
      env: { ...process.env, KUBECONFIG: b.kubeconfig },
    });
    let out = '';
    w.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await waitFor(() => /\bb\b/.test(out));
      b.k(['create', 'configmap', 'watched', '-n', 'tutorial', '--from-literal=x=y']);
      await waitFor(() => /ADDED\s+watched/.test(out));
      b.k(['delete', 'configmap', 'watched', '-n', 'tutorial']);
      await waitFor(() => /DELETED\s+watched/.test(out));
    } finally {
      w.kill();
    }
  });

  test('delete with each cascade, and wait --for=delete', () => {
    for (const cascade of ['background', 'foreground', 'orphan']) {
      const name = `cm-${cascade}`;
      b.k(['create', 'configmap', name, '-n', 'tutorial']);
      assert.match(b.k(['delete', 'configmap', name, '-n', 'tutorial', `--cascade=${cascade}`]), new RegExp(`configmap "${name}" deleted`));
      b.k(['wait', '--for=delete', `configmap/${name}`, '-n', 'tutorial', '--timeout=30s']);
      assert.notEqual(b.kubectl(['get', 'configmap', name, '-n', 'tutorial']).status, 0);
    }
  });

  test('a request without credentials is refused', async () => {
    const ca = readFileSync(join(b.dataDir, 'pki/ca.crt'));
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${b.url}/api/v1/namespaces`, { ca }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 401);
    assert.equal(JSON.parse(body).reason, 'Unauthorized');
    const bare = join(scratch, 'anonymous.yaml');
    const kc = readFileSync(b.kubeconfig, 'utf8')
      .split('\n')
      .filter((l) => !l.includes('client-certificate-data') && !l.includes('client-key-data'))
      .join('\n')
      .replace('  user:\n', '  user:\n    token: not-a-valid-token\n');
    writeFileSync(bare, kc);
    const out = b.kubectl(['--kubeconfig', bare, 'get', 'ns']);
    assert.notEqual(out.status, 0);
    assert.match(out.stderr, /Unauthorized|must be logged in/);
  });
});

async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
