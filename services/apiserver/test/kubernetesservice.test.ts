// The default/kubernetes Service and its Endpoints over a registry on the in-memory store, with
// store leases that expire on a test clock (as the store's lessor expires them).
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { type KindInfo, kindFor } from '@k8ts/api';
import { ConfigError } from '@k8ts/kit';
import { MASTER_LEASES_PREFIX, masterLeaseKey, serviceIPKey } from '@k8ts/machinery';
import { AdmissionChain } from '../src/admission';
import { NamespaceLifecycle } from '../src/admission/namespacelifecycle';
import { PortRange, ServiceIPRange } from '../src/allocator/ranges';
import { CacheHub } from '../src/cache/hub';
import { ApiError } from '../src/errors';
import {
  KubernetesServiceReconciler,
  type KubernetesServiceDeps,
  endpointSubsets,
  firstServiceIP,
  leaseTtlSeconds,
  startKubernetesService,
} from '../src/kubernetesservice';
import { Registry } from '../src/registry/registry';
import { prefixEnd } from '../src/storage/kv';
import { sleep } from '../src/util';
import { MemoryKV } from './memorykv';

const logger = pino({ level: 'silent' });
const K = (apiVersion: string, kind: string): KindInfo => kindFor(apiVersion, kind)!;
const NS = K('v1', 'Namespace');
const SVCS = K('v1', 'Service');
const EPS = K('v1', 'Endpoints');
const RANGE = '10.96.0.0/29';

/** The in-memory store with lease expiry: leases live ttl seconds on a clock the test moves. */
class ExpiringKV extends MemoryKV {
  now = 0;
  private readonly expiries = new Map<string, number>();

  override async leaseGrant(ttlSeconds = 0): Promise<string> {
    const id = await super.leaseGrant();
    this.expiries.set(id, this.now + ttlSeconds * 1000);
    return id;
  }

  /** Moves the clock and deletes the keys of expired leases, as the store's lessor does. */
  async advance(ms: number): Promise<void> {
    this.now += ms;
    const all = await this.range('/', { end: prefixEnd('/') });
    for (const kv of all.kvs) {
      const expiresAt = this.expiries.get(kv.lease);
      if (kv.lease !== '0' && expiresAt !== undefined && expiresAt <= this.now) await this.txn([], [{ delete: { key: kv.key } }]);
    }
  }
}

async function newRegistry(kv: MemoryKV, range = RANGE): Promise<{ registry: Registry; hub: CacheHub }> {
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
  ]);
  registry = new Registry({ kv, hub, admission, serviceIPs: new ServiceIPRange(range), nodePorts: PortRange.parse('30000-30010'), logger });
  await registry.create(NS, { metadata: { name: 'default' } });
  return { registry, hub };
}

const svc = (name: string, clusterIP?: string) => ({
  metadata: { name, namespace: 'default' },
  spec: { ports: [{ port: 80 }], selector: { app: name }, ...(clusterIP ? { clusterIP } : {}) },
});

async function codeOf(p: Promise<unknown>): Promise<grpc.status> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return grpc.status.OK;
}

