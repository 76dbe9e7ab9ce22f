// Field selectors (fields.ParseSelector): parsing, escaping, matching field sets and objects,
// the canonical text, and Kubernetes' error messages.
import { escapeFieldValue, fieldSelectorFromSet, fieldValue, parseFieldSelector, unescapeFieldValue } from '@k8ts/machinery';
import { selectorErrorOf } from './selectors-helpers';

const pod = {
  metadata: { name: 'web-1', namespace: 'default' },
  spec: { nodeName: 'node-1', priority: 0, hostNetwork: false },
  status: { phase: 'Running' },
};

describe('parsing', () => {
  test('=, == and !=; terms sorted as strings', () => {
    expect(parseFieldSelector('status.phase!=Running,metadata.name=web,spec.nodeName==n1').requirements).toEqual([
      { field: 'metadata.name', operator: '=', value: 'web' },
      { field: 'spec.nodeName', operator: '=', value: 'n1' },
      { field: 'status.phase', operator: '!=', value: 'Running' },
    ]);
  });

  test('empty values and empty terms; "" selects everything', () => {
    expect(parseFieldSelector('spec.nodeName=').requirements).toEqual([{ field: 'spec.nodeName', operator: '=', value: '' }]);
    expect(parseFieldSelector('a=b,,c=d,').requirements.map((r) => r.field)).toEqual(['a', 'c']);
    expect(parseFieldSelector('').isEverything()).toBe(true);
    expect(parseFieldSelector('').matches({})).toBe(true);
  });

  test('the field is taken as it is: blanks stay, any text is a field', () => {
    expect(parseFieldSelector('status.phase = Running').requirements).toEqual([{ field: 'status.phase ', operator: '=', value: ' Running' }]);
    expect(parseFieldSelector('=x').requirements).toEqual([{ field: '', operator: '=', value: 'x' }]);
  });

  test('escaped values round-trip', () => {
    const sel = parseFieldSelector('metadata.name=a\\,b\\=c\\\\d');
    expect(sel.requirements[0].value).toBe('a,b=c\\d');
    expect(sel.toString()).toBe('metadata.name=a\\,b\\=c\\\\d');
    expect(parseFieldSelector(sel.toString()).requirements).toEqual(sel.requirements);
    expect(escapeFieldValue('a\\b,c=d')).toBe('a\\\\b\\,c\\=d');
    expect(unescapeFieldValue('a\\\\b\\,c\\=d')).toBe('a\\b,c=d');
  });

  test.each([
    ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['a=b,nonsense', "invalid selector: 'a=b,nonsense'; can't understand 'nonsense'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a==b,c', "invalid selector: 'a==b,c'; can't understand 'c'"],
    ['a=!=b', 'invalid field selector: unescaped character in value: 61'],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b\\!', 'invalid field selector: invalid escape sequence: \\!'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
  ])('%j is refused: %s', (selector, message) => {
    const err = selectorErrorOf(() => parseFieldSelector(selector));
    expect([err.message, err.selector]).toEqual([message, selector]);
  });
});

describe('matching', () => {
  test('field sets: a missing field reads as ""', () => {
    const fields = { 'metadata.name': 'web', 'spec.nodeName': '' };
    expect(parseFieldSelector('metadata.name=web').matches(fields)).toBe(true);
    expect(parseFieldSelector('spec.nodeName=').matches(fields)).toBe(true);
    expect(parseFieldSelector('spec.nodeName!=').matches(fields)).toBe(false);
    expect(parseFieldSelector('metadata.name!=web').matches(fields)).toBe(false);
    expect(parseFieldSelector('status.phase=').matches(fields)).toBe(true);
    expect(parseFieldSelector('toString=').matches(fields)).toBe(true);
  });

  test('objects, read at each field path', () => {
    expect(parseFieldSelector('metadata.name=web-1').matchesObject(pod)).toBe(true);
    expect(parseFieldSelector('metadata.name==web-1,spec.nodeName!=node-2').matchesObject(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName!=node-1').matchesObject(pod)).toBe(false);
    expect(parseFieldSelector('status.phase=Running,metadata.namespace=default').matchesObject(pod)).toBe(true);
    expect(parseFieldSelector('spec.schedulerName=').matchesObject(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName=').matchesObject({ spec: {} })).toBe(true);
    expect(parseFieldSelector('spec.priority=0,spec.hostNetwork=false').matchesObject(pod)).toBe(true);
  });

  test('fieldValue walks paths; objects, lists and missing fields read as ""', () => {
    expect(fieldValue(pod, 'spec.nodeName')).toBe('node-1');
    expect(fieldValue(pod, 'spec.priority')).toBe('0');
    expect(fieldValue(pod, 'spec.missing.deeper')).toBe('');
    expect(fieldValue(pod, 'spec')).toBe('');
    expect(fieldValue({ a: ['x'] }, 'a')).toBe('');
    expect(fieldValue({}, 'constructor')).toBe('');
  });

  test('requiresExactMatch names the value an "=" requirement needs', () => {
    const sel = parseFieldSelector('spec.nodeName=node-1,status.phase!=Failed');
    expect(sel.requiresExactMatch('spec.nodeName')).toBe('node-1');
    expect(sel.requiresExactMatch('status.phase')).toBeUndefined();
    expect(sel.requiresExactMatch('metadata.name')).toBeUndefined();
  });

  test('fieldSelectorFromSet: each field equal to its value, escaped in the text', () => {
    const sel = fieldSelectorFromSet({ 'spec.nodeName': 'n,1', 'metadata.name': 'a' });
    expect(sel.toString()).toBe('metadata.name=a,spec.nodeName=n\\,1');
    expect(sel.matches({ 'spec.nodeName': 'n,1', 'metadata.name': 'a' })).toBe(true);
    expect(parseFieldSelector(sel.toString()).requirements).toEqual(sel.requirements);
  });
});
