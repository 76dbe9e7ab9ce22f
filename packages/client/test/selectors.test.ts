// Label and field selectors: every operator, canonical strings, metav1.LabelSelector
// conversion, and the error messages of bad input.
import {
  SelectorError,
  everything,
  fieldSelectorFromSet,
  fieldValue,
  formatLabelSelector,
  labelSelectorAsSelector,
  nothing,
  parseFieldSelector,
  parseLabelSelector,
  selectorFromRequirements,
  selectorFromSet,
  toLabelSelector,
} from '../src';

const web = { app: 'web', tier: 'frontend', env: 'prod', replicas: '3' };

describe('label selectors', () => {
  test('the empty selector matches everything', () => {
    for (const s of ['', '   ']) {
      const sel = parseLabelSelector(s);
      expect(sel.isEverything()).toBe(true);
      expect(sel.matches(web)).toBe(true);
      expect(sel.matches(undefined)).toBe(true);
      expect(sel.toString()).toBe('');
    }
  });

  test.each([
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true], // != also matches objects without the label
    ['app in (web,db)', true],
    ['app in (db)', false],
    ['app notin (db,cache)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['replicas>2', true],
    ['replicas>3', false],
    ['replicas<4', true],
    ['app>1', false], // not an integer: never matches
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
    ['  app = web , env in ( prod , staging ) , !legacy  ', true],
  ])('%s matches %p', (selector, expected) => {
    expect(parseLabelSelector(selector).matches(web)).toBe(expected);
  });

  test('an empty value is allowed and compares with the empty string', () => {
    expect(parseLabelSelector('a=').matches({ a: '' })).toBe(true);
    expect(parseLabelSelector('a=,b=x').matches({ a: '', b: 'x' })).toBe(true);
    expect(parseLabelSelector('a in (x,)').matches({ a: '' })).toBe(true);
  });

  test('requirements print in canonical form, sorted by key, and parse back', () => {
    const sel = parseLabelSelector('z notin (b,a,b), a==x, !gone, m in (q,p), has, n!=v, c>5, d<-2');
    expect(sel.toString()).toBe('a=x,c>5,d<-2,!gone,has,m in (p,q),n!=v,z notin (a,b)');
    expect(parseLabelSelector(sel.toString()).toString()).toBe(sel.toString());
    expect(sel.requirements.map((r) => r.operator)).toEqual([
      'Equals',
      'Gt',
      'Lt',
      'DoesNotExist',
      'Exists',
      'In',
      'NotEquals',
      'NotIn',
    ]);
  });

  test('keys may carry a DNS prefix', () => {
    const sel = parseLabelSelector('app.kubernetes.io/name=web,!k8ts.io/legacy');
    expect(sel.matches({ 'app.kubernetes.io/name': 'web' })).toBe(true);
    expect(sel.matches({ 'app.kubernetes.io/name': 'web', 'k8ts.io/legacy': '' })).toBe(false);
  });

  test.each([
    ['app in (web', "expected ',' or ')' but found the end at position 11"],
    ['app in web', "expected '(' after in/notin but found \"web\" at position 7"],
    ['app in ()', 'the operator in of "app" needs at least one value'],
    ['app notin ()', 'the operator notin of "app" needs at least one value'],
    ['app=web tier', 'expected \',\' or the end but found "tier" at position 8'],
    ['=web', 'expected a label key but found "=" at position 0'],
    ['!', 'expected a label key after "!" but found the end at position 1'],
    ['app=(x)', 'expected a value but found "(" at position 4'],
    ['app foo', 'expected an operator (=, ==, !=, in, notin, >, <) or \',\' after "app" but found "foo" at position 4'],
    ['a,,b', 'expected a label key but found "," at position 2'],
    ['app>x', 'the operator > of "app" needs one integer value'],
    ['-bad=x', 'invalid label key "-bad"'],
    ['UPPER.example/x=1', 'invalid label key "UPPER.example/x": the prefix must be a DNS subdomain'],
    ['app=bad_', 'invalid label value "bad_"'],
    [`app=${'x'.repeat(64)}`, 'invalid label value'],
  ])('%j is rejected: %s', (selector, message) => {
    let err: unknown;
    try {
      parseLabelSelector(selector);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SelectorError);
    expect((err as SelectorError).name).toBe('SelectorError');
    expect((err as SelectorError).message).toContain(message);
    expect((err as SelectorError).message).toContain(`invalid label selector "${selector}"`);
    expect((err as SelectorError).selector).toBe(selector);
    expect(typeof (err as SelectorError).position).toBe('number');
  });

  test('selectorFromSet requires every label', () => {
    const sel = selectorFromSet({ app: 'web', tier: 'frontend' });
    expect(sel.toString()).toBe('app=web,tier=frontend');
    expect(sel.matches(web)).toBe(true);
    expect(sel.matches({ app: 'web' })).toBe(false);
    expect(selectorFromSet({}).isEverything()).toBe(true);
    expect(() => selectorFromSet({ 'bad key': 'x' })).toThrow(SelectorError);
  });

  test('selectorFromRequirements validates', () => {
    expect(selectorFromRequirements([{ key: 'a', operator: 'In', values: ['x', 'y'] }]).toString()).toBe('a in (x,y)');
    expect(() => selectorFromRequirements([{ key: 'a', operator: 'Exists', values: ['x'] }])).toThrow(
      'values must be empty for the operator Exists',
    );
  });

  test('everything, nothing and toLabelSelector', () => {
    expect(everything().matches({})).toBe(true);
    expect(nothing().matches(web)).toBe(false);
    expect(nothing().isNothing()).toBe(true);
    expect(toLabelSelector(undefined).isEverything()).toBe(true);
    expect(toLabelSelector('app=web').matches(web)).toBe(true);
    const parsed = parseLabelSelector('a');
    expect(toLabelSelector(parsed)).toBe(parsed);
  });
});

