import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as v1 from 'kubernetes-types/core/v1.js';
import type { ConfigMap } from '../../src/api/core/configmaps.js';
import type { Pod } from '../../src/api/core/pods.js';
import type { Secret } from '../../src/api/core/secrets.js';
import { CreateContainerError, processArgs, processUser, workingDir } from '../../src/node/runtime/runc/command.js';
import { CreateContainerConfigError, DEFAULT_PATH, containerEnv, processEnv, type EnvInput } from '../../src/node/runtime/runc/env.js';
import { expand } from '../../src/node/runtime/runc/expand.js';
import { hostnameFile, hostsFile, parseResolvConf, podNames, resolvConf } from '../../src/node/runtime/runc/files.js';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS, capabilities, composeMounts, ociSpec, resources, type SpecInput } from '../../src/node/runtime/runc/spec.js';

const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}, meta: Partial<Pod['metadata']> = {}): Pod => ({
  metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', labels: { app: 'web', tier: 'front' }, annotations: { note: 'hi' }, ...meta },
  spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: 'n1', serviceAccountName: 'default', ...spec },
});
const b64 = (s: string) => Buffer.from(s).toString('base64');
const cms: Record<string, ConfigMap> = {
  cfg: { metadata: { name: 'cfg', namespace: 'shop' }, data: { mode: 'fast', 'log.level': 'debug', '1bad': 'x', 'bad key': 'y' } },
};
const secrets: Record<string, Secret> = { creds: { metadata: { name: 'creds', namespace: 'shop' }, data: { password: b64('s3cret'), 'a b': b64('z') } } };
const envInput = (container: v1.Container, p = pod(), extra: Partial<EnvInput> = {}): EnvInput => ({
  pod: p,
  container,
  configMap: (n) => cms[n],
  secret: (n) => secrets[n],
  podIPs: ['10.244.0.5', 'fd00::5'],
  hostIPs: ['192.168.1.2'],
  nodeAllocatable: { cpu: '4', memory: '8Gi' },
  ...extra,
});
const envOf = (container: Omit<v1.Container, 'name'>, p?: Pod, extra?: Partial<EnvInput>) =>
  Object.fromEntries(containerEnv(envInput({ name: 'c', ...container }, p, extra)).env.map((e) => [e.name, e.value]));
const configError = (message: string) => (e: unknown) => e instanceof CreateContainerConfigError && e.message === message;

// ---- expansion

test('$(VAR) expands from the map; $$ escapes; unknown and unterminated references stay', () => {
  const vars = new Map([['A', 'x'], ['B', 'y']]);
  assert.equal(expand('$(A)-$(B)', vars), 'x-y');
  assert.equal(expand('$$(A)', vars), '$(A)');
  assert.equal(expand('$$$(A)', vars), '$x');
  assert.equal(expand('$(NOPE) $(A', vars), '$(NOPE) $(A');
  assert.equal(expand('a$b $ end$', vars), 'a$b $ end$');
  assert.equal(expand('$()', vars), '$()');
});

// ---- command

test('no command or args: the image Entrypoint then Cmd', () => {
  assert.deepEqual(processArgs({ name: 'c' }, { Entrypoint: ['/init'], Cmd: ['serve', '-v'] }, []), ['/init', 'serve', '-v']);
});

test('command replaces the Entrypoint and drops the Cmd', () => {
  assert.deepEqual(processArgs({ name: 'c', command: ['sh'] }, { Entrypoint: ['/init'], Cmd: ['serve'] }, []), ['sh']);
  assert.deepEqual(processArgs({ name: 'c', command: ['sh'], args: ['-c', 'x'] }, { Entrypoint: ['/init'], Cmd: ['serve'] }, []), ['sh', '-c', 'x']);
});

test('args alone replace the Cmd and keep the Entrypoint', () => {
  assert.deepEqual(processArgs({ name: 'c', args: ['run'] }, { Entrypoint: ['/init'], Cmd: ['serve'] }, []), ['/init', 'run']);
});

