import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iptablesWords } from '../../src/node/network/firewall.js';

test('iptables -S lines split into the words to delete them with, quoted comments kept whole', () => {
  assert.deepEqual(iptablesWords('-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ'), [
    '-A', 'POSTROUTING', '-m', 'comment', '--comment', 'CNI portfwd requiring masquerade', '-j', 'CNI-HOSTPORT-MASQ',
  ]);
  assert.deepEqual(iptablesWords('-A X --comment "dnat name: \\"berth\\" id: \\"u\\"" -j Y'), ['-A', 'X', '--comment', 'dnat name: "berth" id: "u"', '-j', 'Y']);
});
