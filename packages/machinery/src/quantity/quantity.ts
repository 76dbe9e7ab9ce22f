// Quantity: Kubernetes' resource.Quantity, immutable and exact. The value is an integer of
// nano-units (a bigint), so sums and comparisons never round; conversions to whole units
// (value) or thousandths (milliValue) round up, away from zero, as Kubernetes' Value() and
// MilliValue() do. Arithmetic keeps the format of the left operand, unless it is zero, when
// the result takes the right operand's format (Kubernetes' Add and Sub).
import { canonicalText } from './format';
import { parseQuantityText } from './parse';
import type { QuantityFormat } from './suffix';

const NANO_DIGITS = 9;
const MEMO_LIMIT = 4096;

/** value / 10^digits, rounded away from zero (digits > 0). */
function divideAwayFromZero(value: bigint, digits: number): bigint {
  const divisor = 10n ** BigInt(digits);
  const quotient = value / divisor;
  if (value % divisor === 0n) return quotient;
  return value > 0n ? quotient + 1n : quotient - 1n;
}

/** value * 10^exponent in nano-units, rounded away from zero below a nano-unit. */
function scaledToNanos(value: bigint, exponent: number): bigint {
  const shift = exponent + NANO_DIGITS;
  return shift >= 0 ? value * 10n ** BigInt(shift) : divideAwayFromZero(value, -shift);
}

function integer(value: number | bigint, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be a safe integer, got ${value}`);
  return BigInt(value);
}

const parsed = new Map<string, Quantity>();

export class Quantity {
  /** Zero, DecimalSI (written "0"). */
  static readonly ZERO = new Quantity(0n, 'DecimalSI');

  private constructor(
    /** The exact value in nano-units (10^-9). */
    readonly nanos: bigint,
    /** How it is written: DecimalSI (500m, 1G), BinarySI (128Mi) or DecimalExponent (1e3). */
    readonly format: QuantityFormat,
    /** The text it was parsed from, when Kubernetes would write that text back unchanged. */
    private readonly keptText?: string,
  ) {}

  /** Kubernetes' ParseQuantity ("500m", "1.5Gi", "1e3"); throws QuantityError. */
  static parse(text: string): Quantity {
    const known = parsed.get(text);
    if (known) return known;
    const p = parseQuantityText(text);
    const q = new Quantity(p.nanos, p.format, p.keptText);
    if (parsed.size >= MEMO_LIMIT) parsed.clear();
    parsed.set(text, q);
    return q;
  }

  /** A whole number of units (Kubernetes' NewQuantity): fromValue(1024, 'BinarySI') is 1Ki. */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(scaledToNanos(integer(value, 'a quantity value'), 0), format);
  }

  /** A number of thousandths (Kubernetes' NewMilliQuantity): fromMilli(1500) is 1500m. */
  static fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(scaledToNanos(integer(milli, 'a milli-value'), -3), format);
  }

  /**
   * value * 10^scale, DecimalSI (Kubernetes' NewScaledQuantity): fromScaled(5, 6) is 5M. Below
   * a nano-unit the value is rounded up, away from zero (k8ts keeps nothing finer than 1n).
   */
  static fromScaled(value: number | bigint, scale: number): Quantity {
    return new Quantity(scaledToNanos(integer(value, 'a scaled value'), scale), 'DecimalSI');
  }

  /** -1, 0 or 1. */
  sign(): -1 | 0 | 1 {
    return this.nanos === 0n ? 0 : this.nanos > 0n ? 1 : -1;
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other` (formats do not matter). */
  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos === other.nanos ? 0 : this.nanos < other.nanos ? -1 : 1;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  /** this + other; the format is this one's, or other's when this is zero. */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.isZero() ? other.format : this.format);
  }

  /** this - other; the format is this one's, or other's when this is zero. */
  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.isZero() ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.nanos, this.format);
  }

  /** this * factor (an integer), in this format. */
  mul(factor: number | bigint): Quantity {
    return new Quantity(this.nanos * integer(factor, 'a factor'), this.format);
  }

  /** The larger of this and other (this when equal). */
  max(other: Quantity): Quantity {
    return other.nanos > this.nanos ? other : this;
  }

  /** ceil(this / 10^scale) away from zero, as a bigint (Kubernetes' ScaledValue, without int64 overflow). */
  scaledValueBig(scale: number): bigint {
    const shift = scale + NANO_DIGITS;
    return shift <= 0 ? this.nanos * 10n ** BigInt(-shift) : divideAwayFromZero(this.nanos, shift);
  }

  /** ceil(this / 10^scale) away from zero; exact up to 2^53. */
  scaledValue(scale: number): number {
    return Number(this.scaledValueBig(scale));
  }

  /** Whole units, rounded up away from zero (Kubernetes' Value()): bytes of memory, a count of pods. */
  value(): number {
    return this.scaledValue(0);
  }

  /** Thousandths, rounded up away from zero (Kubernetes' MilliValue()): milli-cpu. */
  milliValue(): number {
    return this.scaledValue(-3);
  }

  /** The value as a float (Kubernetes' AsApproximateFloat64): for ratios, never for accounting. */
  asApproximateFloat64(): number {
    return Number(this.nanos) / 1e9;
  }

  /** Kubernetes' String(): the text it was parsed from when that was kept, else the canonical form. */
  toString(): string {
    return this.keptText ?? canonicalText(this.nanos, this.format);
  }

  /** The canonical form (Kubernetes' CanonicalizeBytes), even when the parsed text was kept. */
  canonical(): string {
    return canonicalText(this.nanos, this.format);
  }

  /** JSON form: the string form (Kubernetes' MarshalJSON). */
  toJSON(): string {
    return this.toString();
  }
}

/** Kubernetes' ParseQuantity; throws QuantityError. */
export function parseQuantity(text: string): Quantity {
  return Quantity.parse(text);
}
