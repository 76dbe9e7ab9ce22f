import {
  FieldSet,
  FieldsV1Error,
  SchemaMismatchError,
  fieldPath,
  fieldSetFromFieldsV1,
  fieldSetOf,
  fieldSetToFieldsV1,
  indexElement,
  keyElement,
  parsePathElement,
  pathToString,
  serializePathElement,
  valueElement,
} from '@k8ts/machinery';
import { DEPLOYMENT, TEST_SCHEMA, deployment } from './apply-helpers';

const nginx = keyElement([{ name: 'name', value: 'nginx' }]);
const containers = fieldPath('spec', 'template', 'spec', 'containers');

describe('path elements', () => {
  it('serialize as Kubernetes writes FieldsV1 keys, keys sorted by name and JSON as Go writes it', () => {
    expect(serializePathElement(fieldPath('spec')[0])).toBe('f:spec');
    expect(serializePathElement(keyElement([{ name: 'protocol', value: 'TCP' }, { name: 'containerPort', value: 80 }]))).toBe('k:{"containerPort":80,"protocol":"TCP"}');
    expect(serializePathElement(valueElement('a<b'))).toBe('v:"a\\u003cb"');
    expect(serializePathElement(indexElement(3))).toBe('i:3');
  });

  it('parse back to the same element, drop unknown types and reject malformed keys', () => {
    for (const text of ['f:spec', 'k:{"containerPort":80,"protocol":"TCP"}', 'v:"x"', 'v:5', 'i:2']) {
      expect(serializePathElement(parsePathElement(text)!)).toBe(text);
    }
    expect(serializePathElement(parsePathElement('k:{"protocol":"TCP","containerPort":80}')!)).toBe('k:{"containerPort":80,"protocol":"TCP"}');
    expect(parsePathElement('z:whatever')).toBeUndefined();
    expect(() => parsePathElement('f')).toThrow('key must be 2 characters long');
    expect(() => parsePathElement('fspec')).toThrow('missing colon');
    expect(() => parsePathElement('k:{"name":')).toThrow('not valid JSON');
    expect(() => parsePathElement('k:[1]')).toThrow('must be a JSON object');
    expect(() => parsePathElement('i:x')).toThrow('not an integer');
  });

  it('print paths as Kubernetes prints them in conflicts', () => {
    expect(pathToString([...containers, nginx, ...fieldPath('image')])).toBe('.spec.template.spec.containers[name="nginx"].image');
    expect(pathToString([...fieldPath('metadata', 'finalizers'), valueElement('a')])).toBe('.metadata.finalizers[="a"]');
  });
});

describe('FieldSet', () => {
  const a = FieldSet.of(fieldPath('spec', 'replicas'), fieldPath('spec', 'paused'), [...containers, nginx], [...containers, nginx, ...fieldPath('image')]);
  const b = FieldSet.of(fieldPath('spec', 'replicas'), [...containers, nginx, ...fieldPath('image')], fieldPath('metadata', 'labels', 'app'));

  it('computes union, intersection and difference path by path', () => {
    expect(a.union(b).size).toBe(5);
    expect(a.intersection(b).toString()).toBe('.spec.replicas\n.spec.template.spec.containers[name="nginx"].image');
    expect(a.difference(b).toString()).toBe('.spec.paused\n.spec.template.spec.containers[name="nginx"]');
    expect(b.difference(a).toString()).toBe('.metadata.labels.app');
  });

  it('removes whole subtrees in a recursive difference, only members in a plain one', () => {
    const element = FieldSet.of([...containers, nginx]);
    expect(a.difference(element).has([...containers, nginx, ...fieldPath('image')])).toBe(true);
    expect(a.recursiveDifference(element).has([...containers, nginx, ...fieldPath('image')])).toBe(false);
    expect(a.recursiveDifference(FieldSet.of(fieldPath('spec'))).isEmpty()).toBe(true);
  });

  it('writes FieldsV1 with "." for a member that has members below it, and reads it back', () => {
    const doc = a.toFieldsV1();
    expect(doc).toEqual({
      'f:spec': {
        'f:paused': {},
        'f:replicas': {},
        'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {} } } } },
      },
    });
    expect(Object.keys(doc['f:spec'] as object)).toEqual(['f:paused', 'f:replicas', 'f:template']);
    expect(fieldSetFromFieldsV1(doc).equals(a)).toBe(true);
    expect(fieldSetToFieldsV1(new FieldSet())).toEqual({});
  });

  it('orders elements field < key < value < index, as Kubernetes does', () => {
    const s = FieldSet.of([indexElement(0)], [valueElement('x')], [valueElement(1)], [nginx], fieldPath('z'));
    expect(Object.keys(s.toFieldsV1())).toEqual(['f:z', 'k:{"name":"nginx"}', 'v:1', 'v:"x"', 'i:0']);
  });

  it('names the bad key of a FieldsV1 document', () => {
    expect(() => fieldSetFromFieldsV1({ 'f:spec': { 'k:{oops': {} } })).toThrow(FieldsV1Error);
    expect(() => fieldSetFromFieldsV1({ 'f:spec': { 'k:{oops': {} } })).toThrow('fieldsV1["f:spec"]["k:{oops"]: the key is not valid JSON');
    expect(() => fieldSetFromFieldsV1({ 'f:spec': 'x' })).toThrow('fieldsV1["f:spec"]: expected a JSON object');
    expect(() => fieldSetFromFieldsV1([])).toThrow('fieldsV1: expected a JSON object');
    expect(fieldSetFromFieldsV1({ 'f:spec': { 'x:future': {} }, 'f:kind': {} }).toString()).toBe('.kind\n.spec');
  });
});

