// The merge of a configuration into a live object, through apply (forced, first apply: nothing
// is pruned), on a small schema of its own: sets of strings, booleans and numbers, a map list
// keyed by two fields, an atomic list. The expected results are structured-merge-diff's.
import { API_SCHEMA, type FieldSchema, type MessageSchema, type SchemaSource, apply } from '@k8ts/machinery';

function field(name: string, kind: FieldSchema['kind'], extra: Partial<FieldSchema> = {}): FieldSchema {
  return { name, protoName: name, kind, list: false, map: false, optional: true, ...extra };
}

function message(typeName: string, fields: FieldSchema[]): MessageSchema {
  return { typeName, fields, byName: new Map(fields.map((f) => [f.name, f])) };
}

const THING = message('test.v1.Thing', [
  field('apiVersion', 'string'),
  field('kind', 'string'),
  field('metadata', 'message', { typeName: 'k8ts.meta.v1.ObjectMeta' }),
  field('setStr', 'string', { list: true, listType: 'set' }),
  field('setBool', 'boolean', { list: true, listType: 'set' }),
  field('setNumeric', 'number', { list: true, listType: 'set' }),
  field('list', 'message', { typeName: 'test.v1.Element', list: true, listType: 'map', listMapKeys: ['key', 'id'] }),
  field('atomicList', 'string', { list: true, listType: 'atomic' }),
]);
const ELEMENT = message('test.v1.Element', [field('key', 'string'), field('id', 'number'), field('value', 'string', { map: true }), field('bv', 'boolean'), field('nv', 'number')]);
const SCHEMA: SchemaSource = { message: (t) => (t === THING.typeName ? THING : t === ELEMENT.typeName ? ELEMENT : API_SCHEMA.message(t)) };

function merged(live: Record<string, unknown>, config: Record<string, unknown>): Record<string, unknown> {
  const head = { apiVersion: 'test/v1', kind: 'Thing' };
  const r = apply(THING.typeName, { ...head, metadata: { name: 't', uid: 'u' }, ...live }, { ...head, metadata: { name: 't' }, ...config }, {
    manager: 'm',
    force: true,
    apiVersion: 'test/v1',
    now: '2026-01-01T00:00:00Z',
    schema: SCHEMA,
  });
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = r.object;
  return rest;
}

const cases: [string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>][] = [
  ['a scalar is replaced', { list: [{ key: 'a', id: 1, nv: 1, bv: true }] }, { list: [{ key: 'a', id: 1, nv: 2 }] }, { list: [{ key: 'a', id: 1, nv: 2, bv: true }] }],
  ['a set keeps live values the configuration does not name', { setStr: ['a', 'b', 'c'] }, { setStr: ['a', 'b'] }, { setStr: ['a', 'b', 'c'] }],
  ['an empty configured set changes nothing', { setStr: ['a', 'b', 'c'] }, { setStr: [] }, { setStr: ['a', 'b', 'c'] }],
  ['the configuration orders the values it names', { setStr: ['a', 'b'] }, { setStr: ['b', 'a'] }, { setStr: ['b', 'a'] }],
  ['new values come after the live ones', { setStr: ['a', 'b', 'c'] }, { setStr: ['d', 'e', 'f'] }, { setStr: ['a', 'b', 'c', 'd', 'e', 'f'] }],
  ['live-only values keep their place around shared ones', { setStr: ['a', 'b', 'c', 'g', 'f'] }, { setStr: ['c', 'd', 'e', 'f'] }, { setStr: ['a', 'b', 'c', 'g', 'd', 'e', 'f'] }],
  ['a shared value moves to where the configuration puts it', { setStr: ['a', 'b', 'c', 'd'] }, { setStr: ['d', 'e', 'f', 'a'] }, { setStr: ['b', 'c', 'd', 'e', 'f', 'a'] }],
  [
    'interleaving of many shared and new values',
    { setStr: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] },
    { setStr: ['1', 'b', '2', 'h', '3', 'e', '4', 'k', 'l'] },
    { setStr: ['a', '1', 'b', 'c', 'd', 'f', 'g', '2', 'h', 'i', 'j', '3', 'e', '4', 'k', 'l'] },
  ],
  ['a live duplicate the configuration names collapses to one', { setStr: ['a', 'b', 'b'] }, { setStr: ['b'] }, { setStr: ['a', 'b'] }],
  ['live duplicates it does not name stay', { setStr: ['a', 'b', 'b'] }, { setStr: ['a'] }, { setStr: ['a', 'b', 'b'] }],
  ['booleans and numbers are set values too', { setBool: [true], setNumeric: [1, 2, 2.5] }, { setBool: [false], setNumeric: [1, 2, 3] }, { setBool: [true, false], setNumeric: [1, 2, 2.5, 3] }],
  [
    'map-list elements are matched by all their keys',
    { list: [{ key: 'a', id: 1 }, { key: 'b', id: 1 }] },
    { list: [{ key: 'a', id: 1 }, { key: 'a', id: 2 }] },
    { list: [{ key: 'a', id: 1 }, { key: 'b', id: 1 }, { key: 'a', id: 2 }] },
  ],
  [
    'a map list is ordered like a set',
    { list: [{ key: 'a', id: 1 }, { key: 'b', id: 2 }, { key: 'c', id: 3 }] },
    { list: [{ key: 'c', id: 3 }, { key: 'a', id: 1 }] },
    { list: [{ key: 'b', id: 2 }, { key: 'c', id: 3 }, { key: 'a', id: 1 }] },
  ],
  [
    'a duplicated live element is replaced by the configured one',
    { list: [{ key: 'a', id: 1, bv: true }, { key: 'b', id: 2 }, { key: 'a', id: 1, bv: false, nv: 2 }] },
    { list: [{ key: 'a', id: 1, nv: 3 }, { key: 'c', id: 3 }, { key: 'b', id: 2 }] },
    { list: [{ key: 'a', id: 1, nv: 3 }, { key: 'c', id: 3 }, { key: 'b', id: 2 }] },
  ],
  ['an element merges field by field', { list: [{ key: 'a', id: 1, value: { x: '1' } }] }, { list: [{ key: 'a', id: 1, value: { y: '2' } }] }, { list: [{ key: 'a', id: 1, value: { x: '1', y: '2' } }] }],
  ['an atomic list is replaced whole', { atomicList: ['a', 'b', 'c'] }, { atomicList: ['x'] }, { atomicList: ['x'] }],
  ['null replaces an atomic list', { atomicList: ['a'] }, { atomicList: null }, { atomicList: null }],
];

describe('apply merges as structured-merge-diff does', () => {
  it.each(cases)('%s', (_name, live, config, expected) => {
    expect(merged(live, config)).toEqual(expected);
  });
});
