// Admission (pods that do not fit are refused with Kubernetes' reasons) and images (unknown
// ones wait in ErrImagePull / ImagePullBackOff; the image table file is re-read), plus
// environment errors and local images.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { condition, containerStatus, eventually, makePod, TestNode } from './process-harness';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-images-'));
const tableFile = path.join(tmp, 'images.json');
fs.writeFileSync(tableFile, JSON.stringify({ 'example/sleeper': { command: [process.execPath, '-e', 'setInterval(()=>{},1000)'] } }));

const node = new TestNode({ cpu: 2000, memoryBytes: 2 * 2 ** 30, pods: 4, imageTableFile: tableFile });

beforeAll(() => node.start());
afterAll(async () => {
  await node.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const pause = (cpu?: string, memory?: string, hostPort?: number) => ({
  name: 'p',
  image: 'k8ts/pause',
  resources: { requests: { ...(cpu ? { cpu: { value: cpu } } : {}), ...(memory ? { memory: { value: memory } } : {}) } },
  ports: hostPort ? [{ containerPort: 8080, hostPort }] : [],
});

describe('admission', () => {
  it('refuses a pod that does not fit the allocatable cpu, memory or pod count, and clashing host ports', async () => {
    const big = node.run(makePod(node, 'big', { containers: [pause('1')] }));
    const fits = node.run(makePod(node, 'fits', { containers: [pause('500m', '1Gi', 18080)] }));
    await node.waitStatus(fits, (st) => st.phase === 'Running', 'fits Running');
    await node.waitStatus(big, (st) => st.phase === 'Running', 'big Running');

    const cpu = node.run(makePod(node, 'no-cpu', { containers: [pause('600m')] }));
    const s1 = await node.waitStatus(cpu, (st) => st.phase === 'Failed', 'refused');
    expect(s1).toMatchObject({ reason: 'OutOfcpu', message: 'Pod was rejected: Node didn\'t have enough resource: cpu, requested: 600, used: 1500, capacity: 2000' });
    expect(condition(s1, 'PodScheduled')).toBe('True');
    expect(node.events.of(cpu.metadata!.uid!, 'OutOfcpu')[0]).toMatchObject({ type: 'Warning' });

    const mem = node.run(makePod(node, 'no-mem', { containers: [pause(undefined, '1536Mi')] }));
    const s2 = await node.waitStatus(mem, (st) => st.phase === 'Failed', 'refused');
    expect(s2.reason).toBe('OutOfmemory');
    expect(s2.message).toMatch(/^Pod was rejected: Node didn't have enough resource: memory, requested: 1610612736, used: 1073741824, capacity: 2147483648$/);

    const port = node.run(makePod(node, 'same-port', { containers: [pause(undefined, undefined, 18080)] }));
    const s3 = await node.waitStatus(port, (st) => st.phase === 'Failed', 'refused');
    expect(s3.reason).toBe('NodePorts');
    expect(s3.message).toContain('TCP 0.0.0.0:18080 is used by pod default/fits');

    node.run(makePod(node, 'third', { containers: [pause()] }));
    node.run(makePod(node, 'fourth', { containers: [pause()] }));
    const fifth = node.run(makePod(node, 'fifth', { containers: [pause()] }));
    const s4 = await node.waitStatus(fifth, (st) => st.phase === 'Failed', 'refused');
    expect(s4).toMatchObject({ reason: 'OutOfpods', message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 4, capacity: 4" });
    // Nothing of a refused pod ran.
    expect(node.runtime.listContainers(fifth.metadata!.uid!)).toHaveLength(0);
    expect(node.runtime.getPodSandbox(fifth.metadata!.uid!)).toBeUndefined();

    // Once pods are gone, there is room again.
    for (const p of [big, fits]) await node.manager.removePod(p.metadata!.uid!);
    const later = node.run(makePod(node, 'later', { containers: [pause('1')] }));
    await node.waitStatus(later, (st) => st.phase === 'Running', 'Running');
    for (const p of node.manager.activePods()) await node.manager.removePod(p.metadata!.uid!);
  });
});

describe('images', () => {
  it('an unknown image waits with ErrImagePull, then ImagePullBackOff, until the image table has it', async () => {
    const pod = node.run(makePod(node, 'unknown-image', { containers: [{ name: 'app', image: 'example/app:1.0' }] }));
    const s1 = await node.waitStatus(pod, (st) => containerStatus(st, 'app')?.state?.waiting?.reason === 'ErrImagePull', 'ErrImagePull');
    expect(s1.phase).toBe('Pending');
    expect(containerStatus(s1, 'app')!.state!.waiting!.message).toMatch(/^image "example\/app:1.0" is not in the image table of this node \(known: .*k8ts\/echo/);
    const s2 = await node.waitStatus(pod, (st) => containerStatus(st, 'app')?.state?.waiting?.reason === 'ImagePullBackOff', 'ImagePullBackOff');
    expect(containerStatus(s2, 'app')!.state!.waiting!.message).toBe('Back-off pulling image "example/app:1.0"');
    const events = node.events.of(pod.metadata!.uid!).map((e) => `${e.reason}: ${e.message}`);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Failed: Failed to pull image "example\/app:1.0": /),
        'Failed: Error: ErrImagePull',
        'BackOff: Back-off pulling image "example/app:1.0"',
        'Failed: Error: ImagePullBackOff',
      ]),
    );
    // Pull attempts repeat with back-off (ErrImagePull comes back at each attempt).
    await eventually(() => node.events.of(pod.metadata!.uid!).filter((e) => e.message === 'Error: ErrImagePull').length >= 2, 'a second pull attempt');

    // The image arrives in the table: the next attempt runs it (tag stripped: example/app).
    const table = JSON.parse(fs.readFileSync(tableFile, 'utf8'));
    table['example/app'] = { command: [process.execPath, '-e', 'setInterval(()=>{},1000)'] };
    fs.writeFileSync(tableFile, JSON.stringify(table));
    const s3 = await node.waitStatus(pod, (st) => st.phase === 'Running', 'Running', 30_000);
    expect(containerStatus(s3, 'app')!.restartCount).toBe(0);
  });

  it('runs an image from the image table file', async () => {
    const pod = node.run(makePod(node, 'from-table', { containers: [{ name: 's', image: 'docker.io/example/sleeper:latest' }] }));
    await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready');
    await node.manager.removePod(pod.metadata!.uid!);
  });

  it('runs a local/ image: the container command as is', async () => {
    const out = path.join(tmp, 'local-out');
    const pod = node.run(
      makePod(node, 'local', { restartPolicy: 'Never', containers: [{ name: 'sh', image: 'local/sh', command: ['sh', '-c', `echo "$K8TS_POD_NAME" > ${out}`] }] }),
    );
    await node.waitStatus(pod, (st) => st.phase === 'Succeeded', 'Succeeded');
    expect(fs.readFileSync(out, 'utf8')).toBe('local\n');
  });
});

describe('environment errors', () => {
  it('a missing ConfigMap leaves the container waiting with CreateContainerConfigError', async () => {
    const pod = node.run(
      makePod(node, 'no-config', {
        containers: [{ name: 'p', image: 'k8ts/pause', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x' } } }] }],
      }),
    );
    const s = await node.waitStatus(pod, (st) => containerStatus(st, 'p')?.state?.waiting?.reason === 'CreateContainerConfigError', 'the config error');
    expect(containerStatus(s, 'p')!.state!.waiting!.message).toBe('configmap "absent" not found');
    expect(s.phase).toBe('Pending');
    await node.manager.removePod(pod.metadata!.uid!);
  });
});
