import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { StatusError } from '../../src/machinery/errors.js';
import { PROTOBUF_CONTENT_TYPE, decodeKubernetesProtobuf } from '../../src/machinery/protobuf/decode.js';
import { messageNames, messageSpec, rootMessage } from '../../src/machinery/protobuf/types.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/protobuf/${name}`, import.meta.url));

// A test-only protobuf encoder, to build bodies a Go client would send for kinds kubectl's
// typed commands do not create. Go clients write every non-pointer scalar, zero or not.

type Part = Buffer;

function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return out;
}

const key = (field: number, wireType: number) => varint(field * 8 + wireType);
const int = (field: number, value: number | bigint): Part => Buffer.from([...key(field, 0), ...varint(value)]);
const bool = (field: number, value: boolean): Part => int(field, value ? 1 : 0);
const bytes = (field: number, value: Uint8Array): Part => Buffer.from([...key(field, 2), ...varint(value.length), ...value]);
const str = (field: number, value: string): Part => bytes(field, Buffer.from(value, 'utf8'));
const msg = (field: number, ...parts: Part[]): Part => bytes(field, Buffer.concat(parts));
const entry = (field: number, k: string, value: Part): Part => msg(field, str(1, k), value);
const strMap = (field: number, map: Record<string, string>): Part[] => Object.entries(map).map(([k, v]) => entry(field, k, str(2, v)));
const time = (field: number, seconds: number, nanos = 0): Part => msg(field, ...(seconds ? [int(1, seconds)] : []), ...(nanos ? [int(2, nanos)] : []));
const quantity = (field: number, value: string): Part => msg(field, str(1, value));
const intOrString = (field: number, value: number | string): Part =>
  typeof value === 'number' ? msg(field, int(1, 0), int(2, value), str(3, '')) : msg(field, int(1, 1), int(2, 0), str(3, value));

function body(apiVersion: string, kind: string, raw: Part, extra: Part[] = []): Buffer {
  const unknown = Buffer.concat([msg(1, str(1, apiVersion), str(2, kind)), bytes(2, raw), str(3, ''), str(4, ''), ...extra]);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown]);
}

/** ObjectMeta as a Go client writes it: the non-pointer strings and creationTimestamp always. */
function objectMeta(field: number, name: string, namespace: string, ...rest: Part[]): Part {
  return msg(field, str(1, name), str(2, ''), str(3, namespace), str(4, ''), str(5, ''), str(6, ''), int(7, 0), time(8, 0), ...rest);
}

const decode = (b: Buffer) => decodeKubernetesProtobuf(b).object;

