// A quantity's suffix and its format, as Kubernetes' suffixer reads and writes them:
// DecimalSI (n u m "" k M G T P E: powers of 1000), BinarySI (Ki Mi Gi Ti Pi Ei: powers of
// 1024) and DecimalExponent ("e3", "E-6": any power of ten). A parsed quantity remembers its
// format and is written back in it.

/** The three ways a quantity is written. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** What a suffix means: the value is the number times base^exponent. */
export interface SuffixMeaning {
  readonly base: 2 | 10;
  readonly exponent: number;
  readonly format: QuantityFormat;
}

const DECIMAL_EXPONENTS: ReadonlyMap<string, number> = new Map([
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

const BINARY_EXPONENTS: ReadonlyMap<string, number> = new Map([
  ['Ki', 10],
  ['Mi', 20],
  ['Gi', 30],
  ['Ti', 40],
  ['Pi', 50],
  ['Ei', 60],
]);

const DECIMAL_SUFFIXES: ReadonlyMap<number, string> = new Map([...DECIMAL_EXPONENTS].map(([s, e]) => [e, s]));

/** The binary suffixes by power of 1024: '', Ki, Mi, ... Ei. */
export const BINARY_SUFFIXES: readonly string[] = ['', ...BINARY_EXPONENTS.keys()];

/** The largest power of ten DecimalSI has a suffix for (E). */
export const MAX_DECIMAL_SI_EXPONENT = 18;

// Go's strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, within int64.
const INT64_TEXT = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function parseInt64(text: string): bigint | undefined {
  if (!INT64_TEXT.test(text)) return undefined;
  const n = BigInt(text);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/**
 * What a suffix means, or undefined when it means nothing (Kubernetes' ErrSuffix). An
 * exponent is "e" or "E" followed by an int64 ("E" alone is exa).
 */
export function interpretSuffix(suffix: string): SuffixMeaning | undefined {
  const decimal = DECIMAL_EXPONENTS.get(suffix);
  if (decimal !== undefined) return { base: 10, exponent: decimal, format: 'DecimalSI' };
  const binary = BINARY_EXPONENTS.get(suffix);
  if (binary !== undefined) return { base: 2, exponent: binary, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const exponent = parseInt64(suffix.slice(1));
    if (exponent === undefined) return undefined;
    return { base: 10, exponent: Number(exponent), format: 'DecimalExponent' };
  }
  return undefined;
}

/** The DecimalSI suffix of a power of ten that is a multiple of 3 in [-9, 18]. */
export function decimalSuffix(exponent: number): string {
  const suffix = DECIMAL_SUFFIXES.get(exponent);
  if (suffix === undefined) throw new RangeError(`no DecimalSI suffix for 10^${exponent}`);
  return suffix;
}

/** The DecimalExponent suffix of a power of ten: "" for 0, else "e<exponent>". */
export function exponentSuffix(exponent: number): string {
  return exponent === 0 ? '' : `e${exponent}`;
}
