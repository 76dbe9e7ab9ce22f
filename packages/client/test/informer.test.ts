// The informer against an in-memory ListWatch that the test scripts step by step: initial
// list (paged), handlers in order, relist on Gone and on broken streams with the
// differences emitted, bookmarks, indexers, resync; and the InformerFactory end to end over
// the fake clientset.
import * as grpc from '@grpc/grpc-js';
import type { corev1 } from '@k8ts/api';
import {
  ApiError,
  FakeClock,
  Informer,
  InformerFactory,
  StreamQueue,
  byNodeName,
  keyOf,
  settle,
} from '../src';
import { createFakeClientset } from '../src/fake';
import type { ListWatch, ObjectList, WatchEvent } from '../src';

type Pod = corev1.Pod;

function pod(name: string, opts: { ns?: string; node?: string; labels?: Record<string, string>; phase?: string } = {}): Pod {
  return {
    metadata: { namespace: opts.ns ?? 'default', name, labels: opts.labels ?? {} },
    spec: { nodeName: opts.node ?? '' },
    status: { phase: opts.phase ?? 'Pending' },
  };
}

/** A server in miniature: a state with a revision, list pages, and watches the test drives. */
class ScriptedListWatch implements ListWatch<Pod> {
  revision = 0;
  state = new Map<string, Pod>();
  listCalls: { limit?: number; continue?: string }[] = [];
  watchCalls: { resourceVersion: string; allowWatchBookmarks: boolean; queue: StreamQueue<WatchEvent<Pod>> }[] = [];
  failLists = 0;

  /** Changes the server state without telling any watch (as if the client was disconnected). */
  put(p: Pod): Pod {
    const stored = { ...p, metadata: { ...p.metadata, resourceVersion: String(++this.revision) } };
    this.state.set(keyOf(stored), stored);
    return stored;
  }

  remove(name: string, ns = 'default'): Pod {
    const old = this.state.get(`${ns}/${name}`)!;
    this.state.delete(`${ns}/${name}`);
    return { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.revision) } };
  }

  async list(opts: { limit?: number; continue?: string }): Promise<ObjectList<Pod>> {
    this.listCalls.push({ limit: opts.limit, continue: opts.continue });
    if (this.failLists > 0) {
      this.failLists--;
      throw new ApiError(grpc.status.UNAVAILABLE, 'apiserver is down');
    }
    const all = [...this.state.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const start = opts.continue ? Number(opts.continue) : 0;
    const end = opts.limit ? start + opts.limit : all.length;
    return {
      items: all.slice(start, end).map((p) => structuredClone(p)),
      resourceVersion: String(this.revision),
      continue: end < all.length ? String(end) : '',
    };
  }

  watch(opts: { resourceVersion: string; allowWatchBookmarks: boolean }) {
    const queue = new StreamQueue<WatchEvent<Pod>>();
    this.watchCalls.push({ ...opts, queue });
    return queue;
  }

  get current(): StreamQueue<WatchEvent<Pod>> {
    return this.watchCalls[this.watchCalls.length - 1].queue;
  }

  /** A change delivered on the current watch. */
  emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', p: Pod): void {
    const obj = type === 'DELETED' ? this.remove(p.metadata!.name!, p.metadata!.namespace!) : this.put(p);
    this.current.push({ type, object: structuredClone(obj) });
  }
}

/** Handlers that write down what they are told. */
function recorder() {
  const log: string[] = [];
  return {
    log,
    handlers: {
      onAdd: (p: Pod) => log.push(`add ${p.metadata?.name} ${p.status?.phase}`),
      onUpdate: (o: Pod, n: Pod) => log.push(`update ${n.metadata?.name} ${o.status?.phase}->${n.status?.phase}`),
      onDelete: (p: Pod) => log.push(`delete ${p.metadata?.name}`),
    },
  };
}

const noJitter = { jitter: 0, initialMs: 100, maxMs: 1000 };

