// A write the store voids never reaches the apiserver's watch cache. Two writers race on one
// key: both evaluated the key at the same basis revision and both got their single-key entry
// into the stream (what nats-server 2.9 allows on a cluster, nats-io/nats-server#4320; here
// the two entries are published straight to the store's JetStream subject, the public wire
// format of proto/k8ts/store/v1/log.proto, without the expected-sequence header). The store's
// guard keeps the first and voids the second. The apiserver follows the same stream: its
// cached List (resourceVersion "0") and its watchers must show what the store shows
// (etcdctl), both on a feed that was running during the race and on one started between
// the two entries (so that the entry which voids the second one came before its start).
import { spawn } from 'child_process';
import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';
import { encodeSingleKeyEntry, keySubject, objectKey, resourcePrefix } from '@k8ts/machinery';
import { type NatsConnection, connect } from 'nats';
import { type Apiserver, ETCDCTL_BIN, type Store, call, collect, etcdctl, requireBuild, startApiserver, startStore } from './harness';
import { TOKENS, authArgs, authFiles, clientFor, kind } from './fixtures';

const T = TOKENS.admin;
const NS = 'default';
const NAME = 'raced';
const KEY = objectKey(kind('ConfigMap'), NS, NAME);
/** The store's default subject prefix (its stream is K8TS). */
const PREFIX = 'k8ts';
const { WATCH_EVENT_TYPE_ADDED: ADDED, WATCH_EVENT_TYPE_MODIFIED: MODIFIED, WATCH_EVENT_TYPE_BOOKMARK: BOOKMARK } = metav1.WatchEventType;

let store: Store;
let nc: NatsConnection;
const apiservers: Apiserver[] = [];
const clients: grpc.Client[] = [];
let files: ReturnType<typeof authFiles>;

function configMaps(server: Apiserver): grpc.Client {
  const c = clientFor(kind('ConfigMap'), server.address);
  clients.push(c);
  return c;
}

async function newApiserver(): Promise<Apiserver> {
  const a = await startApiserver(store, authArgs(files));
  apiservers.push(a);
  return a;
}

/** Polls until fn returns a value (at most 20 s); never asserts timing. */
async function until<T>(fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met within 20 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface StoreView {
  revision: number;
  modRevision: number;
  createRevision: number;
  version: number;
  object: any;
}

/** The key as the store holds it now (etcdctl), with the store's revision. */
async function storeRead(): Promise<StoreView> {
  const out = JSON.parse(await etcdctl(store, ['get', KEY, '-w', 'json']));
  const kv = out.kvs?.[0];
  if (!kv) throw new Error(`etcdctl: ${KEY} is missing`);
  return {
    revision: Number(out.header.revision),
    modRevision: Number(kv.mod_revision),
    createRevision: Number(kv.create_revision),
    version: Number(kv.version),
    object: JSON.parse(Buffer.from(kv.value, 'base64').toString()),
  };
}

/**
 * Publishes one writer's single-key entry for KEY straight to the stream: the stored object
 * with data.writer set, evaluated at `basis`. Returns its sequence (= its revision).
 */
async function publishWrite(writer: string, basis: number, seen: StoreView): Promise<number> {
  const value = Buffer.from(JSON.stringify({ ...seen.object, data: { writer } }));
  const key = Buffer.from(KEY);
  const entry = encodeSingleKeyEntry(
    basis,
    { type: 'put', key, value, lease: 0, createRevision: seen.createRevision, version: seen.version + 1 },
    { writer: `test-${writer}`, requestId: 1 },
  );
  const ack = await nc.jetstream().publish(keySubject(PREFIX, key), entry);
  return ack.seq;
}

/** Waits until the store has applied `seq`, and returns what it holds then. */
async function storeAt(seq: number): Promise<StoreView> {
  return until(async () => {
    const r = await storeRead();
    return r.revision >= seq ? r : undefined;
  });
}

/** What a List with resourceVersion "0" (the cache as it is) shows of KEY, after a consistent List made the cache catch up. */
async function cachedView(server: Apiserver): Promise<{ writer: string; resourceVersion: string }> {
  const c = configMaps(server);
  await call(c, 'listConfigMaps', { namespace: NS, resourceVersion: '' }, T);
  const list = await call(c, 'listConfigMaps', { namespace: NS, resourceVersion: '0' }, T);
  const item = list.items.find((i: any) => i.metadata.name === NAME);
  return { writer: item?.data?.writer, resourceVersion: item?.metadata?.resourceVersion };
}

/** Creates a ConfigMap through the apiserver; its revision marks the end of what a watcher must have seen. */
async function marker(server: Apiserver, name: string): Promise<void> {
  await call(configMaps(server), 'createConfigMap', { configMap: { metadata: { name, namespace: NS }, data: { marker: 'yes' } } }, T);
}

/**
 * The store's own history of KEY (an etcd Watch through etcdctl, from `fromRev`) until the
 * ConfigMap `markerName` appears: [resourceVersion, writer] per change.
 */
async function storeWatched(fromRev: number, markerName: string): Promise<[string, string][]> {
  const child = spawn(ETCDCTL_BIN, [`--endpoints=${store.endpoint}`, 'watch', `--rev=${fromRev}`, '--prefix', resourcePrefix(kind('ConfigMap'), NS), '-w', 'json'], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  try {
    const kvs = await until(() => {
      const all = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => (JSON.parse(l).Events ?? []) as { kv: { key: string; mod_revision: number; value: string } }[])
        .map((e) => ({ key: Buffer.from(e.kv.key, 'base64').toString(), rev: String(e.kv.mod_revision), object: JSON.parse(Buffer.from(e.kv.value ?? '', 'base64').toString() || '{}') }));
      return all.some((e) => e.key.endsWith(`/${markerName}`)) ? all : undefined;
    });
    return kvs.filter((e) => e.key === KEY).map((e) => [e.rev, e.object.data?.writer]);
  } finally {
    child.kill();
  }
}

/** The events of KEY a watcher saw until `markerName` was added: [type, resourceVersion, writer]. */
async function watchedUntil(w: ReturnType<typeof collect>, markerName: string): Promise<[number, string, string][]> {
  const events = await w.until((e) => e.some((x: any) => x.type === ADDED && x.object?.metadata?.name === markerName));
  return events
    .filter((x: any) => x.type !== BOOKMARK && x.object?.metadata?.name === NAME)
    .map((x: any) => [x.type, x.object.metadata.resourceVersion, x.object.data?.writer]);
}

beforeAll(async () => {
  requireBuild();
  store = await startStore('store');
  nc = await connect({ servers: store.natsUrl! });
  files = authFiles();
  await newApiserver();
}, 120000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(apiservers.map((a) => a.stop()));
  await nc?.close();
  await store?.stop();
});

