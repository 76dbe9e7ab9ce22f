// The canonical text of a quantity, as Kubernetes' CanonicalizeBytes writes it: no fraction
// digits, no lost precision, and the largest suffix that keeps the number whole.
//   DecimalSI / DecimalExponent: strip factors of ten, lower the exponent to a multiple of 3
//     ("1.5" -> 1500m, "0.5" -> 500m, "1000M" -> 1G, 1e3 stays 1e3, 0.001e12 -> 1e9).
//   BinarySI: strip factors of 1024 ("1024Mi" -> 1Gi, 1.5Gi -> 1536Mi); a value strictly
//     between -1024 and 1024, or one that is not a whole number, is written as DecimalSI
//     (5 -> "5", 0.5Ki -> "512", 1.5 -> "1500m").
// Where Kubernetes has no suffix (DecimalSI past 10^18, BinarySI past 1024^6) it writes the
// bare number and so misstates the value; k8ts keeps the largest suffix instead (1000E, 1024Ei).
import type { QuantityFormat } from './suffix';
import { BINARY_SUFFIXES, MAX_DECIMAL_SI_EXPONENT, decimalSuffix, exponentSuffix } from './suffix';

const NANO_EXPONENT = -9;
const NANOS_PER_UNIT = 10n ** 9n;
const BINARY_STEP = 1024n;
const LARGEST_BINARY_POWER = BINARY_SUFFIXES.length - 1;

/** A number as mantissa * 10^exponent. */
interface Decimal {
  mantissa: bigint;
  exponent: number;
}

/** nanos as mantissa * 10^exponent, with no factor of ten left in the mantissa. */
function reduced(nanos: bigint): Decimal {
  let mantissa = nanos;
  let exponent = NANO_EXPONENT;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  return { mantissa, exponent };
}

/** The same number with its exponent lowered to the multiple of 3 at or below it. */
function toEngineering({ mantissa, exponent }: Decimal): Decimal {
  const excess = ((exponent % 3) + 3) % 3;
  return { mantissa: mantissa * 10n ** BigInt(excess), exponent: exponent - excess };
}

function decimalText(nanos: bigint, format: 'DecimalSI' | 'DecimalExponent'): string {
  const { mantissa, exponent } = toEngineering(reduced(nanos));
  if (format === 'DecimalExponent') return `${mantissa}${exponentSuffix(exponent)}`;
  if (exponent > MAX_DECIMAL_SI_EXPONENT) {
    const widened = mantissa * 10n ** BigInt(exponent - MAX_DECIMAL_SI_EXPONENT);
    return `${widened}${decimalSuffix(MAX_DECIMAL_SI_EXPONENT)}`;
  }
  return `${mantissa}${decimalSuffix(exponent)}`;
}

function binaryText(units: bigint): string {
  let mantissa = units;
  let power = 0;
  while (power < LARGEST_BINARY_POWER && mantissa % BINARY_STEP === 0n) {
    mantissa /= BINARY_STEP;
    power++;
  }
  return `${mantissa}${BINARY_SUFFIXES[power]}`;
}

/** BinarySI is written as such only for whole numbers of magnitude 1024 or more. */
function writtenAsBinary(nanos: bigint): boolean {
  const magnitude = nanos < 0n ? -nanos : nanos;
  return magnitude >= BINARY_STEP * NANOS_PER_UNIT && nanos % NANOS_PER_UNIT === 0n;
}

/** Kubernetes' canonical text of a value given in nano-units, in the given format. */
export function canonicalText(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0';
  if (format === 'BinarySI') {
    return writtenAsBinary(nanos) ? binaryText(nanos / NANOS_PER_UNIT) : decimalText(nanos, 'DecimalSI');
  }
  return decimalText(nanos, format);
}
