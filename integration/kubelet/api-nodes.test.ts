// More than one kubelet, and kubelets that go away: two process nodes side by side, a kubelet
// killed with SIGKILL and started again on the same root directory (it adopts the running
// containers: same process, no duplicate; a pod deleted meanwhile is killed), and simulated
// nodes (--sim-nodes) in one process.
import * as fs from 'fs';
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { cidrContains, findProcesses, isProcessAlive } from '@k8ts/testkit';
import { type Cluster, type KubeletProcess, boundPod, conditionOf, eventually, podStatus, request, startCluster } from './cluster';

let cluster: Cluster;
let kubeletA: KubeletProcess;
const A = 'kt-node-a';
const B = 'kt-node-b';
const C = 'kt-node-c';

beforeAll(async () => {
  cluster = await startCluster({ nodes: [A, B, C] });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

const echo = { name: 'web', image: 'k8ts/echo', ports: [{ containerPort: 8080 }] };

/** The pid of a container instance, from the state file its kubelet wrote. */
function containerPid(root: string, pod: corev1.Pod, container: string, attempt = 0): number {
  const dir = path.join(root, 'pods', `${pod.metadata!.namespace}_${pod.metadata!.name}_${pod.metadata!.uid}`, container);
  return JSON.parse(fs.readFileSync(path.join(dir, `${attempt}.json`), 'utf8')).pid;
}

/** Live echo server processes (not the shim) of a pod, by the pod uid in their environment. */
function echoProcesses(uid: string): number[] {
  return findProcesses((p) => p.argv.some((a) => a.endsWith('echo.js')) && !p.argv.includes('k8ts-shim') && p.env.includes(`K8TS_POD_UID=${uid}`)).map((p) => p.pid);
}

it('runs pods on two nodes, each with IPs from its own pod CIDR', async () => {
  [kubeletA] = await Promise.all([cluster.startKubelet({ name: A, index: 1 }), cluster.startKubelet({ name: B, index: 2 })]);
  await cluster.admin.pods.create(boundPod('on-a', A, { containers: [echo] }));
  await cluster.admin.pods.create(boundPod('on-b', B, { containers: [echo] }));
  const sa = await podStatus(cluster.admin, 'on-a', (st) => conditionOf(st, 'Ready') === 'True', 'Ready');
  const sb = await podStatus(cluster.admin, 'on-b', (st) => conditionOf(st, 'Ready') === 'True', 'Ready');
  expect(cidrContains(cluster.network.podCidr(1), sa.podIP!)).toBe(true);
  expect(cidrContains(cluster.network.podCidr(2), sb.podIP!)).toBe(true);
  expect(sb.hostIP).toBe(cluster.network.nodeIP(2));
  for (const [s, name] of [
    [sa, 'on-a'],
    [sb, 'on-b'],
  ] as const) {
    const r = await eventually('an answer', () => request('GET', `http://${s.podIP}:8080/`).then((x) => (x.status === 200 ? x : undefined)));
    expect(r.body).toBe(`${name}\n`);
  }
});

it('a kubelet killed and started again adopts its running containers (same process, no duplicate)', async () => {
  await cluster.admin.pods.create(boundPod('kept', A, { containers: [echo] }));
  await cluster.admin.pods.create(boundPod('dropped', A, { containers: [{ name: 'p', image: 'k8ts/pause' }] }));
  const kept = await cluster.admin.pods.get('kept', { namespace: 'default' });
  const dropped = await cluster.admin.pods.get('dropped', { namespace: 'default' });
  const s0 = await podStatus(cluster.admin, 'kept', (st) => conditionOf(st, 'Ready') === 'True', 'Ready');
  await podStatus(cluster.admin, 'dropped', (st) => conditionOf(st, 'Ready') === 'True', 'Ready');
  await eventually('kept answering', () => request('GET', `http://${s0.podIP}:8080/`).then((r) => r.status === 200));
  const root = path.join(cluster.dir, `root-${A}`);
  const pid = containerPid(root, kept, 'web');
  const droppedPid = containerPid(root, dropped, 'p');
  expect(echoProcesses(kept.metadata!.uid!)).toEqual([expect.any(Number)]);

  // SIGKILL: nothing of the kubelet runs any more; its containers do.
  expect(await kubeletA.stop('SIGKILL')).toBeNull();
  expect(isProcessAlive(pid)).toBe(true);
  expect((await request('GET', `http://${s0.podIP}:8080/`)).body).toBe('kept\n');
  // While no kubelet runs, one pod is deleted for good.
  await cluster.admin.pods.delete('dropped', { namespace: 'default', gracePeriodSeconds: 0 });

  await cluster.startKubelet({ name: A, index: 1, root });
  const s1 = await podStatus(cluster.admin, 'kept', (st) => conditionOf(st, 'Ready') === 'True' && st.containerStatuses?.[0]?.containerID === s0.containerStatuses?.[0]?.containerID, 'Ready, same container');
  expect(s1.containerStatuses![0].restartCount).toBe(0);
  expect(s1.podIP).toBe(s0.podIP);
  expect(isProcessAlive(pid)).toBe(true);
  expect(echoProcesses(kept.metadata!.uid!)).toHaveLength(1);
  expect((await request('GET', `http://${s0.podIP}:8080/`)).body).toBe('kept\n');
  // The deleted pod's container was killed by the new kubelet.
  await eventually('the dropped pod killed', () => !isProcessAlive(droppedPid));
});

it('without --pod-cidr, waits NotReady for the node IPAM to set spec.podCIDR, then runs pods from it', async () => {
  await cluster.startKubelet({ name: C, index: 3, podCidr: '', readyPattern: /"msg":"node registered"/ });
  const waiting = await eventually('the Node', () => cluster.admin.nodes.get(C));
  expect(waiting.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: expect.stringContaining('pod CIDR') });
  // What the controller-manager's node IPAM controller does.
  const podCidr = cluster.network.podCidr(3);
  await cluster.admin.nodes.update({ ...waiting, spec: { ...waiting.spec, podCIDR: podCidr, podCIDRs: [podCidr] } });
  await eventually('the Node Ready', async () => conditionOf((await cluster.admin.nodes.get(C)).status, 'Ready') === 'True');
  await cluster.admin.pods.create(boundPod('on-c', C, { containers: [echo] }));
  const s = await podStatus(cluster.admin, 'on-c', (st) => conditionOf(st, 'Ready') === 'True', 'Ready');
  expect(cidrContains(podCidr, s.podIP!)).toBe(true);
});

it('runs simulated nodes in one process (--sim-nodes), each with its Node, Lease and pods', async () => {
  await cluster.startKubelet({ name: 'kt-sim', index: 4, adminToken: true, args: ['--sim-nodes', '3', '--pod-cidr', '10.240.0.0/16', '--sim-start-delay', '20ms'] });
  for (const n of ['kt-sim-1', 'kt-sim-2', 'kt-sim-3']) {
    const node = await cluster.admin.nodes.get(n);
    expect(conditionOf(node.status, 'Ready')).toBe('True');
    expect(node.status!.nodeInfo!.containerRuntimeVersion).toBe('sim://0.1.0');
    await eventually(`lease of ${n}`, () => cluster.admin.leases.get(n, { namespace: 'kube-node-lease' }));
  }
  expect((await cluster.admin.nodes.get('kt-sim-2')).spec!.podCIDR).toBe('10.240.1.0/24');
  await cluster.admin.pods.create(boundPod('simmed', 'kt-sim-2', { containers: [{ name: 'c', image: 'k8ts/echo' }] }));
  const s = await podStatus(cluster.admin, 'simmed', (st) => st.phase === 'Running' && conditionOf(st, 'Ready') === 'True', 'Running');
  expect(s.podIP).toMatch(/^10\.240\.1\./);
});