test('command and args expand $(VAR) from the container env, not the image env', () => {
  const env = [{ name: 'PORT', value: '80' }];
  assert.deepEqual(
    processArgs({ name: 'c', command: ['srv', '--port=$(PORT)'], args: ['$(HOME)', '$$(PORT)'] }, { Env: ['HOME=/root'] }, env),
    ['srv', '--port=80', '$(HOME)', '$(PORT)'],
  );
});

test('nothing to run is refused', () => {
  assert.throws(() => processArgs({ name: 'c' }, {}, []), (e: unknown) => e instanceof CreateContainerError && e.message === 'no command specified');
});

test('workingDir: the container\'s, else the image\'s, else /', () => {
  assert.equal(workingDir({ name: 'c', workingDir: '/app' }, { WorkingDir: '/img' }), '/app');
  assert.equal(workingDir({ name: 'c' }, { WorkingDir: '/img' }), '/img');
  assert.equal(workingDir({ name: 'c' }, {}), '/');
});

test('user: runAsUser/runAsGroup (container over pod), else the numeric image User', () => {
  const c = (sc?: v1.SecurityContext): v1.Container => ({ name: 'c', securityContext: sc });
  assert.deepEqual(processUser(pod(), c(), {}), { uid: 0, gid: 0, additionalGids: [] });
  assert.deepEqual(processUser(pod(), c(), { User: '1000:2000' }), { uid: 1000, gid: 2000, additionalGids: [] });
  assert.deepEqual(processUser(pod(), c(), { User: '1000' }), { uid: 1000, gid: 0, additionalGids: [] });
  assert.deepEqual(processUser(pod(), c({ runAsUser: 5 }), { User: '1000:2000' }), { uid: 5, gid: 0, additionalGids: [] });
  assert.deepEqual(processUser(pod(), c({ runAsGroup: 7 }), { User: '1000:2000' }), { uid: 1000, gid: 7, additionalGids: [] });
  const p = pod({ securityContext: { runAsUser: 10, runAsGroup: 11, supplementalGroups: [20, 21], fsGroup: 20 } });
  assert.deepEqual(processUser(p, c(), { User: 'nobody' }), { uid: 10, gid: 11, additionalGids: [20, 21] });
  assert.deepEqual(processUser(p, c({ runAsUser: 3 }), {}), { uid: 3, gid: 11, additionalGids: [20, 21] });
});

test('user names in the image are a limitation, reported', () => {
  assert.throws(() => processUser(pod(), { name: 'c' }, { User: 'nginx' }), CreateContainerError);
  assert.throws(() => processUser(pod(), { name: 'c' }, { User: '100:staff' }), /group "staff" is not numeric/);
});

// ---- env

test('env: literal values in order, $(VAR) from earlier entries only, unresolved left, empty kept', () => {
  const got = containerEnv(envInput({ name: 'c', env: [
    { name: 'A', value: 'a' },
    { name: 'B', value: '$(A)-$(C)-$$(A)' },
    { name: 'C', value: 'c' },
    { name: 'E', value: '' },
  ] })).env;
  assert.deepEqual(got, [{ name: 'A', value: 'a' }, { name: 'B', value: 'a-$(C)-$(A)' }, { name: 'C', value: 'c' }, { name: 'E', value: '' }]);
});

test('env: fieldRef reads the pod', () => {
  const f = (fieldPath: string) => ({ name: fieldPath.replace(/\W/g, '_'), valueFrom: { fieldRef: { fieldPath } } });
  const env = envOf({ env: [
    f('metadata.name'), f('metadata.namespace'), f('metadata.uid'), f("metadata.labels['app']"), f("metadata.annotations['note']"),
    f("metadata.labels['missing']"), f('spec.nodeName'), f('spec.serviceAccountName'), f('status.podIP'), f('status.podIPs'),
    f('status.hostIP'), f('metadata.labels'),
  ] });
  assert.deepEqual(env, {
    metadata_name: 'web-0', metadata_namespace: 'shop', metadata_uid: 'uid-1', metadata_labels__app__: 'web',
    metadata_annotations__note__: 'hi', metadata_labels__missing__: '', spec_nodeName: 'n1', spec_serviceAccountName: 'default',
    status_podIP: '10.244.0.5', status_podIPs: '10.244.0.5,fd00::5', status_hostIP: '192.168.1.2', metadata_labels: 'app="web"\ntier="front"',
  });
});

