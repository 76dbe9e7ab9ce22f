// Probes against real processes: liveness (httpGet, grpc) restarts, readiness (httpGet,
// tcpSocket, exec) drives Ready, startup holds the others back. One "second" of probe settings
// is PROBE_SECOND_MS here.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { cidrContains } from '@k8ts/testkit';
import { condition, containerStatus, echoContainer, eventually, makePod, request, TestNode } from './process-harness';

const node = new TestNode({});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-probes-'));

beforeAll(() => node.start());
afterAll(async () => {
  await node.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const http = (p: string, port: number | string = 'http'): corev1.Probe['httpGet'] => ({
  path: p,
  port: typeof port === 'number' ? { intVal: port } : { strVal: port },
});

async function ipOf(pod: corev1.Pod): Promise<string> {
  const s = await node.waitStatus(pod, (st) => !!st.podIP && st.phase === 'Running', 'a pod IP');
  return s.podIP!;
}

describe('liveness', () => {
  it('restarts a container whose liveness probe fails, and restartCount grows', async () => {
    const pod = node.run(
      makePod(node, 'live-http', {
        containers: [
          echoContainer({
            livenessProbe: {
              httpGet: { ...http('/healthz'), httpHeaders: [{ name: 'X-Probe', value: 'yes' }] },
              initialDelaySeconds: 2,
              periodSeconds: 1,
              failureThreshold: 2,
            },
          }),
        ],
      }),
    );
    const ip = await ipOf(pod);
    const uid = pod.metadata!.uid!;
    for (let round = 1; round <= 2; round++) {
      await eventually(() => request('GET', `http://${ip}:8080/healthz`).then((r) => r.status === 200), 'a healthy echo');
      const before = containerStatus(node.status(pod), 'web')!.containerID;
      expect((await request('POST', `http://${ip}:8080/fail`)).status).toBe(200);
      const s = await node.waitStatus(
        pod,
        (st) => containerStatus(st, 'web')?.restartCount === round && !!containerStatus(st, 'web')?.state?.running,
        `restart ${round}`,
      );
      const cs = containerStatus(s, 'web')!;
      expect(cs.containerID).not.toBe(before);
      expect(cs.lastState?.terminated?.containerID).toBe(before);
      expect(cs.lastState?.terminated?.finishedAt).toBeTruthy();
    }
    const unhealthy = node.events.of(uid, 'Unhealthy');
    expect(unhealthy.length).toBeGreaterThanOrEqual(2);
    expect(unhealthy.map((e) => e.message)).toContain('Liveness probe failed: HTTP probe failed with statuscode: 500');
    expect(unhealthy[0].type).toBe('Warning');
    const killing = node.events.of(uid, 'Killing');
    expect(killing.map((e) => e.message)).toEqual([
      'Container web failed liveness probe, will be restarted',
      'Container web failed liveness probe, will be restarted',
    ]);
    // The echo server exits 0 on SIGTERM: the killed instance completed.
    expect(containerStatus(node.status(pod), 'web')!.lastState?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(node.status(pod)!.phase).toBe('Running');
    // The killed instance's log is the previous one.
    const previous: string[] = [];
    for await (const l of node.manager.logs(uid, { previous: true })) previous.push(l);
    expect(previous.some((l) => l.includes('echo: received SIGTERM'))).toBe(true);
    expect(previous.some((l) => l.includes('POST /fail 200'))).toBe(true);
  });

  it('restarts on a failing grpc health check (grpc.health.v1, the service field)', async () => {
    const pod = node.run(
      makePod(node, 'live-grpc', {
        containers: [
          echoContainer({
            args: ['--grpc-port', '9090'],
            livenessProbe: { grpc: { port: 9090, service: '' }, periodSeconds: 1, failureThreshold: 2, initialDelaySeconds: 2 },
            readinessProbe: { grpc: { port: 9090 }, periodSeconds: 1 },
          }),
        ],
      }),
    );
    const ip = await ipOf(pod);
    await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready through grpc');
    await request('POST', `http://${ip}:8080/fail`);
    await node.waitStatus(pod, (st) => containerStatus(st, 'web')?.restartCount === 1, 'a restart');
    const msgs = node.events.of(pod.metadata!.uid!, 'Unhealthy').map((e) => e.message);
    expect(msgs).toContain('Liveness probe failed: service unhealthy (responded with "NOT_SERVING")');
  });
});

describe('readiness', () => {
  it('flips the container and the pod Ready off and on (httpGet), without restarts', async () => {
    const pod = node.run(
      makePod(node, 'ready-http', {
        containers: [echoContainer({ readinessProbe: { httpGet: http('/readyz', 8080), periodSeconds: 1, failureThreshold: 1 } })],
      }),
    );
    const ip = await ipOf(pod);
    await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready');
    await request('POST', `http://${ip}:8080/fail-ready`);
    const off = await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'False', 'not Ready');
    expect(containerStatus(off, 'web')).toMatchObject({ ready: false, started: true });
    expect(off.conditions!.find((c) => c.type === 'ContainersReady')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [web]',
    });
    expect(off.phase).toBe('Running');
    await request('POST', `http://${ip}:8080/recover-ready`);
    const on = await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready again');
    expect(containerStatus(on, 'web')).toMatchObject({ ready: true, restartCount: 0 });
    const msgs = node.events.of(pod.metadata!.uid!, 'Unhealthy').map((e) => e.message);
    expect(msgs).toContain('Readiness probe failed: HTTP probe failed with statuscode: 503');
    // Ready's transition time moved with the flips.
    const hist = node.statuses.history.get(pod.metadata!.uid!)!;
    const readyFlips = hist.map((s) => condition(s, 'Ready')).filter((v, i, a) => i === 0 || v !== a[i - 1]);
    expect(readyFlips.slice(-3)).toEqual(['True', 'False', 'True']);
  });

  it('uses a tcpSocket probe on a named port', async () => {
    const pod = node.run(
      makePod(node, 'ready-tcp', {
        containers: [echoContainer({ args: ['--startup-delay-ms', '700'], readinessProbe: { tcpSocket: { port: { strVal: 'http' } }, periodSeconds: 1 } })],
      }),
    );
    await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready over TCP');
    // Before the server listened, the probe was refused.
    const msgs = node.events.of(pod.metadata!.uid!, 'Unhealthy').map((e) => e.message);
    const refusedAt = msgs.map((m) => /^Readiness probe failed: dial tcp ([\d.]+):8080: connect: connection refused$/.exec(m)?.[1]).filter((ip): ip is string => ip !== undefined);
    expect(refusedAt.length).toBeGreaterThan(0);
    for (const ip of refusedAt) expect(cidrContains(node.podCIDR, ip)).toBe(true);
  });

  it('runs an exec probe with the container environment', async () => {
    const flagFile = path.join(tmp, 'ready-flag');
    const pod = node.run(
      makePod(node, 'ready-exec', {
        containers: [
          {
            name: 'main',
            image: 'k8ts/pause',
            env: [{ name: 'READY_FILE', value: flagFile }],
            readinessProbe: { exec: { command: ['sh', '-c', 'test "$K8TS_POD_NAME" = ready-exec && test -f "$READY_FILE"'] }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      }),
    );
    const first = await node.waitStatus(pod, (st) => st.phase === 'Running', 'Running');
    expect(condition(first, 'Ready')).toBe('False');
    fs.writeFileSync(flagFile, 'ok');
    await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready after the file appeared');
    fs.rmSync(flagFile);
    await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'False', 'not Ready after the file went');
    expect(node.events.of(pod.metadata!.uid!, 'Unhealthy')[0].message).toMatch(/^Readiness probe failed: command "sh -c .*" exited with 1$/);
  });
});

describe('startup', () => {
  it('holds liveness and readiness back until it succeeds', async () => {
    const pod = node.run(
      makePod(node, 'startup-slow', {
        containers: [
          echoContainer({
            args: ['--startup-delay-ms', '1500'],
            startupProbe: { httpGet: http('/healthz'), periodSeconds: 1, failureThreshold: 30 },
            // Would kill the container at the first failure if it ran before startup succeeded.
            livenessProbe: { httpGet: http('/healthz'), periodSeconds: 1, failureThreshold: 1 },
            readinessProbe: { httpGet: http('/readyz'), periodSeconds: 1 },
          }),
        ],
      }),
    );
    const early = await node.waitStatus(pod, (st) => !!containerStatus(st, 'web')?.state?.running, 'running');
    expect(containerStatus(early, 'web')).toMatchObject({ started: false, ready: false });
    const s = await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready');
    expect(containerStatus(s, 'web')).toMatchObject({ started: true, ready: true, restartCount: 0 });
    const msgs = node.events.of(pod.metadata!.uid!, 'Unhealthy').map((e) => e.message);
    expect(msgs.some((m) => m.startsWith('Startup probe failed:'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('Liveness probe failed:'))).toBe(false);
    expect(msgs.some((m) => m.startsWith('Readiness probe failed:'))).toBe(false);
  });

  it('restarts a container whose startup probe keeps failing', async () => {
    const pod = node.run(
      makePod(node, 'startup-never', {
        containers: [echoContainer({ startupProbe: { tcpSocket: { port: { intVal: 8999 } }, periodSeconds: 1, failureThreshold: 2 } })],
      }),
    );
    await node.waitStatus(pod, (st) => (containerStatus(st, 'web')?.restartCount ?? 0) >= 1, 'a restart');
    const killing = node.events.of(pod.metadata!.uid!, 'Killing').map((e) => e.message);
    expect(killing).toContain('Container web failed startup probe, will be restarted');
  });
});
