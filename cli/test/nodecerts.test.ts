// `k8ts up` and the kubelet API / proxy admin API: the apiserver's kubelet client certificate
// and a serving certificate per kubelet and proxy (for the node's IP), issued once by the
// cluster CA and kept; the flags that make kubelets and proxies serve them and check their
// callers, and the apiserver present its certificate; health checks over TLS.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { certificateInfo, isIssuedBy } from '@k8ts/kit';
import { healthCredentials } from '../src/cluster/health';
import { layout } from '../src/cluster/layout';
import { APISERVER_KUBELET_CLIENT_USER, apiserverKubeletClientPaths, apiserverSans, ensureCertificates, ensureNodeCertificates, nodeServerPaths, pkiPaths } from '../src/cluster/pki';
import { httpsServerUrl, nodeServers, planComponents, resolveSettings } from '../src/cluster/up';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-cli-nodecerts-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a serving certificate per kubelet and proxy for its node IP, and the apiserver kubelet client, from the cluster CA', async () => {
  const l = layout(dir);
  const s = await resolveSettings(l, { nodes: '2', simNodes: '3' });
  await ensureCertificates(l.dataDir, apiserverSans('127.0.0.1', s.serviceCidr));
  const servers = nodeServers(s);
  expect(servers.map((x) => `${x.component}-${x.node} ${x.ip}`)).toEqual([
    'kubelet-node-1 127.10.0.1',
    'proxy-node-1 127.10.0.1',
    'kubelet-node-2 127.10.0.2',
    'proxy-node-2 127.10.0.2',
    'kubelet-sim 127.0.0.1',
  ]);
  const issued = await ensureNodeCertificates(l.dataDir, servers);
  expect(issued).toEqual([
    'apiserver-kubelet-client (missing)',
    'kubelet-node-1 (missing)',
    'proxy-node-1 (missing)',
    'kubelet-node-2 (missing)',
    'proxy-node-2 (missing)',
    'kubelet-sim (missing)',
  ]);
  const ca = fs.readFileSync(pkiPaths(l.dataDir).caCert, 'utf8');
  const kubelet2 = fs.readFileSync(nodeServerPaths(l.dataDir, { component: 'kubelet', node: 'node-2' }).cert, 'utf8');
  expect(isIssuedBy(kubelet2, ca)).toBe(true);
  expect(certificateInfo(kubelet2)).toMatchObject({ commonName: 'system:node:node-2', usages: ['server'], dnsNames: ['node-2', 'localhost'] });
  expect(certificateInfo(kubelet2).ipAddresses).toEqual(['127.10.0.2', '127.0.0.1']);
  const client = fs.readFileSync(apiserverKubeletClientPaths(l.dataDir).cert, 'utf8');
  expect(certificateInfo(client)).toMatchObject({ commonName: APISERVER_KUBELET_CLIENT_USER, organizations: [], usages: ['client'] });
  expect(fs.statSync(nodeServerPaths(l.dataDir, { component: 'proxy', node: 'node-1' }).key).mode & 0o777).toBe(0o600);
  // kept on the next up; a node whose IP changed gets a new certificate
  expect(await ensureNodeCertificates(l.dataDir, servers)).toEqual([]);
  expect(await ensureNodeCertificates(l.dataDir, [{ component: 'kubelet', node: 'node-1', ip: '127.10.0.9' }])).toEqual(['kubelet-node-1 (other SANs)']);
}, 60_000);

test('kubelets and proxies serve their certificates and check callers through the apiserver; the apiserver presents its client certificate', async () => {
  const l = layout(dir);
  const s = await resolveSettings(l, { nodes: '1', simNodes: '2' });
  const plan = planComponents(l, s, 'nats://127.0.0.1:4', '127.0.0.1:5', {}, {});
  const p = pkiPaths(l.dataDir);
  const arg = (args: string[], flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  expect(arg(plan.apiserver.args, '--kubelet-ca')).toBe(p.caCert);
  expect(arg(plan.apiserver.args, '--kubelet-client-certificate')).toBe(apiserverKubeletClientPaths(l.dataDir).cert);
  expect(arg(plan.apiserver.args, '--kubelet-client-key')).toBe(apiserverKubeletClientPaths(l.dataDir).key);
  for (const [name, component, node] of [
    ['kubelet-node-1', 'kubelet', 'node-1'],
    ['proxy-node-1', 'proxy', 'node-1'],
    ['kubelet-sim', 'kubelet', 'sim'],
  ] as const) {
    const args = plan.nodes.find((n) => n.name === name)!.args;
    expect(arg(args, '--tls-cert')).toBe(nodeServerPaths(l.dataDir, { component, node }).cert);
    expect(arg(args, '--tls-key')).toBe(nodeServerPaths(l.dataDir, { component, node }).key);
    expect(arg(args, '--client-ca-file')).toBe(p.caCert);
    expect(arg(args, '--apiserver-https')).toBe(httpsServerUrl(s));
    expect(arg(args, '--apiserver-https-ca')).toBe(p.caCert);
    expect(args).not.toContain('--anonymous-auth');
    expect(args).not.toContain('--authorization-mode');
  }
});

test('health checks of kubelets and proxies go over TLS; the scheduler’s stay plaintext', () => {
  expect(healthCredentials(dir, 'kubelet-node-1')._isSecure()).toBe(true);
  expect(healthCredentials(dir, 'proxy-node-2')._isSecure()).toBe(true);
  expect(healthCredentials(dir, 'scheduler')._isSecure()).toBe(false);
});
