// The proxy as a real process (services/proxy/dist/main.js, built by `make build`), serving
// the Services and Endpoints of a manifests file (--manifests) until the apiserver path is
// wired in a full-cluster test. Addresses of this file: Services 127.96.4.0/24, pods
// 127.244.4.0/24, node 127.10.4.1.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { proxyv1 } from '@k8ts/api';
import { type ServiceProcess, spawnService } from '@k8ts/testkit';
import { closeAll, sleep, startTcpBackend, whoami } from './helpers';

const REPO = path.resolve(__dirname, '..', '..');
const MAIN = path.join(REPO, 'services', 'proxy', 'dist', 'main.js');
const NODE_IP = '127.10.4.1';
const PODS = ['127.244.4.2', '127.244.4.3', '127.244.4.4'];
const POD_PORT = 27080;

function manifests(ips: string[]): string {
  return `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  type: NodePort
  clusterIP: 127.96.4.10
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
  for (const ip of PODS) await startTcpBackend(ip, POD_PORT);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-proxy-'));
  file = path.join(dir, 'services.yaml');
  fs.writeFileSync(file, manifests(PODS.slice(0, 2)));
  proc = await spawnService({
    cmd: process.execPath,
    args: [MAIN, '--manifests', file, '--listen', '127.0.0.1:0', '--node-ip', NODE_IP, '--node-name', 'node-4'],
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
  await closeAll();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the proxy process forwards the ClusterIP and the NodePort of a manifests file', async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 6; i++) ids.add(await whoami('127.96.4.10', 27000));
  expect([...ids].sort()).toEqual(PODS.slice(0, 2).map((p) => `${p}:${POD_PORT}`));
  expect(await whoami(NODE_IP, 30400)).toMatch(/^127\.244\.4\.[23]:27080$/);
});

test('its admin API dumps the rules', async () => {
  const client = new proxyv1.ProxyServiceClient(address, grpc.credentials.createInsecure());
  try {
    const res = await new Promise<proxyv1.ListRulesResponse>((resolve, reject) =>
      client.listRules({}, (err, r) => (err ? reject(err) : resolve(r))),
    );
    expect(res.nodeName).toBe('node-4');
    expect(res.rules!.map((r) => [r.key, r.listeners!.map((l) => `${l.kind} ${l.address} ${l.state}`)])).toEqual([
      [
        'default/web:27000/TCP',
        [`ClusterIP 127.96.4.10:27000 ${proxyv1.ListenerState.LISTENER_STATE_LISTENING}`, `NodePort ${NODE_IP}:30400 ${proxyv1.ListenerState.LISTENER_STATE_LISTENING}`],
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
    id = await whoami('127.96.4.10', 27000);
    if (id !== `${PODS[2]}:${POD_PORT}`) await sleep(10);
  }
  expect(id).toBe(`${PODS[2]}:${POD_PORT}`);
  for (let i = 0; i < 5; i++) expect(await whoami('127.96.4.10', 27000)).toBe(`${PODS[2]}:${POD_PORT}`);
});

test('SIGTERM stops it cleanly', async () => {
  expect(await proc.stop('SIGTERM')).toBe(0);
});
