import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { type KindInfo, kindFor, metav1 } from '@k8ts/api';
import { objectKey } from '@k8ts/machinery';
import { AdmissionChain } from '../src/admission';
import { DefaultTolerationSeconds } from '../src/admission/defaulttolerationseconds';
import { NamespaceLifecycle } from '../src/admission/namespacelifecycle';
import { PortRange, ServiceIPRange } from '../src/allocator/ranges';
import type { WatchOut } from '../src/cache/watchcache';
import { CacheHub } from '../src/cache/hub';
import { ApiError } from '../src/errors';
import { LeaseManager } from '../src/registry/leases';
import { Registry } from '../src/registry/registry';
import { bindPod, updateScale } from '../src/registry/subresources';
import { MemoryKV } from './memorykv';

const logger = pino({ level: 'silent' });
const K = (apiVersion: string, kind: string): KindInfo => kindFor(apiVersion, kind)!;
const PODS = K('v1', 'Pod');
const CMS = K('v1', 'ConfigMap');
const NS = K('v1', 'Namespace');
const SVCS = K('v1', 'Service');
const DEPLOY = K('apps/v1', 'Deployment');
const JOBS = K('batch/v1', 'Job');

async function newRegistry(kv: MemoryKV, ports = '30000-30002', eventLeases?: LeaseManager): Promise<{ registry: Registry; hub: CacheHub }> {
  const hub = new CacheHub(kv, kv.feed(), logger, { maxEvents: 1000, historyMs: 60_000 });
  await hub.start();
  let registry: Registry | undefined;
  const admission = new AdmissionChain([
    new NamespaceLifecycle({
      async getNamespace(name) {
        const ns = await registry!.read(NS, '', name);
        return ns ? { terminating: !!ns.metadata?.deletionTimestamp } : undefined;
      },
    }),
    new DefaultTolerationSeconds(300, 300),
  ]);
  registry = new Registry({ kv, hub, admission, serviceIPs: new ServiceIPRange('127.96.0.0/24'), nodePorts: PortRange.parse(ports), logger, eventLeases });
  return { registry, hub };
}

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return grpc.status.OK;
}

const pod = (name: string) => ({ metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });

