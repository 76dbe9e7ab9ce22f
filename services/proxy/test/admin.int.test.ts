// The whole proxy in-process through its entry function, start(config): the kit server with
// the admin API (called with a real gRPC client), metrics over HTTP, and the control loop
// fed by an in-memory source (the apiserver stands in later). The node, pod and Service
// addresses are the file's own network, leased from @k8ts/testkit.
import * as http from 'http';
import * as grpc from '@grpc/grpc-js';
import { proxyv1 } from '@k8ts/api';
import { parseConfig, serverFlags } from '@k8ts/kit';
import { closeSockets, leaseTestNetwork, startTcpBackend, type TestNetwork, whoami } from '@k8ts/testkit';
import { flags, MemorySource, type ProxyConfig, type RunningProxy, start } from '../src';
import { endpoints, podNameOf, type ProxyTestAddresses, proxyTestAddresses, service, sleep } from './fixtures';

let network: TestNetwork;
let at: ProxyTestAddresses;
let NODE_IP: string;
let PODS: string[];
const vip = (i: number) => at.serviceIP(i);
const POD_PORT = 26080;
const http8080 = [{ name: 'http', port: POD_PORT }];

let proxy: RunningProxy;
let client: proxyv1.ProxyServiceClient;
const source = new MemorySource();

const listRules = (req: proxyv1.ListRulesRequest) =>
  new Promise<proxyv1.ListRulesResponse>((resolve, reject) => client.listRules(req, (err, res) => (err ? reject(err) : resolve(res))));
const getRules = (req: proxyv1.GetRulesRequest) =>
  new Promise<proxyv1.GetRulesResponse>((resolve, reject) => client.getRules(req, (err, res) => (err ? reject(err) : resolve(res))));

function httpGet(address: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`http://${address}${path}`, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  network = await leaseTestNetwork(__filename);
  at = proxyTestAddresses(network);
  NODE_IP = at.nodeIP;
  PODS = at.pods;
  for (const ip of PODS) await startTcpBackend(ip, POD_PORT);
  source.setService(
    service('web', {
      type: 'NodePort',
      clusterIP: vip(10),
      ports: [{ name: 'http', port: 26000, targetPort: { strVal: 'http' }, nodePort: 30300 }],
    }),
  );
  source.setEndpoints(endpoints('web', PODS.slice(0, 2), http8080, { notReady: [PODS[2]] }));
  for (const name of ['a', 'b', 'c']) {
    source.setService(service(name, { clusterIP: vip(20 + name.charCodeAt(0) - 97), ports: [{ port: 26000 }] }, 'paged'));
  }
  const config = parseConfig<ProxyConfig>(
    'proxy',
    [...serverFlags, ...flags],
    [
      ...['--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--node-ip', NODE_IP, '--node-name', 'node-3', '--log-level', 'silent'],
      // No apiserver to check callers with: the admin API is left open, explicitly (its
      // authentication and authorization: integration/proxy/authn.test.ts).
      ...['--anonymous-auth', '--authentication-token-webhook=false', '--authorization-mode', 'AlwaysAllow'],
    ],
    {},
  );
  proxy = await start(config, { source });
  await proxy.synced;
  // TLS always; the certificate is self-signed here (no --tls-cert), so it is not verified.
  client = new proxyv1.ProxyServiceClient(proxy.address, grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false }));
});

afterAll(async () => {
  client?.close();
  await proxy?.shutdown();
  await closeSockets();
  await network?.release();
});

test('ListRules dumps every Service port with its listeners, endpoints and node', async () => {
  const res = await listRules({ namespace: 'default' });
  expect(res.nodeName).toBe('node-3');
  expect(res.nodeIp).toBe(NODE_IP);
  expect(res.syncCount).toBeGreaterThanOrEqual(1);
  expect(res.lastSyncTime).toBeTruthy();
  expect(res.rules).toHaveLength(1);
  const r = res.rules![0];
  expect(r).toMatchObject({
    key: 'default/web:26000/TCP',
    namespace: 'default',
    name: 'web',
    portName: 'http',
    protocol: 'TCP',
    clusterIp: vip(10),
    port: 26000,
    nodePort: 30300,
    targetPort: 'http',
    sessionAffinity: 'None',
  });
  expect(r.listeners).toEqual([
    { kind: 'ClusterIP', address: `${vip(10)}:26000`, state: proxyv1.ListenerState.LISTENER_STATE_LISTENING, error: '' },
    { kind: 'NodePort', address: `${NODE_IP}:30300`, state: proxyv1.ListenerState.LISTENER_STATE_LISTENING, error: '' },
  ]);
  expect(r.endpoints!.map((e) => [e.ip, e.port, e.podName])).toEqual([
    [PODS[0], POD_PORT, podNameOf(PODS[0])],
    [PODS[1], POD_PORT, podNameOf(PODS[1])],
  ]);
});

