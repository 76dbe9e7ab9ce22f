import {
  ErrorList,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  selectorMisses,
  validateLabelSelector,
  validateObjectMeta,
  validateResourceList,
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
  it("checks resource lists with Kubernetes' quantity errors (parsing is @k8ts/machinery's)", () => {
    const errs = new ErrorList();
    const q = (value: string) => ({ value });
    validateResourceList({ cpu: q('500m'), memory: q('128Mi'), 'example.com/gpu': q('1e3'), bad: q('abc'), odd: q('1i'), low: q('-0.5') }, 'spec.containers[0].resources.requests', errs);
    expect(errs.errors.map((e) => `${e.field}: ${e.message}`)).toEqual([
      'spec.containers[0].resources.requests[bad]: Invalid value: "abc": quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
      'spec.containers[0].resources.requests[odd]: Invalid value: "1i": unable to parse quantity\'s suffix',
      'spec.containers[0].resources.requests[low]: Invalid value: "-500m": must be greater than or equal to 0',
    ]);
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
  it('validates, and finds a template its selector misses', () => {
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'legacy', operator: 'DoesNotExist', values: [] }] };
    const errs = new ErrorList();
    validateLabelSelector(sel, 'spec.selector', errs);
    expect(errs.errors).toEqual([]);
    expect(selectorMisses(sel, { app: 'web', tier: 'a' })).toBe(false);
    expect(selectorMisses(sel, { app: 'web', tier: 'c' })).toBe(true);
    expect(selectorMisses(sel, { app: 'web', tier: 'a', legacy: 'x' })).toBe(true);
    // A selector that does not convert is reported by its own validation, not as a miss.
    expect(selectorMisses({ matchExpressions: [{ key: 'tier', operator: 'Near', values: ['a'] }] }, {})).toBe(false);
    const bad = new ErrorList();
    validateLabelSelector({ matchExpressions: [{ key: 'x', operator: 'In', values: [] }, { key: 'y', operator: 'Near', values: [] }] }, 's', bad);
    expect(bad.errors.map((e) => `${e.field}: ${e.message}`)).toEqual([
      "s.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      's.matchExpressions[1].operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
    ]);
  });
});