describe('Registry', () => {
  let kv: MemoryKV;
  let registry: Registry;
  let hub: CacheHub;
  beforeEach(async () => {
    kv = new MemoryKV();
    ({ registry, hub } = await newRegistry(kv));
    await registry.create(NS, { metadata: { name: 'default' } });
  });

  it('creates with identity, defaults and admission; stores JSON without the resourceVersion', async () => {
    const p = await registry.create(PODS, pod('web'));
    expect(p.metadata).toMatchObject({ name: 'web', namespace: 'default', generation: 1 });
    expect(Number(p.metadata!.resourceVersion)).toBe(kv.revision);
    expect(p.spec.tolerations).toHaveLength(2);
    const stored = JSON.parse((await kv.range(objectKey(PODS, 'default', 'web'))).kvs[0].value.toString());
    expect(stored).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', uid: p.metadata!.uid } });
    expect(stored.metadata.resourceVersion).toBeUndefined();
    expect(await code(registry.create(PODS, pod('web')))).toBe(grpc.status.ALREADY_EXISTS);
    const gen = await registry.create(PODS, { ...pod(''), metadata: { generateName: 'web-', namespace: 'default' } });
    expect(gen.metadata!.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(await code(registry.create(PODS, { ...pod('x'), metadata: { name: 'x', namespace: 'nowhere' } }))).toBe(grpc.status.NOT_FOUND);
    // dry run: validated and defaulted, not stored
    const rev = kv.revision;
    await registry.create(PODS, pod('dry'), { dryRun: true });
    expect(kv.revision).toBe(rev);
  });

  it('updates with optimistic concurrency; an unchanged update writes nothing', async () => {
    const cm = await registry.create(CMS, { metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } });
    const u = await registry.update(CMS, { ...cm, data: { a: '2' } });
    expect(u.metadata!.generation).toBe(2);
    const err = await registry.update(CMS, { ...cm, data: { a: '3' } }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(grpc.status.ABORTED);
    expect(err.message).toBe('Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again');
    const rev = kv.revision;
    const same = await registry.update(CMS, u);
    expect(same.metadata!.resourceVersion).toBe(u.metadata!.resourceVersion);
    expect(kv.revision).toBe(rev);
    expect(await code(registry.update(CMS, { metadata: { name: 'missing', namespace: 'default' } }))).toBe(grpc.status.NOT_FOUND);
  });

  it('deletes gracefully: a bound pod waits for grace 0, finalizers hold an object, propagation is recorded', async () => {
    await registry.create(PODS, pod('web'));
    await bindPod(registry, { metadata: { name: 'web', namespace: 'default' }, target: { name: 'n1' } });
    expect(await code(bindPod(registry, { metadata: { name: 'web', namespace: 'default' }, target: { name: 'n2' } }))).toBe(grpc.status.ABORTED);
    const marked = await registry.delete(PODS, 'default', 'web', { propagationPolicy: 'Orphan' });
    expect(marked.metadata).toMatchObject({ deletionGracePeriodSeconds: 30, finalizers: ['orphan'] });
    // The garbage collector removes its finalizer; the kubelet ends the grace period.
    const cur = await registry.get(PODS, 'default', 'web');
    await registry.update(PODS, { ...cur, metadata: { ...cur.metadata, finalizers: [] } });
    expect(await registry.read(PODS, 'default', 'web')).toBeDefined();
    await registry.delete(PODS, 'default', 'web', { gracePeriodSeconds: 0 });
    expect(await registry.read(PODS, 'default', 'web')).toBeUndefined();
    expect(await code(registry.delete(PODS, 'default', 'web'))).toBe(grpc.status.NOT_FOUND);
    expect(await code(registry.delete(CMS, 'default', 'x', { propagationPolicy: 'Sideways' }))).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('jobs: the selector and pod labels use the uid the registry assigns; status changes only through UpdateStatus', async () => {
    const input = {
      metadata: { generateName: 'pi-', namespace: 'default', uid: 'client-chosen' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } } },
      status: { succeeded: 9 },
    };
    const j = await registry.create(JOBS, input);
    const uid = j.metadata!.uid!;
    const name = j.metadata!.name!;
    expect(uid).not.toBe('client-chosen');
    expect(name).toMatch(/^pi-[a-z0-9]{5}$/);
    expect(j.spec.selector.matchLabels).toEqual({ 'batch.kubernetes.io/controller-uid': uid });
    expect(j.spec.template.metadata.labels).toEqual({ 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name });
    expect(j.status).toMatchObject({ succeeded: 0, active: 0, failed: 0 });
    const stored = JSON.parse((await kv.range(objectKey(JOBS, 'default', name))).kvs[0].value.toString());
    expect(stored.spec.selector.matchLabels['batch.kubernetes.io/controller-uid']).toBe(uid);
    // Update: parallelism may change, status is kept; completions may not change.
    const u = await registry.update(JOBS, { ...j, spec: { ...j.spec, parallelism: 2 }, status: { succeeded: 5 } });
    expect(u.spec.parallelism).toBe(2);
    expect(u.status.succeeded).toBe(0);
    expect(u.metadata!.generation).toBe(2);
    const err = await registry.update(JOBS, { ...u, spec: { ...u.spec, completions: 3 } }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.message).toContain('spec.completions: Invalid value: 3: field is immutable');
    const s = await registry.updateStatus(JOBS, { ...u, status: { ...u.status, active: 1, startTime: '2026-01-10T12:00:00Z' } });
    expect(s.status).toMatchObject({ active: 1, startTime: '2026-01-10T12:00:00Z' });
    expect(s.metadata!.generation).toBe(2);
  });

  it('bumps the generation through the scale subresource', async () => {
    await registry.create(DEPLOY, {
      metadata: { name: 'd', namespace: 'default' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });
    const s = await updateScale(registry, DEPLOY, { metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 4 } });
    expect(s).toMatchObject({ spec: { replicas: 4 }, status: { selector: 'a=b' } });
    expect((await registry.get(DEPLOY, 'default', 'd')).metadata!.generation).toBe(2);
  });

  it('serves lists and watches from the cache at a consistent revision', async () => {
    for (const n of ['a', 'b', 'c']) await registry.create(CMS, { metadata: { name: n, namespace: 'default', labels: { n } } });
    const first = await registry.list(CMS, { namespace: 'default', limit: 2 });
    expect(first.items.map((i) => i.obj.metadata!.name)).toEqual(['a', 'b']);
    expect(first.resourceVersion).toBe(String(kv.revision));
    const rest = await registry.list(CMS, { namespace: 'default', limit: 2, continueToken: first.continueToken });
    expect(rest.items.map((i) => i.obj.metadata!.name)).toEqual(['c']);
    expect(rest.continueToken).toBe('');
    expect(await code(registry.list(CMS, { labelSelector: 'n in (a' }))).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await code(registry.list(CMS, { fieldSelector: 'spec.x=1' }))).toBe(grpc.status.INVALID_ARGUMENT);

    const events: WatchOut[] = [];
    const w = await registry.watch(CMS, { namespace: 'default', labelSelector: 'n=b', resourceVersion: first.resourceVersion }, { send: (e) => events.push(e) > 0, close() {} });
    await registry.update(CMS, { metadata: { name: 'b', namespace: 'default', labels: { n: 'b', x: 'y' } } });
    await registry.delete(CMS, 'default', 'b');
    await hub.waitFor(kv.revision);
    expect(events.map((e) => e.type)).toEqual([metav1.WatchEventType.WATCH_EVENT_TYPE_MODIFIED, metav1.WatchEventType.WATCH_EVENT_TYPE_DELETED]);
    w.stop();
  });
});

