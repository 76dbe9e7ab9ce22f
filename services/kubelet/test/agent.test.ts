// The API side of the kubelet over the client's fake clientset: node status and conditions,
// registration, the Lease, the pod status writer (coalescing, uid preconditions, retries),
// the event rate limit, ConfigMaps and Secrets for environments, sim pod CIDRs.
import * as grpc from '@grpc/grpc-js';
import type { corev1 } from '@k8ts/api';
import { ApiError } from '@k8ts/client';
import { createFakeClientset } from '@k8ts/client/fake';
import pino from 'pino';
import {
  NO_PRESSURE,
  NodeAgent,
  PodStatusWriter,
  TokenBucket,
  apiEnvSource,
  bytesQuantity,
  cpuQuantity,
  nodeConditions,
  splitCidr,
  statusKey,
  type NodeDescription,
} from '../src';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const description = (o: Partial<NodeDescription> = {}): NodeDescription => ({
  name: 'n1',
  ip: '127.10.0.1',
  capacity: { cpuMilli: 4000, memoryBytes: 8 * 2 ** 30, pods: 110 },
  podCIDR: '127.244.1.0/24',
  labels: { zone: 'a' },
  port: 10250,
  runtimeVersion: 'process://0.1.0',
  kubeletVersion: 'v0.1.0',
  simulated: false,
  ...o,
});

describe('node status', () => {
  it('formats quantities as the kubelet does', () => {
    expect(cpuQuantity(4000)).toBe('4');
    expect(cpuQuantity(3500)).toBe('3500m');
    expect(bytesQuantity(8 * 2 ** 30)).toBe('8Gi');
    expect(bytesQuantity(16331672 * 1024)).toBe('16331672Ki');
    // Below 1024 BinarySI is written as DecimalSI, as Kubernetes writes it.
    expect(bytesQuantity(1000)).toBe('1k');
    expect(bytesQuantity(1023)).toBe('1023');
  });

  it('keeps transition times while a condition holds and moves them when it changes', () => {
    const t0 = '2026-01-01T00:00:00.000Z';
    const first = nodeConditions(undefined, { ready: false, message: 'starting' }, NO_PRESSURE, t0);
    expect(first.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'starting', lastTransitionTime: t0 });
    const t1 = '2026-01-01T00:00:10.000Z';
    const second = nodeConditions(first, { ready: true, message: '' }, NO_PRESSURE, t1);
    expect(second.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady', lastTransitionTime: t1, lastHeartbeatTime: t1 });
    expect(second.find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'False', lastTransitionTime: t0, lastHeartbeatTime: t1 });
    expect(statusKey({ conditions: first })).not.toBe(statusKey({ conditions: second }));
  });

  it('splits a pod CIDR for simulated nodes', () => {
    expect(splitCidr('10.0.0.0/8', 3)).toEqual(['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24']);
    expect(splitCidr('127.244.0.0/16', 500)[499]).toBe('127.244.249.128/25');
    expect(splitCidr('127.244.1.0/24', 1)).toEqual(['127.244.1.0/24']);
    expect(() => splitCidr('127.244.1.0/24', 100)).toThrow(/too small/);
  });
});

describe('NodeAgent', () => {
  const agentFor = (client: ReturnType<typeof createFakeClientset>, o: Partial<NodeDescription> = {}, ready = true) =>
    new NodeAgent({
      client,
      node: description(o),
      logger,
      readiness: () => ({ ready, message: ready ? '' : 'not yet' }),
      pressure: () => NO_PRESSURE,
      leaseRenewIntervalMs: 50,
      statusUpdateMs: 50,
      statusReportMs: 60_000,
    });

  it('registers the Node with its status, then renews its Lease', async () => {
    const cs = createFakeClientset();
    const agent = agentFor(cs);
    await agent.register();
    agent.start();
    try {
      const node = await cs.nodes.get('n1');
      expect(node.spec).toMatchObject({ podCIDR: '127.244.1.0/24', podCIDRs: ['127.244.1.0/24'] });
      expect(node.metadata!.labels).toMatchObject({ 'kubernetes.io/hostname': 'n1', zone: 'a' });
      expect(node.status!.daemonEndpoints!.kubeletEndpoint!.Port).toBe(10250);
      expect(node.status!.addresses).toEqual([
        { type: 'InternalIP', address: '127.10.0.1' },
        { type: 'Hostname', address: 'n1' },
      ]);
      expect(node.status!.capacity).toEqual({ cpu: { value: '4' }, memory: { value: '8Gi' }, pods: { value: '110' } });
      const lease = await until(() => agent.currentLease, 'the lease');
      expect(lease.metadata).toMatchObject({ namespace: 'kube-node-lease', name: 'n1', ownerReferences: [{ kind: 'Node', name: 'n1', uid: node.metadata!.uid }] });
      expect(lease.spec!.renewTime).toMatch(/\.\d{6}Z$/);
      const renewals = () => cs.actions.filter((a) => a.resource === 'leases' && a.verb === 'update').length;
      await until(() => renewals() >= 2, 'two renewals');
    } finally {
      agent.stop();
    }
  });

  it('takes over an existing Node: labels and an empty pod CIDR are brought in line, status posted', async () => {
    const cs = createFakeClientset({ objects: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { keep: 'me' } }, spec: {} } as corev1.Node] });
    const agent = agentFor(cs);
    await agent.register();
    const node = await cs.nodes.get('n1');
    expect(node.metadata!.labels).toMatchObject({ keep: 'me', zone: 'a' });
    expect(node.spec!.podCIDR).toBe('127.244.1.0/24');
    expect(node.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
    agent.stop();
  });

  it('waits for the pod CIDR the node IPAM assigns', async () => {
    const cs = createFakeClientset();
    const agent = agentFor(cs, { podCIDR: '' }, false);
    await agent.register();
    const waiting = agent.waitForPodCIDR();
    const node = await cs.nodes.get('n1');
    expect(node.spec?.podCIDR ?? '').toBe('');
    agent.observe(await cs.nodes.update({ ...node, spec: { podCIDR: '127.244.9.0/24', podCIDRs: ['127.244.9.0/24'] } }));
    await expect(waiting).resolves.toBe('127.244.9.0/24');
    agent.stop();
  });

  it("corrects a Ready condition someone else changed, at once", async () => {
    const cs = createFakeClientset();
    const agent = agentFor(cs);
    await agent.register();
    agent.start();
    try {
      const node = await cs.nodes.get('n1');
      const conditions = node.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown' } : c));
      agent.observe(await cs.nodes.updateStatus({ ...node, status: { ...node.status, conditions } }));
      await until(async () => true, 'tick');
      await until(() => agent.node?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 'Ready True again');
    } finally {
      agent.stop();
    }
  });
});