function assertBadRequest(b: Uint8Array, message?: RegExp): void {
  assert.throws(
    () => decodeKubernetesProtobuf(b),
    (err: unknown) => {
      assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
      assert.equal(err.code, 400);
      assert.equal(err.reason, 'BadRequest');
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

test('the content type is Kubernetes protobuf', () => {
  assert.equal(PROTOBUF_CONTENT_TYPE, 'application/vnd.kubernetes.protobuf');
});

test('kubectl create configmap: string data, an empty value, binary data as base64', () => {
  const decoded = decodeKubernetesProtobuf(fixture('configmap-game-config.pb'));
  assert.equal(decoded.apiVersion, 'v1');
  assert.equal(decoded.kind, 'ConfigMap');
  assert.deepEqual(decoded.object, {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: 'game-config', creationTimestamp: null },
    data: { a: 'b', empty: '', 'game.properties': 'line one\nline two\n' },
    binaryData: { 'blob.bin': Buffer.from([0, 1, 2, 0xff, 0xfe, ...Buffer.from(' binary')]).toString('base64') },
  });
});

test('kubectl create secret generic: bytes become base64 strings', () => {
  assert.deepEqual(decode(fixture('secret-generic-db.pb')), {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: { name: 'db', creationTimestamp: null },
    data: { password: Buffer.from('s3cr3t').toString('base64'), user: Buffer.from('admin').toString('base64') },
  });
});

test('kubectl create secret tls: type and PEM data', () => {
  const secret = decode(fixture('secret-tls-web-tls.pb')) as { type: string; data: Record<string, string>; metadata: unknown };
  assert.equal(secret.type, 'kubernetes.io/tls');
  assert.deepEqual(secret.metadata, { name: 'web-tls', creationTimestamp: null });
  assert.deepEqual(Object.keys(secret.data).sort(), ['tls.crt', 'tls.key']);
  assert.match(Buffer.from(secret.data['tls.crt'], 'base64').toString(), /^-----BEGIN CERTIFICATE-----\n/);
  assert.match(Buffer.from(secret.data['tls.key'], 'base64').toString(), /^-----BEGIN PRIVATE KEY-----\n/);
});

test('kubectl create namespace: empty strings Go always writes are left out, empty structs stay', () => {
  assert.deepEqual(decode(fixture('namespace-team-a.pb')), {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: { name: 'team-a', creationTimestamp: null },
    spec: {},
    status: {},
  });
});

test('kubectl create service: IntOrString target ports, label maps, the same object as JSON', () => {
  assert.deepEqual(decode(fixture('service-clusterip-web.pb')), {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: { name: 'web', creationTimestamp: null, labels: { app: 'web' } },
    spec: {
      ports: [
        { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
        { name: '443-https', protocol: 'TCP', port: 443, targetPort: 'https' },
      ],
      selector: { app: 'web' },
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  });
});

test('a kind berth does not decode is a 400 naming it', () => {
  assertBadRequest(fixture('deployment-web.pb'), /no kind "Deployment" is registered for version "apps\/v1"/);
});

test('a Pod: inline volume sources, containers, probes, quantities, times, pointer zeros', () => {
  const container = msg(
    2,
    str(1, 'web'),
    str(2, 'nginx:1.27'),
    str(3, 'nginx'),
    str(3, '-g'),
    str(5, ''),
    msg(6, str(1, 'http'), int(2, 0), int(3, 80), str(4, 'TCP'), str(5, '')),
    msg(7, str(1, 'MODE'), str(2, 'prod')),
    msg(7, str(1, 'POD_IP'), str(2, ''), msg(3, msg(1, str(1, 'v1'), str(2, 'status.podIP')))),
    msg(8, entry(1, 'memory', quantity(2, '128Mi')), entry(2, 'cpu', quantity(2, '250m'))),
    msg(9, str(1, 'data'), bool(2, false), str(3, '/data'), str(4, '')),
    // readinessProbe: ProbeHandler is inlined into Probe, httpGet.port is an IntOrString.
    msg(11, msg(1, msg(2, str(1, '/healthz'), intOrString(2, 'http'), str(3, ''), str(4, 'HTTP'))), int(2, 5), int(3, 0), int(4, 10)),
    str(13, '/dev/termination-log'),
    str(14, 'IfNotPresent'),
    msg(15, int(4, 0), bool(7, false)),
    bool(16, false),
  );
  const pod = body(
    'v1',
    'Pod',
    Buffer.concat([
      objectMeta(1, 'web-0', 'default', ...strMap(11, { app: 'web' }), msg(13, str(1, 'StatefulSet'), str(3, 'web'), str(4, 'u-1'), str(5, 'apps/v1'), bool(6, true))),
      msg(
        2,
        msg(1, str(1, 'data'), msg(2, msg(2, str(1, ''), quantity(2, '1Gi')))),
        msg(1, str(1, 'config'), msg(2, msg(19, msg(1, str(1, 'web-config')), msg(2, str(1, 'nginx.conf'), str(2, 'nginx.conf')), int(3, 420)))),
        container,
        str(3, ''),
        int(4, 0),
        str(6, 'ClusterFirst'),
        str(8, ''),
        str(10, ''),
        bool(11, false),
        msg(14, int(2, 0), int(4, 1000), int(4, 2000)),
        str(16, 'web-0'),
        str(17, 'web'),
        str(19, ''),
        msg(22, str(1, 'node.kubernetes.io/not-ready'), str(2, 'Exists'), str(3, ''), str(4, 'NoExecute'), int(5, 300)),
      ),
      msg(3, str(1, 'Pending'), time(7, 1700000000)),
    ]),
  );
  assert.deepEqual(decode(pod), {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: 'web-0',
      namespace: 'default',
      creationTimestamp: null,
      labels: { app: 'web' },
      ownerReferences: [{ kind: 'StatefulSet', name: 'web', uid: 'u-1', apiVersion: 'apps/v1', controller: true }],
    },
    spec: {
      volumes: [
        { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
        { name: 'config', configMap: { name: 'web-config', items: [{ key: 'nginx.conf', path: 'nginx.conf' }], defaultMode: 420 } },
      ],
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          command: ['nginx', '-g'],
          ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
          env: [{ name: 'MODE', value: 'prod' }, { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } }],
          resources: { limits: { memory: '128Mi' }, requests: { cpu: '250m' } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 5, periodSeconds: 10 },
          terminationMessagePath: '/dev/termination-log',
          imagePullPolicy: 'IfNotPresent',
          securityContext: { runAsUser: 0, allowPrivilegeEscalation: false },
        },
      ],
      terminationGracePeriodSeconds: 0,
      dnsPolicy: 'ClusterFirst',
      securityContext: { runAsUser: 0, supplementalGroups: [1000, 2000] },
      hostname: 'web-0',
      subdomain: 'web',
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: { phase: 'Pending', startTime: '2023-11-14T22:13:20Z' },
  });
});

test('a Pod: ephemeral containers inline their common fields; packed repeated ints decode', () => {
  const packedGroups = bytes(4, Buffer.from([...varint(5), ...varint(300)]));
  const pod = decode(
    body(
      'v1',
      'Pod',
      Buffer.concat([
        objectMeta(1, 'p', 'default'),
        msg(2, msg(14, bytes(4, Buffer.alloc(0)), packedGroups, int(4, 7)), msg(34, msg(1, str(1, 'debugger'), str(2, 'busybox'), bool(16, true)), str(2, 'web'))),
      ]),
    ),
  ) as { spec: unknown };
  assert.deepEqual(pod.spec, {
    securityContext: { supplementalGroups: [5, 300, 7] },
    ephemeralContainers: [{ name: 'debugger', image: 'busybox', stdin: true, targetContainerName: 'web' }],
  });
});

test('a long packed run decodes; an empty one adds no field', () => {
  const run = Buffer.alloc(300_000, 0x01);
  const many = decode(body('v1', 'Pod', msg(2, msg(14, bytes(4, run), bytes(4, run))))) as { spec: { securityContext: { supplementalGroups: number[] } } };
  assert.equal(many.spec.securityContext.supplementalGroups.length, 600_000);
  assert.deepEqual(decode(body('v1', 'Pod', msg(2, msg(14, bytes(4, Buffer.alloc(0)))))), { kind: 'Pod', apiVersion: 'v1', spec: { securityContext: {} } });
});

test('a PersistentVolume: the persistent volume source is inlined into the spec', () => {
  const pv = decode(
    body(
      'v1',
      'PersistentVolume',
      Buffer.concat([
        objectMeta(1, 'pv-1', ''),
        msg(2, entry(1, 'storage', quantity(2, '10Gi')), msg(2, msg(3, str(1, '/srv/pv-1'))), str(3, 'ReadWriteOnce'), str(5, 'Retain'), str(6, 'local')),
      ]),
    ),
  ) as { spec: unknown };
  assert.deepEqual(pv.spec, {
    capacity: { storage: '10Gi' },
    hostPath: { path: '/srv/pv-1' },
    accessModes: ['ReadWriteOnce'],
    persistentVolumeReclaimPolicy: 'Retain',
    storageClassName: 'local',
  });
});

test('a StatefulSet: replicas 0 is kept (a pointer), omitempty zeros go, non-omitempty zeros stay', () => {
  const claim = msg(4, objectMeta(1, 'data', ''), msg(2, str(1, 'ReadWriteOnce'), msg(2, entry(2, 'storage', quantity(2, '1Gi')))), msg(3, str(1, '')));
  const set = decode(
    body(
      'apps/v1',
      'StatefulSet',
      Buffer.concat([
        objectMeta(1, 'web', 'default', int(7, 3)),
        msg(
          2,
          int(1, 0),
          msg(2, ...strMap(1, { app: 'web' })),
          msg(3, objectMeta(1, '', '', ...strMap(11, { app: 'web' })), msg(2, msg(2, str(1, 'web'), str(2, 'nginx')))),
          claim,
          str(5, 'web'),
          str(6, 'OrderedReady'),
          msg(7, str(1, 'RollingUpdate'), msg(2, int(1, 0), intOrString(2, '50%'))),
          int(8, 10),
          int(9, 0),
          msg(10, str(1, 'Retain'), str(2, 'Delete')),
        ),
        msg(3, int(1, 0), int(2, 0), int(3, 0), str(6, ''), int(11, 0)),
      ]),
    ),
  );
  assert.deepEqual(set, {
    kind: 'StatefulSet',
    apiVersion: 'apps/v1',
    metadata: { name: 'web', namespace: 'default', generation: 3, creationTimestamp: null },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', creationTimestamp: null },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          status: {},
        },
      ],
      serviceName: 'web',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '50%' } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
    },
    status: { replicas: 0, availableReplicas: 0 },
  });
});

