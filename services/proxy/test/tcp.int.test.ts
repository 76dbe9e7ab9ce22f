// The proxy's TCP data plane against real servers on loopback addresses: the engine runs
// in-process with rules computed from Service and Endpoints objects, and every connection
// is a real one through the kernel. The addresses (node, pods, Services, clients) are the
// file's own network, leased from @k8ts/testkit.
import * as crypto from 'crypto';
import * as net from 'net';
import type { corev1 } from '@k8ts/api';
import {
  closeSockets,
  connectError,
  inParallel,
  leaseTestNetwork,
  startSlowTcpBackend,
  startTcpBackend,
  tally,
  type TcpBackend,
  tcpConnect,
  type TestNetwork,
  whoami,
} from '@k8ts/testkit';
import { computeRules, ProxyEngine } from '../src';
import { endpoints, type ProxyTestAddresses, proxyTestAddresses, service, sleep } from './fixtures';

let network: TestNetwork;
let at: ProxyTestAddresses;
let NODE_IP: string;
let PODS: string[];
const vip = (i: number) => at.serviceIP(i);
const POD_PORT = 24080;
const http = [{ name: 'http', port: POD_PORT }];

let engine: ProxyEngine;
const backends: TcpBackend[] = [];
let objects: { services: corev1.Service[]; endpoints: corev1.Endpoints[] };

/** Applies the current `objects` and waits for the listeners. */
async function apply(): Promise<void> {
  const { rules, problems } = computeRules(objects.services, objects.endpoints, { nodeIP: NODE_IP });
  expect(problems).toEqual([]);
  await engine.apply(rules);
}

function setEndpoints(eps: corev1.Endpoints): Promise<void> {
  objects.endpoints = [...objects.endpoints.filter((e) => e.metadata?.name !== eps.metadata?.name), eps];
  return apply();
}

function setService(svc: corev1.Service): Promise<void> {
  objects.services = [...objects.services.filter((s) => s.metadata?.name !== svc.metadata?.name), svc];
  return apply();
}

beforeAll(async () => {
  network = await leaseTestNetwork(__filename);
  at = proxyTestAddresses(network);
  NODE_IP = at.nodeIP;
  PODS = at.pods;
  for (const ip of PODS) backends.push(await startTcpBackend(ip, POD_PORT));
  // A second port on the first pod, reached only through a named target port.
  backends.push(await startTcpBackend(PODS[0], POD_PORT + 1));
  engine = new ProxyEngine({ connectTimeoutMs: 2000, bindRetryMs: 50 });
  objects = { services: [], endpoints: [] };
});

afterAll(async () => {
  engine?.close();
  await closeSockets();
  await network?.release();
});

test('connections spread evenly over 3 endpoints (each within 10% of a third of 3,000)', async () => {
  await setService(service('spread', { clusterIP: vip(10), ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }] }));
  await setEndpoints(endpoints('spread', PODS, http));
  const ids = await inParallel(3000, 32, () => whoami(vip(10), 24000));
  const counts = tally(ids);
  expect(Object.keys(counts).sort()).toEqual(PODS.map((p) => `${p}:${POD_PORT}`));
  for (const n of Object.values(counts)) {
    expect(n).toBeGreaterThanOrEqual(900);
    expect(n).toBeLessThanOrEqual(1100);
  }
  const st = engine.ruleStatus('default/spread:24000/TCP')!;
  expect(st.stats.total).toBe(3000);
  expect(st.endpoints.map((e) => e.stats.total)).toEqual(PODS.map((p) => counts[`${p}:${POD_PORT}`]));
});

