// Asserting on the Status errors that pure functions throw.
import assert from 'node:assert/strict';
import { StatusError } from '../../src/machinery/errors.js';

export function expectStatus(fn: () => unknown, code: number, reason: string, message?: string | RegExp): StatusError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof StatusError, `expected a StatusError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.reason, reason);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  return caught;
}
