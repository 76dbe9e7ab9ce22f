// Probes through the API with a kubelet process: a failing liveness probe restarts the
// container and restartCount grows in the pod's status; readiness flips the Ready condition;
// the previous instance's log is readable through the apiserver.
import { type Cluster, boundPod, conditionOf, eventually, podStatus, readLogs, request, startCluster } from './cluster';

const NODE = 'kt-probes';
const INDEX = 1;
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ nodes: [NODE] });
  await cluster.startKubelet({ name: NODE, index: INDEX });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

const http = (path: string) => ({ httpGet: { path, port: { intVal: 8080 } }, periodSeconds: 1, failureThreshold: 1 });
const web = (s: { containerStatuses?: Array<{ name?: string; restartCount?: number }> }) => s.containerStatuses?.find((c) => c.name === 'web');

it('restarts a container whose liveness probe fails; restartCount grows in the API', async () => {
  await cluster.admin.pods.create(
    boundPod('live', NODE, { containers: [{ name: 'web', image: 'k8ts/echo', ports: [{ containerPort: 8080 }], startupProbe: { ...http('/healthz'), failureThreshold: 40 }, livenessProbe: http('/healthz') }] }),
  );
  for (let round = 1; round <= 2; round++) {
    const s = await podStatus(cluster.admin, 'live', (st) => web(st)?.restartCount === round - 1 && conditionOf(st, 'Ready') === 'True', `Ready with ${round - 1} restarts`);
    await eventually('the echo server', () => request('POST', `http://${s.podIP}:8080/fail`).then((r) => r.status === 200));
    const after = await podStatus(cluster.admin, 'live', (st) => (web(st)?.restartCount ?? 0) >= round, `restart ${round}`);
    expect(after.containerStatuses![0].lastState?.terminated).toMatchObject({ containerID: expect.stringMatching(/^process:\/\//) });
  }
  const events = await cluster.admin.events.list({ namespace: 'default' });
  const reasons = events.items.filter((e) => e.involvedObject?.name === 'live').map((e) => e.reason);
  expect(reasons).toEqual(expect.arrayContaining(['Unhealthy', 'Killing']));
  const unhealthy = events.items.filter((e) => e.involvedObject?.name === 'live' && e.reason === 'Unhealthy').map((e) => e.message);
  expect(unhealthy).toContain('Liveness probe failed: HTTP probe failed with statuscode: 500');
  // The killed instance's log (it logged the SIGTERM it got).
  const previous = await readLogs(cluster.admin, 'live', { previous: true });
  expect(previous).toContain('received SIGTERM');
});

it('flips the Ready condition with the readiness probe', async () => {
  await cluster.admin.pods.create(
    boundPod('ready', NODE, { containers: [{ name: 'web', image: 'k8ts/echo', ports: [{ containerPort: 8080 }], readinessProbe: http('/readyz') }] }),
  );
  const s = await podStatus(cluster.admin, 'ready', (st) => conditionOf(st, 'Ready') === 'True', 'Ready');
  expect(conditionOf(s, 'ContainersReady')).toBe('True');
  await request('POST', `http://${s.podIP}:8080/fail-ready`);
  const notReady = await podStatus(cluster.admin, 'ready', (st) => conditionOf(st, 'Ready') === 'False', 'not Ready');
  expect(conditionOf(notReady, 'ContainersReady')).toBe('False');
  expect(notReady.phase).toBe('Running');
  expect(web(notReady)?.restartCount).toBe(0);
  await request('POST', `http://${s.podIP}:8080/recover`);
  await podStatus(cluster.admin, 'ready', (st) => conditionOf(st, 'Ready') === 'True', 'Ready again');
});