describe('metav1.LabelSelector', () => {
  test('matchLabels and matchExpressions are ANDed', () => {
    const sel = labelSelectorAsSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'staging'] },
        { key: 'tier', operator: 'NotIn', values: ['db'] },
        { key: 'replicas', operator: 'Exists', values: [] },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    expect(sel.matches(web)).toBe(true);
    expect(sel.matches({ ...web, legacy: 'yes' })).toBe(false);
    expect(sel.matches({ ...web, env: 'dev' })).toBe(false);
    expect(sel.toString()).toBe('app=web,env in (prod,staging),!legacy,replicas,tier notin (db)');
    expect(parseLabelSelector(sel.toString()).matches(web)).toBe(true);
  });

  test('a missing selector matches nothing; an empty one everything', () => {
    expect(labelSelectorAsSelector(undefined).matches(web)).toBe(false);
    expect(labelSelectorAsSelector(null).matches({})).toBe(false);
    expect(labelSelectorAsSelector({}).matches(web)).toBe(true);
    expect(labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] }).isEverything()).toBe(true);
  });

  test('formatLabelSelector gives the string form; a missing selector gives <none>, which does not parse', () => {
    expect(formatLabelSelector({ matchLabels: { b: '2', a: '1' } })).toBe('a=1,b=2');
    expect(formatLabelSelector(undefined)).toBe('<none>');
    expect(() => parseLabelSelector('<none>')).toThrow(SelectorError);
  });

  test.each([
    [{ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }, 'matchExpressions[0].operator: "Equals" is not one of'],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, 'matchExpressions[0]: the operator in of "a" needs at least one value'],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'matchExpressions[0]: values must be empty'],
    [{ matchExpressions: [{ key: '', operator: 'Exists' }] }, 'a label key must not be empty'],
    [{ matchLabels: { app: 'has space' } }, 'matchLabels: invalid label value "has space"'],
  ])('invalid %j', (selector, message) => {
    expect(() => labelSelectorAsSelector(selector)).toThrow(message);
  });
});

describe('field selectors', () => {
  const pod = {
    metadata: { name: 'web-1', namespace: 'default' },
    spec: { nodeName: 'node-1', priority: 0, hostNetwork: false },
    status: { phase: 'Running' },
  };

  test('match an object by path; a missing field reads as empty', () => {
    expect(parseFieldSelector('metadata.name=web-1').matches(pod)).toBe(true);
    expect(parseFieldSelector('metadata.name==web-1,spec.nodeName!=node-2').matches(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName!=node-1').matches(pod)).toBe(false);
    expect(parseFieldSelector('status.phase=Running,metadata.namespace=default').matches(pod)).toBe(true);
    expect(parseFieldSelector('spec.schedulerName=').matches(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName=').matches({ spec: {} })).toBe(true);
    expect(parseFieldSelector('spec.priority=0,spec.hostNetwork=false').matches(pod)).toBe(true);
    expect(parseFieldSelector('').isEverything()).toBe(true);
    expect(parseFieldSelector('').matches(pod)).toBe(true);
  });

  test('fieldValue walks paths', () => {
    expect(fieldValue(pod, 'spec.nodeName')).toBe('node-1');
    expect(fieldValue(pod, 'spec.priority')).toBe('0');
    expect(fieldValue(pod, 'spec.missing.deeper')).toBe('');
    expect(fieldValue(pod, 'spec')).toBe('');
  });

  test('matchesFields and requiresExactMatch serve precomputed field sets', () => {
    const sel = parseFieldSelector('spec.nodeName=node-1,status.phase!=Failed');
    expect(sel.matchesFields({ 'spec.nodeName': 'node-1', 'status.phase': 'Running' })).toBe(true);
    expect(sel.matchesFields({ 'spec.nodeName': 'node-1', 'status.phase': 'Failed' })).toBe(false);
    expect(sel.requiresExactMatch('spec.nodeName')).toBe('node-1');
    expect(sel.requiresExactMatch('status.phase')).toBeUndefined();
  });

  test('escaped values round-trip', () => {
    const sel = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d');
    expect(sel.requirements[0].value).toBe('a,b=c\\d');
    expect(sel.toString()).toBe('metadata.name=a\\,b\\=c\\\\d');
    expect(parseFieldSelector(sel.toString()).requirements).toEqual(sel.requirements);
    expect(fieldSelectorFromSet({ 'spec.nodeName': 'n,1' }).toString()).toBe('spec.nodeName=n\\,1');
  });

  test.each([
    ['metadata.name', 'has no operator'],
    ['=x', '"" is not a field path'],
    ['spec..nodeName=x', 'is not a field path'],
    ['a=b=c', "an '=' in a value must be escaped"],
    ['a=b\\x', "'\\' may only escape"],
    ['a=b,,c=d', 'has no operator'],
  ])('%j is rejected: %s', (selector, message) => {
    expect(() => parseFieldSelector(selector)).toThrow(SelectorError);
    expect(() => parseFieldSelector(selector)).toThrow(message);
    expect(() => parseFieldSelector(selector)).toThrow(`invalid field selector "${selector}"`);
  });
});
