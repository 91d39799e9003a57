// Small, generic object helpers.
import { randomBytes } from 'node:crypto';

/** RFC 3339 with second precision, as Kubernetes serializes metav1.Time. */
export function nowTimestamp(ms = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The random suffix Kubernetes appends to generateName: five characters without vowels. */
export function randomNameSuffix(): string {
  const bytes = randomBytes(5);
  let s = '';
  for (const b of bytes) s += NAME_ALPHABET[b % NAME_ALPHABET.length];
  return s;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ak = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
