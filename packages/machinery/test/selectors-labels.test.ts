// Label selectors in their string form (labels.Parse): every operator, matching, the canonical
// text, Kubernetes' error messages, and selectors made from sets and requirements. Cases
// follow Kubernetes' own tests of pkg/labels where they exist.
import {
  NO_LABELS,
  everything,
  formatLabels,
  newRequirement,
  nothing,
  parseLabelSelector,
  parseToRequirements,
  selectorFromRequirements,
  selectorFromSet,
  toLabelSelector,
  validatedSelectorFromSet,
} from '@k8ts/machinery';
import { selectorErrorOf } from './selectors-helpers';

const web = { app: 'web', tier: 'frontend', env: 'prod', replicas: '3' };

/** The message of the SelectorError a call throws. */
function errorOf(call: () => unknown): string {
  return selectorErrorOf(call).message;
}

const KEY_NAME_FORMAT =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_FORMAT =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('parsing and matching', () => {
  test.each(['', '   ', '\t\r\n'])('%j selects everything', (text) => {
    const sel = parseLabelSelector(text);
    expect(sel.isEverything()).toBe(true);
    expect(sel.isNothing()).toBe(false);
    expect(sel.matches(web)).toBe(true);
    expect(sel.matches(undefined)).toBe(true);
    expect(sel.toString()).toBe('');
  });

  test.each([
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true], // != also holds when the label is absent
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
    ['app>1', false], // a value that is not an integer never compares
    ['missing<5', false],
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
    ['  app = web , env in ( prod , staging ) , !legacy  ', true],
    ['\rapp', true],
  ])('%j matches web: %p', (selector, expected) => {
    expect(parseLabelSelector(selector).matches(web)).toBe(expected);
  });

  test('empty values: "a=", "a in (x,)" and "a in ()" (the one value "")', () => {
    expect(parseLabelSelector('a=').matches({ a: '' })).toBe(true);
    expect(parseLabelSelector('a=,b=x').matches({ a: '', b: 'x' })).toBe(true);
    expect(parseLabelSelector('a in (x,)').matches({ a: '' })).toBe(true);
    expect(parseLabelSelector('a in ()').requirements).toEqual([{ key: 'a', operator: 'in', values: [''] }]);
    expect(parseLabelSelector('a notin ( )').requirements).toEqual([{ key: 'a', operator: 'notin', values: [''] }]);
    expect(parseLabelSelector('a in (x,,)').requirements[0].values).toEqual(['', 'x']);
    expect(parseLabelSelector('a in (x,,x,,)').requirements[0].values).toEqual(['', 'x']);
    expect(parseLabelSelector('a notin (, b)').requirements[0].values).toEqual(['', 'b']);
  });

  test('in and notin are operators only after a key', () => {
    expect(parseLabelSelector('a in (x,y,notin, z,in)').requirements[0].values).toEqual(['in', 'notin', 'x', 'y', 'z']);
    expect(parseLabelSelector('in in (in)').requirements).toEqual([{ key: 'in', operator: 'in', values: ['in'] }]);
    expect(parseLabelSelector('notin=in').requirements).toEqual([{ key: 'notin', operator: '=', values: ['in'] }]);
  });

  test('gt and lt compare 64-bit integers exactly', () => {
    const big = parseLabelSelector('n>9007199254740992');
    expect(big.matches({ n: '9007199254740993' })).toBe(true);
    expect(big.matches({ n: '9007199254740992' })).toBe(false);
    expect(parseLabelSelector('n<0').matches({ n: '9223372036854775808' })).toBe(false); // beyond int64: not a number
  });

  test('requirements are sorted by key, set values sorted and deduplicated, operators kept', () => {
    const sel = parseLabelSelector('z notin (b,a,b), a==x, !gone, m in (q,p), has, n!=v, c>5, d<2, e=y');
    expect(sel.toString()).toBe('a==x,c>5,d<2,e=y,!gone,has,m in (p,q),n!=v,z notin (a,b)');
    expect(sel.requirements.map((r) => r.operator)).toEqual(['==', 'gt', 'lt', '=', '!', 'exists', 'in', '!=', 'notin']);
    expect(parseLabelSelector(sel.toString()).toString()).toBe(sel.toString());
    expect(parseToRequirements('x,y in (a)').map((r) => r.key)).toEqual(['x', 'y']);
  });

  test('Kubernetes round trips: the text without blanks', () => {
    for (const text of ['x=a,y=b,z=c', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5']) {
      expect(parseLabelSelector(text).toString()).toBe(text.replaceAll(' ', ''));
    }
  });

  test('keys may carry a DNS subdomain prefix', () => {
    const sel = parseLabelSelector('app.kubernetes.io/name=web,!k8ts.io/legacy');
    expect(sel.matches({ 'app.kubernetes.io/name': 'web' })).toBe(true);
    expect(sel.matches({ 'app.kubernetes.io/name': 'web', 'k8ts.io/legacy': '' })).toBe(false);
    expect(parseLabelSelector('0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)').requirements[0].values).toEqual(['10.10.100.1', 'tick.tack.clock']);
  });

  test('a label is present only as an own property', () => {
    expect(parseLabelSelector('constructor').matches({})).toBe(false);
    expect(parseLabelSelector('!toString').matches(NO_LABELS)).toBe(true);
    expect(parseLabelSelector('constructor=x').matches({ constructor: 'x' })).toBe(true);
  });
});