describe('PodStatusWriter', () => {
  const pod = (name: string): corev1.Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: 'n1', containers: [] } });
  const ref = (p: corev1.Pod) => ({ namespace: 'default', name: p.metadata!.name!, uid: p.metadata!.uid! });

  it('writes the newest status, coalescing what arrives while a write is in flight', async () => {
    const cs = createFakeClientset();
    const p = await cs.pods.create(pod('a'));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let first = true;
    cs.prependReactor(async (a) => {
      if (a.verb === 'updateStatus' && first) {
        first = false;
        await gate;
      }
    });
    const w = new PodStatusWriter(cs.pods, { concurrency: 1, logger });
    w.updatePodStatus(ref(p), { phase: 'Pending' });
    w.updatePodStatus(ref(p), { phase: 'Running', podIP: '1.2.3.4' });
    w.updatePodStatus(ref(p), { phase: 'Running', podIP: '1.2.3.5' });
    release();
    await w.settled(p.metadata!.uid!);
    expect(cs.actions.filter((a) => a.verb === 'updateStatus')).toHaveLength(2);
    expect((await cs.pods.get('a', { namespace: 'default' })).status).toMatchObject({ phase: 'Running', podIP: '1.2.3.5' });
  });

  it('never writes a status to another pod of the same name, and forgets pods that are gone', async () => {
    const cs = createFakeClientset();
    const old = await cs.pods.create(pod('b'));
    await cs.pods.delete('b', { namespace: 'default' });
    const fresh = await cs.pods.create(pod('b'));
    // The apiserver takes metadata.uid of UpdateStatus as a precondition (the fake does not).
    cs.prependReactor(async (a) => {
      if (a.verb !== 'updateStatus') return;
      const sent = (a.object as corev1.Pod).metadata?.uid;
      const current = await cs.pods.get(a.name, { namespace: a.namespace }).catch(() => undefined);
      if (current && sent && current.metadata?.uid !== sent) throw new ApiError(grpc.status.ABORTED, 'Precondition failed: UID');
    });
    const w = new PodStatusWriter(cs.pods, { logger });
    w.updatePodStatus(ref(old), { phase: 'Failed' });
    await w.settled(old.metadata!.uid!);
    expect((await cs.pods.get('b', { namespace: 'default' })).status?.phase).not.toBe('Failed');
    expect(w.backlog).toBe(0);
    w.updatePodStatus({ namespace: 'default', name: 'gone', uid: 'x' }, { phase: 'Running' });
    await w.settled('x');
    expect(w.backlog).toBe(0);
    expect(fresh.metadata!.uid).not.toBe(old.metadata!.uid);
  });

  it('retries a failed write with back-off, keeping the newest status', async () => {
    const cs = createFakeClientset();
    const p = await cs.pods.create(pod('c'));
    let failures = 2;
    cs.prependReactor((a) => {
      if (a.verb === 'updateStatus' && failures-- > 0) throw new ApiError(grpc.status.UNAVAILABLE, 'down');
    });
    const w = new PodStatusWriter(cs.pods, { logger, retryMs: 10 });
    w.updatePodStatus(ref(p), { phase: 'Running' });
    await until(() => w.backlog === 0, 'the write');
    expect((await cs.pods.get('c', { namespace: 'default' })).status?.phase).toBe('Running');
    expect(w.failed).toBe(2);
    await w.close();
  });
});

describe('events and environments', () => {
  it('limits events to qps with a burst', () => {
    const b = new TokenBucket(1, 3);
    expect([b.take(), b.take(), b.take(), b.take()]).toEqual([true, true, true, false]);
    expect(b.dropped).toBe(1);
    const unlimited = new TokenBucket(0, 1);
    for (let i = 0; i < 100; i++) expect(unlimited.take()).toBe(true);
  });

  it('reads ConfigMaps and Secrets (decoded) through the API; missing ones are undefined', async () => {
    const cs = createFakeClientset({
      objects: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { mode: 'fast' } } as corev1.ConfigMap,
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: Buffer.from('s3cr3t') } } as corev1.Secret,
      ],
    });
    const env = apiEnvSource(cs);
    await expect(env.configMap('default', 'cfg')).resolves.toEqual({ mode: 'fast' });
    await expect(env.secret('default', 'db')).resolves.toEqual({ password: 's3cr3t' });
    await expect(env.configMap('default', 'nope')).resolves.toBeUndefined();
    await expect(env.secret('other', 'db')).resolves.toBeUndefined();
  });
});