test('times: Time in whole seconds, MicroTime with microseconds, Go zero time as null', () => {
  const event = decode(
    body(
      'events.k8s.io/v1',
      'Event',
      Buffer.concat([
        objectMeta(1, 'web-0.17a', 'default', time(9, 1700000000, 999_999_999)),
        time(2, 1700000000, 123_456_789),
        msg(3, int(1, 2), time(2, 1700000001, 5_000)),
        str(4, 'berth/statefulset'),
        str(5, ''),
        str(6, 'Create'),
        str(7, 'SuccessfulCreate'),
        msg(8, str(1, 'Pod'), str(2, 'default'), str(3, 'web-0')),
        str(10, 'create Pod web-0 in StatefulSet web successful'),
        str(11, 'Normal'),
        time(13, -62135596800),
        time(14, 0),
        int(15, 0),
      ]),
    ),
  );
  assert.deepEqual(event, {
    kind: 'Event',
    apiVersion: 'events.k8s.io/v1',
    metadata: { name: 'web-0.17a', namespace: 'default', creationTimestamp: null, deletionTimestamp: '2023-11-14T22:13:20Z' },
    eventTime: '2023-11-14T22:13:20.123456Z',
    series: { count: 2, lastObservedTime: '2023-11-14T22:13:21.000005Z' },
    reportingController: 'berth/statefulset',
    action: 'Create',
    reason: 'SuccessfulCreate',
    regarding: { kind: 'Pod', namespace: 'default', name: 'web-0' },
    note: 'create Pod web-0 in StatefulSet web successful',
    type: 'Normal',
    deprecatedFirstTimestamp: null,
    deprecatedLastTimestamp: null,
  });
});