describe('allocations across two registries over one store', () => {
  it('never hands out a node port twice, picking again after a collision, and releases on delete', async () => {
    const kv = new MemoryKV();
    const a = await newRegistry(kv);
    const b = await newRegistry(kv);
    await a.registry.create(NS, { metadata: { name: 'default' } });
    const svc = (name: string) => ({ metadata: { name, namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    const s1 = await a.registry.create(SVCS, svc('s1'));
    const s2 = await a.registry.create(SVCS, svc('s2'));
    // b's view of the allocations is stale: it will pick taken ports and must pick again.
    b.hub.allocated.clear();
    const s3 = await b.registry.create(SVCS, svc('s3'));
    const ports = [s1, s2, s3].map((s) => s.spec.ports[0].nodePort);
    expect(new Set(ports).size).toBe(3);
    b.hub.allocated.clear();
    const err = await b.registry.create(SVCS, svc('s4')).catch((e) => e);
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    await a.registry.delete(SVCS, 'default', 's2');
    const s4 = await b.registry.create(SVCS, svc('s4'));
    expect(s4.spec.ports[0].nodePort).toBe(s2.spec.ports[0].nodePort);
    // A user-chosen port that is taken is an Invalid field, not a retry.
    const taken = { metadata: { name: 's5', namespace: 'default' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: s1.spec.ports[0].nodePort }] } };
    const err2 = await a.registry.create(SVCS, taken).catch((e) => e);
    expect(err2.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err2.message).toContain('spec.ports[0].nodePort: Invalid value');
  });
});

describe('objects with a time to live', () => {
  it('puts Events under the shared event lease and other kinds under none', async () => {
    const kv = new MemoryKV();
    const { registry, hub } = await newRegistry(kv, '30000-30002', new LeaseManager(kv, 3600));
    try {
      await registry.create(NS, { metadata: { name: 'default' } });
      await registry.create(K('v1', 'Event'), {
        metadata: { name: 'e1', namespace: 'default' },
        involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
        reason: 'Started',
        message: 'started',
        type: 'Normal',
      } as never);
      await registry.create(CMS, { metadata: { name: 'c1', namespace: 'default' } });
      const lease = async (key: string) => (await kv.range(key)).kvs[0]?.lease;
      expect(await lease('/kubernetes.io/events/default/e1')).not.toBe('0');
      expect(await lease('/kubernetes.io/configmaps/default/c1')).toBe('0');
    } finally {
      await hub.stop();
    }
  });
});
