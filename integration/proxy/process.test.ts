// The proxy as a real process (services/proxy/dist/main.js, built by `make build`), serving
// the Services and Endpoints of a manifests file (--manifests) until the apiserver path is
// wired in a full-cluster test. The node, pod and Service addresses are the file's own
// network, leased from @k8ts/testkit.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { proxyv1 } from '@k8ts/api';
import { closeSockets, leaseTestNetwork, type ServiceProcess, spawnService, startTcpBackend, type TestNetwork, whoami } from '@k8ts/testkit';

const REPO = path.resolve(__dirname, '..', '..');
const MAIN = path.join(REPO, 'services', 'proxy', 'dist', 'main.js');
const POD_PORT = 27080;
let network: TestNetwork;
let NODE_IP: string;
let PODS: string[];
let CLUSTER_IP: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function manifests(ips: string[]): string {
  return `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  type: NodePort
  clusterIP: ${CLUSTER_IP}
  ports: [{ name: http, port: 27000, targetPort: http, nodePort: 30400 }]
---
apiVersion: v1
kind: Endpoints
metadata: { name: web, namespace: default }
subsets:
  - addresses: [${ips.map((ip) => `{ ip: ${ip} }`).join(', ')}]
    ports: [{ name: http, port: ${POD_PORT} }]
`;
}

let dir: string;
let file: string;
let proc: ServiceProcess;
let address: string;

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error(`${path.relative(REPO, MAIN)} is missing: run 'make build' before the integration tests`);
  network = await leaseTestNetwork(__filename);
  NODE_IP = network.nodeIP(1);
  PODS = [2, 3, 4].map((j) => network.podIP(1, j));
  CLUSTER_IP = network.serviceIP(10);
  for (const ip of PODS) await startTcpBackend(ip, POD_PORT);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-proxy-'));
  file = path.join(dir, 'services.yaml');
  fs.writeFileSync(file, manifests(PODS.slice(0, 2)));
  proc = await spawnService({
    cmd: process.execPath,
    args: [
      ...[MAIN, '--manifests', file, '--listen', '127.0.0.1:0', '--node-ip', NODE_IP, '--node-name', 'node-4'],
      // No apiserver to check callers with: the admin API is left open, explicitly.
      ...['--anonymous-auth', '--authentication-token-webhook=false', '--authorization-mode', 'AlwaysAllow'],
    ],
    readyPattern: /"msg":"rules synced"/,
  });
  const lines = proc
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  address = lines.find((l) => l.msg === 'listening').address;
});

afterAll(async () => {
  await proc?.stop('SIGKILL');
  await closeSockets();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  await network?.release();
});

test('the proxy process forwards the ClusterIP and the NodePort of a manifests file', async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 6; i++) ids.add(await whoami(CLUSTER_IP, 27000));
  expect([...ids].sort()).toEqual(PODS.slice(0, 2).map((p) => `${p}:${POD_PORT}`));
  expect(PODS.slice(0, 2).map((p) => `${p}:${POD_PORT}`)).toContain(await whoami(NODE_IP, 30400));
});

test('its admin API dumps the rules (open only because the flags say so, with warnings)', async () => {
  expect(proc.logs()).toMatch(/"level":(?:40|"warn")[^\n]*--anonymous-auth: the proxy API serves callers without credentials as system:anonymous/);
  expect(proc.logs()).toMatch(/"level":(?:40|"warn")[^\n]*--authorization-mode AlwaysAllow: every authenticated caller may call anything/);
  const client = new proxyv1.ProxyServiceClient(address, grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false }));
  try {
    const res = await new Promise<proxyv1.ListRulesResponse>((resolve, reject) =>
      client.listRules({}, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(res.nodeName).toBe('node-4');
    expect(res.rules!.map((r) => [r.key, r.listeners!.map((l) => `${l.kind} ${l.address} ${l.state}`)])).toEqual([
      [
        'default/web:27000/TCP',
        [`ClusterIP ${CLUSTER_IP}:27000 ${proxyv1.ListenerState.LISTENER_STATE_LISTENING}`, `NodePort ${NODE_IP}:30400 ${proxyv1.ListenerState.LISTENER_STATE_LISTENING}`],
      ],
    ]);
  } finally {
    client.close();
  }
});

test('a change of the file reaches the data plane', async () => {
  fs.writeFileSync(file, manifests([PODS[2]]));
  let id = '';
  for (let i = 0; i < 300 && id !== `${PODS[2]}:${POD_PORT}`; i++) {
    id = await whoami(CLUSTER_IP, 27000);
    if (id !== `${PODS[2]}:${POD_PORT}`) await sleep(10);
  }
  expect(id).toBe(`${PODS[2]}:${POD_PORT}`);
  for (let i = 0; i < 5; i++) expect(await whoami(CLUSTER_IP, 27000)).toBe(`${PODS[2]}:${POD_PORT}`);
});

test('SIGTERM stops it cleanly', async () => {
  expect(await proc.stop('SIGTERM')).toBe(0);
});
