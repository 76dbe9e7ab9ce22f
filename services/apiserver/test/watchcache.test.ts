import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';
import { objectKey, parseFieldSelector, parseLabelSelector } from '@k8ts/machinery';
import { type WatchOut, WatchCache } from '../src/cache/watchcache';
import { ApiError } from '../src/errors';
import { strategyFor } from '../src/strategies';
import type { ApiObject } from '../src/strategies/types';

const { WATCH_EVENT_TYPE_ADDED: ADDED, WATCH_EVENT_TYPE_MODIFIED: MODIFIED, WATCH_EVENT_TYPE_DELETED: DELETED } = metav1.WatchEventType;
const strategy = strategyFor('pods');

function pod(name: string, ns: string, labels: Record<string, string>, rv: number, nodeName = ''): ApiObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels, resourceVersion: String(rv) }, spec: { nodeName }, status: { phase: 'Pending' } };
}
const key = (ns: string, name: string) => objectKey(strategy.kind, ns, name);

function newCache(maxEvents = 1000): WatchCache {
  const c = new WatchCache(strategy.kind, strategy, { maxEvents, historyMs: 60_000 });
  c.reset(
    [
      { key: key('a', 'p1'), obj: pod('p1', 'a', { app: 'web' }, 10), rv: 10 },
      { key: key('a', 'p2'), obj: pod('p2', 'a', { app: 'db' }, 11), rv: 11 },
      { key: key('b', 'p3'), obj: pod('p3', 'b', { app: 'web' }, 12, 'n1'), rv: 12 },
    ],
    20,
  );
  return c;
}

function sink() {
  const events: WatchOut[] = [];
  let closed: Error | undefined | null = null;
  return {
    events,
    closedWith: () => closed,
    sink: {
      send: (ev: WatchOut) => {
        events.push(ev);
        return true;
      },
      close: (err?: Error) => {
        closed = err;
      },
    },
  };
}

const filter = (labels = '', fields = '', namespace?: string) => ({ namespace, labels: parseLabelSelector(labels), fields: parseFieldSelector(fields) });
const names = (evs: WatchOut[]) => evs.map((e) => [e.type, e.object.metadata!.name]);

describe('WatchCache', () => {
  it('lists by key order with filters, limits and a start key', () => {
    const c = newCache();
    expect(c.list(filter()).items.map((e) => e.name)).toEqual(['p1', 'p2', 'p3']);
    expect(c.list(filter('', '', 'a')).items.map((e) => e.name)).toEqual(['p1', 'p2']);
    expect(c.list(filter('app=web')).items.map((e) => e.name)).toEqual(['p1', 'p3']);
    expect(c.list(filter('', 'spec.nodeName=n1')).items.map((e) => e.name)).toEqual(['p3']);
    const page = c.list(filter(), '', 2);
    expect(page).toMatchObject({ more: true, lastKey: key('a', 'p2') });
    expect(c.list(filter(), page.lastKey, 2).items.map((e) => e.name)).toEqual(['p3']);
  });

  it('starts a watch without a version with the current objects', () => {
    const c = newCache();
    const s = sink();
    c.watch(filter('app=web'), undefined, s.sink);
    expect(names(s.events)).toEqual([
      [ADDED, 'p1'],
      [ADDED, 'p3'],
    ]);
    // The bytes are a whole Watch<Plural>Response: type 1, object 2.
    expect(s.events[0].bytes[0]).toBe(0x08);
  });

  it('sends objects moving out of the selection as DELETED and into it as ADDED', () => {
    const c = newCache();
    const s = sink();
    c.watch(filter('app=web'), 20, s.sink);
    c.apply(key('a', 'p1'), pod('p1', 'a', { app: 'db' }, 21), 21);
    c.apply(key('a', 'p2'), pod('p2', 'a', { app: 'web' }, 22), 22);
    c.apply(key('a', 'p2'), pod('p2', 'a', { app: 'web', x: 'y' }, 23), 23);
    c.apply(key('a', 'p2'), undefined, 24);
    c.apply(key('a', 'p9'), pod('p9', 'a', { app: 'db' }, 25), 25);
    expect(s.events.map((e) => [e.type, e.object.metadata!.name, e.rv])).toEqual([
      [DELETED, 'p1', 21],
      [ADDED, 'p2', 22],
      [MODIFIED, 'p2', 23],
      [DELETED, 'p2', 24],
    ]);
    expect(c.rv).toBe(25);
  });

  it('replays the history from a version, and refuses versions older than the window', () => {
    const c = newCache(3);
    for (let i = 0; i < 5; i++) c.apply(key('a', `n${i}`), pod(`n${i}`, 'a', {}, 21 + i), 21 + i);
    const s = sink();
    c.watch(filter(), 23, s.sink);
    expect(s.events.map((e) => e.rv)).toEqual([24, 25]);
    expect(c.oldestRv).toBe(22);
    let err: unknown;
    try {
      c.watch(filter(), 21, sink().sink);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(grpc.status.OUT_OF_RANGE);
    expect((err as ApiError).message).toBe('too old resource version: 21 (22)');
  });

  it('closes a watcher that falls behind, and every watcher on a reset', () => {
    const c = newCache();
    const slow = sink();
    slow.sink.send = () => false;
    c.watch(filter(), 20, slow.sink);
    c.apply(key('a', 'x'), pod('x', 'a', {}, 21), 21);
    expect((slow.closedWith() as ApiError).code).toBe(grpc.status.OUT_OF_RANGE);
    expect(c.watcherCount).toBe(0);
    const s = sink();
    c.watch(filter(), 21, s.sink);
    c.reset([], 30);
    expect((s.closedWith() as ApiError).code).toBe(grpc.status.OUT_OF_RANGE);
  });

  it('keeps secondary indexes current', () => {
    const c = newCache();
    c.addIndex('node', (o) => (o.spec?.nodeName ? [o.spec.nodeName] : []));
    expect(c.byIndex('node', 'n1').map((e) => e.name)).toEqual(['p3']);
    c.apply(key('a', 'p1'), pod('p1', 'a', {}, 21, 'n1'), 21);
    c.apply(key('b', 'p3'), undefined, 22);
    expect(c.byIndex('node', 'n1').map((e) => e.name)).toEqual(['p1']);
  });
});