it('keeps a racing write the store voided out of the watch cache and its watchers', async () => {
  const [a] = apiservers;
  const created = (await call(configMaps(a), 'createConfigMap', { configMap: { metadata: { name: NAME, namespace: NS }, data: { writer: 'apiserver' } } }, T)).configMap;
  const w = collect(configMaps(a), 'watchConfigMaps', { namespace: NS, resourceVersion: created.metadata.resourceVersion }, T);

  // Both writers evaluate the key at the same revision; both entries land in the stream.
  const seen = await storeAt(Number(created.metadata.resourceVersion));
  const first = await publishWrite('first', seen.revision, seen);
  const second = await publishWrite('second', seen.revision, seen);
  expect(second).toBeGreaterThan(first);

  // The store keeps the first and voids the second (the revision of the second stays unused).
  const truth = await storeAt(second);
  expect([truth.object.data.writer, truth.modRevision]).toEqual(['first', first]);

  await marker(a, 'marker-1');
  expect(await cachedView(a)).toEqual({ writer: 'first', resourceVersion: String(first) });
  const watched = await watchedUntil(w, 'marker-1');
  expect(watched).toEqual([[MODIFIED, String(first), 'first']]);
  expect(watched.map(([, rv, writer]) => [rv, writer])).toEqual(await storeWatched(Number(created.metadata.resourceVersion) + 1, 'marker-1'));
  w.cancel();
});

it('agrees with the store when the entry that voids a write came before the feed started', async () => {
  const [a] = apiservers;
  const seen = await storeRead();
  const third = await publishWrite('third', seen.revision, seen);
  await storeAt(third);

  // A second apiserver lists after `third` and follows the stream from there; the late
  // writer's entry (same basis as `third`) comes after its start.
  const b = await newApiserver();
  const wa = collect(configMaps(a), 'watchConfigMaps', { namespace: NS, resourceVersion: String(third) }, T);
  const wb = collect(configMaps(b), 'watchConfigMaps', { namespace: NS, resourceVersion: String(third) }, T);
  const late = await publishWrite('late', seen.revision, seen);

  const truth = await storeAt(late);
  expect([truth.object.data.writer, truth.modRevision]).toEqual(['third', third]);

  await marker(a, 'marker-2');
  for (const [server, w] of [
    [a, wa],
    [b, wb],
  ] as const) {
    expect(await cachedView(server)).toEqual({ writer: 'third', resourceVersion: String(third) });
    expect(await watchedUntil(w, 'marker-2')).toEqual(await storeWatched(third + 1, 'marker-2'));
    w.cancel();
  }
});
