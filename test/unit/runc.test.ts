// The pure parts of running containers with runc: CRI log records, overlay mount options,
// whiteout names, /proc/self/mounts parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { criRecord, LineSplitter, rfc3339Nano } from '../../src/node/runtime/runc/crilog.js';
import { mountPoints, overlayOptions } from '../../src/node/runtime/runc/rootfs.js';
import { whiteoutAction } from '../../src/node/images/whiteouts.js';

test('rfc3339Nano trims the fraction as Go does', () => {
  const base = BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1_000_000n;
  assert.equal(rfc3339Nano(base), '2024-01-02T03:04:05Z');
  assert.equal(rfc3339Nano(base + 120_000_000n), '2024-01-02T03:04:05.12Z');
  assert.equal(rfc3339Nano(base + 123_456_789n), '2024-01-02T03:04:05.123456789Z');
});

test('criRecord and LineSplitter: full lines, partial cuts, an unterminated end', () => {
  assert.equal(criRecord('T', 'stderr', false, Buffer.from('x y')).toString(), 'T stderr F x y\n');
  const out: string[] = [];
  const lines = new LineSplitter((c, partial) => out.push(`${partial ? 'P' : 'F'}:${c.toString()}`), 4);
  lines.push(Buffer.from('ab\nc'));
  lines.push(Buffer.from('d\n\nabcdefghij\nxyz'));
  lines.end();
  assert.deepEqual(out, ['F:ab', 'F:cd', 'F:', 'P:abcd', 'P:efgh', 'F:ij', 'F:xyz']);
});

test('overlayOptions: top layer first; separators refused', () => {
  assert.equal(overlayOptions(['/l/1', '/l/2'], '/c/upper', '/c/work'), 'lowerdir=/l/2:/l/1,upperdir=/c/upper,workdir=/c/work');
  assert.throws(() => overlayOptions([], '/u', '/w'), /at least one/);
  assert.throws(() => overlayOptions(['/a:b'], '/u', '/w'), /contains/);
  assert.throws(() => overlayOptions(Array.from({ length: 100 }, (_, i) => `/${'x'.repeat(60)}/${i}`), '/u', '/w'), /exceed/);
});

test('whiteoutAction', () => {
  assert.deepEqual(whiteoutAction('.wh..wh..opq'), { kind: 'opaque' });
  assert.deepEqual(whiteoutAction('.wh.motd'), { kind: 'whiteout', hidden: 'motd' });
  assert.deepEqual(whiteoutAction('.wh..'), { kind: 'whiteout', hidden: '' });
  assert.equal(whiteoutAction('motd'), undefined);
});

test('mountPoints decodes escapes', () => {
  assert.deepEqual(mountPoints('overlay /a\\040b overlay rw 0 0\nproc /proc proc rw 0 0\n'), ['/a b', '/proc']);
});