test('a core/v1 Event keeps reportingComponent, which has no omitempty', () => {
  const event = decode(
    body(
      'v1',
      'Event',
      Buffer.concat([objectMeta(1, 'e', 'default'), msg(2, str(1, 'Pod'), str(3, 'web-0')), str(3, 'Started'), time(7, 86400), int(8, 1), str(14, ''), str(15, '')]),
    ),
  );
  assert.deepEqual(event, {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name: 'e', namespace: 'default', creationTimestamp: null },
    involvedObject: { kind: 'Pod', name: 'web-0' },
    reason: 'Started',
    lastTimestamp: '1970-01-02T00:00:00Z',
    count: 1,
    reportingComponent: '',
    reportingInstance: '',
  });
});

test('a Lease with MicroTime renewals and negative numbers', () => {
  const lease = decode(
    body(
      'coordination.k8s.io/v1',
      'Lease',
      Buffer.concat([objectMeta(1, 'node-1', 'kube-node-lease', int(10, -1)), msg(2, str(1, 'node-1'), int(2, 40), time(4, 1700000000, 1_000), int(5, -3))]),
    ),
  );
  assert.deepEqual(lease, {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    metadata: { name: 'node-1', namespace: 'kube-node-lease', creationTimestamp: null, deletionGracePeriodSeconds: -1 },
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2023-11-14T22:13:20.000001Z', leaseTransitions: -3 },
  });
});

