import * as http from 'http';
import type { AddressInfo } from 'net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { corev1 } from '@k8ts/api';
import { resolvePort, runProbe, type ProbeTarget } from '../src/prober/probes';
import { ProbeWorker, probeTiming } from '../src/prober/worker';
import type { Runtime, SimulatedProbe } from '../src/runtime/types';

/** A runtime stand-in whose probe answers come from a script (only what probes use). */
function scriptedRuntime(answers: boolean[]): Runtime & { calls: number } {
  const rt = {
    calls: 0,
    simulateProbe(): SimulatedProbe {
      const ok = answers[Math.min(rt.calls, answers.length - 1)];
      rt.calls++;
      return { ok, message: ok ? '' : 'scripted failure' };
    },
  };
  return rt as unknown as Runtime & { calls: number };
}

const container: corev1.Container = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] };

function target(runtime: Runtime, podIP = '127.0.0.1'): ProbeTarget {
  return { runtime, containerId: 'id', podIP, container };
}

describe('probe worker', () => {
  it('applies Kubernetes defaults to unset fields', () => {
    expect(probeTiming({})).toEqual({ initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  });

  it('flips to failure after failureThreshold consecutive failures, back after successThreshold successes', async () => {
    const rt = scriptedRuntime([true, true, false, false, true, false, false, false, true, true]);
    const changes: boolean[] = [];
    const w = new ProbeWorker({
      kind: 'readiness',
      probe: { exec: { command: ['x'] }, periodSeconds: 1, failureThreshold: 3, successThreshold: 2 },
      target: target(rt),
      secondMs: 5,
      onChange: (r) => changes.push(r),
    });
    expect(w.current).toBe(false);
    w.start();
    await new Promise((r) => setTimeout(r, 150));
    w.stop();
    // Readiness starts false. t,t -> true; f,f (below 3) then t resets; f,f,f -> false; t,t -> true.
    expect(changes).toEqual([true, false, true]);
    expect(rt.calls).toBeGreaterThanOrEqual(10);
  });

  it('liveness starts successful, startup unknown and stops once it succeeded', async () => {
    const live = new ProbeWorker({ kind: 'liveness', probe: { exec: {} }, target: target(scriptedRuntime([true])), onChange: () => {} });
    expect(live.current).toBe(true);
    const rt = scriptedRuntime([false, false, true]);
    const changes: boolean[] = [];
    const startup = new ProbeWorker({ kind: 'startup', probe: { exec: {}, periodSeconds: 1, failureThreshold: 10 }, target: target(rt), secondMs: 5, onChange: (r) => changes.push(r) });
    expect(startup.current).toBeUndefined();
    startup.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(changes).toEqual([true]);
    expect(rt.calls).toBe(3);
  });

  it('does not probe while its gate is closed, and waits initialDelaySeconds', async () => {
    const rt = scriptedRuntime([false]);
    let open = false;
    const w = new ProbeWorker({ kind: 'liveness', probe: { exec: {}, periodSeconds: 1, initialDelaySeconds: 4 }, target: target(rt), secondMs: 10, gate: () => open, onChange: () => {} });
    w.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(rt.calls).toBe(0);
    await new Promise((r) => setTimeout(r, 40));
    expect(rt.calls).toBe(0); // gate closed
    open = true;
    await new Promise((r) => setTimeout(r, 40));
    w.stop();
    expect(rt.calls).toBeGreaterThan(0);
  });
});

describe('probe handlers', () => {
  let server: http.Server;
  let port: number;
  const noRuntime = {} as Runtime;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(200).end('ok');
      else if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
      else if (req.url === '/headers') res.writeHead(req.headers['x-check'] === 'a' ? 200 : 400).end();
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 500);
      else res.writeHead(503).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const get = (path: string, extra: Partial<corev1.HTTPGetAction> = {}) => runProbe({ httpGet: { path, port: { intVal: port }, ...extra } }, target(noRuntime), 200);

  it('httpGet: 200-399 succeed, others fail with the status code; headers are sent; timeouts fail', async () => {
    expect(await get('/ok')).toEqual({ ok: true, message: '' });
    expect(await get('/redirect')).toEqual({ ok: true, message: '' });
    expect(await get('/bad')).toEqual({ ok: false, message: 'HTTP probe failed with statuscode: 503' });
    expect((await get('/headers', { httpHeaders: [{ name: 'X-Check', value: 'a' }] })).ok).toBe(true);
    expect((await get('/slow')).message).toMatch(/context deadline exceeded/);
  });

  it('tcpSocket: connecting succeeds, a refused connection fails', async () => {
    expect(await runProbe({ tcpSocket: { port: { intVal: port } } }, target(noRuntime), 200)).toEqual({ ok: true, message: '' });
    const closed = await runProbe({ tcpSocket: { port: { intVal: 1 } } }, target(noRuntime), 200);
    expect(closed).toEqual({ ok: false, message: 'dial tcp 127.0.0.1:1: connect: connection refused' });
  });

  it('resolves named ports', () => {
    expect(resolvePort({ strVal: 'http' }, container)).toBe(8080);
    expect(resolvePort({ strVal: '9000' }, container)).toBe(9000);
    expect(resolvePort({ intVal: 1 }, container)).toBe(1);
    expect(resolvePort({ strVal: 'nope' }, container)).toBeUndefined();
  });

  it('grpc: asks grpc.health.v1 about the service', async () => {
    const health = new HealthImplementation({ '': 'SERVING', 'k8ts.Svc': 'NOT_SERVING' });
    const g = new grpc.Server();
    health.addToServer(g);
    const gport = await new Promise<number>((resolve, reject) =>
      g.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    try {
      expect(await runProbe({ grpc: { port: gport } }, target(noRuntime), 1000)).toEqual({ ok: true, message: '' });
      expect(await runProbe({ grpc: { port: gport, service: 'k8ts.Svc' } }, target(noRuntime), 1000)).toEqual({
        ok: false,
        message: 'service unhealthy (responded with "NOT_SERVING")',
      });
      const unknown = await runProbe({ grpc: { port: gport, service: 'other' } }, target(noRuntime), 1000);
      expect(unknown.message).toMatch(/^rpc error: code = NOT_FOUND/);
    } finally {
      g.forceShutdown();
    }
  });

  it('a probe without handler fails', async () => {
    expect(await runProbe({}, target(noRuntime), 100)).toMatchObject({ ok: false });
  });
});
