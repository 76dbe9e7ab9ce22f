// Label keys and values (IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain) with
// Kubernetes' messages, and the int64 reading of gt/lt bounds.
import { isDNS1123Subdomain, isQualifiedName, isValidLabelValue, parseInt64 } from '@k8ts/machinery';

const NAME_FORMAT =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

describe('label keys', () => {
  test.each(['app', 'a', 'app.kubernetes.io/name', 'k8ts.io/legacy', 'A_b-c.d', `${'x'.repeat(253)}/${'y'.repeat(63)}`])('%s is valid', (key) => {
    expect(isQualifiedName(key)).toEqual([]);
  });

  test('every problem of a key, in Kubernetes words', () => {
    expect(isQualifiedName('/app')).toEqual(['prefix part must be non-empty']);
    expect(isQualifiedName('')).toEqual(['name part must be non-empty', NAME_FORMAT]);
    expect(isQualifiedName('bad key')).toEqual([NAME_FORMAT]);
    expect(isQualifiedName('x'.repeat(64))).toEqual(['name part must be no more than 63 characters']);
    expect(isQualifiedName('Example.com/app')[0]).toMatch(/^prefix part a lowercase RFC 1123 subdomain must consist of/);
    expect(isQualifiedName('a/b/c')).toEqual([
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]);
  });
});

describe('label values and DNS subdomains', () => {
  test('values: empty or a name of at most 63 characters', () => {
    expect(isValidLabelValue('')).toEqual([]);
    expect(isValidLabelValue('v1.2_x-y')).toEqual([]);
    expect(isValidLabelValue('-x')).toHaveLength(1);
    expect(isValidLabelValue(`-${'x'.repeat(63)}`)).toEqual([
      'must be no more than 63 characters',
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ]);
  });

  test('DNS subdomains', () => {
    expect(isDNS1123Subdomain('web.example.com')).toEqual([]);
    expect(isDNS1123Subdomain('-bad')).toEqual([
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
    expect(isDNS1123Subdomain('a'.repeat(254))).toEqual(['must be no more than 253 characters']);
  });
});

test('parseInt64 reads decimal int64s as strconv.ParseInt does', () => {
  expect(parseInt64('42')).toBe(42n);
  expect(parseInt64('-7')).toBe(-7n);
  expect(parseInt64('+7')).toBe(7n);
  expect(parseInt64('9223372036854775807')).toBe(9223372036854775807n);
  expect(parseInt64('9223372036854775808')).toBeUndefined();
  expect(parseInt64('-9223372036854775808')).toBe(-9223372036854775808n);
  for (const bad of ['', '1.5', '0x10', '1e3', ' 1', '1_000']) expect(parseInt64(bad)).toBeUndefined();
});
