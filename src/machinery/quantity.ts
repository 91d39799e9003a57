// resource.Quantity: fixed-point numbers with SI / binary-SI / exponent suffixes ("128Mi",
// "500m", "1e3"), parsed, rounded, compared and printed as k8s.io/apimachinery does it.
// Values are exact: an unscaled bigint times a power of ten, never a float.

export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI';

export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

/** A quantity string Kubernetes would reject; the message is Kubernetes' own. */
export class QuantityError extends Error {}

const DECIMAL_SUFFIXES: ReadonlyMap<string, number> = new Map([
  ['n', -9],
  ['u', -6],
  ['m', -3],
  ['', 0],
  ['k', 3],
  ['M', 6],
  ['G', 9],
  ['T', 12],
  ['P', 15],
  ['E', 18],
]);
const DECIMAL_SUFFIX_BY_EXPONENT: ReadonlyMap<number, string> = new Map(
  [...DECIMAL_SUFFIXES].map(([s, e]) => [e, s]),
);
/** Index k is the suffix for 1024^k. */
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

const MAX_INT32 = 2147483647;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
/** Parsed values are rounded up to this power of ten (nano). */
const NANO = -9;

const abs = (n: bigint): bigint => (n < 0n ? -n : n);
const digitCount = (n: bigint): number => abs(n).toString().length;
const pow10 = (n: number): bigint => 10n ** BigInt(n);
const isDigit = (ch: string): boolean => ch >= '0' && ch <= '9';

/** Compares |a|·10^ea with |b|·10^eb without materialising huge powers of ten. */
function compareMagnitude(a: bigint, ea: number, b: bigint, eb: number): number {
  a = abs(a);
  b = abs(b);
  if (a === 0n || b === 0n) return a === b ? 0 : a === 0n ? -1 : 1;
  const oa = digitCount(a) + ea;
  const ob = digitCount(b) + eb;
  if (oa !== ob) return oa > ob ? 1 : -1;
  // Same order of magnitude, so the exponents differ by less than the digit counts.
  if (ea > eb) a *= pow10(ea - eb);
  else b *= pow10(eb - ea);
  return a === b ? 0 : a > b ? 1 : -1;
}

/** u / 10^places rounded away from zero (so any non-zero remainder adds one unit). */
function divideAwayFromZero(u: bigint, places: number): bigint {
  if (u === 0n) return 0n;
  const sign = u < 0n ? -1n : 1n;
  const m = abs(u);
  // |u| < 10^places: the quotient is a fraction, which rounds to one unit.
  if (places > digitCount(m)) return sign;
  const d = pow10(places);
  return sign * (m / d + (m % d === 0n ? 0n : 1n));
}

/** u·10^exp as an integer, rounded away from zero and saturated to int64, as Kubernetes' scaled values are. */
function saturatedInteger(u: bigint, exp: number): bigint {
  let r: bigint;
  if (exp >= 0) {
    // 20 digits are past int64 already; saturate without computing a possibly huge power.
    r = u === 0n ? 0n : digitCount(u) + exp > 20 ? (u < 0n ? INT64_MIN - 1n : INT64_MAX + 1n) : u * pow10(exp);
  } else {
    r = divideAwayFromZero(u, -exp);
  }
  return r > INT64_MAX ? INT64_MAX : r < INT64_MIN ? INT64_MIN : r;
}

interface Scanned {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** Splits a quantity into sign, integer digits (leading zeros dropped), fraction digits and suffix. */
function scan(str: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') {
    pos++;
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };

  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  const num = str.slice(pos, i) || '0';
  pos = i;

  let denom = '';
  if (pos < end && str[pos] === '.') {
    i = ++pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    pos = i;
  }

  // Suffix: letters from the suffix alphabet, an optional sign, then digits (for exponents).
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos])) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } {
  const dec = DECIMAL_SUFFIXES.get(suffix);
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = BINARY_SUFFIXES.indexOf(suffix);
  if (bin > 0) return { base: 2, exponent: bin * 10, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    const exponent = BigInt(suffix.slice(1));
    // Kubernetes keeps the exponent in an int32 it later negates, so it rejects anything wider.
    if (exponent >= -MAX_INT32 && exponent <= MAX_INT32)
      return { base: 10, exponent: Number(exponent), format: 'DecimalExponent' };
  }
  throw new QuantityError(QUANTITY_SUFFIX_ERROR);
}

export class Quantity {
  private constructor(
    /** The value is unscaled · 10^exponent. */
    private readonly unscaled: bigint,
    private readonly exponent: number,
    readonly format: QuantityFormat,
    /** The input text, when Kubernetes keeps it as the printed form. */
    private readonly text?: string,
  ) {}

