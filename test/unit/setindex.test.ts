import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SetIndex } from '../../src/client/setindex.js';

test('SetIndex keeps sets under keys and drops a key once its set is empty', () => {
  const index = new SetIndex();
  index.add('web', 'web-0');
  index.set('web', 'web-1', true);
  assert.deepEqual([...index.get('web')], ['web-0', 'web-1']);
  assert.equal(index.delete('web', 'web-2'), false);
  assert.equal(index.delete('web', 'web-0'), true);
  index.set('web', 'web-1', false);
  assert.equal(index.get('web').size, 0);
  assert.equal(index.delete('web', 'web-1'), false, 'the emptied key is gone');
  assert.equal(index.get('other').size, 0);
});
