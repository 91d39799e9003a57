// Label and field selectors, parsed, validated, matched and printed the way
// k8s.io/apimachinery's labels and fields packages do it, so that kubectl -l /
// --field-selector and the labelSelector / fieldSelector query parameters behave
// (and fail, with the same messages) as they do against kube-apiserver.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { StatusError, badRequest } from './errors.js';
import {
  type FieldError,
  type Path,
  forbidden,
  formatValue,
  invalid,
  isQualifiedName,
  isValidLabelValue,
  required,
} from './validation.js';

// --- label selectors -------------------------------------------------------

/** Operators as Kubernetes' selection package spells them (they appear in error messages). */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** As given: parsed selectors hold a sorted, de-duplicated set; selectors built from objects keep the object's order. */
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>>;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function lookup(labels: Labels | undefined, key: string): string | undefined {
  return labels && hasOwn(labels, key) ? labels[key] : undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, int64 range. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

function requirementMatches(r: Requirement, labels: Labels | undefined): boolean {
  const value = lookup(labels, r.key);
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return value !== undefined && r.values.includes(value);
    case 'notin':
    case '!=':
      return value === undefined || !r.values.includes(value);
    case 'exists':
      return value !== undefined;
    case '!':
      return value === undefined;
    case 'gt':
    case 'lt': {
      if (value === undefined || r.values.length !== 1) return false;
      const have = parseInt64(value);
      const want = parseInt64(r.values[0]);
      if (have === undefined || want === undefined) return false;
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

function requirementString(r: Requirement): string {
  let s = r.operator === '!' ? `!${r.key}` : r.key;
  switch (r.operator) {
    case 'exists':
    case '!':
      return s;
    case 'in':
    case 'notin':
      s += ` ${r.operator} (`;
      break;
    case 'gt':
      s += '>';
      break;
    case 'lt':
      s += '<';
      break;
    default:
      s += r.operator;
  }
  // Output order is normalised without touching the requirement itself.
  s += r.values.length === 1 ? r.values[0] : [...r.values].sort().join(',');
  return r.operator === 'in' || r.operator === 'notin' ? `${s})` : s;
}

/** A compiled label selector: the AND of its requirements, sorted by key. */
export class Selector {
  /** True when the selector does not restrict anything (it matches every object). */
  readonly empty: boolean;

  private constructor(
    readonly requirements: readonly Requirement[],
    private readonly matchesNothing: boolean,
  ) {
    this.empty = !matchesNothing && requirements.length === 0;
  }

  private static readonly EVERYTHING = new Selector([], false);
  private static readonly NOTHING = new Selector([], true);

  static everything(): Selector {
    return Selector.EVERYTHING;
  }

  /** What a nil metav1.LabelSelector means: matches no object. */
  static nothing(): Selector {
    return Selector.NOTHING;
  }

  /** A selector from requirements that have already been checked (as the parsers here do). */
  static of(requirements: Requirement[]): Selector {
    if (requirements.length === 0) return Selector.EVERYTHING;
    return new Selector(
      [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      false,
    );
  }

  matches(labels: Labels | undefined): boolean {
    if (this.matchesNothing) return false;
    return this.requirements.every((r) => requirementMatches(r, labels));
  }

  /** The one value `key` must have for a match (`key=v`, `key==v`, `key in (v)`), if there is one. */
  requiresExactMatch(key: string): string | undefined {
    const r = this.requirements.find((req) => req.key === key);
    if (!r || r.values.length !== 1) return undefined;
    return r.operator === '=' || r.operator === '==' || r.operator === 'in' ? r.values[0] : undefined;
  }

  /** Canonical text, e.g. `app=web,tier in (a,b)`; empty for everything and for nothing. */
  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }
}

/** A selector matching exactly the given labels (labels.SelectorFromSet); keys and values are not validated. */
export function selectorFromSet(labels: Labels | undefined): Selector {
  return Selector.of(Object.entries(labels ?? {}).map(([key, v]) => ({ key, operator: '=', values: [v] })));
}

/** Go's `%#v` for a []string, as field errors print it. */
function goStringSlice(values: readonly string[] | null): string {
  if (values === null) return '[]string(nil)';
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

/** utilerrors.Aggregate's text: duplicates dropped, one message bare, several in brackets. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

const invalidText = (field: string, value: string, detail: string): string =>
  `${field}: Invalid value: ${value}: ${detail}`;

/**
 * labels.NewRequirement's checks. Returns the error texts (field paths are relative to a nil
 * path, as both the string parser and LabelSelectorAsSelector use it); `values` is null for a
 * Go nil slice, which only changes how an offending empty list is printed.
 */
function checkRequirement(key: string, operator: LabelOperator, values: string[] | null): string[] {
  const errs: string[] = [];
  const vals = values ?? [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(invalidText('key', formatValue(key), keyErrs.join('; ')));
  switch (operator) {
    case 'in':
    case 'notin':
      if (vals.length === 0)
        errs.push(invalidText('values', goStringSlice(values), "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (vals.length !== 1)
        errs.push(invalidText('values', goStringSlice(values), 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (vals.length !== 0)
        errs.push(invalidText('values', goStringSlice(values), 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (vals.length !== 1)
        errs.push(
          invalidText('values', goStringSlice(values), "for 'Gt', 'Lt' operators, exactly one value is required"),
        );
      vals.forEach((v, i) => {
        if (parseInt64(v) === undefined)
          errs.push(invalidText(`values[${i}]`, formatValue(v), "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  vals.forEach((v, i) => {
    const valueErrs = isValidLabelValue(v);
    if (valueErrs.length) errs.push(invalidText(`values[${i}][${key}]`, formatValue(v), valueErrs.join('; ')));
  });
  return errs;
}

// The label selector lexer and parser follow labels.Parse token for token, because
// its error messages are part of the API (kubectl prints them verbatim).

type Token =
  | 'EOS'
  | 'IDENT'
  | ')'
  | ','
  | '!'
  | '=='
  | '='
  | '>'
  | 'in'
  | '<'
  | '!='
  | 'notin'
  | '(';

const LITERAL_TOKENS: ReadonlyMap<string, Token> = new Map<string, Token>([
  [')', ')'],
  [',', ','],
  ['!', '!'],
  ['==', '=='],
  ['=', '='],
  ['>', '>'],
  ['in', 'in'],
  ['<', '<'],
  ['!=', '!='],
  ['notin', 'notin'],
  ['(', '('],
]);

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecialSymbol = (ch: string): boolean => '=!(),><'.includes(ch);

// Go's lexer reads bytes and uses 0 for "no more input"; a NUL in the input therefore ends it too.
const END = '\0';

class Lexer {
  private pos = 0;
  constructor(private readonly s: string) {}

  private read(): string {
    if (this.pos < this.s.length) return this.s[this.pos++];
    return END;
  }

  private unread(): void {
    this.pos--;
  }

  private scanIdOrKeyword(): [Token, string] {
    let buffer = '';
    for (;;) {
      const ch = this.read();
      if (ch === END) break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
    }
    return [LITERAL_TOKENS.get(buffer) ?? 'IDENT', buffer];
  }

  // Every special character is a token by itself; `==` and `!=` are the only longer ones.
  private scanSpecialSymbol(): [Token, string] {
    const first = this.read();
    const second = this.read();
    if (second !== END) {
      const tok = LITERAL_TOKENS.get(first + second);
      if (tok) return [tok, first + second];
      this.unread();
    }
    return [LITERAL_TOKENS.get(first)!, first];
  }

  lex(): [Token, string] {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === END) return ['EOS', ''];
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIdOrKeyword();
  }
}

/** Thrown inside the parser; its message is what labels.Parse returns. */
class ParseError extends Error {}

const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

class Parser {
  private readonly items: [Token, string][] = [];
  private position = 0;

  constructor(text: string) {
    const lexer = new Lexer(text);
    for (;;) {
      const item = lexer.lex();
      this.items.push(item);
      if (item[0] === 'EOS') break;
    }
  }

  // In a values context `in` and `notin` are plain identifiers: `x in (in)` is valid.
  private lookahead(values: boolean): [Token, string] {
    const [tok, lit] = this.items[Math.min(this.position, this.items.length - 1)];
    return values && (tok === 'in' || tok === 'notin') ? ['IDENT', lit] : [tok, lit];
  }

  private consume(values: boolean): [Token, string] {
    const item = this.lookahead(values);
    this.position++;
    return item;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const [tok, lit] = this.lookahead(true);
      if (tok === 'EOS') return requirements;
      if (tok !== 'IDENT' && tok !== '!')
        throw new ParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
      try {
        requirements.push(this.parseRequirement());
      } catch (e) {
        if (e instanceof ParseError) throw new ParseError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const [t, l] = this.consume(true);
      if (t === 'EOS') return requirements;
      if (t !== ',') throw new ParseError(`found '${l}', expected: ',' or 'end of string'`);
      const [t2, l2] = this.lookahead(true);
      if (t2 !== 'IDENT' && t2 !== '!') throw new ParseError(`found '${l2}', expected: identifier after ','`);
    }
  }

  private parseRequirement(): Requirement {
    const [key, inferred] = this.parseKeyAndInferOperator();
    if (inferred) return newRequirement(key, inferred, []);
    const operator = this.parseOperator();
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    // Go collects values in a set and lists it sorted.
    return newRequirement(key, operator, [...values].sort());
  }

  private parseKeyAndInferOperator(): [string, 'exists' | '!' | undefined] {
    let operator: 'exists' | '!' | undefined;
    let [tok, lit] = this.consume(true);
    if (tok === '!') {
      operator = '!';
      [tok, lit] = this.consume(true);
    }
    if (tok !== 'IDENT') throw new ParseError(`found '${lit}', expected: identifier`);
    const keyErrs = isQualifiedName(lit);
    // The parser validates keys against a nil field path, which Go prints as "<nil>".
    if (keyErrs.length) throw new ParseError(invalidText('<nil>', formatValue(lit), keyErrs.join('; ')));
    const [next] = this.lookahead(true);
    if ((next === 'EOS' || next === ',') && operator !== '!') operator = 'exists';
    return [lit, operator];
  }

  private parseOperator(): LabelOperator {
    const [tok, lit] = this.consume(false);
    switch (tok) {
      case 'in':
        return 'in';
      case '=':
        return '=';
      case '==':
        return '==';
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      case 'notin':
        return 'notin';
      case '!=':
        return '!=';
      default:
        throw new ParseError(`found '${lit}', expected: ${BINARY_OPERATORS}`);
    }
  }

  private parseValues(): Set<string> {
    let [tok, lit] = this.consume(true);
    if (tok !== '(') throw new ParseError(`found '${lit}' expected: '('`);
    [tok, lit] = this.lookahead(true);
    if (tok === 'IDENT' || tok === ',') {
      const values = this.parseIdentifiersList();
      this.consume(true); // the ')' parseIdentifiersList stopped at
      return values;
    }
    if (tok === ')') {
      this.consume(true);
      return new Set(['']);
    }
    throw new ParseError(`found '${lit}', expected: ',', ')' or identifier`);
  }

  // A possibly empty, comma-separated list of possibly empty identifiers: `(a,,b)` holds "".
  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const [tok, lit] = this.consume(true);
      if (tok === 'IDENT') {
        values.add(lit);
        const [tok2, lit2] = this.lookahead(true);
        if (tok2 === ',') continue;
        if (tok2 === ')') return values;
        throw new ParseError(`found '${lit2}', expected: ',' or ')'`);
      }
      if (tok === ',') {
        if (values.size === 0) values.add('');
        const [tok2] = this.lookahead(true);
        if (tok2 === ')') {
          values.add('');
          return values;
        }
        if (tok2 === ',') values.add('');
        continue;
      }
      throw new ParseError(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): Set<string> {
    const [next] = this.lookahead(true);
    if (next === 'EOS' || next === ',') return new Set(['']);
    const [tok, lit] = this.consume(true);
    if (tok === 'IDENT') return new Set([lit]);
    throw new ParseError(`found '${lit}', expected: identifier`);
  }
}

function newRequirement(key: string, operator: LabelOperator, values: string[]): Requirement {
  const errs = checkRequirement(key, operator, values);
  if (errs.length) throw new ParseError(aggregate(errs));
  return { key, operator, values };
}

/**
 * Parses a label selector string (`labelSelector` query parameter, `kubectl -l`).
 * Throws a 400 BadRequest StatusError carrying the message kube-apiserver gives.
 */
export function parseLabelSelector(text: string): Selector {
  try {
    return Selector.of(new Parser(text).parse());
  } catch (e) {
    if (e instanceof ParseError) throw badRequest(e.message);
    throw e;
  }
}

const OBJECT_OPERATORS: Readonly<Record<string, LabelOperator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * metav1.LabelSelectorAsSelector: a nil selector matches nothing, an empty one everything.
 * Throws a 400 BadRequest StatusError if the selector is invalid (validation should have caught it).
 */
export function labelSelectorFromObject(sel: LabelSelector | null | undefined): Selector {
  if (sel === null || sel === undefined) return Selector.nothing();
  const matchLabels = Object.entries(sel.matchLabels ?? {});
  const expressions = sel.matchExpressions ?? [];
  if (matchLabels.length + expressions.length === 0) return Selector.everything();
  const requirements: Requirement[] = [];
  const add = (key: string, operator: LabelOperator, values: string[] | null): void => {
    const errs = checkRequirement(key, operator, values);
    if (errs.length) throw badRequest(aggregate(errs));
    requirements.push({ key, operator, values: values ?? [] });
  };
  for (const [key, value] of matchLabels) add(key, '=', [value]);
  for (const expr of expressions) {
    const operator = hasOwn(OBJECT_OPERATORS, expr.operator) ? OBJECT_OPERATORS[expr.operator] : undefined;
    if (!operator) throw badRequest(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    add(expr.key, operator, expr.values?.length ? [...expr.values] : null);
  }
  return Selector.of(requirements);
}

/**
 * The selector's text as the Scale subresource's status.selector and kubectl show it:
 * `app=nginx,tier in (a,b)`; empty for a nil or empty selector.
 */
export function labelSelectorAsString(sel: LabelSelector | null | undefined): string {
  return labelSelectorFromObject(sel).toString();
}

/** metav1.FormatLabelSelector, for human-readable output: `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(sel: LabelSelector | null | undefined): string {
  try {
    return labelSelectorAsString(sel) || '<none>';
  } catch (e) {
    if (e instanceof StatusError) return '<error>';
    throw e;
  }
}

export interface LabelSelectorValidationOptions {
  /** Kept for objects stored before values were validated (Kubernetes allows them on update). */
  allowInvalidLabelValueInSelector?: boolean;
}

/** metav1validation.ValidateLabelSelector. A nil selector is valid here; callers that require one check that. */
export function validateLabelSelector(
  sel: LabelSelector | null | undefined,
  path: Path,
  opts: LabelSelectorValidationOptions = {},
): FieldError[] {
  const errs: FieldError[] = [];
  if (sel === null || sel === undefined) return errs;
  const labelsPath = path.child('matchLabels');
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(invalid(labelsPath, k, m));
    for (const m of isValidLabelValue(v)) errs.push(invalid(labelsPath, v, m));
  }
  (sel.matchExpressions ?? []).forEach((expr, i) => {
    const p = path.child('matchExpressions').index(i);
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          errs.push(required(p.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0)
          errs.push(forbidden(p.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(p.child('operator'), expr.operator, 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(expr.key)) errs.push(invalid(p.child('key'), expr.key, m));
    if (!opts.allowInvalidLabelValueInSelector) {
      values.forEach((v, j) => {
        for (const m of isValidLabelValue(v)) errs.push(invalid(p.child('values').index(j), v, m));
      });
    }
  });
  return errs;
}

// --- field selectors -------------------------------------------------------

export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  /** Unescaped. */
  readonly value: string;
}

/** fields.EscapeValue: backslash, comma and equals are escaped with a backslash. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** A compiled field selector: the AND of `field=value` / `field!=value` terms. */
export class FieldSelector {
  readonly empty: boolean;

  constructor(readonly requirements: readonly FieldRequirement[]) {
    this.empty = requirements.length === 0;
  }

  /** `get` returns a field's value for the object; a missing field counts as "" (as Kubernetes' fields.Set does). */
  matches(get: (field: string) => string | undefined): boolean {
    return this.requirements.every((r) => ((get(r.field) ?? '') === r.value) === (r.operator === '='));
  }

  /** The distinct fields the selector uses, in selector order. */
  fields(): string[] {
    return [...new Set(this.requirements.map((r) => r.field))];
  }

  /** The value `field` must equal for a match, if the selector pins it (e.g. `metadata.name=x`). */
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === '=')?.value;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
  }
}

// Splits on commas that are not backslash-escaped; the escapes stay in the terms.
function splitTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

// `!=` and `==` are tried before `=` at each position, so `a==b` is not `a` = `=b`.
function splitTerm(term: string): [string, '=' | '!=', string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op === '!=' ? '!=' : '=', term.slice(i + op.length)];
    }
  }
  return undefined;
}

function unescapeFieldValue(s: string): string {
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=')
        throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
    } else if (c === '\\') {
      inSlash = true;
    } else if (c === ',' || c === '=') {
      // Go prints the rune with %v, i.e. as its code point number.
      throw badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else {
      out += c;
    }
  }
  if (inSlash) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/**
 * Parses a field selector string (`fieldSelector` query parameter, `kubectl --field-selector`).
 * Throws a 400 BadRequest StatusError carrying the message kube-apiserver gives.
 */
export function parseFieldSelector(text: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  // Go sorts the raw terms, which fixes both the order of toString() and which error is reported first.
  for (const part of splitTerms(text).sort()) {
    if (part === '') continue;
    const split = splitTerm(part);
    if (!split) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const [field, operator, raw] = split;
    const value = unescapeFieldValue(raw);
    // A term with neither field nor value (`=`) selects everything and is dropped.
    if (field === '' && value === '') continue;
    requirements.push({ field, operator, value });
  }
  return new FieldSelector(requirements);
}

/** The error core kinds give for a field they cannot select on (`field label not supported: spec.foo`). */
export function fieldLabelNotSupported(field: string): StatusError {
  return badRequest(`field label not supported: ${field}`);
}

/** The error for kinds with no field selectors beyond metadata.name and metadata.namespace. */
export function unknownFieldSelector(field: string): StatusError {
  return badRequest(
    `${JSON.stringify(field)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
  );
}

/**
 * Rejects a selector using a field outside `supported`, reporting the first offending field in
 * selector order, as kube-apiserver does; `reject` builds the kind's error.
 */
export function checkFieldSelector(
  sel: FieldSelector,
  supported: Iterable<string>,
  reject: (field: string) => StatusError = fieldLabelNotSupported,
): void {
  const allowed = new Set(supported);
  for (const field of sel.fields()) if (!allowed.has(field)) throw reject(field);
}
