import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../src/machinery/errors.js';
import { Path } from '../../src/machinery/validation.js';
import {
  Selector,
  checkFieldSelector,
  escapeFieldValue,
  fieldLabelNotSupported,
  formatLabelSelector,
  labelSelectorAsString,
  labelSelectorFromObject,
  parseFieldSelector,
  parseLabelSelector,
  selectorFromSet,
  unknownFieldSelector,
  validateLabelSelector,
} from '../../src/machinery/selectors.js';

const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const QUALIFIED_NAME_MSG =
  "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** Asserts that `fn` throws a 400 BadRequest StatusError with exactly `message`. */
function badRequest(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StatusError, `expected StatusError, got ${String(e)}`);
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    assert.equal(e.message, message);
    return true;
  });
}

test('label selector: the empty selector matches everything', () => {
  for (const text of ['', '   ', '\t\n']) {
    const s = parseLabelSelector(text);
    assert.equal(s.empty, true);
    assert.equal(s.toString(), '');
    assert.equal(s.matches({}), true);
    assert.equal(s.matches(undefined), true);
    assert.equal(s.matches({ a: 'b' }), true);
  }
});

test('label selector: canonical text', () => {
  const cases: [string, string][] = [
    ['x=a', 'x=a'],
    ['x==a', 'x==a'],
    ['x!=a', 'x!=a'],
    ['x', 'x'],
    ['!x', '!x'],
    ['x>1', 'x>1'],
    ['x<10', 'x<10'],
    ['x in (b,a,b)', 'x in (a,b)'],
    ['x notin (b,a)', 'x notin (a,b)'],
    // Sorted by key; whitespace around tokens is insignificant.
    ['  z = 1 ,\ty\n, !x ', '!x,y,z=1'],
    ['x in (foo,,baz),y,z notin ()', 'x in (,baz,foo),y,z notin ()'],
    ['x in (,a)', 'x in (,a)'],
    ['x in (a,)', 'x in (,a)'],
    ['x=', 'x='],
    ['x=,y', 'x=,y'],
    // `in` and `notin` are plain words where a key or value is expected.
    ['in in (in,notin)', 'in in (in,notin)'],
    ['x=in', 'x=in'],
    ['example.com/app=web', 'example.com/app=web'],
    ['a=1,a!=2', 'a=1,a!=2'],
  ];
  for (const [input, want] of cases) assert.equal(parseLabelSelector(input).toString(), want, input);
});

test('label selector: matching', () => {
  const m = (sel: string, labels: Record<string, string> | undefined) => parseLabelSelector(sel).matches(labels);
  assert.equal(m('x=a', { x: 'a' }), true);
  assert.equal(m('x==a', { x: 'a', y: 'b' }), true);
  assert.equal(m('x=a', { x: 'b' }), false);
  assert.equal(m('x=a', {}), false);
  assert.equal(m('x=a', undefined), false);
  assert.equal(m('x=', { x: '' }), true);
  assert.equal(m('x=', {}), false);
  assert.equal(m('x!=a', {}), true);
  assert.equal(m('x!=a', { x: 'b' }), true);
  assert.equal(m('x!=a', { x: 'a' }), false);
  assert.equal(m('x in (a,b)', { x: 'b' }), true);
  assert.equal(m('x in (a,b)', { x: 'c' }), false);
  assert.equal(m('x in (a,b)', {}), false);
  assert.equal(m('x notin (a,b)', {}), true);
  assert.equal(m('x notin (a,b)', { x: 'c' }), true);
  assert.equal(m('x notin (a,b)', { x: 'a' }), false);
  assert.equal(m('x', { x: '' }), true);
  assert.equal(m('x', { y: '' }), false);
  assert.equal(m('!x', {}), true);
  assert.equal(m('!x', { x: '' }), false);
  assert.equal(m('x>1', { x: '2' }), true);
  assert.equal(m('x>1', { x: '1' }), false);
  assert.equal(m('x>1', { x: '0010' }), true);
  assert.equal(m('x>1', { x: 'two' }), false);
  assert.equal(m('x>1', {}), false);
  assert.equal(m('x<1', { x: '0' }), true);
  assert.equal(m('x<1', { x: '-5' }), true);
  assert.equal(m('x<1', { x: '1' }), false);
  // Every requirement must hold.
  assert.equal(m('x=a,y', { x: 'a', y: 'b' }), true);
  assert.equal(m('x=a,y', { x: 'a' }), false);
  // Keys are looked up as own properties only.
  assert.equal(m('constructor', {}), false);
  assert.equal(m('!toString', {}), true);
});