test('DeleteOptions under any group version: a zero grace period is kept', () => {
  const raw = Buffer.concat([int(1, 0), msg(2, str(1, 'u-1')), str(4, 'Foreground'), str(5, 'All')]);
  for (const apiVersion of ['v1', 'meta.k8s.io/v1', 'apps/v1']) {
    assert.deepEqual(decode(body(apiVersion, 'DeleteOptions', raw)), {
      kind: 'DeleteOptions',
      apiVersion,
      gracePeriodSeconds: 0,
      preconditions: { uid: 'u-1' },
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
  }
});

test('an Eviction carries its DeleteOptions; a Scale its replicas', () => {
  assert.deepEqual(decode(body('policy/v1', 'Eviction', Buffer.concat([objectMeta(1, 'web-0', 'default'), msg(2, int(1, 30))]))), {
    kind: 'Eviction',
    apiVersion: 'policy/v1',
    metadata: { name: 'web-0', namespace: 'default', creationTimestamp: null },
    deleteOptions: { gracePeriodSeconds: 30 },
  });
  assert.deepEqual(decode(body('autoscaling/v1', 'Scale', Buffer.concat([objectMeta(1, 'web', 'default'), msg(2, int(1, 0)), msg(3, int(1, 0), str(2, ''))]))), {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: null },
    spec: {},
    status: { replicas: 0 },
  });
});

test('embedded JSON: ControllerRevision data and managedFields fieldsV1', () => {
  const data = { spec: { template: { metadata: { labels: { app: 'web' } } } } };
  const revision = decode(
    body(
      'apps/v1',
      'ControllerRevision',
      Buffer.concat([
        objectMeta(1, 'web-5d8f', 'default', msg(17, str(1, 'kubectl'), str(2, 'Update'), str(3, 'apps/v1'), time(4, 1700000000), str(6, 'FieldsV1'), msg(7, str(1, '{"f:data":{}}')), str(8, ''))),
        msg(2, str(1, JSON.stringify(data))),
        int(3, 2),
      ]),
    ),
  );
  assert.deepEqual(revision, {
    kind: 'ControllerRevision',
    apiVersion: 'apps/v1',
    metadata: {
      name: 'web-5d8f',
      namespace: 'default',
      creationTimestamp: null,
      managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', time: '2023-11-14T22:13:20Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } }],
    },
    data,
    revision: 2,
  });
});

test('an EndpointSlice and a StorageClass decode whole', () => {
  const slice = decode(
    body(
      'discovery.k8s.io/v1',
      'EndpointSlice',
      Buffer.concat([
        objectMeta(1, 'web-abc', 'default'),
        msg(2, str(1, '10.0.0.5'), msg(2, bool(1, true), bool(2, true), bool(3, false)), str(3, 'web-0'), msg(4, str(1, 'Pod'), str(3, 'web-0')), str(6, 'node-1')),
        msg(3, str(1, 'http'), str(2, 'TCP'), int(3, 80)),
        str(4, 'IPv4'),
      ]),
    ),
  );
  assert.deepEqual(slice, {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: { name: 'web-abc', namespace: 'default', creationTimestamp: null },
    endpoints: [
      { addresses: ['10.0.0.5'], conditions: { ready: true, serving: true, terminating: false }, hostname: 'web-0', targetRef: { kind: 'Pod', name: 'web-0' }, nodeName: 'node-1' },
    ],
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    addressType: 'IPv4',
  });
  const storageClass = decode(
    body('storage.k8s.io/v1', 'StorageClass', Buffer.concat([objectMeta(1, 'local', ''), str(2, 'berth.dev/hostpath'), ...strMap(3, { root: '/srv' }), str(4, 'Delete'), str(7, 'WaitForFirstConsumer')])),
  );
  assert.deepEqual(storageClass, {
    kind: 'StorageClass',
    apiVersion: 'storage.k8s.io/v1',
    metadata: { name: 'local', creationTimestamp: null },
    provisioner: 'berth.dev/hostpath',
    parameters: { root: '/srv' },
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
});

test('fields unknown to the tables are skipped, whatever their wire type', () => {
  const unknownFields = Buffer.concat([
    int(90, 7),
    str(91, 'x'),
    Buffer.from([...key(92, 1), 1, 2, 3, 4, 5, 6, 7, 8]),
    Buffer.from([...key(93, 5), 1, 2, 3, 4]),
    Buffer.from([...key(94, 3), ...int(1, 1), ...key(95, 3), ...key(95, 4), ...key(94, 4)]),
  ]);
  const ns = decode(body('v1', 'Namespace', Buffer.concat([unknownFields, objectMeta(1, 'n', '', unknownFields)]), [unknownFields]));
  assert.deepEqual(ns, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'n', creationTimestamp: null } });
});

