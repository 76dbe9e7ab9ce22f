// Two apiserver replicas over one store: a write through one is seen by a watch on the other,
// their Lists agree, optimistic concurrency holds across them, and service IPs and node ports
// are never handed out twice even when both allocate at once.
import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';
import { type Apiserver, type Store, call, collect, expectCode, requireBuild, startApiserver, startStore } from './harness';
import { TOKENS, authArgs, authFiles, clientFor, kind, sample } from './fixtures';

const T = TOKENS.admin;
let store: Store;
let a: Apiserver;
let b: Apiserver;
const clients: grpc.Client[] = [];

function client(server: Apiserver, k: string): grpc.Client {
  const c = clientFor(kind(k), server.address);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  requireBuild();
  store = await startStore();
  const files = authFiles();
  [a, b] = await Promise.all([startApiserver(store, [...authArgs(files), '--metrics-listen', '127.0.0.1:0']), startApiserver(store, authArgs(files))]);
  await call(client(a, 'Namespace'), 'createNamespace', { namespace: { metadata: { name: 'two' } } }, T);
}, 120000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await store?.stop();
});

it('follows the store the way the test expects (the NATS stream when the k8ts store runs)', () => {
  if (store.kind === 'store') {
    expect(a.logs()).toContain('"feed":"nats"');
  } else expect(a.logs()).toContain('"feed":"etcd"');
});

it('shows a write through one replica to a watch on the other', async () => {
  const w = collect(client(b, 'Pod'), 'watchPods', { namespace: 'two' }, T);
  const created = (await call(client(a, 'Pod'), 'createPod', { pod: sample(kind('Pod'), 'seen', 'two') }, T)).pod;
  const events = await w.until((e) => e.some((x: any) => x.object?.metadata?.name === 'seen'));
  const ev = events.find((x: any) => x.object?.metadata?.name === 'seen');
  expect(ev.type).toBe(metav1.WatchEventType.WATCH_EVENT_TYPE_ADDED);
  expect(ev.object.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  expect(ev.object.metadata.uid).toBe(created.metadata.uid);
  await call(client(a, 'Pod'), 'deletePod', { namespace: 'two', name: 'seen' }, T);
  await w.until((e) => e.some((x: any) => x.type === metav1.WatchEventType.WATCH_EVENT_TYPE_DELETED));
  w.cancel();
});

it('serves the same List from both replicas', async () => {
  for (let i = 0; i < 6; i++) {
    const via = i % 2 === 0 ? a : b;
    await call(client(via, 'ConfigMap'), 'createConfigMap', { configMap: sample(kind('ConfigMap'), `cm-${i}`, 'two') }, T);
  }
  // A List right after the writes, through the other replica, reflects all of them.
  const [la, lb] = await Promise.all([
    call(client(a, 'ConfigMap'), 'listConfigMaps', { namespace: 'two' }, T),
    call(client(b, 'ConfigMap'), 'listConfigMaps', { namespace: 'two' }, T),
  ]);
  const view = (l: any) => l.items.map((i: any) => [i.metadata.name, i.metadata.resourceVersion, i.metadata.uid]);
  expect(view(la)).toEqual(view(lb));
  expect(view(la)).toHaveLength(6);
  expect(la.metadata.resourceVersion).toBe(lb.metadata.resourceVersion);
});

it('keeps optimistic concurrency across replicas', async () => {
  const cm = (await call(client(a, 'ConfigMap'), 'getConfigMap', { namespace: 'two', name: 'cm-0' }, T)).configMap;
  await call(client(b, 'ConfigMap'), 'updateConfigMap', { configMap: { ...cm, data: { key: 'by-b' } } }, T);
  await expectCode(call(client(a, 'ConfigMap'), 'updateConfigMap', { configMap: { ...cm, data: { key: 'by-a' } } }, T), grpc.status.ABORTED);
});

it('never allocates a service IP or node port twice, even when both replicas allocate at once', async () => {
  const creates = [];
  for (let i = 0; i < 30; i++) {
    const svc = sample(kind('Service'), `svc-${i}`, 'two');
    svc.spec.type = 'NodePort';
    creates.push(call(client(i % 2 === 0 ? a : b, 'Service'), 'createService', { service: svc }, T));
  }
  const made = (await Promise.all(creates)).map((r: any) => r.service);
  const ips = made.map((s) => s.spec.clusterIP);
  const ports = made.map((s) => s.spec.ports[0].nodePort);
  expect(new Set(ips).size).toBe(30);
  expect(new Set(ports).size).toBe(30);

  // The same user-chosen IP through both replicas at once: exactly one wins.
  const contested = (via: Apiserver, name: string) => {
    const svc = sample(kind('Service'), name, 'two');
    svc.spec.clusterIP = '127.96.200.200';
    return call(client(via, 'Service'), 'createService', { service: svc }, T).then(
      () => 'ok',
      (err: grpc.ServiceError) => err.code,
    );
  };
  const results = await Promise.all([contested(a, 'contest-a'), contested(b, 'contest-b')]);
  expect(results.filter((r) => r === 'ok')).toHaveLength(1);
  expect(results.filter((r) => r === grpc.status.INVALID_ARGUMENT)).toHaveLength(1);
});

it('reports watch cache and watcher metrics', async () => {
  const m = /"metricsAddress":"([^"]+)"/.exec(a.logs());
  expect(m).toBeTruthy();
  // A bookmark comes right after registration: the watch is counted once it arrives.
  const w = collect(client(a, 'Pod'), 'watchPods', { namespace: 'two', allowWatchBookmarks: true }, T);
  await w.until((e) => e.some((x: any) => x.type === metav1.WatchEventType.WATCH_EVENT_TYPE_BOOKMARK));
  const text = await (await fetch(`http://${m![1]}/metrics`)).text();
  expect(text).toMatch(/apiserver_watch_cache_objects\{resource="configmaps"[^}]*\} [1-9]/);
  expect(text).toMatch(/apiserver_watchers\{resource="pods"[^}]*\} [1-9]/);
  expect(text).toMatch(/apiserver_watch_cache_revision\{[^}]*\} [1-9]/);
  expect(text).toMatch(/grpc_server_handled_total\{[^}]*method="CreateService"[^}]*code="OK"/);
  w.cancel();
});