test('label selector: requiresExactMatch', () => {
  const s = parseLabelSelector('a=1,b in (2),c in (3,4),d!=5,e');
  assert.equal(s.requiresExactMatch('a'), '1');
  assert.equal(s.requiresExactMatch('b'), '2');
  assert.equal(s.requiresExactMatch('c'), undefined);
  assert.equal(s.requiresExactMatch('d'), undefined);
  assert.equal(s.requiresExactMatch('e'), undefined);
  assert.equal(s.requiresExactMatch('f'), undefined);
});

test('label selector: syntax errors carry kube-apiserver messages', () => {
  const cases: [string, string][] = [
    // What `kubectl get pods -l 'a in b'` reports.
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['x=a b', "found 'b', expected: ',' or 'end of string'"],
    ['x=a=b', "found '=', expected: ',' or 'end of string'"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    ['x y', "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"],
    ['x (', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    [',', "found ',', expected: !, identifier, or 'end of string'"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['x,', "found '', expected: identifier after ','"],
    ['x=a,,y=b', "found ',', expected: identifier after ','"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['!=a', "found '!=', expected: !, identifier, or 'end of string'"],
    ['x in (a b)', "unable to parse requirement: found 'b', expected: ',' or ')'"],
    ['x in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['x in ((', "unable to parse requirement: found '(', expected: ',', ')' or identifier"],
    ['x in (a,=', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['x in', "unable to parse requirement: found '' expected: '('"],
    ['x=(', "unable to parse requirement: found '(', expected: identifier"],
    ['x==!', "unable to parse requirement: found '!', expected: identifier"],
  ];
  for (const [input, message] of cases) badRequest(() => parseLabelSelector(input), message);
});

test('label selector: invalid keys and values', () => {
  badRequest(
    () => parseLabelSelector('app:monolith'),
    `unable to parse requirement: <nil>: Invalid value: "app:monolith": ${NAME_PART_MSG}`,
  );
  badRequest(
    () => parseLabelSelector('a/b/c=d'),
    `unable to parse requirement: <nil>: Invalid value: "a/b/c": ${QUALIFIED_NAME_MSG}`,
  );
  badRequest(() => parseLabelSelector('x=-a'), `unable to parse requirement: values[0][x]: Invalid value: "-a": ${LABEL_VALUE_MSG}`);
  badRequest(
    () => parseLabelSelector(`x=${'v'.repeat(64)}`),
    `unable to parse requirement: values[0][x]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`,
  );
  badRequest(
    () => parseLabelSelector('x in (b,-a)'),
    `unable to parse requirement: values[0][x]: Invalid value: "-a": ${LABEL_VALUE_MSG}`,
  );
  badRequest(
    () => parseLabelSelector('x>a'),
    `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`,
  );
  // An empty value is a valid label value, but not an integer.
  badRequest(
    () => parseLabelSelector('x<'),
    `unable to parse requirement: values[0]: Invalid value: "": for 'Gt', 'Lt' operators, the value must be an integer`,
  );
  // Several errors are listed together.
  badRequest(
    () => parseLabelSelector('x>-a'),
    `unable to parse requirement: [values[0]: Invalid value: "-a": for 'Gt', 'Lt' operators, the value must be an integer, values[0][x]: Invalid value: "-a": ${LABEL_VALUE_MSG}]`,
  );
});

test('selectorFromSet matches exactly the set', () => {
  const s = selectorFromSet({ b: '2', a: '1' });
  assert.equal(s.toString(), 'a=1,b=2');
  assert.equal(s.matches({ a: '1', b: '2', c: '3' }), true);
  assert.equal(s.matches({ a: '1' }), false);
  assert.equal(selectorFromSet({}).empty, true);
  assert.equal(selectorFromSet(undefined).matches({}), true);
});

test('LabelSelector object: nil matches nothing, empty matches everything', () => {
  for (const sel of [null, undefined]) {
    const s = labelSelectorFromObject(sel);
    assert.equal(s.empty, false);
    assert.equal(s.matches({}), false);
    assert.equal(s.matches({ a: 'b' }), false);
    assert.equal(s.toString(), '');
  }
  assert.equal(labelSelectorFromObject(null), Selector.nothing());
  for (const sel of [{}, { matchLabels: {}, matchExpressions: [] }]) {
    const s = labelSelectorFromObject(sel);
    assert.equal(s.empty, true);
    assert.equal(s.matches({}), true);
    assert.equal(s.matches(undefined), true);
  }
});

test('LabelSelector object: requirements, matching and text', () => {
  const sel = {
    matchLabels: { app: 'nginx' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['b', 'a'] },
      { key: 'env', operator: 'NotIn', values: ['prod'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'zone', operator: 'Exists', values: [] },
    ],
  };
  const s = labelSelectorFromObject(sel);
  assert.equal(s.toString(), 'app=nginx,!canary,env notin (prod),tier in (a,b),zone');
  assert.equal(labelSelectorAsString(sel), 'app=nginx,!canary,env notin (prod),tier in (a,b),zone');
  assert.equal(s.matches({ app: 'nginx', tier: 'a', zone: 'z1' }), true);
  assert.equal(s.matches({ app: 'nginx', tier: 'a', zone: 'z1', env: 'dev' }), true);
  assert.equal(s.matches({ app: 'nginx', tier: 'a', zone: 'z1', env: 'prod' }), false);
  assert.equal(s.matches({ app: 'nginx', tier: 'a', zone: 'z1', canary: 'true' }), false);
  assert.equal(s.matches({ app: 'nginx', tier: 'c', zone: 'z1' }), false);
  assert.equal(s.matches({ app: 'nginx', tier: 'a' }), false);
  // The values' own order is kept; only the text is sorted.
  assert.deepEqual(s.requirements.find((r) => r.key === 'tier')?.values, ['b', 'a']);
  assert.equal(labelSelectorAsString({ matchLabels: { app: 'nginx', tier: 'web' } }), 'app=nginx,tier=web');
  assert.equal(labelSelectorAsString(null), '');
  assert.equal(labelSelectorAsString({}), '');
});

test('LabelSelector object: invalid selectors are rejected', () => {
  badRequest(
    () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['b'] }] }),
    '"Equals" is not a valid label selector operator',
  );
  badRequest(
    () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
    "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
  );
  badRequest(
    () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x', 'y'] }] }),
    'values: Invalid value: []string{"x", "y"}: values set must be empty for exists and does not exist',
  );
  badRequest(
    () => labelSelectorFromObject({ matchLabels: { 'a:b': '-c' } }),
    `[key: Invalid value: "a:b": ${NAME_PART_MSG}, values[0][a:b]: Invalid value: "-c": ${LABEL_VALUE_MSG}]`,
  );
  assert.equal(formatLabelSelector(null), '<none>');
  assert.equal(formatLabelSelector({}), '<none>');
  assert.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), '<error>');
});

test('validateLabelSelector reports field errors with Kubernetes wording', () => {
  const path = Path.root('spec').child('selector');
  assert.deepEqual(validateLabelSelector(null, path), []);
  assert.deepEqual(validateLabelSelector(undefined, path), []);
  assert.deepEqual(
    validateLabelSelector(
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
      path,
    ),
    [],
  );
  assert.deepEqual(validateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] }, path), [
    {
      type: 'FieldValueRequired',
      field: 'spec.selector.matchExpressions[0].values',
      message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
    },
  ]);
  assert.deepEqual(
    validateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] }, path).map((e) => e.field),
    ['spec.selector.matchExpressions[0].values'],
  );
  assert.deepEqual(
    validateLabelSelector(
      {
        matchExpressions: [
          { key: 'ok', operator: 'Exists' },
          { key: 'a', operator: 'DoesNotExist', values: ['x'] },
        ],
      },
      path,
    ),
    [
      {
        type: 'FieldValueForbidden',
        field: 'spec.selector.matchExpressions[1].values',
        message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      },
    ],
  );
  assert.deepEqual(validateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }, path), [
    {
      type: 'FieldValueInvalid',
      field: 'spec.selector.matchExpressions[0].operator',
      message: 'Invalid value: "Equals": not a valid selector operator',
    },
  ]);
  assert.deepEqual(validateLabelSelector({ matchExpressions: [{ key: 'a b', operator: 'In', values: ['ok', '-x'] }] }, path), [
    {
      type: 'FieldValueInvalid',
      field: 'spec.selector.matchExpressions[0].key',
      message: `Invalid value: "a b": ${NAME_PART_MSG}`,
    },
    {
      type: 'FieldValueInvalid',
      field: 'spec.selector.matchExpressions[0].values[1]',
      message: `Invalid value: "-x": ${LABEL_VALUE_MSG}`,
    },
  ]);
  // Values are not checked when the caller allows existing invalid values.
  assert.deepEqual(
    validateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: ['-x'] }] }, path, {
      allowInvalidLabelValueInSelector: true,
    }),
    [],
  );
  assert.deepEqual(validateLabelSelector({ matchLabels: { 'a:b': '-c' } }, path), [
    { type: 'FieldValueInvalid', field: 'spec.selector.matchLabels', message: `Invalid value: "a:b": ${NAME_PART_MSG}` },
    { type: 'FieldValueInvalid', field: 'spec.selector.matchLabels', message: `Invalid value: "-c": ${LABEL_VALUE_MSG}` },
  ]);
});

