import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KindDef, KubeObject } from '../../src/api/types.js';
import { fieldErrorText, type FieldError } from '../../src/machinery/validation.js';
import { StatusError } from '../../src/machinery/errors.js';
import { kind as namespaces } from '../../src/api/core/namespaces.js';
import { kind as services } from '../../src/api/core/services.js';
import { kind as endpoints } from '../../src/api/core/endpoints.js';
import { kind as configmaps } from '../../src/api/core/configmaps.js';
import { kind as secrets } from '../../src/api/core/secrets.js';
import { kind as events } from '../../src/api/core/events.js';
import { kind as persistentvolumes } from '../../src/api/core/persistentvolumes.js';
import { kind as nodes } from '../../src/api/core/nodes.js';
import { kind as storageclasses } from '../../src/api/storage/storageclasses.js';
import { kind as endpointslices } from '../../src/api/discovery/endpointslices.js';
import { kind as leases } from '../../src/api/coordination/leases.js';
import { kind as eventsV1 } from '../../src/api/events/events.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const CREATED = '2024-05-01T11:55:00Z'; // five minutes before NOW

type Obj = KubeObject & Record<string, any>;

/** What the API server does with a new object: defaults, strategy, validation. */
function create(def: KindDef<any>, obj: Obj): { obj: Obj; errors: string[] } {
  const o = structuredClone(obj);
  o.metadata.creationTimestamp ??= CREATED;
  def.defaults?.(o);
  def.prepareForCreate?.(o);
  return { obj: o, errors: (def.validate?.(o) ?? []).map(fieldErrorText) };
}

/** An update of a created object, as the API server runs it for the main resource. */
function update(def: KindDef<any>, old: Obj, next: Obj): { obj: Obj; errors: string[] } {
  const o = structuredClone(next);
  if (def.statusSubresource) o.status = old.status;
  def.defaults?.(o);
  def.prepareForUpdate?.(o, old);
  return { obj: o, errors: (def.validateUpdate?.(o, old) ?? []).map(fieldErrorText) };
}

const texts = (errs: FieldError[]) => errs.map(fieldErrorText);
const columns = (def: KindDef<any>) => def.table.columns.map((c) => c.name.toUpperCase());
const defaultColumns = (def: KindDef<any>) => def.table.columns.filter((c) => c.priority === 0).map((c) => c.name.toUpperCase());
const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), creationTimestamp: CREATED });

// --- namespaces -----------------------------------------------------------------

test('a new namespace is Active, carries the kubernetes finalizer and its name label', () => {
  const { obj, errors } = create(namespaces, { metadata: meta('team-a') });
  assert.deepEqual(errors, []);
  assert.equal(obj.metadata.labels['kubernetes.io/metadata.name'], 'team-a');
  assert.deepEqual(obj.spec.finalizers, ['kubernetes']);
  assert.deepEqual(obj.status, { phase: 'Active' });
});

test('namespace names are DNS labels and finalizers standard or qualified', () => {
  assert.match(namespaces.nameValidation!('a.b')[0], /^a lowercase RFC 1123 label/);
  const { errors } = create(namespaces, { metadata: meta('ns'), spec: { finalizers: ['custom'] } });
  assert.deepEqual(errors, [
    'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]);
});

test('deleting a namespace marks it Terminating until spec.finalizers is empty', () => {
  const { obj } = create(namespaces, { metadata: meta('ns') });
  assert.equal(namespaces.pendingFinalization!(obj), true);
  namespaces.prepareForDeletion!(obj);
  assert.equal(obj.status.phase, 'Terminating');
  assert.deepEqual(texts(namespaces.validateStatusUpdate!(obj, obj)), [
    'status.Phase: Invalid value: "Terminating": may only be \'Active\' if `deletionTimestamp` is empty',
  ]);
  assert.equal(namespaces.pendingFinalization!({ ...obj, spec: { finalizers: [] } }), false);
});

test('namespaces print NAME STATUS AGE and select on status.phase', () => {
  const { obj } = create(namespaces, { metadata: meta('default') });
  assert.deepEqual(columns(namespaces), ['NAME', 'STATUS', 'AGE']);
  assert.deepEqual(namespaces.table.row(obj, NOW), ['default', 'Active', '5m']);
  assert.equal(namespaces.fieldSelectors!['status.phase'](obj), 'Active');
});

// --- services -------------------------------------------------------------------

const svc = (spec: Record<string, unknown>, name = 'web'): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: meta(name, 'default'),
  spec,
});

