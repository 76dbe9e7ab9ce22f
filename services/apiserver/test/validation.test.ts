import {
  ErrorList,
  formatLabelSelector,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  labelSelectorMatches,
  parseQuantity,
  validateLabelSelector,
  validateObjectMeta,
} from '../src/strategies/validation';

describe('names', () => {
  it('checks DNS-1123 labels and subdomains with Kubernetes wording', () => {
    expect(isDNS1123Label('web-1')).toEqual([]);
    expect(isDNS1123Label('Web')[0]).toMatch(/^a lowercase RFC 1123 label must consist of/);
    expect(isDNS1123Label('a'.repeat(64))).toContain('must be no more than 63 characters');
    expect(isDNS1123Subdomain('web.example.com')).toEqual([]);
    expect(isDNS1123Subdomain('-bad')[0]).toMatch(/^a lowercase RFC 1123 subdomain/);
    expect(isDNS1035Label('1abc')[0]).toMatch(/^a DNS-1035 label/);
  });

  it('checks qualified names (label keys) and label values', () => {
    expect(isQualifiedName('app')).toEqual([]);
    expect(isQualifiedName('example.com/app')).toEqual([]);
    expect(isQualifiedName('/app')).toEqual(['prefix part must be non-empty']);
    expect(isQualifiedName('a/b/c')).toHaveLength(1);
    expect(isQualifiedName('bad key')).toHaveLength(1);
    expect(isValidLabelValue('')).toEqual([]);
    expect(isValidLabelValue('-x')).toHaveLength(1);
  });

  it('checks port names (IANA_SVC_NAME)', () => {
    expect(isValidPortName('http')).toEqual([]);
    expect(isValidPortName('123')).toContain('must contain at least one letter (a-z)');
    expect(isValidPortName('a--b')).toContain('must not contain consecutive hyphens');
    expect(isValidPortName('a-very-long-port-name')).toContain('must be no more than 15 characters');
  });
});

describe('quantities', () => {
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('500m')).toBeCloseTo(0.5);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('128Mi')).toBe(128 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('abc')).toBeUndefined();
  });
});

describe('object metadata', () => {
  it('requires a name or generateName and the namespace of namespaced kinds, and reports every problem', () => {
    const errs = new ErrorList();
    validateObjectMeta({ labels: { 'bad key': 'v', ok: '-bad' }, finalizers: ['a', 'a'] }, { namespaced: true, nameCheck: isDNS1123Subdomain }, errs);
    expect(errs.errors.map((e) => e.field)).toEqual([
      'metadata.name',
      'metadata.namespace',
      'metadata.labels',
      'metadata.labels[ok]',
      'metadata.finalizers[1]',
    ]);
    expect(errs.errors[0].message).toBe('Required value: name or generateName is required');
    expect(errs.errors[4].type).toBe('FieldValueDuplicate');
  });

  it('forbids a namespace on cluster-scoped kinds', () => {
    const errs = new ErrorList();
    validateObjectMeta({ name: 'n1', namespace: 'default' }, { namespaced: false, nameCheck: isDNS1123Subdomain }, errs);
    expect(errs.errors).toEqual([{ field: 'metadata.namespace', type: 'FieldValueForbidden', message: 'Forbidden: not allowed on this type' }]);
  });
});

describe('structured label selectors', () => {
  it('validates, matches and formats', () => {
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'legacy', operator: 'DoesNotExist', values: [] }] };
    const errs = new ErrorList();
    validateLabelSelector(sel, 'spec.selector', errs);
    expect(errs.errors).toEqual([]);
    expect(labelSelectorMatches(sel, { app: 'web', tier: 'a' })).toBe(true);
    expect(labelSelectorMatches(sel, { app: 'web', tier: 'c' })).toBe(false);
    expect(labelSelectorMatches(sel, { app: 'web', tier: 'a', legacy: 'x' })).toBe(false);
    expect(labelSelectorMatches(undefined, {})).toBe(false);
    expect(formatLabelSelector(sel)).toBe('app=web,tier in (a,b),!legacy');
    const bad = new ErrorList();
    validateLabelSelector({ matchExpressions: [{ key: 'x', operator: 'In', values: [] }, { key: 'y', operator: 'Near', values: [] }] }, 's', bad);
    expect(bad.errors.map((e) => `${e.field}: ${e.message}`)).toEqual([
      "s.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      's.matchExpressions[1].operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
    ]);
  });
});
