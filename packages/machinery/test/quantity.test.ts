// Parsing quantities as Kubernetes' ParseQuantity does: the values, formats and errors below are
// those of apimachinery's resource package (its parse tables and documented grammar).
import { QUANTITY_SPLIT_PATTERN, Quantity, QuantityError, parseQuantity, quantityOf } from '../src/quantity';

const NANO = 1_000_000_000n;

/** The exact value of a parsed quantity as mantissa * 10^exponent, in nano-units. */
function nanos(mantissa: bigint, exponent: number): bigint {
  const shift = exponent + 9;
  return shift >= 0 ? mantissa * 10n ** BigInt(shift) : mantissa / 10n ** BigInt(-shift);
}

describe('parseQuantity: values and formats', () => {
  it.each([
    ['0', 0n, 0, 'DecimalSI'],
    ['0n', 0n, 0, 'DecimalSI'],
    ['0m', 0n, 0, 'DecimalSI'],
    ['0Ki', 0n, 0, 'BinarySI'],
    ['0Ti', 0n, 0, 'BinarySI'],
    ['1', 1n, 0, 'DecimalSI'],
    ['1Ki', 1024n, 0, 'BinarySI'],
    ['7Mi', 7n * 1024n ** 2n, 0, 'BinarySI'],
    ['6Gi', 6n * 1024n ** 3n, 0, 'BinarySI'],
    ['4Pi', 4n * 1024n ** 5n, 0, 'BinarySI'],
    ['3Ei', 3n * 1024n ** 6n, 0, 'BinarySI'],
    ['5n', 5n, -9, 'DecimalSI'],
    ['4u', 4n, -6, 'DecimalSI'],
    ['3m', 3n, -3, 'DecimalSI'],
    ['50k', 5n, 4, 'DecimalSI'],
    ['300T', 3n, 14, 'DecimalSI'],
    ['1E', 1n, 18, 'DecimalSI'],
    ['12E', 12n, 18, 'DecimalSI'],
    ['1E-3', 1n, -3, 'DecimalExponent'],
    ['1e3', 1n, 3, 'DecimalExponent'],
    ['1.3E+6', 13n, 5, 'DecimalExponent'],
    ['100.035k', 100035n, 0, 'DecimalSI'],
    ['0.0005k', 5n, -1, 'DecimalSI'],
    ['0.5e-2', 5n, -3, 'DecimalExponent'],
    ['6.987654321G', 6987654321n, 0, 'DecimalSI'],
    ['1.01E', 101n, 16, 'DecimalSI'],
    ['100.035Ki', 10243584n, -2, 'BinarySI'],
    ['0.5Mi', 524288n, 0, 'BinarySI'],
    ['0.025Ti', 274877906944n, -1, 'BinarySI'],
    ['.001', 1n, -3, 'DecimalSI'],
    ['.0001k', 100n, -3, 'DecimalSI'],
    ['1.', 1n, 0, 'DecimalSI'],
    ['1.G', 1n, 9, 'DecimalSI'],
  ])('%s', (text, mantissa, exponent, format) => {
    const q = parseQuantity(text);
    expect(q.nanos).toBe(nanos(mantissa, exponent));
    expect(q.format).toBe(format);
    // The same with a sign: "-" negates, "+" changes nothing; the format stays.
    expect(parseQuantity(`-${text}`).nanos).toBe(-q.nanos);
    expect(parseQuantity(`-${text}`).format).toBe(format);
    expect(parseQuantity(`+${text}`).nanos).toBe(q.nanos);
  });

  it('rounds values finer than a nano-unit up, away from zero', () => {
    expect(parseQuantity('3.001n').nanos).toBe(4n);
    expect(parseQuantity('-3.001n').nanos).toBe(-4n);
    expect(parseQuantity('1.1E-9').nanos).toBe(2n);
    expect(parseQuantity('0.0000000001').nanos).toBe(1n);
    expect(parseQuantity('0.00000000050').nanos).toBe(1n);
    expect(parseQuantity('0.9n').nanos).toBe(1n);
    expect(parseQuantity('0.00000012345').nanos).toBe(124n);
    expect(parseQuantity('1e-400').nanos).toBe(1n);
  });

  it('turns a BinarySI value between 0 and 1 into DecimalSI, and caps BinarySI at 2^63-1', () => {
    const tiny = parseQuantity('0.000000000001Ki');
    expect([tiny.nanos, tiny.format]).toEqual([2n, 'DecimalSI']);
    const max = (2n ** 63n - 1n) * NANO;
    expect(parseQuantity('9Ei').nanos).toBe(max);
    expect(parseQuantity('9223372036854775807Ki').nanos).toBe(max);
    expect(parseQuantity('-9Ei').nanos).toBe(-max);
    // DecimalSI is not capped.
    expect(parseQuantity('12E').nanos).toBe(12n * 10n ** 18n * NANO);
  });

  it('keeps digits beyond int64 exact', () => {
    expect(parseQuantity('9223372036854775808').nanos).toBe(9223372036854775808n * NANO);
    expect(parseQuantity('-9999999999999999999.1').nanos).toBe(-99999999999999999991n * 100_000_000n);
  });

  it('reads the lenient forms Kubernetes reads: leading zeros, a bare point, sign or suffix', () => {
    expect(parseQuantity('007').nanos).toBe(7n * NANO);
    for (const zero of ['.', '-.', '+', '-', '-0', 'm', 'Ki', '00']) expect(parseQuantity(zero).isZero()).toBe(true);
  });

  it('memoizes: the same text gives the same (immutable) quantity', () => {
    expect(parseQuantity('250m')).toBe(parseQuantity('250m'));
    expect(Quantity.parse('250m').equals(Quantity.fromMilli(250))).toBe(true);
  });
});

