// Kubernetes resource quantities ("500m", "1.5", "128Mi", "1e3", "2G") as exact integers:
// milli-units for cpu, whole units (bytes) for memory and everything else. Parsing is exact
// (BigInt arithmetic) and rounds up, as Kubernetes' Quantity.MilliValue() and Value() do: a
// request of "0.5m" cpu is 1 milli-cpu, "1.5Ki" is 1536 bytes, "0.1" bytes is 1 byte.
// The results are JavaScript numbers: exact up to 2^53 (8 PiB), which covers any real node.
//
// Neither @k8ts/api nor @k8ts/client exports a quantity parser (the api package only checks
// the grammar when decoding JSON), so the scheduler has its own.
import type { metav1 } from '@k8ts/api';

/** A string that is not a Kubernetes quantity. */
export class QuantityError extends Error {
  constructor(readonly text: string) {
    super(`invalid quantity ${JSON.stringify(text)}: expected a number with an optional suffix such as 500m, 2, 1.5Gi, 128M or 1e3`);
    this.name = 'QuantityError';
  }
}

/** A parsed quantity: `value` in whole units, `milli` in thousandths, both rounded up. */
export interface ParsedQuantity {
  readonly value: number;
  readonly milli: number;
}

// sign, digits with optional fraction (or a fraction alone), then one suffix
const QUANTITY_RE = /^([+-]?)(\d+)?(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const TEN = BigInt(10);
const ZERO = BigInt(0);
const ONE = BigInt(1);

function ceilDiv(num: bigint, den: bigint): bigint {
  const q = num / den;
  // BigInt division truncates toward zero: round up only for positive remainders.
  return num % den !== ZERO && num > ZERO ? q + ONE : q;
}

function parseExact(text: string): ParsedQuantity {
  const m = QUANTITY_RE.exec(text);
  if (!m || (m[2] === undefined && (m[3] === undefined || m[3] === ''))) throw new QuantityError(text);
  const negative = m[1] === '-';
  const whole = m[2] ?? '';
  const fraction = m[3] ?? '';
  const suffix = m[4] ?? '';
  let mantissa = BigInt(`${whole}${fraction}` || '0');
  if (negative) mantissa = -mantissa;
  // value = mantissa * 10^(exp10 - fraction digits) * 2^exp2
  let exp10 = -fraction.length;
  let exp2 = 0;
  if (suffix in BINARY) exp2 = BINARY[suffix];
  else if (suffix in DECIMAL) exp10 += DECIMAL[suffix];
  else if (suffix !== '') {
    const e = Number(suffix.slice(1));
    if (!Number.isSafeInteger(e) || Math.abs(e) > 1000) throw new QuantityError(text);
    exp10 += e;
  }
  const scaled = (extra10: number): bigint => {
    const e = exp10 + extra10;
    let num = mantissa << BigInt(exp2);
    let den = ONE;
    if (e >= 0) num *= TEN ** BigInt(e);
    else den = TEN ** BigInt(-e);
    return ceilDiv(num, den);
  };
  return { value: Number(scaled(0)), milli: Number(scaled(3)) };
}

const memo = new Map<string, ParsedQuantity>();
const MEMO_LIMIT = 4096;
const PLAIN_INT = /^\d{1,15}$/;

/** Parses a quantity string; throws a QuantityError when it is malformed. */
export function parseQuantity(text: string): ParsedQuantity {
  const known = memo.get(text);
  if (known) return known;
  let parsed: ParsedQuantity;
  if (PLAIN_INT.test(text)) {
    const n = Number(text);
    parsed = { value: n, milli: n * 1000 };
  } else {
    parsed = parseExact(text);
  }
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(text, parsed);
  return parsed;
}

type QuantityLike = metav1.Quantity | string | undefined | null;

function textOf(q: QuantityLike): string | undefined {
  if (q === undefined || q === null) return undefined;
  return typeof q === 'string' ? q : q.value;
}

/** Whole units, rounded up (bytes for memory, a count for pods or extended resources). 0 when absent. */
export function quantityValue(q: QuantityLike): number {
  const text = textOf(q);
  return text === undefined || text === '' ? 0 : parseQuantity(text).value;
}

/** Thousandths, rounded up (milli-cpu for cpu). 0 when absent. */
export function quantityMilli(q: QuantityLike): number {
  const text = textOf(q);
  return text === undefined || text === '' ? 0 : parseQuantity(text).milli;
}
