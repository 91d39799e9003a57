import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkConfigList, parseResult, pluginErrorMessage, pluginStdin } from '../../src/node/network/config.js';
import { localRoutes } from '../../src/node/network/routes.js';

const list = networkConfigList({ name: 'berth', bridge: 'berth0', podCIDR: '10.244.0.0/16', ipamDataDir: '/data/cni/ipam' });

test('the network list: bridge with host-local over the pod range, then portmap', () => {
  assert.equal(list.cniVersion, '1.0.0');
  assert.deepEqual(
    list.plugins.map((p) => p.type),
    ['bridge', 'portmap'],
  );
  const [bridge] = list.plugins;
  assert.equal(bridge.bridge, 'berth0');
  assert.equal(bridge.isGateway, true);
  assert.equal(bridge.ipMasq, false);
  assert.equal(bridge.hairpinMode, true);
  assert.deepEqual(bridge.ipam, {
    type: 'host-local',
    dataDir: '/data/cni/ipam',
    ranges: [[{ subnet: '10.244.0.0/16' }]],
    routes: [{ dst: '0.0.0.0/0' }],
  });
});

test('a plugin reads its entry, the list name and version, prevResult and only its capabilities', () => {
  const mappings = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];
  const first = JSON.parse(pluginStdin(list, 0, undefined, { portMappings: mappings }));
  assert.equal(first.name, 'berth');
  assert.equal(first.cniVersion, '1.0.0');
  assert.equal(first.prevResult, undefined);
  assert.equal(first.runtimeConfig, undefined);
  const prev = { cniVersion: '1.0.0', ips: [] };
  const second = JSON.parse(pluginStdin(list, 1, prev, { portMappings: mappings }));
  assert.deepEqual(second, { type: 'portmap', cniVersion: '1.0.0', name: 'berth', runtimeConfig: { portMappings: mappings }, prevResult: prev });
});

test('the result gives the pod addresses with gateway and interface', () => {
  const r = parseResult(
    JSON.stringify({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'berth0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/var/run/netns/p' }],
      ips: [{ interface: 2, address: '10.244.0.7/16', gateway: '10.244.0.1' }],
    }),
  );
  assert.deepEqual(r.addresses, [{ ip: '10.244.0.7', prefixLength: 16, gateway: '10.244.0.1', interfaceName: 'eth0' }]);
});

test("a plugin's error is its own message", () => {
  assert.equal(pluginErrorMessage('{"code":11,"msg":"failed to allocate","details":"range full"}', ''), 'failed to allocate: range full (code 11)');
  assert.equal(pluginErrorMessage('', 'panic: boom\n'), 'panic: boom');
});

test('the cluster ranges get routes with a metric above connected routes', () => {
  assert.deepEqual(localRoutes(), [
    { dst: '10.244.0.0/16', metric: 4000 },
    { dst: '10.96.0.0/12', metric: 4000 },
  ]);
});