describe('Informer', () => {
  let informer: Informer<Pod> | undefined;
  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
  });

  test('lists in pages, tells handlers, syncs, then watches from the list version with bookmarks', async () => {
    const lw = new ScriptedListWatch();
    for (const n of ['a', 'b', 'c', 'd', 'e']) lw.put(pod(n));
    const rec = recorder();
    informer = new Informer(lw, { pageSize: 2 });
    informer.addEventHandler(rec.handlers);
    expect(informer.hasSynced()).toBe(false);
    informer.start();
    await expect(informer.waitForSync()).resolves.toBe(true);
    expect(informer.hasSynced()).toBe(true);
    expect(lw.listCalls).toEqual([
      { limit: 2, continue: '' },
      { limit: 2, continue: '2' },
      { limit: 2, continue: '4' },
    ]);
    expect(rec.log).toEqual(['add a Pending', 'add b Pending', 'add c Pending', 'add d Pending', 'add e Pending']);
    await settle();
    expect(lw.watchCalls.map((w) => [w.resourceVersion, w.allowWatchBookmarks])).toEqual([['5', true]]);
    expect(informer.lastSyncResourceVersion()).toBe('5');
    expect(informer.lister.list().map((p) => p.metadata?.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  test('handlers see every change in order, with the old and new object; the cache follows', async () => {
    const lw = new ScriptedListWatch();
    lw.put(pod('a'));
    const rec = recorder();
    informer = new Informer(lw);
    informer.addEventHandler(rec.handlers);
    informer.start();
    await informer.waitForSync();
    await settle();
    lw.emit('ADDED', pod('b'));
    lw.emit('MODIFIED', pod('a', { phase: 'Running' }));
    lw.emit('MODIFIED', pod('b', { phase: 'Running' }));
    lw.emit('MODIFIED', pod('a', { phase: 'Succeeded' }));
    lw.emit('DELETED', pod('b'));
    await settle();
    expect(rec.log).toEqual([
      'add a Pending',
      'add b Pending',
      'update a Pending->Running',
      'update b Pending->Running',
      'update a Running->Succeeded',
      'delete b',
    ]);
    expect(informer.lister.get('a', 'default')?.status?.phase).toBe('Succeeded');
    expect(informer.lister.getByKey('default/b')).toBeUndefined();
    expect(informer.lastSyncResourceVersion()).toBe(String(lw.revision));
  });

  test('cached objects are frozen', async () => {
    const lw = new ScriptedListWatch();
    lw.put(pod('a', { labels: { app: 'web' } }));
    informer = new Informer(lw);
    informer.start();
    await informer.waitForSync();
    const cached = informer.lister.get('a', 'default')!;
    expect(Object.isFrozen(cached)).toBe(true);
    expect(() => {
      cached.status!.phase = 'Running';
    }).toThrow(TypeError);
    expect(() => {
      cached.metadata!.labels!.app = 'db';
    }).toThrow(TypeError);
  });

  test('on Gone it relists at once and emits only the differences', async () => {
    const lw = new ScriptedListWatch();
    for (const n of ['a', 'b', 'c']) lw.put(pod(n));
    const rec = recorder();
    informer = new Informer(lw, { backoff: noJitter });
    informer.addEventHandler(rec.handlers);
    informer.start();
    await informer.waitForSync();
    await settle();
    lw.emit('MODIFIED', pod('a', { phase: 'Running' })); // progress on this watch
    await settle();
    // While the client is not watching: b changes, c goes away, d arrives; a stays.
    lw.put(pod('b', { phase: 'Failed' }));
    lw.remove('c');
    lw.put(pod('d'));
    rec.log.length = 0;
    lw.current.fail(new ApiError(grpc.status.OUT_OF_RANGE, 'too old resource version'));
    await settle();
    expect(lw.listCalls).toHaveLength(2);
    expect(rec.log.sort()).toEqual(['add d Pending', 'delete c', 'update b Pending->Failed']);
    expect(informer.lister.list().map((p) => `${p.metadata?.name}:${p.status?.phase}`)).toEqual([
      'a:Running',
      'b:Failed',
      'd:Pending',
    ]);
    expect(lw.watchCalls.map((w) => w.resourceVersion)).toEqual(['3', String(lw.revision)]);
  });

  test('a broken stream relists with backoff while the server is down, then converges', async () => {
    const clock = new FakeClock();
    const lw = new ScriptedListWatch();
    lw.put(pod('a'));
    const rec = recorder();
    informer = new Informer(lw, { clock, backoff: noJitter });
    informer.addEventHandler(rec.handlers);
    informer.start();
    await informer.waitForSync();
    await settle();
    lw.emit('MODIFIED', pod('a')); // the watch was healthy: the first relist is immediate
    await settle();
    lw.failLists = 2;
    lw.put(pod('b'));
    lw.current.fail(new ApiError(grpc.status.UNAVAILABLE, 'connection reset'));
    await settle();
    expect(lw.listCalls).toHaveLength(2); // relisted at once (first failure) and failed
    await clock.advance(99);
    expect(lw.listCalls).toHaveLength(2); // waiting 100 ms
    await clock.advance(1);
    expect(lw.listCalls).toHaveLength(3); // failed again
    await clock.advance(199);
    expect(lw.listCalls).toHaveLength(3); // waiting 200 ms
    await clock.advance(1);
    expect(lw.listCalls).toHaveLength(4); // succeeds
    expect(rec.log).toEqual(['add a Pending', 'update a Pending->Pending', 'add b Pending']);
    expect(lw.watchCalls).toHaveLength(2);
  });

  test('an ERROR-like failure before any progress backs off instead of spinning', async () => {
    const clock = new FakeClock();
    const lw = new ScriptedListWatch();
    informer = new Informer(lw, { clock, backoff: noJitter });
    informer.start();
    await informer.waitForSync();
    await settle();
    lw.current.fail(new ApiError(grpc.status.INTERNAL, 'boom'));
    await settle();
    expect(lw.listCalls).toHaveLength(1); // no progress on that watch: wait first
    await clock.advance(100);
    expect(lw.listCalls).toHaveLength(2);
  });

  test('bookmarks move the resume version; a cleanly ended watch resumes from it without a list', async () => {
    const lw = new ScriptedListWatch();
    lw.put(pod('a'));
    const rec = recorder();
    informer = new Informer(lw);
    informer.addEventHandler(rec.handlers);
    informer.start();
    await informer.waitForSync();
    await settle();
    lw.current.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '42' } } });
    await settle();
    expect(informer.lastSyncResourceVersion()).toBe('42');
    expect(rec.log).toEqual(['add a Pending']); // bookmarks are not changes
    lw.current.end();
    await settle();
    expect(lw.listCalls).toHaveLength(1);
    expect(lw.watchCalls.map((w) => w.resourceVersion)).toEqual(['1', '42']);
  });

  test('indexers: by node and by namespace, kept current through changes', async () => {
    const lw = new ScriptedListWatch();
    lw.put(pod('a', { node: 'n1' }));
    lw.put(pod('b', { node: 'n1', ns: 'kube-system' }));
    lw.put(pod('c', { labels: { app: 'web' } }));
    informer = new Informer(lw, { indexers: { byNode: byNodeName } });
    informer.start();
    await informer.waitForSync();
    await settle();
    const names = (pods: Pod[]) => pods.map((p) => p.metadata?.name).sort();
    expect(names(informer.lister.byIndex('byNode', 'n1'))).toEqual(['a', 'b']);
    expect(names(informer.lister.byIndex('byNode', ''))).toEqual(['c']);
    expect(names(informer.lister.list({ namespace: 'kube-system' }))).toEqual(['b']);
    expect(names(informer.lister.list({ labelSelector: 'app=web' }))).toEqual(['c']);
    lw.emit('MODIFIED', pod('c', { node: 'n2', labels: { app: 'web' } }));
    lw.emit('DELETED', pod('a'));
    await settle();
    expect(names(informer.lister.byIndex('byNode', 'n1'))).toEqual(['b']);
    expect(names(informer.lister.byIndex('byNode', 'n2'))).toEqual(['c']);
    expect(informer.lister.byIndex('byNode', '')).toEqual([]);
    informer.addIndexers({ byPhase: (p) => [p.status?.phase ?? ''] });
    expect(names(informer.lister.byIndex('byPhase', 'Pending'))).toEqual(['b', 'c']);
    expect(() => informer!.lister.byIndex('nope', 'x')).toThrow('no index "nope"');
  });

  test('resync calls onUpdate(obj, obj) for every cached object each period', async () => {
    const clock = new FakeClock();
    const lw = new ScriptedListWatch();
    lw.put(pod('a'));
    lw.put(pod('b'));
    const updates: string[] = [];
    informer = new Informer(lw, { clock, resyncPeriodMs: 30_000 });
    informer.addEventHandler({ onUpdate: (o, n) => updates.push(`${n.metadata?.name}:${o === n}`) });
    informer.start();
    await informer.waitForSync();
    await clock.advance(30_000);
    expect(updates).toEqual(['a:true', 'b:true']);
    await clock.advance(30_000);
    expect(updates).toHaveLength(4);
  });

  test('late handlers get the cache as adds; removed handlers hear nothing; a throwing handler harms no one', async () => {
    const lw = new ScriptedListWatch();
    lw.put(pod('a'));
    informer = new Informer(lw);
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    informer.start();
    await informer.waitForSync();
    await settle();
    const late = recorder();
    const remove = informer.addEventHandler(late.handlers);
    expect(late.log).toEqual(['add a Pending']);
    lw.emit('ADDED', pod('b'));
    await settle();
    remove();
    lw.emit('ADDED', pod('c'));
    await settle();
    expect(late.log).toEqual(['add a Pending', 'add b Pending']);
    expect(informer.lister.list()).toHaveLength(3);
  });

  test('stop ends the watch; waitForSync says false when stopped before syncing', async () => {
    const lw = new ScriptedListWatch();
    lw.failLists = 1000;
    const clock = new FakeClock();
    informer = new Informer(lw, { clock });
    informer.start();
    const synced = informer.waitForSync();
    await settle();
    await informer.stop();
    await expect(synced).resolves.toBe(false);

    const lw2 = new ScriptedListWatch();
    const other = new Informer(lw2);
    other.start();
    await other.waitForSync();
    await settle();
    await other.stop();
    expect(lw2.current.closed).toBe(true);
  });
});