test('a ClusterIP service gets Kubernetes defaults and no allocated address', () => {
  const { obj, errors } = create(services, svc({ selector: { app: 'web' }, ports: [{ port: 80 }] }));
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.spec, {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  });
  assert.deepEqual(obj.status, { loadBalancer: {} });
});

test('NodePort and LoadBalancer services default their external fields', () => {
  const np = create(services, svc({ type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] })).obj;
  assert.equal(np.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(np.spec.ports[0].targetPort, 'http');
  const lb = create(services, svc({ type: 'LoadBalancer', ports: [{ port: 443 }] })).obj;
  assert.equal(lb.spec.allocateLoadBalancerNodePorts, true);
  assert.equal(lb.spec.externalTrafficPolicy, 'Cluster');
  const affinity = create(services, svc({ sessionAffinity: 'ClientIP', ports: [{ port: 80 }] })).obj;
  assert.deepEqual(affinity.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
});

test('a headless service keeps clusterIP None and needs no ports', () => {
  const withSelector = create(services, svc({ clusterIP: 'None', selector: { app: 'db' } }));
  assert.deepEqual(withSelector.errors, []);
  assert.equal(withSelector.obj.spec.clusterIP, 'None');
  assert.deepEqual(withSelector.obj.spec.clusterIPs, ['None']);
  assert.deepEqual(withSelector.obj.spec.ipFamilies, ['IPv4']);
  // Headless services without a selector take both families.
  const bare = create(services, svc({ clusterIP: 'None' })).obj;
  assert.equal(bare.spec.ipFamilyPolicy, 'RequireDualStack');
  assert.deepEqual(bare.spec.ipFamilies, ['IPv4', 'IPv6']);
});

test('service validation reports what kube-apiserver reports', () => {
  assert.deepEqual(create(services, svc({})).errors, ['spec.ports: Required value']);
  assert.deepEqual(create(services, svc({ ports: [{ port: 80 }, { port: 81 }] })).errors, [
    'spec.ports[0].name: Required value',
    'spec.ports[1].name: Required value',
  ]);
  assert.deepEqual(
    create(services, svc({ ports: [{ name: 'a', port: 0, protocol: 'HTTP' }, { name: 'a', port: 80 }] })).errors,
    [
      'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[1].name: Duplicate value: "a"',
    ],
  );
  assert.deepEqual(create(services, svc({ type: 'Magic', ports: [{ port: 80 }] })).errors, [
    'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  ]);
  assert.deepEqual(create(services, svc({ ports: [{ port: 80, nodePort: 30080 }] })).errors, [
    "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
  ]);
  assert.deepEqual(create(services, svc({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] })).errors, [
    'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  ]);
  assert.deepEqual(create(services, svc({ clusterIP: '10.96.0.300', ports: [{ port: 80 }] })).errors, [
    'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  ]);
  assert.deepEqual(create(services, svc({ externalIPs: ['127.0.0.1'], ports: [{ port: 80 }] })).errors, [
    'spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
  ]);
  assert.match(services.nameValidation!('1web')[0], /^a DNS-1035 label must consist of/);
});

test('a service keeps its cluster IP: omitted on update it is kept, changed it is refused', () => {
  const old = create(services, svc({ clusterIP: '10.96.0.10', ports: [{ port: 80 }] })).obj;
  const kept = update(services, old, svc({ ports: [{ port: 80 }] }));
  assert.deepEqual(kept.errors, []);
  assert.equal(kept.obj.spec.clusterIP, '10.96.0.10');
  assert.deepEqual(kept.obj.spec.clusterIPs, ['10.96.0.10']);
  const changed = update(services, old, svc({ clusterIP: '10.96.0.11', ports: [{ port: 80 }] }));
  assert.deepEqual(changed.errors, [
    'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set',
  ]);
});

test('switching a service to ExternalName drops its cluster IP fields', () => {
  const old = create(services, svc({ clusterIP: '10.96.0.10', ports: [{ port: 80 }] })).obj;
  const next = structuredClone(old);
  next.spec.type = 'ExternalName';
  next.spec.externalName = 'db.example.com.';
  const res = update(services, old, next);
  assert.deepEqual(res.errors, []);
  assert.equal(res.obj.spec.clusterIP, undefined);
  assert.equal(res.obj.spec.ipFamilies, undefined);
  assert.equal(res.obj.spec.ipFamilyPolicy, undefined);
});

test('services print type, cluster IP, external IP and ports as kubectl shows them', () => {
  assert.deepEqual(defaultColumns(services), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  assert.deepEqual(columns(services).at(-1), 'SELECTOR');
  const web = create(services, svc({ selector: { tier: 'fe', app: 'web' }, ports: [{ name: 'http', port: 80 }, { name: 'https', port: 443 }] })).obj;
  web.spec.clusterIP = '10.96.0.20';
  web.spec.clusterIPs = ['10.96.0.20'];
  assert.deepEqual(services.table.row(web, NOW), ['web', 'ClusterIP', '10.96.0.20', '<none>', '80/TCP,443/TCP', '5m', 'app=web,tier=fe']);
  const lb = create(services, svc({ type: 'LoadBalancer', ports: [{ port: 443, nodePort: 31443 }] }, 'lb')).obj;
  assert.deepEqual(services.table.row(lb, NOW), ['lb', 'LoadBalancer', '<none>', '<pending>', '443:31443/TCP', '5m', '<none>']);
  const headless = create(services, svc({ clusterIP: 'None', selector: { app: 'db' } }, 'db')).obj;
  assert.deepEqual(services.table.row(headless, NOW).slice(2, 5), ['None', '<none>', '<none>']);
  assert.equal(services.fieldSelectors!['spec.type'](lb), 'LoadBalancer');
  assert.equal(services.fieldSelectors!['spec.clusterIP'](headless), 'None');
});

// --- endpoints and endpoint slices -----------------------------------------------

test('endpoints default port protocols, check addresses and print + N more', () => {
  const ep: Obj = {
    metadata: meta('web', 'default'),
    subsets: [{ addresses: ['10.244.0.1', '10.244.0.2', '10.244.0.3', '10.244.0.4'].map((ip) => ({ ip })), ports: [{ port: 8080 }] }],
  };
  const { obj, errors } = create(endpoints, ep);
  assert.deepEqual(errors, []);
  assert.equal(obj.subsets[0].ports[0].protocol, 'TCP');
  assert.deepEqual(endpoints.table.row(obj, NOW), ['web', '10.244.0.1:8080,10.244.0.2:8080,10.244.0.3:8080 + 1 more...', '5m']);
  assert.deepEqual(endpoints.table.row({ metadata: meta('none', 'default') } as Obj, NOW)[1], '<none>');
  const bad = create(endpoints, { metadata: meta('x', 'default'), subsets: [{ addresses: [{ ip: 'nope' }] }, {}] });
  assert.deepEqual(bad.errors, [
    'subsets[0].addresses[0].ip: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    'subsets[0].addresses[0].ip: Invalid value: "nope": must be a valid IP address',
    'subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`',
  ]);
});

test('endpoint slices default ports, validate addresses and print slices', () => {
  const slice: Obj = {
    metadata: meta('web-abc', 'default'),
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.0.5'] }, { addresses: ['10.244.0.6', '10.244.0.7', '10.244.0.8'] }],
    ports: [{ port: 80 }],
  };
  const { obj, errors } = create(endpointslices, slice);
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  assert.deepEqual(columns(endpointslices), ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
  assert.deepEqual(endpointslices.table.row(obj, NOW), ['web-abc', 'IPv4', '80', '10.244.0.5,10.244.0.6,10.244.0.7 + 1 more...', '5m']);
  const empty = create(endpointslices, { metadata: meta('e', 'default'), addressType: 'IPv4', endpoints: [] }).obj;
  assert.deepEqual(endpointslices.table.row(empty, NOW).slice(2, 4), ['<unset>', '<unset>']);
  const bad = create(endpointslices, { metadata: meta('b', 'default'), addressType: 'IPv4', endpoints: [{ addresses: ['fd00::1'] }] });
  assert.deepEqual(bad.errors, ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address']);
  assert.deepEqual(create(endpointslices, { metadata: meta('t', 'default'), addressType: 'IP', endpoints: [] }).errors, [
    'addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"',
  ]);
  const changed = update(endpointslices, obj, { ...obj, addressType: 'IPv6', endpoints: [] });
  assert.deepEqual(changed.errors, ['addressType: Invalid value: "IPv6": field is immutable']);
});

// --- config maps and secrets ------------------------------------------------------

test('config map keys, immutability and size follow Kubernetes', () => {
  const bad = create(configmaps, { metadata: meta('cm', 'default'), data: { 'a/b': 'x' } });
  assert.deepEqual(bad.errors, [
    "data[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  ]);
  const old = create(configmaps, { metadata: meta('cm', 'default'), data: { a: '1' }, immutable: true }).obj;
  assert.deepEqual(update(configmaps, old, { ...old, data: { a: '2' } }).errors, [
    'data: Forbidden: field is immutable when `immutable` is set',
  ]);
  const big = create(configmaps, { metadata: meta('big', 'default'), data: { a: 'x'.repeat(1024 * 1024 + 1) } });
  assert.deepEqual(big.errors, ['Too long: may not be more than 1048576 bytes']);
  assert.deepEqual(configmaps.table.row({ ...old, binaryData: { b: 'AA==' } }, NOW), ['cm', 2, '5m']);
  assert.throws(
    () => create(configmaps, { metadata: meta('b64', 'default'), binaryData: { a: 'not base64!' } }),
    (e: unknown) => e instanceof StatusError && e.code === 400 && /illegal base64 data at input byte 3/.test(e.message),
  );
});

test('secrets default to Opaque and fold stringData into data', () => {
  const { obj, errors } = create(secrets, {
    metadata: meta('s', 'default'),
    data: { user: Buffer.from('old').toString('base64') },
    stringData: { user: 'admin', pass: 'hunter2' },
  });
  assert.deepEqual(errors, []);
  assert.equal(obj.type, 'Opaque');
  assert.equal(obj.stringData, undefined);
  assert.deepEqual(obj.data, { user: 'YWRtaW4=', pass: 'aHVudGVyMg==' });
  assert.deepEqual(secrets.table.row(obj, NOW), ['s', 'Opaque', 2, '5m']);
  assert.equal(secrets.fieldSelectors!.type(obj), 'Opaque');
});

test('secret types are immutable and typed secrets need their keys', () => {
  const old = create(secrets, { metadata: meta('s', 'default'), data: {} }).obj;
  assert.deepEqual(update(secrets, old, { ...old, type: 'kubernetes.io/tls' }).errors, [
    'type: Invalid value: "kubernetes.io/tls": field is immutable',
    'data[tls.crt]: Required value',
    'data[tls.key]: Required value',
  ]);
  const frozen = create(secrets, { metadata: meta('f', 'default'), immutable: true, data: { a: 'MQ==' } }).obj;
  assert.deepEqual(update(secrets, frozen, { ...frozen, stringData: { a: '2' } }).errors, [
    'data: Forbidden: field is immutable when `immutable` is set',
  ]);
});

// --- events -------------------------------------------------------------------------

const coreEvent = (extra: Record<string, unknown> = {}): Obj => ({
  metadata: meta('web-0.17c', 'default'),
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-0', fieldPath: 'spec.containers{app}' },
  reason: 'Pulled',
  message: 'Container image "nginx" already present on machine\n',
  source: { component: 'kubelet', host: 'node-1' },
  firstTimestamp: '2024-05-01T11:50:00Z',
  lastTimestamp: '2024-05-01T11:59:00Z',
  count: 3,
  type: 'Normal',
  ...extra,
});

test('core events print LAST SEEN TYPE REASON OBJECT MESSAGE, and more with -o wide', () => {
  assert.deepEqual(defaultColumns(events), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
  assert.deepEqual(columns(events), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
  assert.deepEqual(events.table.row(coreEvent(), NOW), [
    '60s',
    'Normal',
    'Pulled',
    'pod/web-0',
    'spec.containers{app}',
    'kubelet, node-1',
    'Container image "nginx" already present on machine',
    '10m',
    3,
    'web-0.17c',
  ]);
  assert.equal(events.fieldSelectors!['involvedObject.name'](coreEvent()), 'web-0');
  assert.equal(events.fieldSelectors!.source(coreEvent()), 'kubelet');
});

test('core events must live in the namespace of their object', () => {
  assert.deepEqual(create(events, coreEvent()).errors, []);
  assert.deepEqual(create(events, coreEvent({ involvedObject: { kind: 'Pod', namespace: 'other', name: 'x' } })).errors, [
    'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
  ]);
  assert.deepEqual(events.nameValidation!('a/b'), ["may not contain '/'"]);
});

test('events.k8s.io events are validated strictly and printed like core events', () => {
  const ev: Obj = {
    metadata: meta('web-0.17d', 'default'),
    eventTime: '2024-05-01T11:58:00.000000Z',
    regarding: { kind: 'StatefulSet', namespace: 'default', name: 'web' },
    reason: 'SuccessfulCreate',
    note: 'create Pod web-0 in StatefulSet web successful',
    type: 'Normal',
    action: 'Create',
    reportingController: 'statefulset-controller',
    reportingInstance: 'berth',
  };
  assert.deepEqual(create(eventsV1, ev).errors, []);
  assert.deepEqual(create(eventsV1, { ...ev, type: 'Info', deprecatedCount: 2 }).errors, [
    'type: Invalid value: "": has invalid value: Info',
    'count: Invalid value: "": needs to be unset',
  ]);
  assert.deepEqual(create(eventsV1, { ...ev, reportingInstance: undefined }).errors, ['reportingInstance: Required value']);
  const row = eventsV1.table.row(ev, NOW);
  assert.deepEqual(row.slice(0, 7), ['2m', 'Normal', 'SuccessfulCreate', 'statefulset/web', '', 'statefulset-controller, berth', ev.note]);
  assert.equal(row[8], 1);
  assert.equal(eventsV1.fieldSelectors!['regarding.kind'](ev), 'StatefulSet');
  const changed = update(eventsV1, ev, { ...ev, note: 'changed' });
  assert.deepEqual(changed.errors, ['message: Invalid value: "changed": field is immutable']);
});

// --- persistent volumes -------------------------------------------------------------

const pv = (spec: Record<string, unknown>, name = 'pv-1'): Obj => ({ metadata: meta(name), spec });
const localSpec = {
  capacity: { storage: '1.5Gi' },
  accessModes: ['ReadWriteOnce'],
  local: { path: '/var/lib/berth/volumes/pv-1' },
  nodeAffinity: {
    required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] }] },
  },
};

test('a new persistent volume is Pending with Retain and Filesystem defaults', () => {
  const { obj, errors } = create(persistentvolumes, pv(localSpec));
  assert.deepEqual(errors, []);
  assert.equal(obj.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(obj.spec.volumeMode, 'Filesystem');
  assert.equal(obj.spec.capacity.storage, '1536Mi');
  assert.equal(obj.status.phase, 'Pending');
  assert.match(obj.status.lastPhaseTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const hp = create(persistentvolumes, pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } })).obj;
  assert.equal(hp.spec.hostPath.type, '');
});

test('persistent volume validation reports capacity, sources and node affinity', () => {
  assert.deepEqual(create(persistentvolumes, pv({})).errors, [
    'spec.accessModes: Required value',
    'spec.capacity: Required value',
    'spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"',
    'spec: Required value: must specify a volume type',
  ]);
  const two = create(persistentvolumes, pv({ ...localSpec, hostPath: { path: '/a/../b' }, persistentVolumeReclaimPolicy: 'Keep' }));
  assert.deepEqual(two.errors, [
    'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"',
    'spec.hostPath.path: Invalid value: "/a/../b": must not contain \'..\'',
    'spec.local: Forbidden: may not specify more than 1 volume type',
  ]);
  const noAffinity = create(persistentvolumes, pv({ ...localSpec, nodeAffinity: undefined }));
  assert.deepEqual(noAffinity.errors, ['spec.nodeAffinity: Required value: Local volume requires node affinity']);
  const zero = create(persistentvolumes, pv({ ...localSpec, capacity: { storage: '0' } }));
  assert.deepEqual(zero.errors, ['spec.capacity[storage]: Invalid value: "0": must be greater than zero']);
});

test('a persistent volume source is immutable after creation', () => {
  const old = create(persistentvolumes, pv(localSpec)).obj;
  const next = structuredClone(old);
  next.spec.local.path = '/elsewhere';
  next.spec.volumeMode = 'Block';
  const errs = update(persistentvolumes, old, next).errors;
  assert.equal(errs.length, 2);
  assert.match(errs[0], /^spec\.persistentvolumesource: Forbidden: spec\.persistentvolumesource is immutable after creation\n/);
  assert.equal(errs[1], 'volumeMode: Invalid value: "Block": field is immutable');
  const bound = structuredClone(old);
  bound.spec.claimRef = { namespace: 'default', name: 'data-web-0' };
  assert.deepEqual(update(persistentvolumes, old, bound).errors, []);
});

test('persistent volumes print as kubectl shows them', () => {
  assert.deepEqual(columns(persistentvolumes), [
    'NAME',
    'CAPACITY',
    'ACCESS MODES',
    'RECLAIM POLICY',
    'STATUS',
    'CLAIM',
    'STORAGECLASS',
    'VOLUMEATTRIBUTESCLASS',
    'REASON',
    'AGE',
    'VOLUMEMODE',
  ]);
  const { obj } = create(persistentvolumes, pv({ ...localSpec, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], storageClassName: 'local' }));
  obj.spec.claimRef = { namespace: 'default', name: 'data-web-0' };
  obj.status.phase = 'Bound';
  assert.deepEqual(persistentvolumes.table.row(obj, NOW), [
    'pv-1',
    '1536Mi',
    'RWO,RWX',
    'Retain',
    'Bound',
    'default/data-web-0',
    'local',
    '<unset>',
    '',
    '5m',
    'Filesystem',
  ]);
});

// --- nodes ----------------------------------------------------------------------------

test('nodes print status, roles and versions, and select on spec.unschedulable', () => {
  const node: Obj = {
    metadata: { ...meta('node-1'), labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'storage' } },
    spec: { unschedulable: true },
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '192.168.1.10' }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: '' },
    },
  };
  const { obj, errors } = create(nodes, node);
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.status.allocatable, { cpu: '4', memory: '8Gi', pods: '110' });
  assert.deepEqual(defaultColumns(nodes), ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
  assert.deepEqual(nodes.table.row(obj, NOW), [
    'node-1',
    'Ready,SchedulingDisabled',
    'control-plane,storage',
    '5m',
    'v1.32.0',
    '192.168.1.10',
    '<none>',
    'Debian GNU/Linux 12 (bookworm)',
    '6.1.0',
    '<unknown>',
  ]);
  assert.equal(nodes.fieldSelectors!['spec.unschedulable'](obj), 'true');
  assert.deepEqual(nodes.table.row({ metadata: meta('n2') } as Obj, NOW).slice(1, 3), ['Unknown', '<none>']);
});

test('node taints and resources are validated', () => {
  const { errors } = create(nodes, {
    metadata: meta('n'),
    spec: { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', effect: 'NoSchedule' }, { key: 'b', effect: 'Never' }] },
    status: { capacity: { pods: '1.5' } },
  });
  assert.deepEqual(errors, [
    'metadata.taints[1]: Duplicate value: core.Taint{Key:"a", Value:"", Effect:"NoSchedule", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair',
    'metadata.taints[2].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    'status.capacity.pods: Invalid value: "1500m": must be an integer',
    'status.allocatable.pods: Invalid value: "1500m": must be an integer',
  ]);
});

// --- storage classes and leases -------------------------------------------------------

test('storage classes default Delete and Immediate, keep provisioner and parameters', () => {
  const { obj, errors } = create(storageclasses, {
    metadata: { ...meta('local-path'), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'berth.dev/local-path',
    parameters: { dir: '/var/lib/berth' },
  });
  assert.deepEqual(errors, []);
  assert.equal(obj.reclaimPolicy, 'Delete');
  assert.equal(obj.volumeBindingMode, 'Immediate');
  assert.deepEqual(columns(storageclasses), ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
  assert.deepEqual(storageclasses.table.row(obj, NOW), ['local-path (default)', 'berth.dev/local-path', 'Delete', 'Immediate', false, '5m']);
  assert.deepEqual(update(storageclasses, obj, { ...obj, parameters: {}, volumeBindingMode: 'WaitForFirstConsumer' }).errors, [
    'parameters: Forbidden: updates to parameters are forbidden.',
    'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
  ]);
  assert.deepEqual(create(storageclasses, { metadata: meta('x') }).errors, ['provisioner: Required value']);
});

test('leases check their durations and print their holder', () => {
  const { obj, errors } = create(leases, {
    metadata: meta('node-1', 'kube-node-lease'),
    spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, strategy: 'OldestEmulationVersion' },
  });
  assert.deepEqual(errors, []);
  assert.equal(obj.spec.strategy, undefined);
  assert.deepEqual(leases.table.row(obj, NOW), ['node-1', 'node-1', '5m']);
  assert.deepEqual(create(leases, { metadata: meta('l', 'default'), spec: { leaseDurationSeconds: 0 } }).errors, [
    'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
  ]);
});
