import { etcdserverpb as pb, mvccpb } from '@k8ts/api';
import { encodeEventsResponse } from '../src/frontend/watch';
import { IndexEvent, RevisionEvents, Version } from '../src/mvcc';
import { batchRevisions, Watcher, WatchHub } from '../src/watchHub';

function ev(key: string, rev: number, type: 'put' | 'delete' = 'put', size = 10): IndexEvent {
  const kv: Version = { keyStr: key, key: Buffer.from(key), mod: rev, create: rev, version: 1, value: Buffer.alloc(size), lease: 0, deleted: type === 'delete', viaTxn: false };
  return { type, kv };
}

describe('watch event batching', () => {
  const revs = (spec: number[][]): RevisionEvents[] => spec.map(([rev, n]) => ({ rev, events: Array.from({ length: n }, (_, i) => ev(`/k${i}`, rev)) }));

  it('groups whole revisions under the limits', () => {
    const batches = batchRevisions(revs([[2, 1], [3, 1], [4, 1], [5, 1]]), 1 << 20, 2);
    expect(batches.map((b) => b.map((r) => r.rev))).toEqual([[2, 3], [4, 5]]);
  });

  it('never splits a revision, even one larger than the limits', () => {
    const batches = batchRevisions(revs([[2, 1], [3, 5], [4, 1]]), 1 << 20, 2);
    expect(batches.map((b) => b.map((r) => r.rev))).toEqual([[2], [3], [4]]);
    for (const b of batches) for (const r of b) expect(r.events.length).toBeGreaterThan(0);
  });

  it('limits bytes', () => {
    const big = revs([[2, 1], [3, 1], [4, 1]]).map((r) => ({ rev: r.rev, events: [ev('/k', r.rev, 'put', 600)] }));
    expect(batchRevisions(big, 1000, 100).map((b) => b.map((r) => r.rev))).toEqual([[2], [3], [4]]);
    expect(batchRevisions(big, 5000, 100).map((b) => b.map((r) => r.rev))).toEqual([[2, 3, 4]]);
  });

  it('keeps revision order and every event', () => {
    const input = revs([[2, 3], [3, 1], [7, 4], [9, 2]]);
    const out = batchRevisions(input, 100, 3).flat();
    expect(out).toEqual(input);
  });
});

describe('watch hub', () => {
  const sink = { schedule: jest.fn() };
  const mk = (id: number, range: { start: string; end?: string }, o: Partial<{ noPut: boolean; noDelete: boolean }> = {}) => {
    const w = new Watcher(id, { range, noPut: !!o.noPut, noDelete: !!o.noDelete, prevKv: false, progressNotify: false }, sink);
    w.synced = true;
    return w;
  };

  it('queues a revision\'s matching events, together, on synced watchers', () => {
    const hub = new WatchHub();
    const exact = mk(1, { start: '/a' });
    const prefix = mk(2, { start: '/', end: '0' });
    const noPut = mk(3, { start: '/', end: '0' }, { noPut: true });
    const unsynced = mk(4, { start: '/', end: '' });
    unsynced.synced = false;
    for (const w of [exact, prefix, noPut, unsynced]) hub.add(w);
    expect(hub.size).toBe(4);
    hub.onRevision(5, [ev('/a', 5), ev('/b', 5, 'delete'), ev('x', 5)]);
    expect(exact.pending.map((r) => [r.rev, r.events.map((e) => e.kv.keyStr)])).toEqual([[5, ['/a']]]);
    expect(prefix.pending.map((r) => [r.rev, r.events.map((e) => e.kv.keyStr)])).toEqual([[5, ['/a', '/b']]]);
    expect(noPut.pending.map((r) => r.events.map((e) => e.type))).toEqual([['delete']]);
    expect(unsynced.pending).toEqual([]);
    hub.remove(prefix);
    hub.onRevision(6, [ev('/a', 6)]);
    expect(prefix.pending.length).toBe(1);
    expect(exact.pending.length).toBe(2);
  });

  it('skips revisions before a future start revision', () => {
    const hub = new WatchHub();
    const w = mk(1, { start: '/a' });
    w.minRev = 10;
    hub.add(w);
    hub.onRevision(9, [ev('/a', 9)]);
    hub.onRevision(10, [ev('/a', 10)]);
    expect(w.pending.map((r) => r.rev)).toEqual([10]);
  });
});

describe('watch response encoding', () => {
  it('produces the same bytes a WatchResponse decodes from, with cached events', () => {
    const prev = ev('/p', 4).kv;
    const e1: IndexEvent = { ...ev('/p', 5), prev };
    const e2: IndexEvent = ev('/q', 5, 'delete');
    const header = { clusterId: 7, memberId: 9, revision: 6, raftTerm: 1 };
    for (const [id, prevKv] of [[0, false], [3, true], [300, true]] as const) {
      const bytes = encodeEventsResponse(header, id, [e1, e2], prevKv);
      const r = pb.WatchResponse.decode(bytes);
      expect(r.header).toEqual(header);
      expect(r.watchId).toBe(id);
      expect(r.events!.map((e) => [e.type, e.kv!.key!.toString(), e.kv!.modRevision, e.prevKv?.modRevision])).toEqual([
        [mvccpb.Event_EventType.PUT, '/p', 5, prevKv ? 4 : undefined],
        [mvccpb.Event_EventType.DELETE, '/q', 5, undefined],
      ]);
    }
  });
});