/** The QuantityError `fn` throws, or undefined when it throws none. */
function errorOf(fn: () => unknown): QuantityError | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof QuantityError) return err;
    throw err;
  }
  return undefined;
}

describe('parseQuantity: errors', () => {
  const FORMAT = `quantities must match the regular expression '${QUANTITY_SPLIT_PATTERN}'`;

  it('names the regular expression for text that is not number-then-suffix', () => {
    expect(QUANTITY_SPLIT_PATTERN).toBe('^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$');
    for (const text of ['', '1.1.M', '1+1.0M', '0.1am', 'aoeu', ' 1', '1 ', '5 m', '1Kb', '1Kib', '12 apples']) {
      const err = errorOf(() => parseQuantity(text));
      expect(err).toBeInstanceOf(QuantityError);
      expect([err?.reason, err?.message, err?.text]).toEqual(['FormatWrong', FORMAT, text]);
    }
  });

  it.each(['0.1mi', '.5i', '1i', '-3.01i', '-3.01e-', '1e', '--1', '1e99999999999999999999'])('%j has no valid suffix', (text) => {
    expect(() => parseQuantity(text)).toThrow(new QuantityError('Suffix', text));
    expect(() => parseQuantity(text)).toThrow("unable to parse quantity's suffix");
  });

  it.each(['-Pi', 'Ei', 'e-10', '+.e-12'])('%j has no digits where Kubernetes needs them', (text) => {
    expect(() => parseQuantity(text)).toThrow('unable to parse numeric part of quantity');
  });

  it('refuses magnitudes k8ts does not represent', () => {
    expect(errorOf(() => parseQuantity('1e2000'))?.reason).toBe('OutOfRange');
    expect(errorOf(() => parseQuantity('1'.repeat(1001)))?.reason).toBe('OutOfRange');
    expect(parseQuantity(`${'1'.repeat(30)}e900`).sign()).toBe(1);
  });
});

describe('quantityOf', () => {
  it('reads messages and strings; an unset message is zero, an absent one undefined', () => {
    expect(quantityOf({ value: '250m' })?.milliValue()).toBe(250);
    expect(quantityOf('1Gi')?.value()).toBe(2 ** 30);
    expect(quantityOf({})?.isZero()).toBe(true);
    expect(quantityOf({ value: '' })?.isZero()).toBe(true);
    expect(quantityOf(undefined)).toBeUndefined();
    expect(() => quantityOf('')).toThrow(QuantityError);
  });

  it('names the field path of a malformed quantity', () => {
    expect(() => quantityOf({ value: '1 cpu' }, 'spec.containers[0].resources.requests[cpu]')).toThrow(
      "spec.containers[0].resources.requests[cpu]: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  });
});