test('field selector: parse, match and print', () => {
  const empty = parseFieldSelector('');
  assert.equal(empty.empty, true);
  assert.equal(empty.toString(), '');
  assert.equal(empty.matches(() => undefined), true);

  const s = parseFieldSelector('status.phase!=Failed,metadata.name==web-0');
  assert.equal(s.empty, false);
  // Terms come out sorted by their text, `==` printed as `=`.
  assert.equal(s.toString(), 'metadata.name=web-0,status.phase!=Failed');
  assert.deepEqual(s.fields(), ['metadata.name', 'status.phase']);
  const obj: Record<string, string> = { 'metadata.name': 'web-0', 'status.phase': 'Running' };
  assert.equal(s.matches((f) => obj[f]), true);
  assert.equal(s.matches((f) => ({ ...obj, 'status.phase': 'Failed' })[f]), false);
  assert.equal(s.matches((f) => ({ ...obj, 'metadata.name': 'web-1' })[f]), false);
  assert.equal(s.requiresExactMatch('metadata.name'), 'web-0');
  assert.equal(s.requiresExactMatch('status.phase'), undefined);

  // A missing field reads as the empty string.
  assert.equal(parseFieldSelector('spec.nodeName=').matches(() => undefined), true);
  assert.equal(parseFieldSelector('spec.nodeName!=').matches(() => undefined), false);
  assert.equal(parseFieldSelector('spec.nodeName!=').matches(() => 'node-1'), true);

  // Trailing commas and bare `=` terms select everything.
  assert.equal(parseFieldSelector('a=b,').toString(), 'a=b');
  assert.equal(parseFieldSelector('=').empty, true);
  assert.equal(parseFieldSelector(',').empty, true);
  assert.deepEqual(parseFieldSelector('a=1,a!=2').fields(), ['a']);
});