describe('fieldSetOf', () => {
  it('owns scalars, map-list elements with their fields, map keys, atomic values whole — not struct fields themselves', () => {
    const obj = deployment({ replicas: 2 }, { labels: { app: 'web' }, finalizers: ['a', 'b'] });
    obj.spec.template.spec.containers[0].ports = [{ containerPort: 80 }];
    obj.spec.template.spec.containers[0].args = ['-v'];
    const set = fieldSetOf(DEPLOYMENT, obj, { schema: TEST_SCHEMA });
    const element = [...containers, nginx];
    const port = keyElement([{ name: 'containerPort', value: 80 }, { name: 'protocol', value: 'TCP' }]);
    expect(set.has(fieldPath('spec', 'replicas'))).toBe(true);
    expect(set.has(fieldPath('spec', 'selector'))).toBe(true); // atomic: owned whole
    expect(set.has(fieldPath('spec', 'selector', 'matchLabels'))).toBe(false);
    expect(set.has(fieldPath('spec'))).toBe(false); // a struct is owned through its fields
    expect(set.has(element)).toBe(true);
    expect(set.has([...element, ...fieldPath('image')])).toBe(true);
    expect(set.has([...element, ...fieldPath('args')])).toBe(true);
    // The port's protocol defaults to TCP in its name, but the configuration does not set it.
    expect(set.has([...element, ...fieldPath('ports'), port])).toBe(true);
    expect(set.has([...element, ...fieldPath('ports'), port, ...fieldPath('protocol')])).toBe(false);
    expect(set.has(fieldPath('metadata', 'labels', 'app'))).toBe(true);
    expect(set.has([...fieldPath('metadata', 'finalizers'), valueElement('b')])).toBe(true);
  });

  it('owns an empty struct or a null field itself, and nothing for an empty granular list', () => {
    const set = fieldSetOf(DEPLOYMENT, deployment({ strategy: {}, replicas: null }, { finalizers: [] }), { schema: TEST_SCHEMA });
    expect(set.has(fieldPath('spec', 'strategy'))).toBe(true);
    expect(set.has(fieldPath('spec', 'replicas'))).toBe(true);
    expect(set.has(fieldPath('metadata', 'finalizers'))).toBe(false);
  });

  it('lists every field the schema does not know, with its path', () => {
    const obj = deployment({ replicaz: 2 });
    obj.spec.template.spec.containers[0].imagee = 'x';
    let err: unknown;
    try {
      fieldSetOf(DEPLOYMENT, obj, { schema: TEST_SCHEMA });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaMismatchError);
    expect((err as SchemaMismatchError).problems).toEqual([
      { path: '.spec.template.spec.containers[name="nginx"].imagee', reason: 'field not declared in schema' },
      { path: '.spec.replicaz', reason: 'field not declared in schema' },
    ]);
  });

  it('refuses values of the wrong shape and elements that cannot be named', () => {
    expect(() => fieldSetOf(DEPLOYMENT, deployment({ replicas: 'two' }), { schema: TEST_SCHEMA })).toThrow('.spec.replicas: expected numeric');
    expect(() => fieldSetOf(DEPLOYMENT, deployment({ template: [] }), { schema: TEST_SCHEMA })).toThrow('.spec.template: expected map');
    const noName = deployment();
    noName.spec.template.spec.containers = [{ image: 'x' }];
    expect(() => fieldSetOf(DEPLOYMENT, noName, { schema: TEST_SCHEMA })).toThrow(
      '.spec.template.spec.containers: element 0: associative list with keys has an element that omits all key fields ["name"]',
    );
  });
});