describe('parse errors, in Kubernetes words', () => {
  test.each([
    ['app in (web', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['app in web', "unable to parse requirement: found 'web' expected: '('"],
    ['app in (xyz abc)', "unable to parse requirement: found 'abc', expected: ',' or ')'"],
    ['app notin(', "unable to parse requirement: found '', expected: ',', ')' or identifier"],
    ['a in (x,(', "unable to parse requirement: found '(', expected: ',', or identifier"],
    ['app=web tier', "found 'tier', expected: ',' or 'end of string'"],
    ['a in (xyz)b notin ()', "found 'b', expected: ',' or 'end of string'"],
    ['=web', "found '=', expected: !, identifier, or 'end of string'"],
    ['(', "found '(', expected: !, identifier, or 'end of string'"],
    ['a,,b', "found ',', expected: identifier after ','"],
    [',x', "found ',', expected: !, identifier, or 'end of string'"],
    ['app=web,', "found '', expected: identifier after ','"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    ['app=(x)', "unable to parse requirement: found '(', expected: identifier"],
    ['x==a==b', "found '==', expected: ',' or 'end of string'"],
    ['app foo', "unable to parse requirement: found 'foo', expected: in, notin, =, ==, !=, gt, lt"],
    ['x nott in (y)', "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"],
    ['a (', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ['app>x', `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer`],
    // A bound is also a label value, so a signed one is refused.
    ['n>-1', `unable to parse requirement: values[0][n]: Invalid value: "-1": ${VALUE_FORMAT}`],
    ['app<', `unable to parse requirement: values[0]: Invalid value: "": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['-bad=x', `unable to parse requirement: <nil>: Invalid value: "-bad": ${KEY_NAME_FORMAT}`],
    ['app=bad_', `unable to parse requirement: values[0][app]: Invalid value: "bad_": ${VALUE_FORMAT}`],
    [`app=${'x'.repeat(64)}`, `unable to parse requirement: values[0][app]: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters`],
  ])('%j: %s', (selector, message) => {
    const err = selectorErrorOf(() => parseLabelSelector(selector));
    expect([err.name, err.message, err.selector]).toEqual(['SelectorError', message, selector]);
  });

  test('an uppercase prefix is not a DNS subdomain', () => {
    expect(errorOf(() => parseLabelSelector('UPPER.example/x=1'))).toMatch(
      /^unable to parse requirement: <nil>: Invalid value: "UPPER.example\/x": prefix part a lowercase RFC 1123 subdomain must consist of/,
    );
  });
});

describe('selectors made in code', () => {
  test('selectorFromSet requires every label (unchecked, as Kubernetes)', () => {
    const sel = selectorFromSet({ tier: 'frontend', app: 'web' });
    expect(sel.toString()).toBe('app=web,tier=frontend');
    expect(sel.matches(web)).toBe(true);
    expect(sel.matches({ app: 'web' })).toBe(false);
    expect(selectorFromSet({}).isEverything()).toBe(true);
    expect(selectorFromSet(undefined).matches(web)).toBe(true);
    expect(selectorFromSet({ 'bad key': 'x' }).toString()).toBe('bad key=x');
  });

  test('validatedSelectorFromSet checks keys and values', () => {
    expect(validatedSelectorFromSet({ key: 'val' }).toString()).toBe('key=val');
    const long = 'axahm2EJ8Phiephe2eixohbee9eGeiyees1thuozi1xoh0GiuH3diewi8iem7Nui';
    expect(errorOf(() => validatedSelectorFromSet({ Key: long }))).toBe(`values[0][Key]: Invalid value: "${long}": must be no more than 63 characters`);
  });

  test('selectorFromRequirements checks each requirement', () => {
    expect(selectorFromRequirements([{ key: 'a', operator: 'in', values: ['y', 'x'] }]).toString()).toBe('a in (x,y)');
    expect(errorOf(() => selectorFromRequirements([{ key: 'a', operator: 'exists', values: ['x'] }]))).toBe(
      'values: Invalid value: ["x"]: values set must be empty for exists and does not exist',
    );
  });

  test('newRequirement reports every problem, under a field path when given', () => {
    expect(errorOf(() => newRequirement('a', 'in', []))).toBe(`values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`);
    expect(errorOf(() => newRequirement('a', '=', ['x', 'y']))).toBe('values: Invalid value: ["x","y"]: exact-match compatibility requires one single value');
    expect(errorOf(() => newRequirement('a', 'gt', ['1', '2']))).toBe(`values: Invalid value: ["1","2"]: for 'Gt', 'Lt' operators, exactly one value is required`);
    expect(errorOf(() => newRequirement('a', 'Near', []))).toBe(
      'operator: Unsupported value: "Near": supported values: "in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"',
    );
    expect(errorOf(() => newRequirement('', 'exists', ['x'], 'spec.selector'))).toBe(
      `[spec.selector.key: Invalid value: "": name part must be non-empty; ${KEY_NAME_FORMAT}, spec.selector.values: Invalid value: ["x"]: values set must be empty for exists and does not exist]`,
    );
  });

  test('add keeps keys sorted; nothing stays nothing', () => {
    const sel = parseLabelSelector('b=1').add(newRequirement('a', 'in', ['x']), newRequirement('c', 'notin', ['y']));
    expect(sel.toString()).toBe('a in (x),b=1,c notin (y)');
    expect(sel.matches({ a: 'x', b: '1' })).toBe(true);
    expect(nothing().add(newRequirement('a', 'exists', [])).isNothing()).toBe(true);
  });

  test('requiresExactMatch: =, == and in with one value', () => {
    const sel = parseLabelSelector('a=1,b==2,c in (3),d in (4,5),e!=6,f');
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => sel.requiresExactMatch(k))).toEqual(['1', '2', '3', undefined, undefined, undefined, undefined]);
  });

  test('everything, nothing and toLabelSelector', () => {
    expect(everything().matches({})).toBe(true);
    expect(nothing().matches(web)).toBe(false);
    expect(nothing().isNothing()).toBe(true);
    expect(nothing().isEverything()).toBe(false);
    expect(nothing().toString()).toBe('');
    expect(toLabelSelector(undefined).isEverything()).toBe(true);
    expect(toLabelSelector('app=web').matches(web)).toBe(true);
    const parsed = parseLabelSelector('a');
    expect(toLabelSelector(parsed)).toBe(parsed);
  });
});

test('formatLabels: sorted pairs, <none> when empty', () => {
  expect(formatLabels({ b: '2', a: '1' })).toBe('a=1,b=2');
  expect(formatLabels({})).toBe('<none>');
  expect(formatLabels(undefined)).toBe('<none>');
});
