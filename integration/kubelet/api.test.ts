// The kubelet as a real process against a real apiserver, store and nats-server, with its own
// node credentials: registration and Lease, an echo pod from binding to Running (HTTP on its
// pod IP), logs through the apiserver (tail, follow), graceful deletion, admission refusals
// and image pull back-off, everything observed through the API.
import * as fs from 'fs';
import * as path from 'path';
import { isNotFound } from '@k8ts/client';
import { cidrContains } from '@k8ts/testkit';
import { type Cluster, type KubeletProcess, boundPod, conditionOf, eventually, podStatus, readLogs, request, startCluster } from './cluster';

const NODE = 'kt-api';
const INDEX = 1;
let cluster: Cluster;
let kubelet: KubeletProcess;

beforeAll(async () => {
  cluster = await startCluster({ nodes: [NODE] });
  kubelet = await cluster.startKubelet({ name: NODE, index: INDEX, args: ['--cpu', '2', '--memory', '4Gi'] });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

const echo = (extra: Record<string, unknown> = {}) => ({ name: 'web', image: 'k8ts/echo', ports: [{ name: 'http', containerPort: 8080 }], ...extra });

describe('the node', () => {
  it('registers its Node and turns Ready, with addresses, capacity and the kubelet API port', async () => {
    const node = await eventually('the Node Ready', async () => {
      const n = await cluster.admin.nodes.get(NODE);
      return conditionOf(n.status, 'Ready') === 'True' ? n : undefined;
    });
    const ready = node.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) expect(conditionOf(node.status, t)).toBeDefined();
    expect(node.status!.addresses).toEqual([
      { type: 'InternalIP', address: cluster.network.nodeIP(INDEX) },
      { type: 'Hostname', address: NODE },
    ]);
    const listening = /"address":"([^"]+)"[^\n]*"msg":"listening"/.exec(kubelet.logs())![1];
    expect(listening).toBe(`${cluster.network.nodeIP(INDEX)}:${node.status!.daemonEndpoints!.kubeletEndpoint!.Port}`);
    expect(node.status!.capacity).toMatchObject({ cpu: { value: '2' }, memory: { value: '4Gi' }, pods: { value: '110' } });
    expect(node.status!.allocatable).toMatchObject({ cpu: { value: '2' }, pods: { value: '110' } });
    expect(node.status!.nodeInfo).toMatchObject({ containerRuntimeVersion: 'process://0.1.0', operatingSystem: 'linux' });
    expect(node.spec!.podCIDR).toBe(cluster.network.podCidr(INDEX));
    expect(node.metadata!.labels).toMatchObject({ 'kubernetes.io/hostname': NODE, 'kubernetes.io/os': 'linux' });
  });

  it('renews its Lease in kube-node-lease', async () => {
    const first = await eventually('the Lease', () => cluster.admin.leases.get(NODE, { namespace: 'kube-node-lease' }));
    expect(first.spec).toMatchObject({ holderIdentity: NODE, leaseDurationSeconds: 40 });
    const node = await cluster.admin.nodes.get(NODE);
    expect(first.metadata!.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: NODE, uid: node.metadata!.uid });
    const renewed = await eventually('a renewal', async () => {
      const l = await cluster.admin.leases.get(NODE, { namespace: 'kube-node-lease' });
      return Date.parse(l.spec!.renewTime!) > Date.parse(first.spec!.renewTime!) ? l : undefined;
    });
    expect(renewed.spec!.holderIdentity).toBe(NODE);
  });
});

describe('the node, changed by others', () => {
  it('sets Ready back to True when someone else changed it (the node lifecycle controller marking it Unknown)', async () => {
    const node = await cluster.admin.nodes.get(NODE);
    const conditions = node.status!.conditions!.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' } : c));
    await cluster.admin.nodes.updateStatus({ ...node, status: { ...node.status, conditions } });
    await eventually('Ready True again', async () => {
      const n = await cluster.admin.nodes.get(NODE);
      return conditionOf(n.status, 'Ready') === 'True' && n.status!.conditions!.find((c) => c.type === 'Ready')!.reason === 'KubeletReady';
    });
  });

  it('registers the Node again when it is deleted', async () => {
    const before = await cluster.admin.nodes.get(NODE);
    await cluster.admin.nodes.delete(NODE);
    const after = await eventually('the Node back', async () => {
      const n = await cluster.admin.nodes.get(NODE);
      return n.metadata!.uid !== before.metadata!.uid && conditionOf(n.status, 'Ready') === 'True' ? n : undefined;
    });
    expect(after.spec!.podCIDR).toBe(cluster.network.podCidr(INDEX));
    expect(after.status!.daemonEndpoints!.kubeletEndpoint!.Port).toBe(before.status!.daemonEndpoints!.kubeletEndpoint!.Port);
    // Its Lease now names the new Node as owner.
    await eventually('the Lease owned by the new Node', async () => {
      const l = await cluster.admin.leases.get(NODE, { namespace: 'kube-node-lease' });
      return l.metadata!.ownerReferences?.[0]?.uid === after.metadata!.uid;
    });
  });
});