test('env: resourceFieldRef with divisors, rounded up; an unset limit is the node\'s allocatable', () => {
  const r = (resource: string, divisor?: string) => ({ name: `${resource.replace('.', '_')}${divisor ? '_' + divisor : ''}`, valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } } });
  const env = envOf({
    resources: { limits: { cpu: '1500m', memory: '1Gi' }, requests: { cpu: '250m', memory: '100M' } },
    env: [r('limits.cpu'), r('limits.cpu', '1m'), r('requests.cpu'), r('requests.cpu', '100m'), r('limits.memory'), r('limits.memory', '1Mi'), r('requests.memory', '1Mi')],
  });
  assert.deepEqual(env, {
    limits_cpu: '2', limits_cpu_1m: '1500', requests_cpu: '1', requests_cpu_100m: '3',
    limits_memory: String(2 ** 30), limits_memory_1Mi: '1024', requests_memory_1Mi: '96',
  });
  const unset = envOf({ env: [r('limits.cpu'), r('limits.memory', '1Gi'), r('requests.cpu')] });
  assert.deepEqual(unset, { limits_cpu: '4', limits_memory_1Gi: '8', requests_cpu: '0' });
});

test('env: configMapKeyRef and secretKeyRef, with optional semantics and the kubelet\'s errors', () => {
  const env = envOf({ env: [
    { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
    { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
    { name: 'OPT1', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
    { name: 'OPT2', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k', optional: true } } },
    { name: 'OPT3', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
    { name: 'USE', value: '$(MODE)/$(OPT1)' },
  ] });
  assert.deepEqual(env, { MODE: 'fast', PW: 's3cret', USE: 'fast/$(OPT1)' });
  const one = (valueFrom: v1.EnvVarSource) => () => envOf({ env: [{ name: 'X', valueFrom }] });
  assert.throws(one({ configMapKeyRef: { name: 'cfg', key: 'x' } }), configError("couldn't find key x in ConfigMap shop/cfg"));
  assert.throws(one({ secretKeyRef: { name: 'creds', key: 'x' } }), configError("couldn't find key x in Secret shop/creds"));
  assert.throws(one({ configMapKeyRef: { name: 'gone', key: 'x' } }), configError('configmap "gone" not found'));
  assert.throws(one({ secretKeyRef: { name: 'gone', key: 'x' } }), configError('secret "gone" not found'));
});

test('env: envFrom with prefixes, invalid keys skipped with a warning, env after envFrom wins', () => {
  const { env, events } = containerEnv(envInput({ name: 'c',
    envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'S_', secretRef: { name: 'creds' } }, { configMapRef: { name: 'gone', optional: true } }],
    env: [{ name: 'mode', value: 'slow' }],
  }));
  assert.deepEqual(env, [
    { name: 'log.level', value: 'debug' }, { name: 'mode', value: 'slow' }, { name: 'S_password', value: 's3cret' },
  ]);
  assert.deepEqual(events, [
    { type: 'Warning', reason: 'InvalidEnvironmentVariableNames', message: 'Keys [1bad, bad key] from the EnvFrom configMap shop/cfg were skipped since they are considered invalid environment variable names.' },
    { type: 'Warning', reason: 'InvalidEnvironmentVariableNames', message: 'Keys [S_a b] from the EnvFrom secret shop/creds were skipped since they are considered invalid environment variable names.' },
  ]);
  assert.throws(() => containerEnv(envInput({ name: 'c', envFrom: [{ secretRef: { name: 'gone' } }] })), configError('secret "gone" not found'));
});

test('process env: default PATH, HOSTNAME, image env, then the container\'s replacing in place', () => {
  assert.deepEqual(processEnv({ Env: ['PATH=/img/bin', 'LANG=C', 'MODE=img'] }, [{ name: 'MODE', value: 'pod' }, { name: 'X', value: 'a=b' }], 'web-0'), [
    'PATH=/img/bin', 'HOSTNAME=web-0', 'LANG=C', 'MODE=pod', 'X=a=b',
  ]);
  assert.deepEqual(processEnv({}, [], 'h'), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h']);
});

// ---- files

test('/etc/hosts: localhost lines, the pod IP with its host name, hostAliases appended', () => {
  const p = pod({ hostAliases: [{ ip: '10.1.1.1', hostnames: ['a', 'b'] }] });
  assert.equal(hostsFile(p, ['10.244.0.5'], podNames(p, 'cluster.local')),
    '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n' +
    'fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.244.0.5\tweb-0\n' +
    '\n# Entries added by HostAliases.\n10.1.1.1\ta\tb\n');
});

test('/etc/hosts: with a subdomain the FQDN comes first; spec.hostname replaces the pod name', () => {
  const p = pod({ subdomain: 'web', hostname: 'db' });
  const names = podNames(p, 'cluster.local');
  assert.deepEqual(names, { hostname: 'db', domain: 'web.shop.svc.cluster.local', utsHostname: 'db' });
  assert.match(hostsFile(p, ['10.244.0.5'], names), /\n10\.244\.0\.5\tdb\.web\.shop\.svc\.cluster\.local\tdb\n$/);
  assert.equal(hostnameFile(names), 'db\n');
});

test('host names: cut to 63 characters without trailing - or .; setHostnameAsFQDN', () => {
  const long = 'a'.repeat(62) + '-b';
  assert.equal(podNames(pod({}, { name: long }), 'cluster.local').hostname, 'a'.repeat(62));
  const fq = podNames(pod({ subdomain: 'web', setHostnameAsFQDN: true }), 'cluster.local');
  assert.equal(fq.utsHostname, 'web-0.web.shop.svc.cluster.local');
  assert.equal(hostnameFile(fq), 'web-0.web.shop.svc.cluster.local\n');
  assert.throws(() => podNames(pod({ subdomain: 'w'.repeat(50), setHostnameAsFQDN: true }), 'cluster.local'), /FQDN .* is too long \(64 characters is the max/);
});

const HOST_RESOLV = '# host\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch corp.example. .\noptions edns0 ndots:2\noptions ndots:3\n';

test('resolv.conf parsing: nameservers, search without dots, options merged by name', () => {
  assert.deepEqual(parseResolvConf(HOST_RESOLV), { servers: ['1.1.1.1', '8.8.8.8'], searches: ['corp.example'], options: ['edns0', 'ndots:3'] });
});

test('resolv.conf ClusterFirst: cluster DNS, cluster searches then the host\'s, ndots:5', () => {
  const r = resolvConf({ pod: pod(), clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: HOST_RESOLV });
  assert.equal(r.content, 'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.96.0.10\noptions ndots:5\n');
  assert.deepEqual(r.events, []);
  const plain = resolvConf({ pod: pod(), clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' });
  assert.equal(plain.content, 'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
});

test('resolv.conf Default: the host\'s; ClusterFirst on the host network or without cluster DNS falls back to it', () => {
  const expected = 'search corp.example\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions edns0 ndots:3\n';
  assert.equal(resolvConf({ pod: pod({ dnsPolicy: 'Default' }), clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: HOST_RESOLV }).content, expected);
  assert.equal(resolvConf({ pod: pod({ hostNetwork: true }), clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: HOST_RESOLV }).content, expected);
  const missing = resolvConf({ pod: pod(), clusterDNS: [], clusterDomain: 'cluster.local', hostResolvConf: HOST_RESOLV });
  assert.equal(missing.content, expected);
  assert.equal(missing.events[0]?.reason, 'MissingClusterDNS');
  assert.equal(missing.events[0]?.message, 'pod: "web-0_shop(uid-1)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.');
  assert.equal(resolvConf({ pod: pod({ dnsPolicy: 'Default' }), clusterDNS: [], clusterDomain: 'cluster.local' }).content, 'search .\nnameserver 127.0.0.1\n');
});

test('resolv.conf None: dnsConfig only; dnsConfig merges into the others without duplicates', () => {
  const dnsConfig = { nameservers: ['9.9.9.9', '10.96.0.10'], searches: ['x.example', 'svc.cluster.local'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] };
  assert.equal(resolvConf({ pod: pod({ dnsPolicy: 'None', dnsConfig }), clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: HOST_RESOLV }).content,
    'search x.example svc.cluster.local\nnameserver 9.9.9.9\nnameserver 10.96.0.10\noptions ndots:2 rotate\n');
  assert.equal(resolvConf({ pod: pod({ dnsPolicy: 'None' }), clusterDNS: [], clusterDomain: 'cluster.local' }).content, '');
  assert.equal(resolvConf({ pod: pod({ dnsConfig }), clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' }).content,
    'search shop.svc.cluster.local svc.cluster.local cluster.local x.example\nnameserver 10.96.0.10\nnameserver 9.9.9.9\noptions ndots:2 rotate\n');
});

test('resolv.conf: more than 3 nameservers are cut with the kubelet\'s warning', () => {
  const r = resolvConf({ pod: pod({ dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3'] } }), clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' });
  assert.deepEqual(r.config.servers, ['10.96.0.10', '1.1.1.1', '2.2.2.2']);
  assert.equal(r.events[0]?.message, 'Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.96.0.10 1.1.1.1 2.2.2.2');
});

// ---- spec

const specInput = (container: v1.Container, extra: Partial<SpecInput> = {}): SpecInput => ({
  pod: pod(),
  container,
  args: ['/bin/sh'],
  env: ['PATH=/bin'],
  cwd: '/',
  user: { uid: 1, gid: 2, additionalGids: [3] },
  rootPath: '/var/lib/berth/rootfs',
  hostname: 'web-0',
  mounts: [
    { source: '/pods/uid-1/etc-hosts', destination: '/etc/hosts' },
    { source: '/pods/uid-1/resolv.conf', destination: '/etc/resolv.conf' },
    { source: '/pods/uid-1/hostname', destination: '/etc/hostname' },
    { source: '/vol/data', destination: '/var/lib/data/', readOnly: true },
    { source: '/vol/sub', destination: '/var/lib/data/sub', recursive: false },
  ],
  netnsPath: '/var/run/netns/pod-uid-1',
  cgroupsPath: 'berth-uid-1.slice:berth:c',
  ...extra,
});

test('spec: process, root, hostname, namespaces and defaults', () => {
  const s = ociSpec(specInput({ name: 'c' }));
  assert.deepEqual(s.process.user, { uid: 1, gid: 2, additionalGids: [3] });
  assert.deepEqual(s.process.args, ['/bin/sh']);
  assert.equal(s.process.terminal, false);
  assert.equal(s.process.noNewPrivileges, false);
  assert.deepEqual(s.process.capabilities.bounding, DEFAULT_CAPABILITIES);
  assert.deepEqual(s.process.capabilities.effective, DEFAULT_CAPABILITIES);
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }]);
  assert.deepEqual(s.root, { path: '/var/lib/berth/rootfs', readonly: false });
  assert.equal(s.hostname, 'web-0');
  assert.deepEqual(s.linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: '/var/run/netns/pod-uid-1' }]);
  assert.equal(s.linux.cgroupsPath, 'berth-uid-1.slice:berth:c');
  assert.deepEqual(s.linux.maskedPaths, MASKED_PATHS);
  assert.deepEqual(s.linux.readonlyPaths, READONLY_PATHS);
  assert.equal(s.linux.sysctl, undefined);
  assert.equal(JSON.parse(JSON.stringify(s)).ociVersion, '1.0.2');
});

test('spec: mounts are the defaults then the binds, parents first, read-only and rbind as asked', () => {
  const s = ociSpec(specInput({ name: 'c' }));
  assert.deepEqual(s.mounts.map((m) => m.destination), [
    '/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm',
    '/etc/hosts', '/etc/resolv.conf', '/etc/hostname', '/var/lib/data', '/var/lib/data/sub',
  ]);
  assert.deepEqual(s.mounts.find((m) => m.destination === '/sys')?.options, ['nosuid', 'noexec', 'nodev', 'ro']);
  assert.ok(s.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options?.includes('ro'));
  assert.deepEqual(s.mounts.find((m) => m.destination === '/etc/hosts'), { destination: '/etc/hosts', type: 'bind', source: '/pods/uid-1/etc-hosts', options: ['rbind', 'rprivate', 'rw'] });
  assert.deepEqual(s.mounts.find((m) => m.destination === '/var/lib/data')?.options, ['rbind', 'rprivate', 'ro']);
  assert.deepEqual(s.mounts.find((m) => m.destination === '/var/lib/data/sub')?.options, ['bind', 'rprivate', 'rw']);
});

test('spec: a given mount replaces the default at its place, and a given /dev the defaults under it', () => {
  const shm = composeMounts([{ source: '/pods/shm', destination: '/dev/shm' }]);
  assert.equal(shm.filter((m) => m.destination === '/dev/shm').length, 1);
  assert.equal(shm.find((m) => m.destination === '/dev/shm')?.source, '/pods/shm');
  const dev = composeMounts([{ source: '/host/dev', destination: '/dev' }]);
  assert.deepEqual(dev.map((m) => m.destination), ['/proc', '/sys', '/sys/fs/cgroup', '/dev']);
});

test('spec: readOnlyRootFilesystem, allowPrivilegeEscalation=false, sysctls', () => {
  const s = ociSpec({ ...specInput({ name: 'c', securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false } }),
    pod: pod({ securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } }) });
  assert.equal(s.root.readonly, true);
  assert.equal(s.process.noNewPrivileges, true);
  assert.deepEqual(s.linux.sysctl, { 'net.core.somaxconn': '1024' });
});

test('capabilities: add and drop, ALL first, drop wins', () => {
  assert.deepEqual(capabilities({ capabilities: { add: ['NET_ADMIN'], drop: ['KILL', 'cap_chown'] } }),
    [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_KILL' && c !== 'CAP_CHOWN'), 'CAP_NET_ADMIN']);
  assert.deepEqual(capabilities({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(capabilities({ capabilities: { add: ['ALL'], drop: ['SYS_ADMIN'] } }), ALL_CAPABILITIES.filter((c) => c !== 'CAP_SYS_ADMIN'));
  assert.deepEqual(capabilities({ capabilities: { add: ['NET_ADMIN'], drop: ['NET_ADMIN'] } }), DEFAULT_CAPABILITIES);
});

test('resources: memory limit, cpu shares from requests (min 2), quota from limits', () => {
  assert.deepEqual(resources({ name: 'c', resources: { requests: { cpu: '250m' }, limits: { cpu: '1500m', memory: '128Mi' } } }), {
    devices: [{ allow: false, access: 'rwm' }],
    cpu: { shares: 256, quota: 150000, period: 100000 },
    memory: { limit: 134217728, swap: 134217728 },
  });
  assert.deepEqual(resources({ name: 'c' }).cpu, { shares: 2 });
  assert.deepEqual(resources({ name: 'c', resources: { requests: { cpu: '1m' }, limits: { cpu: '5m' } } }).cpu, { shares: 2, quota: 1000, period: 100000 });
  assert.equal(resources({ name: 'c', resources: { requests: { cpu: '1000' } } }).cpu.shares, 262144);
});

test('privileged containers are refused unless allowed, and then run unmasked with every capability', () => {
  const priv: v1.Container = { name: 'c', securityContext: { privileged: true, allowPrivilegeEscalation: false } };
  assert.throws(() => ociSpec(specInput(priv)), configError('pod with UID "uid-1" specified privileged container, but is disallowed'));
  const s = ociSpec(specInput(priv, { allowPrivileged: true }));
  assert.deepEqual(s.process.capabilities.bounding, ALL_CAPABILITIES);
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.readonlyPaths, []);
  assert.equal(s.process.noNewPrivileges, false);
  assert.ok(!s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
});
