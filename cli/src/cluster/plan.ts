// What `k8ts up` starts: the command line of every component (store, apiserver, scheduler,
// controller-manager, and per node a kubelet and a proxy, plus the simulated nodes' kubelet),
// with the certificates, tokens and NATS credentials of the data dir, and the names of the
// nodes it then waits for.
import * as path from 'path';
import { CliError } from '../errors';
import { serviceMain } from './binaries';
import { type ClusterSettings, type Layout, nodeIP, nodeName } from './layout';
import { natsSeedFile } from './natsusers';
import { type NodeServer, STORE_ALLOWED_CLIENTS, apiserverKubeletClientPaths, nodeServerPaths, pkiPaths } from './pki';
import { APISERVER_IP } from './ports';
import type { UpOptions } from './up';

/** An HTTPS readiness check: GET url trusting the CA file, presenting the client certificate. */
export interface HttpsReadiness {
  url: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** One process to start. */
export interface Plan {
  name: string;
  command: string;
  args: string[];
  node?: string;
  /** How it says it listens: the kit's JSON log line, or nats-server's banner. */
  kind: 'service' | 'nats';
  /** Ready only once this also answers 200 (the apiserver's /readyz). */
  httpsReady?: HttpsReadiness;
}

/** The apiserver's HTTPS address, host:port. */
export function httpsAddress(s: ClusterSettings): string {
  return `${APISERVER_IP}:${s.apiserverHttpsPort}`;
}

/** The URL of the apiserver's Kubernetes HTTP API. */
export function httpsServerUrl(s: ClusterSettings): string {
  return `https://${httpsAddress(s)}`;
}

/** Extra flags per component from --component-arg NAME:FLAG (NAME: a component, or kubelet/proxy for all). */
export function extraArgs(specs: string[] | undefined, component: string): string[] {
  const out: string[] = [];
  for (const spec of specs ?? []) {
    const i = spec.indexOf(':');
    if (i <= 0) throw new CliError(`invalid --component-arg "${spec}": expected COMPONENT:--flag=value`);
    const target = spec.slice(0, i);
    const flag = spec.slice(i + 1);
    const base = component.replace(/-node-\d+$/, '');
    if (target === component || target === base) out.push(flag);
  }
  return out;
}

export const SHUTDOWN_TIMEOUT = '3s';

/** The pod addresses of simulated nodes (never bound, so outside loopback). */
export const SIM_POD_CIDR = '10.0.0.0/8';

/**
 * Node.js flags per component. A smaller young generation (V8's default semi-space is 16 MiB)
 * saves about 15 MiB of resident memory per mostly idle process; the store and the apiserver,
 * which allocate the most under load, keep a larger one.
 */
export function nodeFlags(service: string): string[] {
  return service === 'store' || service === 'apiserver' ? ['--max-semi-space-size=8'] : ['--max-semi-space-size=1'];
}

export function planComponents(
  l: Layout,
  s: ClusterSettings,
  natsUrl: string,
  storeAddress: string,
  opts: UpOptions,
  env: NodeJS.ProcessEnv,
): { store: Plan; apiserver: Plan; controlPlane: Plan[]; nodes: Plan[] } {
  const p = pkiPaths(l.dataDir);
  const server = `${APISERVER_IP}:${s.apiserverPort}`;
  const logLevel = opts.logLevel ?? 'info';
  const common = ['--log-level', logLevel, '--shutdown-timeout', SHUTDOWN_TIMEOUT];
  const svc = (name: string, service: string, args: string[], node?: string): Plan => ({
    name,
    command: process.execPath,
    args: [...nodeFlags(service), serviceMain(service, env), ...args, ...common, ...extraArgs(opts.componentArg, name)],
    node,
    kind: 'service',
  });
  // The store serves mutual TLS to the apiserver and the store administrator only, and both
  // authenticate to NATS with their own NKey (natsusers.ts).
  const store = svc('store', 'store', [
    '--listen',
    storeAddress,
    '--nats-url',
    natsUrl,
    '--nats-nkey',
    natsSeedFile(p, 'store'),
    '--tls-cert',
    p.storeCert,
    '--tls-key',
    p.storeKey,
    '--tls-client-ca',
    p.caCert,
    '--allowed-client',
    STORE_ALLOWED_CLIENTS.join(','),
  ]);
  const apiserver = svc('apiserver', 'apiserver', [
    '--listen',
    server,
    '--etcd-servers',
    storeAddress,
    '--etcd-cafile',
    p.caCert,
    '--etcd-certfile',
    p.apiserverEtcdClientCert,
    '--etcd-keyfile',
    p.apiserverEtcdClientKey,
    '--nats-url',
    natsUrl,
    '--nats-nkey',
    natsSeedFile(p, 'apiserver'),
    '--token-auth-file',
    p.tokenFile,
    '--service-account-key-file',
    p.key,
    '--service-cluster-ip-range',
    s.serviceCidr,
    '--http-listen',
    httpsAddress(s),
    '--http-tls-cert',
    p.apiserverCert,
    '--http-tls-key',
    p.apiserverKey,
    '--client-ca-file',
    p.caCert,
    '--advertise-address',
    APISERVER_IP,
    // kubelets: verify their serving certificates, present the apiserver's kubelet client certificate
    '--kubelet-ca',
    p.caCert,
    '--kubelet-client-certificate',
    apiserverKubeletClientPaths(l.dataDir).cert,
    '--kubelet-client-key',
    apiserverKubeletClientPaths(l.dataDir).key,
  ]);
  apiserver.httpsReady = { url: `${httpsServerUrl(s)}/readyz`, caFile: p.caCert, certFile: p.adminCert, keyFile: p.adminKey };
  const token = (name: string) => path.join(p.tokensDir, `${name}.token`);
  // One scheduler and one controller-manager: no leader election, so that after a restart
  // they work at once instead of waiting for the previous run's lease to expire.
  const controlPlane = [
    svc('scheduler', 'scheduler', ['--listen', '127.0.0.1:0', '--apiserver', server, '--token-file', token('scheduler'), '--leader-elect=false']),
    svc('controller-manager', 'controller-manager', [
      '--listen',
      '127.0.0.1:0',
      '--apiserver',
      server,
      '--token-file',
      token('controller-manager'),
      '--leader-elect=false',
      '--cluster-cidr',
      s.clusterCidr,
    ]),
  ];
  const nodes: Plan[] = [];
  for (let i = 1; i <= s.nodes; i++) {
    const n = nodeName(i);
    const ip = nodeIP(s.nodeSubnet, i);
    nodes.push(
      svc(
        `kubelet-${n}`,
        'kubelet',
        [
          '--listen',
          `${ip}:0`,
          '--apiserver',
          server,
          '--token-file',
          token(`kubelet-${n}`),
          '--node-name',
          n,
          '--node-ip',
          ip,
          '--root-dir',
          path.join(l.nodes, n),
          '--runtime',
          s.runtime,
          ...nodeServerArgs(l, s, { component: 'kubelet', node: n, ip }),
        ],
        n,
      ),
      svc(
        `proxy-${n}`,
        'proxy',
        [
          '--listen',
          `${ip}:0`,
          '--apiserver',
          server,
          '--token-file',
          token('proxy'),
          '--node-name',
          n,
          '--node-ip',
          ip,
          ...nodeServerArgs(l, s, { component: 'proxy', node: n, ip }),
        ],
        n,
      ),
    );
  }
  if (s.simNodes > 0) {
    nodes.push(
      svc('kubelet-sim', 'kubelet', [
        '--listen',
        '127.0.0.1:0',
        '--apiserver',
        server,
        '--token-file',
        token('kubelet-sim'),
        '--node-name',
        'sim',
        '--node-ip',
        '127.0.0.1',
        '--root-dir',
        path.join(l.nodes, 'sim'),
        '--runtime',
        'sim',
        '--sim-nodes',
        String(s.simNodes),
        // Simulated pods never bind their IPs: a range of its own, one /24 per node.
        '--pod-cidr',
        SIM_POD_CIDR,
        ...nodeServerArgs(l, s, SIM_KUBELET_SERVER),
      ]),
    );
  }
  return { store, apiserver, controlPlane, nodes };
}

/** The simulated nodes' kubelet serves their kubelet API on loopback. */
const SIM_KUBELET_SERVER: NodeServer = { component: 'kubelet', node: 'sim', ip: '127.0.0.1' };

/** The servers on the nodes: a kubelet and a proxy per node, and the simulated nodes' kubelet. */
export function nodeServers(s: ClusterSettings): NodeServer[] {
  const out: NodeServer[] = [];
  for (let i = 1; i <= s.nodes; i++) {
    const node = nodeName(i);
    const ip = nodeIP(s.nodeSubnet, i);
    out.push({ component: 'kubelet', node, ip }, { component: 'proxy', node, ip });
  }
  if (s.simNodes > 0) out.push(SIM_KUBELET_SERVER);
  return out;
}

/**
 * How a kubelet or a proxy serves its API: TLS with its certificate from the cluster CA,
 * callers' client certificates verified against the CA, bearer tokens and every call checked
 * by the apiserver's reviews over its HTTPS API (trusting the CA). Nothing is anonymous;
 * `--component-arg kubelet:--anonymous-auth` would say so explicitly (and the kubelet warns).
 */
function nodeServerArgs(l: Layout, s: ClusterSettings, server: NodeServer): string[] {
  const p = pkiPaths(l.dataDir);
  const files = nodeServerPaths(l.dataDir, server);
  return ['--tls-cert', files.cert, '--tls-key', files.key, '--client-ca-file', p.caCert, '--apiserver-https', httpsServerUrl(s), '--apiserver-https-ca', p.caCert];
}

/** Names of the nodes whose kubelets `up` waits for (simulated ones are sim-1 ... sim-N). */
export function expectedNodes(s: ClusterSettings): string[] {
  const out: string[] = [];
  for (let i = 1; i <= s.nodes; i++) out.push(nodeName(i));
  for (let i = 1; i <= s.simNodes; i++) out.push(`sim-${i}`);
  return out;
}

/** The progress row of a node's kubelet. */
export function kubeletOf(node: string): string {
  return /^sim-\d+$/.test(node) ? 'kubelet-sim' : `kubelet-${node}`;
}