describe('InformerFactory over the fake clientset', () => {
  test('shares informers, follows writes, and relists after compaction', async () => {
    const cs = createFakeClientset({ objects: [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default' } }] });
    const factory = new InformerFactory(cs);
    const pods = factory.informerFor('pods', { indexers: { byNode: byNodeName } });
    expect(factory.informerFor('pods')).toBe(pods);
    expect(factory.informerFor('pods', { namespace: 'kube-system' })).not.toBe(pods);
    const rec = recorder();
    pods.addEventHandler(rec.handlers);
    const nodes = factory.informerFor('nodes');
    factory.start();
    await expect(factory.waitForSync()).resolves.toBe(true);
    await settle();
    await cs.pods.create({ metadata: { name: 'b', namespace: 'default' }, spec: { nodeName: 'n1' } });
    await cs.nodes.create({ metadata: { name: 'n1' } });
    await settle();
    expect(pods.lister.byIndex('byNode', 'n1').map((p) => p.metadata?.name)).toEqual(['b']);
    expect(nodes.lister.get('n1')?.metadata?.name).toBe('n1');

    // The watch breaks with Gone after the log was compacted; meanwhile a was deleted.
    cs.tracker.compact();
    await cs.pods.delete('a', { namespace: 'default' });
    await settle();
    expect(rec.log).toContain('delete a');
    cs.tracker.breakWatches(new ApiError(grpc.status.OUT_OF_RANGE, 'too old'));
    await cs.pods.create({ metadata: { name: 'c', namespace: 'default' } });
    await settle();
    await settle();
    expect(pods.lister.list().map((p) => p.metadata?.name).sort()).toEqual(['b', 'c']);
    expect(rec.log.filter((l) => l.startsWith('add')).map((l) => l.split(' ')[1])).toEqual(['a', 'b', 'c']);
    await factory.stop();
    expect(cs.tracker.watchCount()).toBe(0);
  });
});