describe('the kubernetes Service', () => {
  let kv: ExpiringKV;
  let registry: Registry;
  let hub: CacheHub;
  const deps = (advertiseAddress: string, httpsPort = 6443, extra: Partial<KubernetesServiceDeps> = {}): KubernetesServiceDeps => ({
    registry,
    logger,
    advertiseAddress,
    httpsPort,
    serviceIPRange: new ServiceIPRange(RANGE),
    ...extra,
  });
  const readService = () => registry.read(SVCS, 'default', 'kubernetes');
  const readEndpoints = () => registry.read(EPS, 'default', 'kubernetes');
  const addresses = async () => ((await readEndpoints())?.subsets ?? []).map((s: { addresses: { ip: string }[]; ports: { port: number }[] }) => `${s.addresses.map((a) => a.ip).join(',')}:${s.ports.map((p) => p.port).join(',')}`);

  beforeEach(async () => {
    kv = new ExpiringKV();
    ({ registry, hub } = await newRegistry(kv));
  });
  afterEach(async () => {
    await hub.stop();
  });

  test('is created as Kubernetes creates it, on the first address of the range, which it holds', async () => {
    await new KubernetesServiceReconciler(deps('192.168.1.10')).reconcile(true);
    const s = await readService();
    expect(s?.metadata?.labels).toEqual({ component: 'apiserver', provider: 'kubernetes' });
    expect(s?.spec).toMatchObject({
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      clusterIPs: ['10.96.0.1'],
      sessionAffinity: 'None',
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: { intVal: 6443 } }],
    });
    expect(s?.spec.selector ?? {}).toEqual({});
    expect((await kv.range(serviceIPKey('10.96.0.1'))).kvs).toHaveLength(1);
    const ep = await readEndpoints();
    expect(ep?.metadata?.labels).toEqual({ 'endpointslice.kubernetes.io/skip-mirror': 'true' });
    expect(ep?.subsets).toMatchObject([{ addresses: [{ ip: '192.168.1.10' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }]);
  });

  test('gets the first address even when every other address of the range is taken, and nobody else can', async () => {
    expect(firstServiceIP(new ServiceIPRange(RANGE))).toBe('10.96.0.1');
    // a /29 has five addresses for Services besides the network, first and broadcast ones
    const taken = new Set<string>();
    for (let i = 0; i < 5; i++) taken.add((await registry.create(SVCS, svc(`s${i}`))).spec.clusterIP);
    expect(taken.has('10.96.0.1')).toBe(false);
    expect(await codeOf(registry.create(SVCS, svc('s5')))).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(await codeOf(registry.create(SVCS, svc('thief', '10.96.0.1')))).toBe(grpc.status.INVALID_ARGUMENT);
    await new KubernetesServiceReconciler(deps('192.168.1.10')).reconcile(true);
    expect((await readService())?.spec.clusterIP).toBe('10.96.0.1');
  });

  test('two apiservers starting together: one Service, both addresses', async () => {
    const a = new KubernetesServiceReconciler(deps('192.168.1.11'));
    const b = new KubernetesServiceReconciler(deps('192.168.1.10'));
    await Promise.all([a.reconcile(true), b.reconcile(true)]);
    await a.reconcile();
    expect(await addresses()).toEqual(['192.168.1.10,192.168.1.11:6443']);
    expect((await registry.list(SVCS, { namespace: 'default' })).items.filter((i) => i.obj.metadata?.name === 'kubernetes')).toHaveLength(1);
  });

  test('apiservers on one host with different ports are each an endpoint (one subset per port)', async () => {
    await new KubernetesServiceReconciler(deps('127.0.0.1', 6444)).reconcile();
    await new KubernetesServiceReconciler(deps('127.0.0.1', 6443)).reconcile();
    expect(await addresses()).toEqual(['127.0.0.1:6443', '127.0.0.1:6444']);
    expect(endpointSubsets([{ ip: '10.0.0.10', port: 1 }, { ip: '10.0.0.9', port: 1 }])[0].addresses).toEqual([{ ip: '10.0.0.9' }, { ip: '10.0.0.10' }]);
  });

  test('an apiserver that stops renewing drops out when its lease expires', async () => {
    const a = new KubernetesServiceReconciler(deps('192.168.1.10', 6443, { intervalMs: 10_000 }));
    const b = new KubernetesServiceReconciler(deps('192.168.1.11', 6443, { intervalMs: 10_000 }));
    await a.reconcile(true);
    await b.reconcile();
    expect(await addresses()).toEqual(['192.168.1.10,192.168.1.11:6443']);
    expect(leaseTtlSeconds(10_000)).toBe(15);
    // b is gone; a keeps its interval: after 10 s both leases still live, after 20 s only a's
    await kv.advance(10_000);
    await a.reconcile();
    expect(await addresses()).toEqual(['192.168.1.10,192.168.1.11:6443']);
    await kv.advance(10_000);
    await a.reconcile();
    expect(await addresses()).toEqual(['192.168.1.10:6443']);
    expect((await kv.range(MASTER_LEASES_PREFIX, { end: prefixEnd(MASTER_LEASES_PREFIX) })).kvs.map((k) => k.key)).toEqual([masterLeaseKey('192.168.1.10', 6443)]);
  });

  test('a deleted Service or Endpoints comes back at the next pass; Endpoints are not rewritten when right', async () => {
    const a = new KubernetesServiceReconciler(deps('192.168.1.10'));
    await a.reconcile(true);
    const rv = (await readEndpoints())?.metadata?.resourceVersion;
    await a.reconcile();
    expect((await readEndpoints())?.metadata?.resourceVersion).toBe(rv);
    await registry.delete(SVCS, 'default', 'kubernetes');
    await registry.delete(EPS, 'default', 'kubernetes');
    expect((await kv.range(serviceIPKey('10.96.0.1'))).kvs).toHaveLength(0);
    await a.reconcile();
    expect((await readService())?.spec.clusterIP).toBe('10.96.0.1');
    expect(await addresses()).toEqual(['192.168.1.10:6443']);
  });

  test('ports and type are put back on the first pass only', async () => {
    await new KubernetesServiceReconciler(deps('192.168.1.10', 6443)).reconcile(true);
    const restarted = new KubernetesServiceReconciler(deps('192.168.1.10', 7443));
    await restarted.reconcile();
    expect((await readService())?.spec.ports[0].targetPort).toEqual({ intVal: 6443 });
    await restarted.reconcile(true);
    expect((await readService())?.spec.ports).toEqual([expect.objectContaining({ name: 'https', port: 443, targetPort: { intVal: 7443 } })]);
    expect(await addresses()).toEqual(['192.168.1.10:6443', '192.168.1.10:7443']);
  });

  test('refuses an advertise address that is not an IPv4 address', () => {
    expect(() => new KubernetesServiceReconciler(deps('apiserver.local'))).toThrow(ConfigError);
    expect(() => new KubernetesServiceReconciler(deps('0.0.0.0'))).toThrow(/--advertise-address "0.0.0.0": must be an IPv4 address/);
  });

  test('startKubernetesService renews on every interval; stop() removes this apiserver but never the last one', async () => {
    const a = startKubernetesService(deps('192.168.1.10', 6443, { intervalMs: 40 }));
    const b = startKubernetesService(deps('192.168.1.11', 6443, { intervalMs: 40 }));
    const leaseOfA = async () => (await kv.range(masterLeaseKey('192.168.1.10', 6443))).kvs[0]?.modRevision ?? 0;
    for (let i = 0; i < 50 && (await addresses()).join() !== '192.168.1.10,192.168.1.11:6443'; i++) await sleep(20);
    expect(await addresses()).toEqual(['192.168.1.10,192.168.1.11:6443']);
    const before = await leaseOfA();
    await sleep(150);
    expect(await leaseOfA()).toBeGreaterThan(before);
    await b.stop();
    expect(await addresses()).toEqual(['192.168.1.10:6443']);
    await a.stop();
    // the last apiserver's lease is gone, but its address stays: nobody is left to serve
    expect(await leaseOfA()).toBe(0);
    expect(await addresses()).toEqual(['192.168.1.10:6443']);
    await a.stop();
  });
});
