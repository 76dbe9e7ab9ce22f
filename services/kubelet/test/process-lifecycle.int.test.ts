// Memory limits (OOMKilled) and graceful deletion (SIGTERM, then SIGKILL after the grace
// period) with real processes.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isAlive } from '../src';
import { condition, containerStatus, echoContainer, eventually, makePod, request, TestNode } from './process-harness';

const node = new TestNode({});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-lifecycle-'));

beforeAll(() => node.start());
afterAll(async () => {
  await node.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const limit = (mem: string) => ({ limits: { memory: { value: mem } } });

describe('memory limits', () => {
  it('kills a container over its memory limit and reports OOMKilled (exit code 137), then restarts it', async () => {
    const pod = node.run(makePod(node, 'oom-live', { containers: [echoContainer({ resources: limit('160Mi') })] }));
    const s0 = await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready');
    const ip = s0.podIP!;
    await eventually(() => request('GET', `http://${ip}:8080/healthz`).then((r) => r.status === 200), 'the echo server');
    // Grows past the limit in steps (the process is killed somewhere along the way).
    for (let i = 0; i < 10; i++) {
      const ok = await request('POST', `http://${ip}:8080/allocate?mb=40`).then(
        () => true,
        () => false,
      );
      if (!ok) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    const s = await node.waitStatus(pod, (st) => containerStatus(st, 'web')?.restartCount === 1, 'a restart');
    expect(containerStatus(s, 'web')!.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('a container that allocates past its limit at start ends OOMKilled (restartPolicy Never: Failed)', async () => {
    const pod = node.run(
      makePod(node, 'oom-hog', { restartPolicy: 'Never', containers: [echoContainer({ args: ['--memory-hog', '300'], resources: limit('128Mi') })] }),
    );
    const s = await node.waitStatus(pod, (st) => st.phase === 'Failed', 'Failed');
    expect(containerStatus(s, 'web')!.state?.terminated).toMatchObject({ exitCode: 137, signal: 9, reason: 'OOMKilled' });
  });
});

describe('graceful deletion', () => {
  it('stops the containers with SIGTERM, seen by the process, then reports the pod terminated', async () => {
    const termFile = path.join(tmp, 'graceful.term');
    const pod = node.run(makePod(node, 'graceful', { containers: [echoContainer({ env: [{ name: 'ECHO_TERM_FILE', value: termFile }] })] }));
    const s0 = await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready');
    // Ready (no readiness probe) means started, not listening: wait until its SIGTERM handler is in.
    await eventually(() => request('GET', `http://${s0.podIP}:8080/`).then((r) => r.status === 200), 'the echo server');
    const cs0 = containerStatus(s0, 'web')!;
    const id = cs0.containerID!.replace('process://', '');
    const pid = node.runtime.containerStatus(id)!.pid!;
    const logFile = node.runtime.logFiles(id).pop()!;

    node.manager.updatePod({
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 10 },
    });
    await eventually(() => node.terminated.includes(pod.metadata!.uid!), 'onPodTerminated');
    expect(fs.readFileSync(termFile, 'utf8')).toMatch(/^SIGTERM /);
    expect(fs.readFileSync(logFile, 'utf8')).toContain('echo: received SIGTERM');
    expect(isAlive(pid)).toBe(false);

    const s = node.status(pod)!;
    expect(containerStatus(s, 'web')!.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(condition(s, 'Ready')).toBe('False');
    expect(['Succeeded', 'Failed']).toContain(s.phase);
    const killing = node.events.of(pod.metadata!.uid!, 'Killing').map((e) => e.message);
    expect(killing).toEqual(['Stopping container web']);

    // The kubelet finishes the deletion; the pod is then gone from the API: its files go.
    const podDir = path.dirname(path.dirname(logFile));
    expect(fs.existsSync(podDir)).toBe(true);
    await node.manager.removePod(pod.metadata!.uid!);
    expect(fs.existsSync(podDir)).toBe(false);
    expect(node.runtime.getPodSandbox(pod.metadata!.uid!)).toBeUndefined();
  });

  it('kills a container that ignores SIGTERM once the grace period is over (exit 137)', async () => {
    const termFile = path.join(tmp, 'stubborn.term');
    const pod = node.run(
      makePod(node, 'stubborn', {
        containers: [
          echoContainer({
            env: [
              { name: 'ECHO_TERM_FILE', value: termFile },
              { name: 'ECHO_IGNORE_SIGTERM', value: '1' },
            ],
          }),
        ],
      }),
    );
    const s0 = await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready');
    await eventually(() => request('GET', `http://${s0.podIP}:8080/`).then((r) => r.status === 200), 'the echo server');
    node.manager.updatePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 1 } });
    await eventually(() => node.terminated.includes(pod.metadata!.uid!), 'onPodTerminated');
    expect(fs.readFileSync(termFile, 'utf8')).toMatch(/^SIGTERM /);
    const s = node.status(pod)!;
    expect(containerStatus(s, 'web')!.state?.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
    expect(s.phase).toBe('Failed');
  });

  it('a pod that was deleted while it was still starting is stopped without restarts', async () => {
    const pod = node.run(makePod(node, 'short-lived', { containers: [echoContainer()] }));
    node.manager.updatePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 5 } });
    await eventually(() => node.terminated.includes(pod.metadata!.uid!), 'onPodTerminated');
    expect(node.runtime.listContainers(pod.metadata!.uid!).every((c) => c.state === 'exited')).toBe(true);
  });
});