test('ClientIP affinity holds for a client, then expires after timeoutSeconds of idleness', async () => {
  await setService(
    service('sticky', {
      clusterIP: vip(11),
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 1 } },
      ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }],
    }),
  );
  await setEndpoints(endpoints('sticky', PODS, http));
  const clientA = at.clientIP(1);
  const clientB = at.clientIP(2);
  const first = await whoami(vip(11), 24000, clientA);
  const firstB = await whoami(vip(11), 24000, clientB);
  expect(firstB).not.toBe(first);
  for (let i = 0; i < 20; i++) {
    expect(await whoami(vip(11), 24000, clientA)).toBe(first);
    expect(await whoami(vip(11), 24000, clientB)).toBe(firstB);
  }
  expect(engine.ruleStatus('default/sticky:24000/TCP')!.affinityClients).toBe(2);
  // Idle for longer than the timeout: the next connection is balanced again, and sticks there.
  await sleep(1600);
  const after = await whoami(vip(11), 24000, clientA);
  expect(after).not.toBe(first);
  expect(await whoami(vip(11), 24000, clientA)).toBe(after);
});

test('a removed endpoint gets no new connections while its established stream keeps flowing', async () => {
  await setService(service('drain', { clusterIP: vip(12), ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }] }));
  await setEndpoints(endpoints('drain', PODS, http));
  // Open connections until one lands on the endpoint that will be removed.
  const victim = `${PODS[2]}:${POD_PORT}`;
  let stream: Awaited<ReturnType<typeof tcpConnect>> | undefined;
  for (let i = 0; i < 3 && !stream; i++) {
    const c = await tcpConnect(vip(12), 24000);
    await c.waitFor('\n');
    if (c.data().startsWith(victim)) stream = c;
    else c.sock.destroy();
  }
  expect(stream).toBeDefined();
  const s = stream!;
  s.sock.write('before;');
  await s.waitFor('before;');

  await setEndpoints(endpoints('drain', PODS.slice(0, 2), http));
  const ids = await inParallel(300, 16, () => whoami(vip(12), 24000));
  expect(ids).not.toContain(victim);
  expect(Object.keys(tally(ids)).sort()).toEqual(PODS.slice(0, 2).map((p) => `${p}:${POD_PORT}`));

  // The established connection is untouched: data still flows both ways, then it closes cleanly.
  for (let i = 0; i < 50; i++) s.sock.write(`after-${i};`);
  await s.waitFor('after-49;');
  s.sock.end('bye');
  expect(await s.ended).toBe(`${victim}\nbefore;${Array.from({ length: 50 }, (_, i) => `after-${i};`).join('')}bye`);
});

test('a service without ready endpoints refuses connections; it serves again once one is ready', async () => {
  await setService(service('empty', { clusterIP: vip(13), ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }] }));
  // Only a not-ready address.
  await setEndpoints(endpoints('empty', [], http, { notReady: [PODS[0]] }));
  expect(await connectError(vip(13), 24000)).toBe('ECONNREFUSED');
  expect(engine.ruleStatus('default/empty:24000/TCP')!.listeners.map((l) => l.state)).toEqual(['refusing']);

  await setEndpoints(endpoints('empty', [PODS[1]], http));
  expect(await whoami(vip(13), 24000)).toBe(`${PODS[1]}:${POD_PORT}`);
  expect(engine.ruleStatus('default/empty:24000/TCP')!.listeners.map((l) => l.state)).toEqual(['listening']);

  // Every endpoint gone again: refused again, while a connection made before goes on.
  const kept = await tcpConnect(vip(13), 24000);
  await kept.waitFor('\n');
  await setEndpoints(endpoints('empty', [], http));
  expect(await connectError(vip(13), 24000)).toBe('ECONNREFUSED');
  kept.sock.write('still here');
  await kept.waitFor('still here');
  kept.sock.destroy();
});

test('a NodePort reaches the service on the node IP', async () => {
  await setService(
    service('nodeport', {
      type: 'NodePort',
      clusterIP: vip(14),
      ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT }, nodePort: 30080 }],
    }),
  );
  await setEndpoints(endpoints('nodeport', [PODS[0], PODS[1]], http));
  const ids = await inParallel(20, 4, () => whoami(NODE_IP, 30080));
  expect(Object.keys(tally(ids)).sort()).toEqual([`${PODS[0]}:${POD_PORT}`, `${PODS[1]}:${POD_PORT}`]);
  expect([`${PODS[0]}:${POD_PORT}`, `${PODS[1]}:${POD_PORT}`]).toContain(await whoami(vip(14), 24000));
  expect(engine.ruleStatus('default/nodeport:24000/TCP')!.listeners.map((l) => [l.spec.kind, l.state])).toEqual([
    ['ClusterIP', 'listening'],
    ['NodePort', 'listening'],
  ]);
});