  /** Parses a quantity string; throws QuantityError with Kubernetes' message when it is malformed. */
  static parse(str: string): Quantity {
    if (str.length === 0) throw new QuantityError(QUANTITY_FORMAT_ERROR);
    if (str === '0') return new Quantity(0n, 0, 'DecimalSI', str);
    const { positive, num, denom, suffix } = scan(str);
    const { base, exponent, format } = interpretSuffix(suffix);
    const shifted = num + denom;
    const digits = BigInt(shifted) * (positive ? 1n : -1n);

    // Kubernetes' int64 fast path: small enough values are kept exactly as written (no rounding,
    // no cap), and in some cases the input text itself becomes the printed form.
    if (base === 10) {
      const scale = exponent - denom.length;
      if (shifted.length <= 18 && scale >= NANO) {
        const keepsText = scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
        return new Quantity(digits, scale, format, keepsText ? str : undefined);
      }
    } else if (denom === '' && 15 - num.length - (exponent * 3) / 10 - 1 >= 0) {
      const keepsText = (BigInt(shifted) & 7n) !== 0n;
      return new Quantity(digits << BigInt(exponent), 0, format, keepsText ? str : undefined);
    }

    // The general path: exact value, rounded up (away from zero) to nano precision.
    let u = base === 2 ? digits << BigInt(exponent) : digits;
    let exp = base === 2 ? -denom.length : exponent - denom.length;
    if (u !== 0n && exp < NANO) {
      u = divideAwayFromZero(u, NANO - exp);
      exp = NANO;
    }
    let fmt = format;
    if (format === 'BinarySI') {
      // Binary quantities are capped at int64 max; the other formats are not.
      if (compareMagnitude(u, exp, INT64_MAX, 0) > 0) {
        u = u < 0n ? -INT64_MAX : INT64_MAX;
        exp = 0;
      }
      // A fraction of a byte has no sensible binary form.
      if (u !== 0n && compareMagnitude(u, exp, 1n, 0) < 0) fmt = 'DecimalSI';
    }
    return new Quantity(u, exp, fmt);
  }

  /** A quantity of `value`, an integer (resource.NewQuantity). */
  static fromValue(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), 0, format);
  }

  /** A quantity of `value`/1000, `value` an integer (resource.NewMilliQuantity). */
  static fromMilli(value: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), -3, format);
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled === 0n ? 0 : this.unscaled < 0n ? -1 : 1;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`; exact. */
  cmp(other: Quantity): -1 | 0 | 1 {
    const a = this.sign();
    const b = other.sign();
    if (a !== b) return a > b ? 1 : -1;
    if (a === 0) return 0;
    const m = compareMagnitude(this.unscaled, this.exponent, other.unscaled, other.exponent);
    return (m * a) as -1 | 0 | 1;
  }

  equals(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /** The value rounded up (away from zero) to an integer, saturated to int64 (Quantity.Value). */
  value(): bigint {
    return saturatedInteger(this.unscaled, this.exponent);
  }

  /** The value in thousandths, rounded up (away from zero), saturated to int64 (Quantity.MilliValue). */
  milliValue(): bigint {
    return this.scaledValue(-3);
  }

  /** The value in units of 10^scale, rounded up (away from zero), saturated to int64 (Quantity.ScaledValue). */
  scaledValue(scale: number): bigint {
    return saturatedInteger(this.unscaled, this.exponent - scale);
  }

  /** The printed form, as Kubernetes prints and serialises it: `500m`, `1Gi`, `1536Mi`, `1e3`. */
  toString(): string {
    if (this.text !== undefined) return this.text;
    if (this.unscaled === 0n) return '0';
    if (this.format === 'BinarySI') {
      const binary = this.binaryString();
      if (binary !== undefined) return binary;
      return this.decimalString('DecimalSI');
    }
    return this.decimalString(this.format);
  }

  toJSON(): string {
    return this.toString();
  }

  // Binary form only for whole numbers of at least 1024 (or at most -1024); others print as decimal.
  private binaryString(): string | undefined {
    if (compareMagnitude(this.unscaled, this.exponent, 1024n, 0) < 0) return undefined;
    let n: bigint;
    if (this.exponent >= 0) {
      n = this.unscaled * pow10(this.exponent);
    } else {
      const d = pow10(-this.exponent);
      if (this.unscaled % d !== 0n) return undefined;
      n = this.unscaled / d;
    }
    let k = 0;
    while (n % 1024n === 0n) {
      n /= 1024n;
      k++;
    }
    // Beyond Ei there is no binary suffix: print the exact decimal instead of losing magnitude.
    if (k >= BINARY_SUFFIXES.length) return this.decimalString('DecimalExponent');
    return `${n}${BINARY_SUFFIXES[k]}`;
  }

  // Mantissa without trailing zeros, exponent lowered to a multiple of three, then the suffix.
  private decimalString(format: 'DecimalSI' | 'DecimalExponent'): string {
    let u = this.unscaled;
    let exp = this.exponent;
    while (u % 10n === 0n) {
      u /= 10n;
      exp++;
    }
    const r = ((exp % 3) + 3) % 3;
    u *= pow10(r);
    exp -= r;
    if (format === 'DecimalSI') {
      const suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exp);
      // Outside n..E there is no SI suffix: fall back to exponent notation rather than drop it.
      if (suffix !== undefined) return `${u}${suffix}`;
    }
    return exp === 0 ? `${u}` : `${u}e${exp}`;
  }
}

export function parseQuantity(str: string): Quantity {
  return Quantity.parse(str);
}

/**
 * A quantity from a decoded JSON value, as Quantity.UnmarshalJSON takes it: a string (trimmed)
 * or a number (YAML `cpu: 0.5`); null gives undefined.
 */
export function quantityFromJSON(value: unknown): Quantity | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return Quantity.parse(value.trim());
  if (typeof value === 'number' || typeof value === 'bigint') return Quantity.parse(String(value));
  throw new QuantityError(QUANTITY_FORMAT_ERROR);
}

/** A resource list's entry (e.g. `storage` of requests) as a Quantity; undefined when absent or unreadable. */
export function resourceQuantity(list: Readonly<Record<string, unknown>> | undefined, name: string): Quantity | undefined {
  try {
    return quantityFromJSON(list?.[name]);
  } catch (err) {
    if (err instanceof QuantityError) return undefined;
    throw err;
  }
}
