import { MvccIndex } from '../src/mvcc';
import { applyKey, applyTxn, del, genesis, PREFIX, put, str } from './helpers';

describe('MvccIndex', () => {
  let index: MvccIndex;
  beforeEach(() => {
    index = new MvccIndex(PREFIX);
    genesis(index);
  });

  it('starts at revision 1 (the genesis), like an empty etcd', () => {
    expect(index.rev).toBe(1);
    expect(index.genesis?.clusterId).toBe(7);
  });

  it('tracks create_revision, mod_revision and version; a delete resets them', () => {
    applyKey(index, put('/a', '1')); // 2
    applyKey(index, put('/a', '2', { create: 2, version: 2 })); // 3
    let v = index.get('/a')!;
    expect([v.create, v.mod, v.version, str(v.value)]).toEqual([2, 3, 2, '2']);
    applyKey(index, del('/a')); // 4
    expect(index.get('/a')).toBeUndefined();
    applyKey(index, put('/a', '3')); // 5
    v = index.get('/a')!;
    expect([v.create, v.mod, v.version]).toEqual([5, 5, 1]);
    // history
    expect(str(index.get('/a', 2)!.value)).toBe('1');
    expect(str(index.get('/a', 3)!.value)).toBe('2');
    expect(index.get('/a', 4)).toBeUndefined();
    expect(index.get('/a', 1)).toBeUndefined();
  });

  it('reads create_revision 0 as "created by this entry" and derives a missing version', () => {
    applyKey(index, put('/k', 'x'));
    applyKey(index, put('/k', 'y', { create: 2 }));
    expect([index.get('/k')!.create, index.get('/k')!.version]).toEqual([2, 2]);
    applyKey(index, put('/k', 'z'));
    expect([index.get('/k')!.create, index.get('/k')!.version]).toEqual([4, 3]);
  });

  it('ranges in key (byte) order at any revision', () => {
    for (const k of ['/b', '/a', '/c', '/a/x', '/d']) applyKey(index, put(k, k));
    const keys = (r: { start: string; end?: string }, rev?: number) => index.range(r, rev).map((v) => v.keyStr);
    expect(keys({ start: '/a', end: '/c' })).toEqual(['/a', '/a/x', '/b']);
    expect(keys({ start: '/b', end: '' })).toEqual(['/b', '/c', '/d']);
    expect(keys({ start: '/a' })).toEqual(['/a']);
    expect(keys({ start: '/a', end: '/c' }, 3)).toEqual(['/a', '/b']);
    expect(index.count({ start: '\0', end: '' })).toBe(5);
    // a delete removes the key from current ranges only
    applyKey(index, del('/b'));
    expect(keys({ start: '/a', end: '/c' })).toEqual(['/a', '/a/x']);
    expect(keys({ start: '/a', end: '/c' }, 6)).toEqual(['/a', '/a/x', '/b']);
  });

  it('applies multi-key entries atomically at one revision and records their events', () => {
    applyKey(index, put('/x', '0'));
    const res = applyTxn(index, [put('/x', '1', { create: 2, version: 2 }), put('/y', '1'), del('/nope')]);
    expect(res.applied).toBe(true);
    expect(res.events.map((e) => [e.type, e.kv.keyStr, e.kv.mod, str(e.prev?.value)])).toEqual([
      ['put', '/x', 3, '0'],
      ['put', '/y', 3, undefined],
    ]);
    expect(index.eventsBetween(2).map((r) => r.rev)).toEqual([2, 3]);
  });

  it('voids a single-key entry when another single-key entry changed the key after its basis', () => {
    // Two writers evaluated at basis 2 and both got past JetStream's subject check
    // (nats-server 2.9: nats-io/nats-server#4320); only the first takes effect everywhere.
    applyKey(index, put('/k', 'a')); // 2
    expect(applyKey(index, put('/k', 'b', { create: 2, version: 2 }), 2).applied).toBe(true); // 3
    const r = applyKey(index, put('/k', 'c', { create: 2, version: 2 }), 2); // 4 with basis 2
    expect(r.applied).toBe(false);
    expect(r.reason).toMatch(/entry 3 changed the key after basis revision 2/);
    expect(r.cause).toBe('void');
    expect(index.isVoid(4)).toBe(true);
    expect(str(index.get('/k')!.value)).toBe('b');
    // a void entry changes nothing: an entry based on revision 3 still applies
    expect(applyKey(index, put('/k', 'd', { create: 2, version: 3 }), 3).applied).toBe(true); // 5
    // changes of other keys do not void it
    applyKey(index, put('/other', 'x')); // 6
    expect(applyKey(index, put('/k', 'e', { create: 2, version: 4 }), 5).applied).toBe(true); // 7
  });

  it('voids a single-key entry after its basis even when the key was compacted away', () => {
    applyKey(index, put('/k', 'a')); // 2
    applyKey(index, del('/k'), 2); // 3
    applyKey(index, put('/z', 'z')); // 4
    index.compact(4); // drops /k entirely from the index
    expect(applyKey(index, put('/k', 'b'), 2).applied).toBe(false); // 5, basis before the delete
    expect(applyKey(index, put('/k', 'b'), 4).applied).toBe(true); // 6
  });

  it('voids a single-key entry when a multi-key entry after its basis changed the key', () => {
    applyKey(index, put('/k', 'a')); // 2, writer B evaluates at basis 2
    applyTxn(index, [del('/k'), put('/other', 'o')]); // 3
    const r = applyKey(index, put('/k', 'b', { create: 2, version: 2 }), 2); // 4 with basis 2
    expect(r.applied).toBe(false);
    expect(r.reason).toMatch(/multi-key entry 3/);
    expect(index.isVoid(4)).toBe(true);
    expect(index.get('/k')).toBeUndefined();
    expect(index.rev).toBe(4);
    // a later write based on the current state applies
    expect(applyKey(index, put('/k', 'c'), 4).applied).toBe(true);
    // a multi-key entry on other keys does not void it
    applyTxn(index, [put('/other', 'p', { create: 3, version: 2 })]); // 6
    expect(applyKey(index, put('/k', 'd', { create: 5, version: 2 }), 5).applied).toBe(true);
  });

  it('voids a single-key entry whose basis is older than the guard window', () => {
    const small = new MvccIndex(PREFIX);
    genesis(small, 5);
    for (let i = 0; i < 10; i++) applyKey(small, put(`/k${i}`, 'v'));
    expect(applyKey(small, put('/z', 'v'), small.rev - 10).applied).toBe(false);
    expect(applyKey(small, put('/z', 'v'), small.rev - 2).applied).toBe(true);
  });

  it('keeps keys by lease', () => {
    applyKey(index, put('/a', '1', { lease: 9 }));
    applyKey(index, put('/b', '1', { lease: 9 }));
    applyKey(index, put('/c', '1', { lease: 8 }));
    expect(index.keysOfLease(9)).toEqual(['/a', '/b']);
    applyKey(index, put('/a', '2', { lease: 0 }));
    applyKey(index, del('/b'));
    expect(index.keysOfLease(9)).toEqual([]);
    expect(index.leasesInUse()).toEqual([8]);
  });

  it('compacts logically: keeps the version live at the compact revision and later ones', () => {
    applyKey(index, put('/a', '1')); // 2
    applyKey(index, put('/a', '2')); // 3
    applyKey(index, put('/b', '1')); // 4
    applyKey(index, del('/b')); // 5
    applyKey(index, put('/a', '3')); // 6
    index.compact(5);
    expect(index.compactRev).toBe(5);
    expect(str(index.get('/a', 5)!.value)).toBe('2');
    expect(str(index.get('/a')!.value)).toBe('3');
    expect(index.get('/b', 5)).toBeUndefined();
    expect(index.recordCount).toBe(1);
    expect(index.eventsBetween(0).map((r) => r.rev)).toEqual([5, 6]);
  });

  it('treats undecodable payloads and unknown subjects as void, without throwing', () => {
    const r = index.apply(2, 'k8ts.kv.a', Buffer.from([0xff, 0xff, 0xff]));
    expect(r.applied).toBe(false);
    expect(r.cause).toBe('invalid');
    expect(index.isVoid(2)).toBe(true);
    expect(index.rev).toBe(2);
    expect(index.apply(3, 'elsewhere', Buffer.alloc(0)).applied).toBe(false);
    expect(index.apply(3, 'k8ts.kv.a', Buffer.alloc(0)).reason).toBe('already applied');
  });

  it('refuses, loudly, an entry before the genesis: without the guard window no verdict is possible', () => {
    const fresh = new MvccIndex(PREFIX);
    expect(() => applyKey(fresh, put('/k', 'v'), 1, 2)).toThrow(/the genesis \(sequence 1\) has not been applied/);
    expect(fresh.rev).toBe(0);
    expect(fresh.get('/k')).toBeUndefined();
  });
});