test('a named targetPort resolves through the Endpoints ports', async () => {
  await setService(service('named', { clusterIP: vip(15), ports: [{ name: 'web', port: 24000, targetPort: { strVal: 'alt-http' } }] }));
  await setEndpoints(endpoints('named', [PODS[0]], [{ name: 'web', port: POD_PORT + 1 }]));
  expect(await whoami(vip(15), 24000)).toBe(`${PODS[0]}:${POD_PORT + 1}`);
  expect(engine.ruleStatus('default/named:24000/TCP')!.endpoints.map((e) => e.target.key)).toEqual([`${PODS[0]}:${POD_PORT + 1}`]);
});

test('half-close goes through both ways', async () => {
  await setService(service('half', { clusterIP: vip(16), ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }] }));
  await setEndpoints(endpoints('half', [PODS[0]], http));
  const c = await tcpConnect(vip(16), 24000);
  // The client's FIN reaches the backend, which echoes and then ends its side.
  c.sock.end('request');
  expect(await c.ended).toBe(`${PODS[0]}:${POD_PORT}\nrequest`);
});

test('an endpoint that refuses connections is skipped: the connection goes to another one', async () => {
  await setService(service('dead', { clusterIP: vip(17), ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }] }));
  // Pod address .9 has no server.
  const dead = at.podIP(9);
  await setEndpoints(endpoints('dead', [PODS[0], dead], http));
  const ids = await inParallel(20, 4, () => whoami(vip(17), 24000));
  expect(tally(ids)).toEqual({ [`${PODS[0]}:${POD_PORT}`]: 20 });
  const st = engine.ruleStatus('default/dead:24000/TCP')!;
  expect(st.endpoints.find((e) => e.target.ip === dead)!.stats.total).toBe(0);
});

test('an endpoint reset reaches the client as a reset', async () => {
  await setService(service('reset', { clusterIP: vip(18), ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }] }));
  await setEndpoints(endpoints('reset', [PODS[1]], http));
  const c = await tcpConnect(vip(18), 24000);
  await c.waitFor('\n');
  const errored = new Promise<string>((resolve) => c.sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')));
  backends[1].resetAll();
  expect(await errored).toBe('ECONNRESET');
  await sleep(50);
  expect(engine.ruleStatus('default/reset:24000/TCP')!.stats.errors).toBe(1);
});

test('a listener whose address is taken reports why, and binds once the address is free', async () => {
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(24000, vip(19), () => r()));
  await setService(service('taken', { clusterIP: vip(19), ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }] }));
  await setEndpoints(endpoints('taken', [PODS[0]], http));
  const [l] = engine.ruleStatus('default/taken:24000/TCP')!.listeners;
  expect(l.state).toBe('error');
  expect(l.error).toContain(`${vip(19)}:24000 is already in use`);
  await new Promise<void>((r) => squatter.close(() => r()));
  // The engine retries failed binds (every 50 ms here).
  for (let i = 0; i < 100 && engine.ruleStatus('default/taken:24000/TCP')!.listeners[0].state !== 'listening'; i++) await sleep(20);
  expect(engine.ruleStatus('default/taken:24000/TCP')!.listeners[0].state).toBe('listening');
  expect(await whoami(vip(19), 24000)).toBe(`${PODS[0]}:${POD_PORT}`);
});

test('deleting a service closes its listeners but not its connections', async () => {
  await setService(service('gone', { clusterIP: vip(20), ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }] }));
  await setEndpoints(endpoints('gone', [PODS[0]], http));
  const c = await tcpConnect(vip(20), 24000);
  await c.waitFor('\n');
  objects.services = objects.services.filter((s) => s.metadata?.name !== 'gone');
  await apply();
  expect(engine.ruleStatus('default/gone:24000/TCP')).toBeUndefined();
  expect(await connectError(vip(20), 24000)).toBe('ECONNREFUSED');
  c.sock.write('ping');
  await c.waitFor('ping');
  c.sock.destroy();
});

