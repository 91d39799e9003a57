import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  QUANTITY_FORMAT_ERROR,
  QUANTITY_SUFFIX_ERROR,
  Quantity,
  QuantityError,
  parseQuantity,
  quantityFromJSON,
} from '../../src/machinery/quantity.js';

const q = (s: string) => parseQuantity(s);

test('the format error quotes Kubernetes regular expression', () => {
  assert.equal(
    QUANTITY_FORMAT_ERROR,
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  );
});

test('parses values in every suffix family', () => {
  const cases: [string, bigint, string][] = [
    // input, milli-value, format
    ['0', 0n, 'DecimalSI'],
    ['1', 1000n, 'DecimalSI'],
    ['5n', 1n, 'DecimalSI'],
    ['4u', 1n, 'DecimalSI'],
    ['500m', 500n, 'DecimalSI'],
    ['8k', 8_000_000n, 'DecimalSI'],
    ['2k', 2_000_000n, 'DecimalSI'],
    ['7M', 7_000_000_000n, 'DecimalSI'],
    ['10G', 10_000_000_000_000n, 'DecimalSI'],
    ['5T', 5_000_000_000_000_000n, 'DecimalSI'],
    ['1Ki', 1_024_000n, 'BinarySI'],
    ['128Mi', 128n * 2n ** 20n * 1000n, 'BinarySI'],
    ['1Gi', 2n ** 30n * 1000n, 'BinarySI'],
    ['1Ti', 2n ** 40n * 1000n, 'BinarySI'],
    ['1e3', 1_000_000n, 'DecimalExponent'],
    ['1E-3', 1n, 'DecimalExponent'],
    ['1.5', 1500n, 'DecimalSI'],
    ['0.5', 500n, 'DecimalSI'],
    ['.001', 1n, 'DecimalSI'],
    ['1.', 1000n, 'DecimalSI'],
    ['-1.5', -1500n, 'DecimalSI'],
    ['+2', 2000n, 'DecimalSI'],
    ['0.5Mi', 524288n * 1000n, 'BinarySI'],
    ['1.2e3', 1_200_000n, 'DecimalExponent'],
    ['1.3E+6', 1_300_000_000n, 'DecimalExponent'],
  ];
  for (const [input, milli, format] of cases) {
    const v = q(input);
    assert.equal(v.milliValue(), milli, input);
    assert.equal(v.format, format, input);
  }
});

