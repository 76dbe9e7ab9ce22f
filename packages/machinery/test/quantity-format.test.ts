// Writing quantities as Kubernetes' String() does (canonical form, or the parsed text when
// Kubernetes keeps it), building them (NewQuantity, NewMilliQuantity, NewScaledQuantity) and
// their arithmetic; expected texts are those of apimachinery's documented examples and tests.
import { Quantity, parseQuantity } from '../src/quantity';

describe('canonical form', () => {
  it.each([
    // Kubernetes' documented examples
    ['1.5', '1500m'],
    ['1.5Gi', '1536Mi'],
    ['0.5', '500m'],
    ['1500m', '1500m'],
    // binary: strip factors of 1024
    ['1024Mi', '1Gi'],
    ['307200Ki', '300Mi'],
    ['1025024Mi', '1001Gi'],
    ['1024Gi', '1Ti'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    ['0.5Ki', '512'],
    // decimal: the largest suffix that keeps the number whole
    ['5000m', '5'],
    ['1000M', '1G'],
    ['0.001T', '1G'],
    ['1000u', '1m'],
    ['1.08', '1080m'],
    ['1080000000n', '1080m'],
    ['1000', '1k'],
    ['1000000000000000000', '1E'],
    ['10000000000000000000000m', '10E'],
    ['999999999999999999.1', '999999999999999999100m'],
    ['1.0000000000000000001E', '1000000000000000000100m'],
    ['9223372036854775808.0', '9223372036854775808'],
    // exponents: the format is kept, the exponent a multiple of 3
    ['.001e12', '1e9'],
    ['0.001e0', '1e-3'],
    ['1000e-12', '1e-9'],
    ['1.2e3', '1200'],
    ['1.5e5', '150e3'],
    ['00', '0'],
  ])('%s is written %s', (text, written) => {
    expect(parseQuantity(text).toString()).toBe(written);
    if (written !== '0') expect(parseQuantity(`-${text}`).toString()).toBe(`-${written}`);
  });

  it.each(['1Gi', '300Mi', '6Ki', '1001Gi', '1Ti', '5', '500m', '1G', '1m', '80m', '1080m', '300M', '1T', '1234567M', '3k', '1025', '1n', '1080u', '1e9', '1e-3', '1e-9', '80e-3', '300e6', '1e3', '3e3'])(
    'the canonical text %s is written back as it is',
    (text) => {
      expect(parseQuantity(text).toString()).toBe(text);
      expect(parseQuantity(text).canonical()).toBe(text);
    },
  );

  it('writes back texts Kubernetes keeps from its fast path, though not canonical', () => {
    // Kubernetes keeps a decimal text whose scale is a multiple of 3 and whose digits neither
    // start with 0 nor end in 000, and a binary one whose number is not a multiple of 8.
    expect(parseQuantity('+1').toString()).toBe('+1');
    expect(parseQuantity('1.500').toString()).toBe('1.500');
    expect(parseQuantity('1.500').canonical()).toBe('1500m');
    expect(parseQuantity('1E3').toString()).toBe('1E3');
    expect(parseQuantity('1E3').canonical()).toBe('1e3');
    expect(parseQuantity('1.5e4').toString()).toBe('1.5e4');
    expect(parseQuantity('1025Ki').toString()).toBe('1025Ki');
    expect(parseQuantity('8Ki').toString()).toBe('8Ki');
    expect(parseQuantity('1024Ki').toString()).toBe('1Mi');
    expect(parseQuantity('0.5').toString()).toBe('500m');
  });

  it('writes BinarySI values below 1024 or with fractions as DecimalSI', () => {
    expect(Quantity.fromValue(5, 'BinarySI').toString()).toBe('5');
    expect(Quantity.fromValue(1023, 'BinarySI').toString()).toBe('1023');
    expect(Quantity.fromValue(1024, 'BinarySI').toString()).toBe('1Ki');
    expect(Quantity.fromValue(-1024, 'BinarySI').toString()).toBe('-1Ki');
    expect(Quantity.fromMilli(1234567, 'BinarySI').toString()).toBe('1234567m');
    expect(Quantity.fromValue(2n ** 63n - 1n, 'BinarySI').toString()).toBe('9223372036854775807');
  });

  it('keeps the largest suffix where Kubernetes has none (past E and Ei)', () => {
    expect(parseQuantity('1000E').toString()).toBe('1000E');
    expect(Quantity.fromValue(2n ** 70n, 'BinarySI').toString()).toBe('1024Ei');
    expect(Quantity.fromValue(10n ** 21n, 'DecimalExponent').toString()).toBe('1e21');
  });
});

describe('building quantities', () => {
  it.each([
    [1, 'DecimalSI', '1m'],
    [1000, 'DecimalSI', '1'],
    [1234000, 'DecimalSI', '1234'],
    [1024, 'BinarySI', '1024m'],
    [1000000, 'DecimalExponent', '1e3'],
    [1024 * 1024, 'BinarySI', '1048576m'],
  ] as const)('fromMilli(%d, %s) is %s', (milli, format, text) => {
    const q = Quantity.fromMilli(milli, format);
    expect(q.toString()).toBe(text);
    expect(parseQuantity(q.toString()).milliValue()).toBe(milli);
  });

  it.each([
    [1, 'DecimalSI', '1'],
    [1000, 'DecimalSI', '1k'],
    [1234000, 'DecimalSI', '1234k'],
    [1024, 'BinarySI', '1Ki'],
    [1000000, 'DecimalExponent', '1e6'],
    [1024 * 1024, 'BinarySI', '1Mi'],
    [16331672 * 1024, 'BinarySI', '16331672Ki'],
  ] as const)('fromValue(%d, %s) is %s', (value, format, text) => {
    const q = Quantity.fromValue(value, format);
    expect(q.toString()).toBe(text);
    expect(parseQuantity(q.toString()).value()).toBe(value);
  });

  it.each([
    [1, -9, '1n'],
    [1000, -9, '1u'],
    [1, -6, '1u'],
    [1000, -6, '1m'],
    [1, -3, '1m'],
    [1000, -3, '1'],
    [1, 0, '1'],
    [0, -9, '0'],
    [5, 6, '5M'],
  ])('fromScaled(%d, %d) is %s', (value, scale, text) => {
    const q = Quantity.fromScaled(value, scale);
    expect(q.toString()).toBe(text);
    expect(q.scaledValue(scale)).toBe(value);
  });

  it('refuses non-integers', () => {
    expect(() => Quantity.fromValue(1.5)).toThrow(RangeError);
    expect(() => Quantity.fromMilli(Number.NaN)).toThrow('a milli-value must be a safe integer, got NaN');
  });
});

describe('values', () => {
  it.each([
    // from scale, to scale, expected (Kubernetes' ScaledValue of 1 * 10^from)
    [-9, -9, 1],
    [-9, -6, 1],
    [-9, 0, 1],
    [-6, -9, 1000],
    [-3, -6, 1000],
    [0, -9, 1_000_000_000],
    [0, -3, 1000],
    [2, -2, 10_000],
  ])('1e%d in units of 1e%d is %d', (from, to, expected) => {
    expect(Quantity.fromScaled(1, from).scaledValue(to)).toBe(expected);
  });

  it('rounds up, away from zero', () => {
    expect(parseQuantity('0.5m').milliValue()).toBe(1);
    expect(parseQuantity('100u').milliValue()).toBe(1);
    expect(parseQuantity('33.333m').milliValue()).toBe(34);
    expect(parseQuantity('1.1Gi').value()).toBe(1_181_116_007);
    expect(parseQuantity('1.5').value()).toBe(2);
    expect(parseQuantity('-1.5').value()).toBe(-2);
    expect(parseQuantity('-9.01').scaledValue(-1)).toBe(-91);
    expect(parseQuantity('128Mi').value()).toBe(134_217_728);
    expect(parseQuantity('1Ei').value()).toBe(2 ** 60);
  });

  it('gives an approximate float for ratios', () => {
    expect(parseQuantity('750m').asApproximateFloat64()).toBe(0.75);
  });
});

describe('arithmetic', () => {
  it('is exact where floating point is not', () => {
    expect(parseQuantity('0.1').add(parseQuantity('0.2')).equals(parseQuantity('0.3'))).toBe(true);
    expect(parseQuantity('100m').mul(3).toString()).toBe('300m');
  });

  it('compares across formats', () => {
    expect(parseQuantity('100m').cmp(parseQuantity('50m'))).toBe(1);
    expect(parseQuantity('50m').cmp(parseQuantity('100m'))).toBe(-1);
    expect(parseQuantity('10000T').cmp(parseQuantity('100Gi'))).toBe(1);
    expect(parseQuantity('1Ki').cmp(parseQuantity('1024'))).toBe(0);
    expect(parseQuantity('1k').max(parseQuantity('1Ki')).toString()).toBe('1Ki');
  });

  it('keeps the left format unless the left side is zero', () => {
    const zero = parseQuantity('0');
    for (const text of ['100m', '1Gi']) {
      expect(parseQuantity(text).add(zero).toString()).toBe(text);
      expect(zero.add(parseQuantity(text)).toString()).toBe(text);
      expect(parseQuantity(text).sub(zero).toString()).toBe(text);
      expect(zero.sub(parseQuantity(text)).toString()).toBe(parseQuantity(text).neg().toString());
    }
    expect(Quantity.fromValue(10).add(Quantity.fromValue(1, 'BinarySI')).format).toBe('DecimalSI');
    expect(Quantity.fromValue(10, 'BinarySI').sub(Quantity.fromValue(1)).format).toBe('BinarySI');
    expect(parseQuantity('9.01').neg().toString()).toBe('-9010m');
  });

  it('writes its JSON form as the string form', () => {
    expect(JSON.stringify({ cpu: parseQuantity('0.5') })).toBe('{"cpu":"500m"}');
  });
});