test('GetRules reports connection and byte counts; unknown services are NOT_FOUND', async () => {
  for (let i = 0; i < 6; i++) await whoami(vip(10), 26000);
  for (let i = 0; i < 100 && proxy.engine.status().some((s) => s.stats.active > 0); i++) await sleep(10);
  const { rules } = await getRules({ namespace: 'default', name: 'web' });
  expect(rules).toHaveLength(1);
  const stats = rules![0].stats!;
  expect(stats.totalConnections).toBe(6);
  expect(stats.activeConnections).toBe(0);
  expect(stats.bytesOut).toBe(6 * `${PODS[0]}:${POD_PORT}\n`.length);
  expect(rules![0].endpoints!.map((e) => e.stats!.totalConnections)).toEqual([3, 3]);

  await expect(getRules({ namespace: 'default', name: 'nope' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  await expect(getRules({ namespace: 'default', name: '' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
});

test('ListRules pages with limit and continue', async () => {
  const p1 = await listRules({ namespace: 'paged', limit: 2 });
  expect(p1.rules!.map((r) => r.key)).toEqual(['paged/a:26000/TCP', 'paged/b:26000/TCP']);
  expect(p1.continue).toBeTruthy();
  const p2 = await listRules({ namespace: 'paged', limit: 2, continue: p1.continue });
  expect(p2.rules!.map((r) => r.key)).toEqual(['paged/c:26000/TCP']);
  expect(p2.continue).toBe('');
  // Services without endpoints refuse: their listeners say so.
  expect(p2.rules![0].listeners![0].state).toBe(proxyv1.ListenerState.LISTENER_STATE_REFUSING);
  await expect(listRules({ continue: 'garbage' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
});

test('an Endpoints change reaches the data plane through the control loop', async () => {
  source.setEndpoints(endpoints('web', [PODS[2]], http8080));
  // No timing is asserted: the loop settles, then every new connection goes to the new endpoint.
  await proxy.proxier.settled();
  for (let i = 0; i < 5; i++) expect(await whoami(vip(10), 26000)).toBe(`${PODS[2]}:${POD_PORT}`);
  expect(await whoami(NODE_IP, 30300)).toBe(`${PODS[2]}:${POD_PORT}`);
});

test('metrics carry connections, bytes and errors per Service port', async () => {
  // Let the proxy see the last clients' closes.
  for (let i = 0; i < 100 && proxy.engine.status().some((s) => s.stats.active > 0); i++) await sleep(10);
  const text = await httpGet(proxy.server.metricsAddress!, '/metrics');
  expect(text).toMatch(/k8ts_proxy_connections_total\{namespace="default",name="web",port="http",component="proxy"\} (\d+)/);
  const total = Number(/k8ts_proxy_connections_total\{namespace="default",name="web",port="http"[^}]*\} (\d+)/.exec(text)![1]);
  expect(total).toBeGreaterThanOrEqual(12);
  expect(text).toMatch(/k8ts_proxy_connections_active\{namespace="default",name="web",port="http"[^}]*\} 0/);
  expect(text).toMatch(/k8ts_proxy_bytes_total\{namespace="default",name="web",port="http",direction="out"[^}]*\} \d+/);
  expect(text).toMatch(/k8ts_proxy_errors_total\{namespace="default",name="web",port="http",reason="connect"[^}]*\} 0/);
  expect(text).toMatch(/k8ts_proxy_endpoints\{namespace="default",name="web",port="http"[^}]*\} 1/);
  expect(text).toMatch(/k8ts_proxy_sync_duration_seconds_count\S* \d+/);
});