test('prints the canonical form Kubernetes prints', () => {
  const cases: [string, string][] = [
    ['0', '0'],
    ['0m', '0'],
    ['0Ki', '0'],
    ['-0', '0'],
    ['.', '0'],
    ['0.5', '500m'],
    ['1.5', '1500m'],
    ['0.001', '1m'],
    ['1000m', '1'],
    ['1024Mi', '1Gi'],
    ['1000M', '1G'],
    ['1000000k', '1G'],
    ['8Ki', '8Ki'],
    ['2048Ki', '2Mi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Mi', '512Ki'],
    ['100.035Ki', '102435840m'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    ['1025Ki', '1025Ki'],
    ['-1024Ki', '-1Mi'],
    ['-1.5', '-1500m'],
    ['1.5k', '1500'],
    ['0.0005k', '500m'],
    ['1.01E', '1010P'],
    ['1e9', '1e9'],
    ['0.001e12', '1e9'],
    ['1000e-12', '1e-9'],
    ['1.5e3', '1500'],
    ['80e-3', '80e-3'],
    // DecimalSI stops at E; above it the exponent is written out instead of lost.
    ['1000E', '1e21'],
    // Binary quantities are capped at int64 max.
    ['9Ei', '9223372036854775807'],
  ];
  for (const [input, want] of cases) assert.equal(q(input).toString(), want, input);
});

test('keeps the input text where Kubernetes does', () => {
  // Kubernetes keeps the text of small exact inputs whose scale is a multiple of three;
  // this is why `+1` or `1E3` survive a round trip through the API unchanged.
  for (const s of ['1', '100m', '1Ki', '12Ki', '1e3', '1E3', '+1', '01', '-1Ki', '100.035k', '10.035M']) {
    assert.equal(q(s).toString(), s, s);
  }
});

test('rounds up to nano precision', () => {
  const cases: [string, string][] = [
    ['3.001n', '4n'],
    ['1.1E-9', '2e-9'],
    ['0.0000000001', '1n'],
    ['0.0000000005', '1n'],
    ['0.9n', '1n'],
    ['0.00000012345', '124n'],
    ['-0.00000012345', '-124n'],
    ['0.5e-9', '1e-9'],
  ];
  for (const [input, want] of cases) assert.equal(q(input).toString(), want, input);
  // A fraction of a byte becomes decimal.
  assert.equal(q('0.000000000001Ki').format, 'DecimalSI');
});

test('rejects malformed quantities with Kubernetes messages', () => {
  const formatErrors = ['', ' 1', '1 ', '1.1.M', '1+1.0M', '0.1am', 'aoeu', '1.0GiB', 'Non-Numeric', '1Kib', '1gi'];
  for (const s of formatErrors) {
    assert.throws(() => q(s), (e: unknown) => e instanceof QuantityError && e.message === QUANTITY_FORMAT_ERROR, s);
  }
  const suffixErrors = ['0.1mi', '.5i', '1i', '-3.01i', '-3.01e-', '1ki', '1e', '--1', '1e4294967297'];
  for (const s of suffixErrors) {
    assert.throws(() => q(s), (e: unknown) => e instanceof QuantityError && e.message === QUANTITY_SUFFIX_ERROR, s);
  }
  // The exponent is limited to int32 (negated), so these are the extremes.
  assert.equal(q('1e2147483647').toString(), '10e2147483646');
  assert.equal(q('1e-2147483647').toString(), '1e-9');
  assert.throws(() => q('1e-2147483648'), QuantityError);
});

test('compares exactly across formats', () => {
  const cmp = (a: string, b: string) => q(a).cmp(q(b));
  assert.equal(cmp('1Gi', '1073741824'), 0);
  assert.equal(q('1Gi').equals(q('1024Mi')), true);
  assert.equal(cmp('1', '1000m'), 0);
  assert.equal(cmp('1k', '1e3'), 0);
  assert.equal(cmp('0', '0Ki'), 0);
  assert.equal(cmp('100m', '50m'), 1);
  assert.equal(cmp('50m', '100m'), -1);
  assert.equal(cmp('10000T', '100Gi'), 1);
  assert.equal(cmp('1Gi', '1G'), 1);
  assert.equal(cmp('-1', '1m'), -1);
  assert.equal(cmp('-2', '-1'), -1);
  assert.equal(cmp('-1', '0'), -1);
  assert.equal(cmp('1000000000000000000001', '1e21'), 1);
  assert.equal(cmp('999999999999999999999', '1e21'), -1);
  // Huge exponents are compared without building the number.
  assert.equal(cmp('1e2147483647', '9e2147483646'), 1);
  assert.equal(cmp('1e-2147483647', '1n'), 0);
});

test('value and milliValue round up away from zero', () => {
  assert.equal(q('1.5').value(), 2n);
  assert.equal(q('-1.5').value(), -2n);
  assert.equal(q('100m').value(), 1n);
  assert.equal(q('1n').value(), 1n);
  assert.equal(q('0').value(), 0n);
  assert.equal(q('128Mi').value(), 134217728n);
  assert.equal(q('1.5Gi').value(), 1610612736n);
  assert.equal(q('1e3').value(), 1000n);
  assert.equal(q('1n').milliValue(), 1n);
  assert.equal(q('1500u').milliValue(), 2n);
  assert.equal(q('-1500u').milliValue(), -2n);
  assert.equal(q('250m').milliValue(), 250n);
  assert.equal(q('2').scaledValue(3), 1n);
  assert.equal(q('2G').scaledValue(6), 2000n);
  // Beyond int64 the values saturate, as Kubernetes' do.
  assert.equal(q('12E').value(), 2n ** 63n - 1n);
  assert.equal(q('-12E').value(), -(2n ** 63n));
  assert.equal(q('10P').milliValue(), 2n ** 63n - 1n);
  assert.equal(q('1e2147483647').value(), 2n ** 63n - 1n);
});

test('built quantities print canonically', () => {
  assert.equal(Quantity.fromValue(1024, 'BinarySI').toString(), '1Ki');
  assert.equal(Quantity.fromValue(1000).toString(), '1k');
  assert.equal(Quantity.fromValue(5, 'BinarySI').toString(), '5');
  assert.equal(Quantity.fromValue(2n ** 70n, 'BinarySI').toString(), '1180591620717411303424');
  assert.equal(Quantity.fromMilli(1500).toString(), '1500m');
  assert.equal(Quantity.fromMilli(2000).toString(), '2');
  assert.equal(Quantity.fromMilli(500, 'BinarySI').toString(), '500m');
  assert.equal(Quantity.fromValue(0, 'BinarySI').toString(), '0');
});

test('JSON: serialises as its string and decodes strings and numbers', () => {
  assert.equal(JSON.stringify({ cpu: q('0.5'), memory: q('1024Mi') }), '{"cpu":"500m","memory":"1Gi"}');
  assert.equal(quantityFromJSON(' 1Gi ')?.toString(), '1Gi');
  assert.equal(quantityFromJSON(0.5)?.toString(), '500m');
  assert.equal(quantityFromJSON(2)?.toString(), '2');
  assert.equal(quantityFromJSON(null), undefined);
  assert.throws(() => quantityFromJSON(true), (e: unknown) => e instanceof QuantityError && e.message === QUANTITY_FORMAT_ERROR);
  assert.throws(() => quantityFromJSON({}), QuantityError);
});

test('sign and isZero', () => {
  assert.equal(q('0').isZero(), true);
  assert.equal(q('0Gi').isZero(), true);
  assert.equal(q('1n').isZero(), false);
  assert.equal(q('-1m').sign(), -1);
  assert.equal(q('1m').sign(), 1);
  assert.equal(q('-0').sign(), 0);
});