test('field selector: backslash escapes', () => {
  const s = parseFieldSelector('a=x\\,y\\=z\\\\,b=2');
  assert.deepEqual(s.requirements, [
    { field: 'a', operator: '=', value: 'x,y=z\\' },
    { field: 'b', operator: '=', value: '2' },
  ]);
  assert.equal(s.toString(), 'a=x\\,y\\=z\\\\,b=2');
  assert.equal(s.matches((f) => (f === 'a' ? 'x,y=z\\' : '2')), true);
  assert.equal(escapeFieldValue('a,b=c\\'), 'a\\,b\\=c\\\\');
  assert.equal(parseFieldSelector(s.toString()).toString(), s.toString());
});

test('field selector: errors carry kube-apiserver messages', () => {
  badRequest(() => parseFieldSelector('foo'), "invalid selector: 'foo'; can't understand 'foo'");
  badRequest(() => parseFieldSelector('z,a=b'), "invalid selector: 'z,a=b'; can't understand 'z'");
  badRequest(() => parseFieldSelector('a=b=c'), 'invalid field selector: unescaped character in value: 61');
  badRequest(() => parseFieldSelector('a!==b'), 'invalid field selector: unescaped character in value: 61');
  badRequest(() => parseFieldSelector('a=b\\x'), 'invalid field selector: invalid escape sequence: \\x');
  badRequest(() => parseFieldSelector('a=b\\'), 'invalid field selector: invalid escape sequence: \\');
});

test('field selector: unsupported fields are rejected', () => {
  const supported = ['metadata.name', 'metadata.namespace', 'spec.nodeName'];
  checkFieldSelector(parseFieldSelector('spec.nodeName=n1,metadata.name!=x'), supported);
  checkFieldSelector(parseFieldSelector(''), []);
  badRequest(() => checkFieldSelector(parseFieldSelector('spec.foo=1'), supported), 'field label not supported: spec.foo');
  // The first unsupported field in selector order is the one reported.
  badRequest(
    () => checkFieldSelector(parseFieldSelector('spec.z=1,spec.a=2,metadata.name=x'), supported),
    'field label not supported: spec.a',
  );
  badRequest(
    () => checkFieldSelector(parseFieldSelector('spec.foo=1'), ['metadata.name'], unknownFieldSelector),
    '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"',
  );
  assert.equal(fieldLabelNotSupported('x').code, 400);
});
