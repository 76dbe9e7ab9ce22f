// Kubernetes' ParseQuantity, exactly, without floating point: the value is computed as an
// integer of nano-units (the finest precision a quantity keeps). Rules, in Kubernetes' order:
//   - "" is ErrFormatWrong; "0" is zero.
//   - the text splits into sign, number and suffix (scan.ts); the suffix must mean something
//     (suffix.ts), else ErrSuffix.
//   - a value finer than a nano-unit is rounded up, away from zero ("0.5n" -> 1n, "-3.001n" -> -4n).
//   - BinarySI is capped at 2^63-1 ("9Ei"); a BinarySI value strictly between 0 and 1 becomes
//     DecimalSI ("0.000000000001Ki" -> 2n).
//   - the texts Kubernetes takes on its int64 fast path and judges already canonical are kept
//     verbatim and written back as typed ("100m", "1Ki", but also "+1" and "1.500"); see keepsText.
// A number without digits is ErrNumeric only off the fast path ("-Pi", "e-10"); on it, it is
// zero ("m", ".", "+"), as in Kubernetes.
import { MAX_QUANTITY_DIGITS, QuantityError } from './errors';
import type { ScannedQuantity } from './scan';
import { scanQuantity } from './scan';
import type { QuantityFormat, SuffixMeaning } from './suffix';
import { interpretSuffix } from './suffix';

/** A parsed quantity: its exact value in nano-units, its format, and its text when kept. */
export interface ParsedQuantity {
  readonly nanos: bigint;
  readonly format: QuantityFormat;
  readonly keptText?: string;
}

const NANO_DIGITS = 9;
const NANOS_PER_UNIT = 10n ** 9n;
const MAX_BINARY_NANOS = (2n ** 63n - 1n) * NANOS_PER_UNIT;
// The digits an int64 always holds (Kubernetes' maxInt64Factors).
const MAX_INT64_DIGITS = 18;

/**
 * Whether Kubernetes parses the text on its int64 fast path: up to 18 digits at a scale no
 * finer than nano for decimal formats; for binary ones, a whole number small enough that the
 * product with 2^exponent stays within int64 by Kubernetes' estimate of its digits.
 */
function onFastPath(s: ScannedQuantity, m: SuffixMeaning): boolean {
  if (m.format === 'BinarySI') {
    if (s.denom.length > 0) return false;
    const binaryDigits = Math.trunc((m.exponent * 3) / 10);
    return 15 - s.num.length - binaryDigits - 1 >= 0;
  }
  const precision = MAX_INT64_DIGITS - (s.num.length + s.denom.length);
  return precision >= 0 && m.exponent - s.denom.length >= -NANO_DIGITS;
}

/**
 * Whether Kubernetes keeps the text of a fast-path quantity as its string form: for binary
 * suffixes when the number is not a multiple of 8; for decimal ones when the scale is a
 * multiple of 3 and the digits neither start with 0 nor end in 000.
 */
function keepsText(s: ScannedQuantity, m: SuffixMeaning): boolean {
  if (m.format === 'BinarySI') return (BigInt(s.num) & 7n) !== 0n;
  const digits = s.num + s.denom;
  const scale = m.exponent - s.denom.length;
  return scale % 3 === 0 && !digits.endsWith('000') && digits[0] !== '0';
}

function digitCount(n: bigint): number {
  return n.toString().length;
}

/** ceil(n / 10^k) for n > 0, without building 10^k when the answer is 1. */
function ceilDivPow10(n: bigint, k: number): bigint {
  if (digitCount(n) <= k) return 1n;
  const divisor = 10n ** BigInt(k);
  const quotient = n / divisor;
  return n % divisor === 0n ? quotient : quotient + 1n;
}

/** The magnitude of the scanned number in nano-units, rounded up; throws OutOfRange past k8ts' limit. */
function magnitudeInNanos(s: ScannedQuantity, m: SuffixMeaning, text: string): bigint {
  const denom = s.denom.replace(/0+$/, '');
  const digits = (s.num + denom).replace(/^0+/, '');
  if (digits === '') return 0n;
  if (digits.length > MAX_QUANTITY_DIGITS) throw new QuantityError('OutOfRange', text);
  const scaled = BigInt(digits) << BigInt(m.base === 2 ? m.exponent : 0);
  const exponent10 = (m.base === 10 ? m.exponent : 0) - denom.length;
  const shift = exponent10 + NANO_DIGITS;
  if (shift < 0) return ceilDivPow10(scaled, -shift);
  if (digitCount(scaled) + exponent10 > MAX_QUANTITY_DIGITS) throw new QuantityError('OutOfRange', text);
  return scaled * 10n ** BigInt(shift);
}

/** Kubernetes' ParseQuantity; throws QuantityError with Kubernetes' reason. */
export function parseQuantityText(text: string): ParsedQuantity {
  if (text === '') throw new QuantityError('FormatWrong', text);
  if (text === '0') return { nanos: 0n, format: 'DecimalSI', keptText: text };
  const scanned = scanQuantity(text);
  const meaning = interpretSuffix(scanned.suffix);
  if (!meaning) throw new QuantityError('Suffix', text);
  const fast = onFastPath(scanned, meaning);
  if (!fast && !/[0-9]/.test(scanned.value)) throw new QuantityError('Numeric', text);

  let magnitude = magnitudeInNanos(scanned, meaning, text);
  let format = meaning.format;
  if (format === 'BinarySI') {
    if (magnitude > MAX_BINARY_NANOS) magnitude = MAX_BINARY_NANOS;
    if (magnitude > 0n && magnitude < NANOS_PER_UNIT) format = 'DecimalSI';
  }
  const nanos = scanned.positive ? magnitude : -magnitude;
  return fast && keepsText(scanned, meaning) ? { nanos, format, keptText: text } : { nanos, format };
}