test('a repeated message field merges; the last scalar wins; a later zero unsets an omitempty field', () => {
  const ns = decode(body('v1', 'Namespace', Buffer.concat([msg(1, str(1, 'a'), str(3, 'x')), msg(1, str(1, 'b'), str(3, ''), str(14, 'f'))])));
  assert.deepEqual(ns, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'b', finalizers: ['f'] } });
});

test('map keys from the wire are plain own properties, even __proto__', () => {
  const cm = decode(body('v1', 'ConfigMap', Buffer.concat([...strMap(2, { ['__proto__']: 'x', a: 'b' }), entry(2, 'novalue', Buffer.alloc(0))]))) as {
    data: Record<string, unknown>;
  };
  assert.equal(Object.getPrototypeOf(cm.data), Object.prototype);
  assert.deepEqual(Object.keys(cm.data), ['__proto__', 'a', 'novalue']);
  assert.equal(Object.getOwnPropertyDescriptor(cm.data, '__proto__')?.value, 'x');
  assert.equal(cm.data.novalue, '');
});

test('malformed bodies are 400 BadRequest with a clear message', () => {
  assertBadRequest(Buffer.alloc(0), /does not start with the "k8s\\x00" prefix/);
  assertBadRequest(Buffer.from('{"kind":"Namespace"}'), /does not start with the "k8s\\x00" prefix/);
  assertBadRequest(Buffer.from('k8s'), /prefix/);
  assertBadRequest(body('v1', '', Buffer.alloc(0)), /Object 'Kind' is missing/);
  assertBadRequest(body('v9', 'Namespace', Buffer.alloc(0)), /no kind "Namespace" is registered for version "v9"/);
  assertBadRequest(body('v1', 'Namespace', Buffer.alloc(0), [str(3, 'gzip')]), /unsupported protobuf content encoding "gzip"/);
  // A string field sent as a varint.
  assertBadRequest(body('v1', 'Namespace', msg(1, int(1, 5))), /field 1 of meta.v1.ObjectMeta has wire type varint, expected length-delimited/);
  // An int field sent as a string.
  assertBadRequest(body('v1', 'Event', str(8, '1')), /field 8 of core.v1.Event has wire type length-delimited, expected varint/);
  // A length that runs past the end.
  assertBadRequest(body('v1', 'Namespace', Buffer.from([0x0a, 0x7f, 0x0a, 0x01])), /runs past the end/);
  // A varint longer than 10 bytes.
  assertBadRequest(body('v1', 'Namespace', Buffer.from([0x38, ...Array(11).fill(0xff), 0x01])), /longer than 10 bytes/);
  // Field number 0 and wire types 6 and 7.
  assertBadRequest(body('v1', 'Namespace', Buffer.from([0x00, 0x01])), /field number 0/);
  assertBadRequest(body('v1', 'Namespace', Buffer.from([0x0e])), /invalid wire type 6/);
  // A group that never closes, an end-group with no start.
  assertBadRequest(body('v1', 'Namespace', Buffer.from(key(50, 3))), /not closed/);
  assertBadRequest(body('v1', 'Namespace', Buffer.from(key(50, 4))), /unexpected end-group/);
  // Bad special values.
  assertBadRequest(body('v1', 'Service', msg(2, msg(1, msg(4, int(1, 7))))), /IntOrString has an invalid type 7/);
  assertBadRequest(body('apps/v1', 'ControllerRevision', msg(2, str(1, 'not json'))), /not JSON/);
});