describe('pods', () => {
  it('runs an echo pod bound to the node: Running and Ready in the API, answering HTTP on its pod IP with its name', async () => {
    await cluster.admin.pods.create(boundPod('web', NODE, { containers: [echo()] }));
    const s = await podStatus(cluster.admin, 'web', (st) => st.phase === 'Running' && conditionOf(st, 'Ready') === 'True', 'Running and Ready');
    expect(cidrContains(cluster.network.podCidr(INDEX), s.podIP!)).toBe(true);
    expect(s.hostIP).toBe(cluster.network.nodeIP(INDEX));
    expect(s.containerStatuses![0]).toMatchObject({ name: 'web', ready: true, restartCount: 0 });
    expect(s.containerStatuses![0].containerID).toMatch(/^process:\/\/[0-9a-f]{32}$/);
    const res = await eventually('an answer', () => request('GET', `http://${s.podIP}:8080/`).then((r) => (r.status === 200 ? r : undefined)));
    expect(res.body).toBe('web\n');
    // Events from the kubelet, with its source.
    const events = await eventually('Started event', async () => {
      const list = await cluster.admin.events.list({ namespace: 'default' });
      const mine = list.items.filter((e) => e.involvedObject?.name === 'web');
      return mine.some((e) => e.reason === 'Started') ? mine : undefined;
    });
    const started = events.find((e) => e.reason === 'Started')!;
    expect(started.source).toMatchObject({ component: 'kubelet', host: NODE });
    expect(started.involvedObject).toMatchObject({ kind: 'Pod', fieldPath: 'spec.containers{web}' });
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Pulled', 'Created', 'Started']));
  });

  it('builds environments from ConfigMaps and Secrets read through the API (as this node may)', async () => {
    await cluster.admin.configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { MODE: 'fast', LEVEL: '3' } });
    await cluster.admin.secrets.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, data: { password: Buffer.from('s3cr3t') } });
    const env = [
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'MODE_TOO', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
    ];
    await cluster.admin.pods.create(boundPod('configured', NODE, { containers: [echo({ env, envFrom: [{ configMapRef: { name: 'settings' } }] })] }));
    const s = await podStatus(cluster.admin, 'configured', (st) => conditionOf(st, 'Ready') === 'True', 'Ready');
    const res = await eventually('an answer', () => request('GET', `http://${s.podIP}:8080/env?names=DB_PASSWORD,MODE_TOO,MODE,LEVEL`).then((r) => (r.status === 200 ? r : undefined)));
    expect(JSON.parse(res.body)).toMatchObject({ DB_PASSWORD: 's3cr3t', MODE_TOO: 'fast', MODE: 'fast', LEVEL: '3' });
  });

  it('streams logs through the apiserver: tail, then follow', async () => {
    const s = await podStatus(cluster.admin, 'web', (st) => !!st.podIP && conditionOf(st, 'Ready') === 'True', 'Ready');
    for (let i = 0; i < 3; i++) await request('GET', `http://${s.podIP}:8080/tail-${i}`);
    const tail = await eventually('the requests in the log', async () => {
      const text = await readLogs(cluster.admin, 'web', { tailLines: 2 });
      return text.includes('/tail-2') ? text : undefined;
    });
    const lines = tail.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('/tail-1');
    expect(lines[1]).toContain('/tail-2');

    const stream = cluster.admin.pods.logs('web', { namespace: 'default', follow: true, tailLines: 0 });
    let seen = '';
    const reading = (async () => {
      for await (const chunk of stream) {
        seen += chunk.toString();
        if (seen.includes('/followed')) break;
      }
    })();
    // The follow is open once the kubelet has it; keep asking until the new line comes through.
    await eventually('the followed line', async () => {
      await request('GET', `http://${s.podIP}:8080/followed`);
      return seen.includes('/followed');
    });
    stream.stop();
    await reading;
    expect(seen).not.toContain('/tail-2');
  });

  it('deletes gracefully: the process gets SIGTERM, then the pod object disappears', async () => {
    const termFile = path.join(cluster.dir, 'graceful.term');
    await cluster.admin.pods.create(boundPod('graceful', NODE, { containers: [echo({ env: [{ name: 'ECHO_TERM_FILE', value: termFile }] })] }));
    const s = await podStatus(cluster.admin, 'graceful', (st) => conditionOf(st, 'Ready') === 'True', 'Ready');
    await eventually('the echo server', () => request('GET', `http://${s.podIP}:8080/`).then((r) => r.status === 200));
    const deleted = await cluster.admin.pods.delete('graceful', { namespace: 'default' });
    expect(deleted.metadata!.deletionTimestamp).toBeTruthy();
    await eventually('SIGTERM in the process', () => fs.existsSync(termFile));
    expect(fs.readFileSync(termFile, 'utf8')).toMatch(/^SIGTERM /);
    await eventually('the pod gone from the API', async () => {
      try {
        await cluster.admin.pods.get('graceful', { namespace: 'default' });
        return false;
      } catch (err) {
        return isNotFound(err);
      }
    });
    await expect(request('GET', `http://${s.podIP}:8080/`, 1000)).rejects.toThrow();
  });

  it('refuses a pod that does not fit: Failed with reason OutOfcpu', async () => {
    await cluster.admin.pods.create(boundPod('too-big', NODE, { containers: [echo({ resources: { requests: { cpu: { value: '3' } } } })] }));
    const s = await podStatus(cluster.admin, 'too-big', (st) => st.phase === 'Failed', 'Failed');
    expect(s.reason).toBe('OutOfcpu');
    expect(s.message).toMatch(/^Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, used: \d+, capacity: 2000$/);
    const events = await cluster.admin.events.list({ namespace: 'default' });
    expect(events.items.some((e) => e.involvedObject?.name === 'too-big' && e.reason === 'OutOfcpu')).toBe(true);
  });

  it('shows ImagePullBackOff for an unknown image', async () => {
    await cluster.admin.pods.create(boundPod('no-image', NODE, { containers: [{ name: 'c', image: 'example.com/not-an-image:1' }] }));
    const s = await podStatus(cluster.admin, 'no-image', (st) => st.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff', 'ImagePullBackOff');
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses![0].state!.waiting!.message).toBe('Back-off pulling image "example.com/not-an-image:1"');
    expect(conditionOf(s, 'Ready')).toBe('False');
  });
});
