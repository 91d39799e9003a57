// The pod network with the real CNI plugins, as root: two pod namespaces on a test-only bridge
// and subnet (so a running berth is never touched) reach each other, and DEL, teardown and the
// route cleanup leave the host as it was.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniNetwork, findPluginDir } from '../../src/node/network/cni.js';
import type { AttachResult } from '../../src/node/network/config.js';
import { createNetns, deleteNetns, netnsExists } from '../../src/node/network/netns.js';
import { ensureLocalRoutes, localRoutes, removeLocalRoutes } from '../../src/node/network/routes.js';

const BRIDGE = 'berthtest0';
const SUBNET = '10.244.250.0/24';
const NAME = 'berthtest';
const PODS = [`berthtest-a-${process.pid}`, `berthtest-b-${process.pid}`];
const TEST_RANGES = ['10.244.251.0/24', '10.111.250.0/24'];

const skip =
  process.getuid?.() !== 0 ? 'needs root (network namespaces, veths, routes)' : findPluginDir() === undefined ? 'needs the CNI plugins (scripts/setup installs containernetworking-plugins)' : false;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const links = () => sh('ip', ['-o', 'link', 'show']);
const inSubnet = (ip: string) => ip.startsWith('10.244.250.') && !ip.endsWith('.0') && !ip.endsWith('.1') && !ip.endsWith('.255');
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

describe('pod network (CNI)', { skip }, () => {
  const dataDir = skip ? '' : mkdtempSync(join(tmpdir(), 'berth-cni-'));
  const network = skip ? undefined : new CniNetwork({ podCIDR: SUBNET, dataDir, name: NAME, bridge: BRIDGE });
  const forwardBefore = skip ? '' : readFileSync(IP_FORWARD, 'utf8');
  const iptablesBefore = skip ? '' : natRules();
  const attached = new Map<string, AttachResult>();
  const netns = new Map<string, string>();

  after(async () => {
    // Everything, also after a failure; each step on its own so one failing does not stop the rest.
    for (const pod of PODS) {
      await network!.del(pod, netns.get(pod) ?? '').catch(() => {});
      await deleteNetns(pod).catch(() => {});
    }
    await network!.teardown().catch(() => {});
    await removeLocalRoutes(localRoutes(TEST_RANGES)).catch(() => {});
    // The bridge plugin turns on IPv4 forwarding for its gateway; put back what the host had.
    writeFileSync(IP_FORWARD, forwardBefore);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('ADD gives each pod an address on the bridge, and the pods reach each other', async () => {
    for (const pod of PODS) {
      netns.set(pod, await createNetns(pod));
      attached.set(pod, await network!.add(pod, netns.get(pod)!, 'eth0'));
    }
    const [a, b] = PODS.map((p) => attached.get(p)!.addresses[0]);
    for (const addr of [a, b]) {
      assert.ok(inSubnet(addr.ip), `${addr.ip} is a pod address in ${SUBNET}`);
      assert.equal(addr.prefixLength, 24);
      assert.equal(addr.gateway, '10.244.250.1');
      assert.equal(addr.interfaceName, 'eth0');
    }
    assert.notEqual(a.ip, b.ip);
    assert.match(sh('ip', ['-o', '-4', 'addr', 'show', 'dev', BRIDGE]), /inet 10\.244\.250\.1\/24/);
    const inside = sh('ip', ['netns', 'exec', PODS[0], 'ip', '-4', 'route']);
    assert.match(inside, /default via 10\.244\.250\.1 dev eth0/);
    assert.match(sh('ip', ['netns', 'exec', PODS[0], 'ip', '-o', 'link', 'show', 'lo']), /state UNKNOWN|LOWER_UP/);

    const ping = spawnSync('ip', ['netns', 'exec', PODS[0], 'ping', '-c1', '-W1', b.ip], { encoding: 'utf8' });
    assert.equal(ping.status, 0, ping.stdout + ping.stderr);
    const back = spawnSync('ip', ['netns', 'exec', PODS[1], 'ping', '-c1', '-W1', a.ip], { encoding: 'utf8' });
    assert.equal(back.status, 0, back.stdout + back.stderr);

    for (const pod of PODS) await network!.check(pod, netns.get(pod)!, 'eth0');
    // host-local keeps one file per reserved address.
    assert.deepEqual(reservations().sort(), [a.ip, b.ip].sort());
  });

  test('a failing plugin reports its own message', async () => {
    // A namespace that does not exist makes the first plugin fail.
    await assert.rejects(network!.add('berthtest-missing', '/var/run/netns/berthtest-does-not-exist', 'eth0'), (err: Error) => {
      assert.match(err.message, /^CNI plugin loopback ADD for berthtest-missing failed: .*berthtest-does-not-exist/);
      return true;
    });
  });

  test('DEL removes veths and reservations; teardown removes the bridge and IPAM state', async () => {
    const hostVeths = PODS.map((p) => attached.get(p)!.raw.interfaces!.find((i) => !i.sandbox && i.name !== BRIDGE)!.name);
    for (const veth of hostVeths) assert.match(links(), new RegExp(`: ${veth}@`));
    for (const pod of PODS) {
      await network!.del(pod, netns.get(pod)!, 'eth0');
      await network!.del(pod, netns.get(pod)!, 'eth0'); // DEL is idempotent
      await deleteNetns(pod);
      assert.equal(await netnsExists(pod), false);
    }
    for (const veth of hostVeths) assert.doesNotMatch(links(), new RegExp(`: ${veth}@`));
    assert.deepEqual(reservations(), []);
    await assert.rejects(network!.check(PODS[0], netns.get(PODS[0])!), /has no eth0/);

    await network!.teardown();
    assert.doesNotMatch(links(), new RegExp(`: ${BRIDGE}:`));
    assert.equal(existsSync(join(dataDir, 'ipam', NAME)), false);
    assert.equal(natRules(), iptablesBefore, 'no iptables rule is left behind');
  });

  test('the cluster ranges are routed locally, idempotently, and the routes go on cleanup', async () => {
    const routes = localRoutes(TEST_RANGES);
    await ensureLocalRoutes(routes);
    await ensureLocalRoutes(routes);
    const table = sh('ip', ['-4', 'route', 'show']);
    for (const range of TEST_RANGES) assert.equal(table.split('\n').filter((l) => l.startsWith(`unreachable ${range} `)).length, 1);
    const get = spawnSync('ip', ['route', 'get', '10.111.250.7'], { encoding: 'utf8' });
    assert.notEqual(get.status, 0);
    assert.match(get.stderr, /No route to host/);

    await removeLocalRoutes(routes);
    await removeLocalRoutes(routes);
    for (const range of TEST_RANGES) assert.doesNotMatch(sh('ip', ['-4', 'route', 'show']), new RegExp(`unreachable ${range}`));
  });

  function reservations(): string[] {
    const dir = join(dataDir, 'ipam', NAME);
    return existsSync(dir) ? readdirSync(dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
  }
});

function natRules(): string {
  return spawnSync('iptables', ['-t', 'nat', '-S'], { encoding: 'utf8' }).stdout ?? '';
}