describe.each(['buffers', 'streams'] as const)('bulk data through %s forwarding', (forwarding) => {
  let own: ProxyEngine;
  let bulkIP: string;

  beforeAll(async () => {
    bulkIP = forwarding === 'buffers' ? vip(30) : vip(31);
    await startSlowTcpBackend(forwarding === 'buffers' ? PODS[1] : PODS[2], POD_PORT + 2);
    own = new ProxyEngine({ forwarding });
    expect(own.forwarding).toBe(forwarding);
    const { rules } = computeRules(
      [
        service(`bulk-${forwarding}`, { clusterIP: bulkIP, ports: [{ name: 'http', port: 24000, targetPort: { intVal: POD_PORT } }] }),
        service(`slow-${forwarding}`, { clusterIP: bulkIP, ports: [{ name: 'slow', port: 24001, targetPort: { intVal: POD_PORT + 2 } }] }),
      ],
      [
        endpoints(`bulk-${forwarding}`, [PODS[0]], http),
        endpoints(`slow-${forwarding}`, [forwarding === 'buffers' ? PODS[1] : PODS[2]], [{ name: 'slow', port: POD_PORT + 2 }]),
      ],
      { nodeIP: NODE_IP },
    );
    await own.apply(rules);
  });

  afterAll(() => own.close());

  test('32 MiB of random bytes echo back intact over 4 parallel connections', async () => {
    const results = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const payload = crypto.randomBytes(8 * 1024 * 1024);
        const sock = net.connect({ host: bulkIP, port: 24000, allowHalfOpen: true });
        const chunks: Buffer[] = [];
        sock.on('data', (d: Buffer) => chunks.push(d));
        const done = new Promise<Buffer>((resolve, reject) => {
          sock.on('end', () => resolve(Buffer.concat(chunks)));
          sock.on('error', reject);
        });
        // Written in pieces of odd sizes, then half-closed.
        for (let off = 0; off < payload.length; ) {
          const n = Math.min(payload.length - off, 1 + Math.floor(Math.random() * 300_000));
          if (!sock.write(payload.subarray(off, off + n))) await new Promise((r) => sock.once('drain', r));
          off += n;
        }
        sock.end();
        const got = await done;
        const header = `${PODS[0]}:${POD_PORT}\n`;
        expect(got.subarray(0, header.length).toString()).toBe(header);
        return crypto.createHash('sha256').update(got.subarray(header.length)).digest('hex') === crypto.createHash('sha256').update(payload).digest('hex');
      }),
    );
    expect(results).toEqual([true, true, true, true]);
    const st = own.ruleStatus(`default/bulk-${forwarding}:24000/TCP`)!.stats;
    expect(st.bytesIn).toBe(4 * 8 * 1024 * 1024);
    expect(st.bytesOut).toBe(4 * (8 * 1024 * 1024 + `${PODS[0]}:${POD_PORT}\n`.length));
  });

  test('a slow endpoint slows the client down (backpressure) and loses nothing', async () => {
    const c = await tcpConnect(bulkIP, 24001);
    c.sock.write('sink\n');
    const piece = Buffer.alloc(1000, 97);
    for (let i = 0; i < 4000; i++) {
      if (!c.sock.write(piece)) await new Promise((r) => c.sock.once('drain', r));
    }
    c.sock.end();
    expect(await c.ended).toBe('4000000');
  });

  test('a slow client slows the endpoint down (backpressure) and loses nothing', async () => {
    const sock = net.connect({ host: bulkIP, port: 24001, allowHalfOpen: true });
    let got = 0;
    const done = new Promise<number>((resolve, reject) => {
      sock.on('data', (d: Buffer) => {
        got += d.length;
        sock.pause();
        setTimeout(() => sock.resume(), 1);
      });
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
    });
    sock.write('send 6000000\n');
    sock.end();
    expect(await done).toBe(6000000);
  });
});