test('every prefix of a real body decodes or is a 400, never another error', () => {
  for (const name of ['service-clusterip-web.pb', 'configmap-game-config.pb', 'secret-tls-web-tls.pb']) {
    const full = fixture(name);
    for (let end = 0; end < full.length; end++) {
      try {
        decodeKubernetesProtobuf(full.subarray(0, end));
      } catch (err) {
        assert.ok(err instanceof StatusError && err.code === 400, `${name} cut at ${end}: ${String(err)}`);
      }
    }
  }
});

test('corrupted bodies decode or are a 400, never another error', () => {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const sources = ['service-clusterip-web.pb', 'configmap-game-config.pb', 'namespace-team-a.pb'].map(fixture);
  for (let i = 0; i < 3000; i++) {
    const corrupt = Buffer.from(sources[i % sources.length]);
    const flips = 1 + Math.floor(random() * 4);
    for (let j = 0; j < flips; j++) corrupt[4 + Math.floor(random() * (corrupt.length - 4))] = Math.floor(random() * 256);
    try {
      decodeKubernetesProtobuf(corrupt);
    } catch (err) {
      assert.ok(err instanceof StatusError && err.code === 400, `case ${i}: ${String(err)}`);
    }
  }
});

test('the tables cover every served kind and reference only listed messages', () => {
  const served: [string, string][] = [
    ['v1', 'Namespace'], ['v1', 'Pod'], ['v1', 'Service'], ['v1', 'Endpoints'], ['v1', 'ConfigMap'], ['v1', 'Secret'],
    ['v1', 'Event'], ['v1', 'PersistentVolume'], ['v1', 'PersistentVolumeClaim'], ['v1', 'Node'], ['v1', 'Binding'],
    ['apps/v1', 'StatefulSet'], ['apps/v1', 'ControllerRevision'], ['storage.k8s.io/v1', 'StorageClass'],
    ['discovery.k8s.io/v1', 'EndpointSlice'], ['coordination.k8s.io/v1', 'Lease'], ['events.k8s.io/v1', 'Event'],
    ['autoscaling/v1', 'Scale'], ['policy/v1', 'Eviction'], ['v1', 'DeleteOptions'],
  ];
  for (const [apiVersion, kind] of served) assert.ok(rootMessage(apiVersion, kind), `${apiVersion} ${kind}`);
  const names = new Set(messageNames());
  for (const name of names) {
    for (const field of messageSpec(name).fields.values()) {
      if (field.type.kind === 'message') assert.ok(names.has(field.type.message), `${name}.${field.json} -> ${field.type.message}`);
    }
  }
  // Spot checks of numbers that matter most for StatefulSets.
  const podSpec = messageSpec('core.v1.PodSpec').fields;
  assert.equal(podSpec.get(2)?.json, 'containers');
  assert.equal(podSpec.get(34)?.json, 'ephemeralContainers');
  assert.equal(podSpec.get(40)?.json, 'resources');
  const setSpec = messageSpec('apps.v1.StatefulSetSpec').fields;
  assert.deepEqual([...setSpec.values()].map((f) => `${f.number} ${f.json}`), [
    '1 replicas', '2 selector', '3 template', '4 volumeClaimTemplates', '5 serviceName', '6 podManagementPolicy',
    '7 updateStrategy', '8 revisionHistoryLimit', '9 minReadySeconds', '10 persistentVolumeClaimRetentionPolicy', '11 ordinals',
  ]);
});
