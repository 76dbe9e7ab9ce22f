// The proxy's UDP data plane against real UDP servers. The addresses (node, pods, Services,
// clients) are the file's own network, leased from @k8ts/testkit.
import type * as dgram from 'dgram';
import type { corev1 } from '@k8ts/api';
import { closeSockets, leaseTestNetwork, startUdpBackend, tally, type TestNetwork, udpClient, udpRequest } from '@k8ts/testkit';
import { computeRules, ProxyEngine } from '../src';
import { endpoints, type ProxyTestAddresses, proxyTestAddresses, service, sleep } from './fixtures';

let network: TestNetwork;
let at: ProxyTestAddresses;
let NODE_IP: string;
let PODS: string[];
const vip = (i: number) => at.serviceIP(i);
const POD_PORT = 25053;
const dns = [{ name: 'dns', port: POD_PORT, protocol: 'UDP' }];

let engine: ProxyEngine;
let objects: { services: corev1.Service[]; endpoints: corev1.Endpoints[] };

async function apply(): Promise<void> {
  const { rules } = computeRules(objects.services, objects.endpoints, { nodeIP: NODE_IP });
  await engine.apply(rules);
}

function set(svc: corev1.Service, eps: corev1.Endpoints): Promise<void> {
  objects.services = [...objects.services.filter((s) => s.metadata?.name !== svc.metadata?.name), svc];
  objects.endpoints = [...objects.endpoints.filter((e) => e.metadata?.name !== eps.metadata?.name), eps];
  return apply();
}

const udpService = (name: string, clusterIP: string, extra: corev1.ServiceSpec = {}) =>
  service(name, { clusterIP, ports: [{ name: 'dns', port: 25000, protocol: 'UDP', targetPort: { intVal: POD_PORT } }], ...extra });

beforeAll(async () => {
  network = await leaseTestNetwork(__filename);
  at = proxyTestAddresses(network);
  NODE_IP = at.nodeIP;
  PODS = at.pods;
  for (const ip of PODS) await startUdpBackend(ip, POD_PORT);
  engine = new ProxyEngine({ udpIdleTimeoutMs: 400 });
  objects = { services: [], endpoints: [] };
});

afterAll(async () => {
  engine?.close();
  await closeSockets();
  await network?.release();
});

test('datagrams reach an endpoint and replies come back from the service address', async () => {
  await set(udpService('echo', vip(10)), endpoints('echo', PODS, dns));
  const client = await udpClient(at.clientIP(1));
  const from = new Promise<dgram.RemoteInfo>((resolve) => client.once('message', (_m, rinfo) => resolve(rinfo)));
  const reply = await udpRequest(client, vip(10), 25000, 'hello');
  expect(PODS.map((p) => `${p}:${POD_PORT} hello`)).toContain(reply);
  expect(await from).toMatchObject({ address: vip(10), port: 25000 });
  // One client address and port is one flow: it keeps its endpoint.
  const id = reply.split(' ')[0];
  for (let i = 0; i < 10; i++) expect((await udpRequest(client, vip(10), 25000, `m${i}`)).split(' ')[0]).toBe(id);
  const st = engine.ruleStatus('default/echo:25000/UDP')!;
  expect(st.stats.active).toBe(1);
  expect(st.stats.bytesIn).toBe('hello'.length + 10 * 2);
});

test('flows from different clients spread round robin over the endpoints', async () => {
  await set(udpService('spread', vip(11)), endpoints('spread', PODS, dns));
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const c = await udpClient(at.clientIP(2));
    ids.push((await udpRequest(c, vip(11), 25000, 'x')).split(' ')[0]);
    c.close();
  }
  expect(Object.values(tally(ids))).toEqual([10, 10, 10]);
});

test('an idle flow is forgotten; an endpoint that leaves takes its flows with it', async () => {
  await set(udpService('flows', vip(12)), endpoints('flows', PODS, dns));
  const client = await udpClient(at.clientIP(3));
  const first = (await udpRequest(client, vip(12), 25000, 'a')).split(' ')[0];
  // Removing the flow's endpoint ends the flow: the next datagram goes elsewhere.
  await set(udpService('flows', vip(12)), endpoints('flows', PODS.filter((p) => !first.startsWith(`${p}:`)), dns));
  const second = (await udpRequest(client, vip(12), 25000, 'b')).split(' ')[0];
  expect(second).not.toBe(first);
  expect(engine.ruleStatus('default/flows:25000/UDP')!.stats.active).toBe(1);
  // Idle past the UDP idle timeout (400 ms here): the flow is gone.
  for (let i = 0; i < 100 && engine.ruleStatus('default/flows:25000/UDP')!.stats.active > 0; i++) await sleep(20);
  expect(engine.ruleStatus('default/flows:25000/UDP')!.stats).toMatchObject({ active: 0, total: 2 });
});

test('ClientIP affinity keeps new flows of one client IP on one endpoint', async () => {
  await set(
    udpService('sticky', vip(13), { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
    endpoints('sticky', PODS, dns),
  );
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const c = await udpClient(at.clientIP(4));
    ids.push((await udpRequest(c, vip(13), 25000, 'x')).split(' ')[0]);
    c.close();
  }
  expect(Object.keys(tally(ids))).toHaveLength(1);
});

test('without ready endpoints the port is closed: a connected client gets ECONNREFUSED', async () => {
  await set(udpService('none', vip(14)), endpoints('none', [], dns));
  expect(engine.ruleStatus('default/none:25000/UDP')!.listeners[0].state).toBe('refusing');
  const client = await udpClient(at.clientIP(5));
  await new Promise<void>((resolve) => client.connect(25000, vip(14), () => resolve()));
  const err = new Promise<string>((resolve) => client.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? '')));
  // The ICMP port unreachable of the first datagram is reported on the next operation.
  client.send('x');
  await sleep(20);
  client.send('y');
  expect(await err).toBe('ECONNREFUSED');
});

test('a NodePort UDP service is reachable on the node IP', async () => {
  await set(
    service('np', {
      type: 'NodePort',
      clusterIP: vip(15),
      ports: [{ name: 'dns', port: 25000, protocol: 'UDP', targetPort: { intVal: POD_PORT }, nodePort: 30053 }],
    }),
    endpoints('np', [PODS[0]], dns),
  );
  const client = await udpClient(at.clientIP(6));
  expect(await udpRequest(client, NODE_IP, 30053, 'hi')).toBe(`${PODS[0]}:${POD_PORT} hi`);
});
