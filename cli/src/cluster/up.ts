// k8ts up: a local multi-node cluster from separate processes, like kind without containers.
//
//   nats-server (JetStream, file storage under the data dir; only the store's and the
//   apiserver's NKey users may connect, each to its own subjects: natsusers.ts)
//     -> store (etcd v3 API on the JetStream stream; mutual TLS, only the apiserver's and the
//        store administrator's certificates may call) and apiserver (token file, signing key
//        and certificates from <data-dir>/pki; it waits for the store) together
//       -> scheduler, controller-manager, and per node a kubelet and a proxy, together
//
// The apiserver serves gRPC on its --listen port and the Kubernetes HTTP API over HTTPS on a
// second port (--http-listen), both on 127.0.0.1 and both kept in cluster.json so that the
// config file and the kubeconfig stay valid across restarts. Its serving certificate and the
// admin's client certificate come from the cluster CA (pki.ts); <data-dir>/kubeconfig is
// written once the cluster is ready.
//
// Each is `node services/<name>/dist/main.js ...` (nats-server from PATH or /usr/sbin),
// started detached with its output in <data-dir>/logs/<name>.log. A component is `listening`
// when it logs {"msg":"listening","address":...}, `ready` when its gRPC health check answers
// SERVING (the apiserver: and GET /readyz over HTTPS answers 200; a kubelet: when its Node is
// Ready). Everything started is recorded in state.json as it starts, so `k8ts down` can stop
// it even if `up` itself dies. If anything
// fails to start, everything started so far is stopped again and the error names the
// component and shows the end of its log.
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { connect } from '@k8ts/client';
import { MIN_NATS_SERVER, natsServerVersion, natsVersionOk } from '@k8ts/kit';
import type { Clientset } from '@k8ts/client';
import { configPath, loadConfig, saveConfig, upsertContext } from '../config';
import type { Context } from '../config';
import { CliError } from '../errors';
import type { IO } from '../io';
import { parseTimeout } from '../session';
import { checkHealth, checkHttps, healthCredentials } from './health';
import { defaultDataDir, layout, nodeIP, nodeName, readSettings, readState, removeState, stopRank, writeSettings, writeState } from './layout';
import type { ClusterSettings, ClusterState, Layout, ProcessEntry } from './layout';
import { writeKubeconfig } from './kubeconfig';
import {
  type NodeServer,
  STORE_ALLOWED_CLIENTS,
  apiserverKubeletClientPaths,
  apiserverSans,
  ensureCertificates,
  ensureCredentials,
  ensureNodeCertificates,
  firstServiceIP,
  nodeServerPaths,
  pkiPaths,
} from './pki';
import { ensureNatsUsers, natsAuthorization, natsSeedFile } from './natsusers';
import type { Credentials } from './pki';
import { k8tsCommand, pathHint, shellWord } from '../self';
import { componentEnv, isRunning, logTail, spawnComponent, stopAll, stopPodProcesses } from './procs';
import type { Spawned } from './procs';
import { Progress } from './progress';

export interface UpOptions {
  nodes?: string;
  runtime?: string;
  simNodes?: string;
  dataDir?: string;
  detach?: boolean;
  /** false with --no-config-update. */
  configUpdate?: boolean;
  name?: string;
  apiserverPort?: string;
  apiserverHttpsPort?: string;
  nodeSubnet?: string;
  clusterCidr?: string;
  serviceCidr?: string;
  componentArg?: string[];
  timeout?: string;
  logLevel?: string;
  natsSync?: string;
}

/** Where the services' entry points are: next to the CLI in the source tree, or K8TS_SERVICES_DIR. */
export function servicesDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.K8TS_SERVICES_DIR) return path.resolve(env.K8TS_SERVICES_DIR);
  // This file is cli/dist/cluster/up.js (or cli/src/cluster/up.ts in tests).
  return path.resolve(__dirname, '..', '..', '..', 'services');
}

export function serviceMain(service: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(servicesDir(env), service, 'dist', 'main.js');
}

/**
 * The nats-server binary: $NATS_SERVER_BIN, then `.tools/bin` of the k8ts checkout this CLI
 * runs from (scripts/nats-server.sh puts Debian 13's package there when the machine's is
 * older than 2.10), then PATH, then /usr/sbin, /usr/local/sbin and /usr/local/bin.
 */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NATS_SERVER_BIN) {
    if (!fs.existsSync(env.NATS_SERVER_BIN)) throw new CliError(`nats-server not found at NATS_SERVER_BIN=${env.NATS_SERVER_BIN}`);
    return env.NATS_SERVER_BIN;
  }
  // This file is cli/dist/cluster/up.js (or cli/src/cluster/up.ts in tests).
  const tools = path.resolve(__dirname, '..', '..', '..', '.tools', 'bin');
  for (const dir of [tools, ...(env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin']) {
    if (!dir) continue;
    const p = path.join(dir, 'nats-server');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new CliError(
    'nats-server not found: k8ts up needs it for the cluster state. Run make setup (it fetches the Debian nats-server package into .tools) or set NATS_SERVER_BIN to a nats-server 2.10 or later',
  );
}

/** Whether host:port can be bound right now. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** The address the apiserver listens on, advertises, and has in its serving certificate. */
export const APISERVER_IP = '127.0.0.1';

/** A port that was free a moment ago (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function intFlag(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`invalid --${name} "${value}": must be an integer from ${min} to ${max}`);
  return n;
}

/** A free port other than those in `avoid`. */
async function freePortExcept(avoid: number[]): Promise<number> {
  for (;;) {
    const port = await freePort(APISERVER_IP);
    if (!avoid.includes(port)) return port;
  }
}

/**
 * One of the apiserver's ports: the one given with --<flag> (refused when taken), else the one
 * kept from the last start when it is still free, else one the OS picks. Never one in `avoid`.
 */
async function choosePort(given: number | undefined, kept: number | undefined, flag: string, what: string, avoid: number[]): Promise<number> {
  if (given !== undefined && given !== 0) {
    if (avoid.includes(given)) throw new CliError(`invalid --${flag} ${given}: the apiserver already uses it for another port`);
    if (!(await portFree(given, APISERVER_IP))) {
      throw new CliError(`port ${APISERVER_IP}:${given} for the ${what} is already in use by another process: choose another with --${flag}`);
    }
    return given;
  }
  if (given === undefined && kept && !avoid.includes(kept) && (await portFree(kept, APISERVER_IP))) return kept;
  return freePortExcept(avoid);
}

/** Cluster settings: those of an existing data dir, with the flags given now applied. */
export async function resolveSettings(l: Layout, opts: UpOptions): Promise<ClusterSettings> {
  const old = readSettings(l);
  const nodes = intFlag(opts.nodes, 'nodes', 0, 254);
  const simNodes = intFlag(opts.simNodes, 'sim-nodes', 0, 100000);
  if (opts.runtime !== undefined && opts.runtime !== 'process' && opts.runtime !== 'sim') {
    throw new CliError(`invalid --runtime "${opts.runtime}": must be process or sim`);
  }
  const port = intFlag(opts.apiserverPort, 'apiserver-port', 0, 65535);
  const httpsPort = intFlag(opts.apiserverHttpsPort, 'apiserver-https-port', 0, 65535);
  const s: ClusterSettings = {
    name: opts.name ?? old?.name ?? (path.basename(l.dataDir) || 'default'),
    nodes: nodes ?? old?.nodes ?? 3,
    runtime: (opts.runtime as ClusterSettings['runtime']) ?? old?.runtime ?? 'process',
    simNodes: simNodes ?? old?.simNodes ?? 0,
    nodeSubnet: opts.nodeSubnet ?? old?.nodeSubnet ?? '127.10.0.0/24',
    clusterCidr: opts.clusterCidr ?? old?.clusterCidr ?? '127.244.0.0/16',
    serviceCidr: opts.serviceCidr ?? old?.serviceCidr ?? '127.96.0.0/16',
    apiserverPort: old?.apiserverPort ?? 0,
    apiserverHttpsPort: old?.apiserverHttpsPort,
    natsSync: opts.natsSync ?? old?.natsSync ?? 'always',
    created: old?.created ?? new Date().toISOString(),
  };
  if (s.natsSync !== 'always' && !/^\d+(ms|s|m|h)$/.test(s.natsSync ?? '')) {
    throw new CliError(`invalid --nats-sync "${s.natsSync}": must be always or a duration such as 30s or 2m`);
  }
  nodeIP(s.nodeSubnet, 1);
  if (s.nodes === 0 && s.simNodes === 0) throw new CliError('a cluster needs nodes: give --nodes 1 or more, or --sim-nodes');
  firstServiceIP(s.serviceCidr);
  if (port && httpsPort && port === httpsPort) throw new CliError(`--apiserver-port and --apiserver-https-port must differ; both are ${port}`);
  s.apiserverPort = await choosePort(port, old?.apiserverPort, 'apiserver-port', 'apiserver', httpsPort ? [httpsPort] : []);
  s.apiserverHttpsPort = await choosePort(httpsPort, old?.apiserverHttpsPort, 'apiserver-https-port', "apiserver's HTTPS API", [s.apiserverPort]);
  return s;
}

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
function kubeletOf(node: string): string {
  return /^sim-\d+$/.test(node) ? 'kubelet-sim' : `kubelet-${node}`;
}

/** A failure to start: names the component and shows the end of its log. */
export class StartError extends CliError {
  constructor(component: string, why: string, log: string, tail: string) {
    super(`${component} failed to start: ${why}\n  log: ${log}${tail ? `\n  last lines:\n${tail.split('\n').map((x) => `    ${x}`).join('\n')}` : ''}`);
  }
}

/** How a component says it listens and is ready: nats-server in its log, k8ts services by their health check. */
export type ComponentKind = Plan['kind'];

/** The kind of the component of this name (in a plan or in state.json). */
export function componentKind(name: string): ComponentKind {
  return name === 'nats' ? 'nats' : 'service';
}

/**
 * Reads the log since `offset` and returns the address of the first `listening` line; for
 * nats-server, its client address once it logged that it is ready ('ready' when it did not
 * say where it listens). nats-server speaks no gRPC: that line is all its readiness.
 */
export function listeningAddress(kind: ComponentKind, file: string, offset: number): string | undefined {
  let text: string;
  try {
    const buf = fs.readFileSync(file);
    text = buf.subarray(offset).toString('utf8');
  } catch {
    return undefined;
  }
  if (kind === 'nats') {
    if (!/Server is ready/.test(text)) return undefined;
    const m = /Listening for client connections on ([\d.]+:\d+)/.exec(text);
    return m ? m[1] : 'ready';
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"listening"')) continue;
    try {
      const j = JSON.parse(line) as { msg?: string; address?: string };
      if (j.msg === 'listening' && j.address) return j.address;
    } catch {
      // a partial line: read again later
    }
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Launcher {
  readonly spawned: Spawned[] = [];
  private failure?: Error;

  constructor(
    private readonly l: Layout,
    private readonly state: ClusterState,
    private readonly progress: Progress,
    private readonly env: NodeJS.ProcessEnv,
    private readonly deadline: number,
  ) {}

  /** Starts a process and resolves once it is ready (health SERVING), with its address. */
  async start(plan: Plan): Promise<Spawned> {
    this.progress.set(plan.name, 'starting');
    const sp = spawnComponent({
      name: plan.name,
      command: plan.command,
      args: plan.args,
      log: path.join(this.l.logs, `${plan.name}.log`),
      cwd: this.l.dataDir,
      env: componentEnv(this.env),
      node: plan.node,
    });
    this.spawned.push(sp);
    this.state.processes = this.state.processes.filter((p) => p.name !== plan.name);
    this.state.processes.push(sp.entry);
    writeState(this.l, this.state);
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    sp.exited.then((x) => {
      exited = x;
    });
    const fail = (why: string): never => {
      this.progress.set(plan.name, 'failed', why);
      throw new StartError(plan.name, why, sp.entry.log, logTail(sp.entry.log, sp.logOffset));
    };
    if (!sp.entry.pid) {
      await sp.exited;
      fail(`could not run ${plan.command}`);
    }
    let address: string | undefined;
    while (!address) {
      await sleep(40);
      if (this.failure) throw this.failure;
      address = listeningAddress(plan.kind, sp.entry.log, sp.logOffset);
      if (address) break;
      if (exited) fail(exitText(exited));
      if (Date.now() > this.deadline) fail('it did not start listening in time');
    }
    sp.entry.address = address;
    writeState(this.l, this.state);
    this.progress.set(plan.name, 'listening', address);
    if (plan.kind === 'nats') {
      this.progress.set(plan.name, 'ready', address);
      return sp;
    }
    for (;;) {
      if (this.failure) throw this.failure;
      if (exited) fail(exitText(exited));
      const health = await checkHealth(address, 1000, '', healthCredentials(this.l.dataDir, plan.name));
      if (health === 'SERVING') break;
      if (Date.now() > this.deadline) fail(`its health check still answers ${health}`);
      await sleep(50);
    }
    if (plan.httpsReady) await this.waitHttpsReady(plan, plan.httpsReady, address, () => exited, fail);
    // A kubelet is ready when its Node is (waitNodesReady says so).
    if (plan.name.startsWith('kubelet-')) this.progress.set(plan.name, 'listening', `${address} (serving; waiting for its Node to be Ready)`);
    else this.progress.set(plan.name, 'ready', plan.httpsReady ? `${address}, ${new URL(plan.httpsReady.url).origin}` : address);
    return sp;
  }

  /** Polls the plan's HTTPS readiness URL until it answers 200. */
  private async waitHttpsReady(
    plan: Plan,
    check: HttpsReadiness,
    address: string,
    exited: () => { code: number | null; signal: NodeJS.Signals | null } | undefined,
    fail: (why: string) => never,
  ): Promise<void> {
    this.progress.set(plan.name, 'listening', `${address} (waiting for GET ${check.url})`);
    const probe = { url: check.url, ca: fs.readFileSync(check.caFile, 'utf8'), cert: fs.readFileSync(check.certFile, 'utf8'), key: fs.readFileSync(check.keyFile, 'utf8') };
    for (;;) {
      if (this.failure) throw this.failure;
      const gone = exited();
      if (gone) fail(exitText(gone));
      const answer = await checkHttps(probe, 1000);
      if (answer === 'OK') return;
      if (Date.now() > this.deadline) fail(`GET ${check.url} still answers ${answer}`);
      await sleep(50);
    }
  }

  /** Fails every pending start (another component failed). */
  abort(err: Error): void {
    this.failure ??= err;
  }

  /** A component that exited while others were starting. */
  firstExit(): { name: string; why: string; log: string; offset: number } | undefined {
    for (const sp of this.spawned) {
      if (sp.child.exitCode !== null || sp.child.signalCode !== null) {
        return { name: sp.entry.name, why: exitText({ code: sp.child.exitCode, signal: sp.child.signalCode }), log: sp.entry.log, offset: sp.logOffset };
      }
    }
    return undefined;
  }
}

function exitText(x: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (x.signal) return `it was killed by ${x.signal}`;
  if (x.code === 2) return 'it rejected its configuration (exit code 2)';
  return `it exited with code ${x.code}`;
}

/** Stops every process of the cluster in order (nodes, control plane, store, NATS), then the pods. */
export async function stopEverything(l: Layout, entries: ProcessEntry[], graceMs = 8000): Promise<void> {
  const ranks = [...new Set(entries.map((e) => stopRank(e.name)))].sort((a, b) => a - b);
  for (const r of ranks) {
    await stopAll(
      entries.filter((e) => stopRank(e.name) === r),
      graceMs,
    );
    if (r === 1) await stopPodProcesses(l.dataDir, 3000);
  }
  await stopPodProcesses(l.dataDir, 3000);
}

/** Waits until each expected node is Ready, marking its kubelet ready in the progress. */
async function waitNodesReady(cs: Clientset, names: string[], progress: Progress, launcher: Launcher, deadline: number): Promise<void> {
  const pending = new Set(names);
  const sims = names.filter((n) => kubeletOf(n) === 'kubelet-sim').length;
  for (;;) {
    const dead = launcher.firstExit();
    if (dead) throw new StartError(dead.name, dead.why, dead.log, logTail(dead.log, dead.offset));
    try {
      const { items } = await cs.nodes.list({ deadlineMs: 2000 });
      for (const n of items) {
        const name = n.metadata?.name ?? '';
        const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (ready && pending.has(name)) {
          pending.delete(name);
          if (kubeletOf(name) !== 'kubelet-sim') progress.set(`kubelet-${name}`, 'ready', `node ${name} Ready`);
        }
      }
      if (sims > 0) {
        const left = [...pending].filter((n) => kubeletOf(n) === 'kubelet-sim').length;
        progress.set('kubelet-sim', left === 0 ? 'ready' : 'listening', `${sims - left}/${sims} simulated nodes Ready`);
      }
    } catch {
      // the apiserver may be busy; try again
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      const name = [...pending][0];
      const sp = launcher.spawned.find((x) => x.entry.name === kubeletOf(name));
      throw new StartError(
        kubeletOf(name),
        `node ${name} did not become Ready in time`,
        sp?.entry.log ?? '',
        sp ? logTail(sp.entry.log, sp.logOffset) : '',
      );
    }
    await sleep(100);
  }
}

export interface UpResult {
  layout: Layout;
  settings: ClusterSettings;
  /** The apiserver's gRPC address. */
  server: string;
  /** The apiserver's Kubernetes HTTP API, https://host:port. */
  httpsServer: string;
  /** <data-dir>/kubeconfig. */
  kubeconfig: string;
  credentials: Credentials;
  seconds: number;
  configFile: string;
  contextName: string;
  /** The processes started (children of this process until it exits). */
  children: Spawned[];
}

/** Writes <data-dir>/kubeconfig for the HTTPS API, with the admin's client certificate. */
export function writeClusterKubeconfig(l: Layout, s: ClusterSettings): void {
  const p = pkiPaths(l.dataDir);
  const read = (f: string) => fs.readFileSync(f, 'utf8');
  writeKubeconfig(l.kubeconfig, { server: httpsServerUrl(s), caPem: read(p.caCert), clientCertPem: read(p.adminCert), clientKeyPem: read(p.adminKey) });
}

/** Writes <data-dir>/kubeconfig, <data-dir>/config and (unless disabled) the user's config with a context for the cluster. */
function writeConfigs(l: Layout, s: ClusterSettings, server: string, creds: Credentials, opts: UpOptions, io: IO): { configFile: string; contextName: string } {
  writeClusterKubeconfig(l, s);
  const contextName = `k8ts-${s.name}`;
  const ctx: Context = { name: contextName, server, token: creds.admin, namespace: 'default', 'data-dir': l.dataDir };
  saveConfig(l.config, upsertContext(loadConfig(l.config), ctx, true));
  if (opts.configUpdate === false) return { configFile: l.config, contextName };
  const userFile = configPath(undefined, io.env);
  if (path.resolve(userFile) !== path.resolve(l.config)) {
    const existing = loadConfig(userFile).contexts.find((c) => c.name === contextName);
    saveConfig(userFile, upsertContext(loadConfig(userFile), { ...ctx, namespace: existing?.namespace ?? 'default' }, true));
  }
  return { configFile: userFile, contextName };
}

export async function up(io: IO, opts: UpOptions): Promise<UpResult> {
  const began = Date.now();
  const l = layout(opts.dataDir ?? defaultDataDir(io.env));
  fs.mkdirSync(l.dataDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(l.logs, { recursive: true });

  const previous = readState(l);
  if (previous) {
    const running = previous.processes.filter((p) => isRunning(p));
    if (running.length > 0) {
      throw new CliError(
        `a cluster is already running from ${l.dataDir} (${running.map((p) => p.name).join(', ')}): see "${k8tsCommand(io.env)} status --data-dir ${shellWord(l.dataDir)}", stop it with "${k8tsCommand(io.env)} down --data-dir ${shellWord(l.dataDir)}"`,
      );
    }
    removeState(l);
  }
  // Pods left over from a cluster that was not stopped cleanly.
  await stopPodProcesses(l.dataDir, 2000);

  const nats = findNatsServer(io.env);
  const natsVersion = natsServerVersion(nats);
  const oldNats = natsVersion !== undefined && !natsVersionOk(natsVersion);
  if (oldNats) {
    io.err(
      `warning: ${nats} is nats-server ${natsVersion}; k8ts needs ${MIN_NATS_SERVER} or later for the cluster state to survive a crashed NATS server (run make setup, or set NATS_SERVER_BIN)\n`,
    );
  }
  for (const s of ['store', 'apiserver', 'scheduler', 'controller-manager', 'kubelet', 'proxy']) {
    const main = serviceMain(s, io.env);
    if (!fs.existsSync(main)) throw new CliError(`the ${s} is not built: ${main} does not exist (run "make build")`);
  }
  const settings = await resolveSettings(l, opts);
  writeSettings(l, settings);
  const nodeNames = expectedNodes(settings);
  const creds = ensureCredentials(
    l.dataDir,
    nodeNames.filter((n) => kubeletOf(n) !== 'kubelet-sim'),
    { simKubelet: settings.simNodes > 0 },
  );
  const certificates = await ensureCertificates(l.dataDir, apiserverSans(APISERVER_IP, settings.serviceCidr));
  certificates.issued.push(...(await ensureNodeCertificates(l.dataDir, nodeServers(settings))));
  const natsUsers = ensureNatsUsers(certificates.paths);
  const server = `${APISERVER_IP}:${settings.apiserverPort}`;
  const httpsServer = httpsServerUrl(settings);

  const timeoutMs = parseTimeout(opts.timeout) || 120_000;
  const deadline = Date.now() + timeoutMs;
  const progress = new Progress((t) => io.err(t), io.isTTY);
  const state: ClusterState = { startedAt: new Date().toISOString(), server, httpsServer, processes: [] };
  if (!opts.detach) state.supervisorPid = process.pid;
  const launcher = new Launcher(l, state, progress, io.env, deadline);

  const sims = settings.simNodes > 0 ? ` + ${settings.simNodes} simulated` : '';
  io.err(`Starting cluster "${settings.name}" in ${l.dataDir} (${settings.nodes} node${settings.nodes === 1 ? '' : 's'}${sims}, runtime ${settings.runtime})\n`);
  if (certificates.issued.length > 0) io.err(`Certificates issued in ${certificates.paths.dir}: ${certificates.issued.join(', ')}\n`);
  let cs: Clientset | undefined;
  try {
    const natsPort = await freePort();
    const storePort = await freePort();
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    fs.mkdirSync(l.nats, { recursive: true });
    const natsConf = path.join(l.nats, 'nats.conf');
    fs.writeFileSync(
      natsConf,
      [
        '# Written by k8ts up on every start (the port changes; the storage stays).',
        'server_name: k8ts',
        `listen: 127.0.0.1:${natsPort}`,
        'max_payload: 8MB',
        // sync_interval: always fsyncs every write before JetStream acknowledges it, so an
        // acknowledged write survives a power loss (one server: no replica to fall back on).
        // (nats-server 2.9 knows no sync_interval: it fsyncs every 2 minutes, as warned above.)
        `jetstream { store_dir: ${JSON.stringify(path.join(l.nats, 'jetstream'))}${oldNats ? '' : `, sync_interval: ${settings.natsSync ?? 'always'}`} }`,
        // No anonymous clients: the store writes its stream, the apiserver reads it, nobody else.
        natsAuthorization(natsUsers),
      ].join('\n'),
    );
    const plans = planComponents(l, settings, natsUrl, `127.0.0.1:${storePort}`, opts, io.env);
    for (const p of ['nats', 'store', 'apiserver', ...plans.controlPlane.map((x) => x.name), ...plans.nodes.map((x) => x.name)]) progress.add(p);

    await launcher.start({ name: 'nats', command: nats, args: ['-c', natsConf], kind: 'nats' });
    // The apiserver waits for the store by itself: start both at once. The others start once
    // the apiserver answers (they would retry until then, but on a machine with few CPUs
    // booting them alongside only slows the apiserver down, and their retries back off).
    const guard = (p: Promise<Spawned>) =>
      p.catch((e) => {
        launcher.abort(e);
        throw e;
      });
    await Promise.all([plans.store, plans.apiserver].map((p) => guard(launcher.start(p))));
    await Promise.all([...plans.controlPlane, ...plans.nodes].map((p) => guard(launcher.start(p))));
    cs = connect({ address: server, token: creds.admin, deadlineMs: 5000 });
    await waitNodesReady(cs, nodeNames, progress, launcher, deadline);
    progress.done();
  } catch (e) {
    progress.done();
    launcher.abort(e as Error);
    cs?.close();
    io.err('Stopping what was started...\n');
    await stopEverything(l, state.processes, 3000);
    removeState(l);
    throw e;
  }
  cs?.close();
  const { configFile, contextName } = writeConfigs(l, settings, server, creds, opts, io);
  const seconds = (Date.now() - began) / 1000;
  for (const sp of launcher.spawned) {
    if (opts.detach) sp.child.unref();
  }
  return { layout: l, settings, server, httpsServer, kubeconfig: l.kubeconfig, credentials: creds, seconds, configFile, contextName, children: launcher.spawned };
}

/**
 * What `up` prints once the cluster is ready. Every suggested command works as printed:
 * `command` is how this CLI is typed in the user's shell (self.ts), and the kubectl lines
 * name the kubeconfig by its absolute path.
 */
export function readyMessage(r: UpResult, detach: boolean, command = k8tsCommand()): string {
  const cfgFlag = r.configFile === r.layout.config ? ` --config ${shellWord(r.configFile)}` : '';
  const dd = r.layout.dataDir === defaultDataDir() ? '' : ` --data-dir ${shellWord(r.layout.dataDir)}`;
  const k = command;
  const nodes = `${r.settings.nodes} node${r.settings.nodes === 1 ? '' : 's'}${r.settings.simNodes > 0 ? ` and ${r.settings.simNodes} simulated` : ''}`;
  const lines = [
    '',
    `Cluster "${r.settings.name}" is ready: ${nodes} in ${r.seconds.toFixed(1)}s. The apiserver is at ${r.server} (gRPC) and ${r.httpsServer} (Kubernetes API).`,
    '',
    'Try:',
    `  ${k}${cfgFlag} get nodes`,
    `  ${k}${cfgFlag} create deployment web --image=k8ts/echo --replicas=3`,
    `  ${k}${cfgFlag} get pods -o wide`,
    `  ${k} status${dd}          # each component's health`,
    `  ${k} down${dd}            # stop the cluster (${detach ? 'it keeps running in the background' : 'or press Ctrl-C'})`,
    '',
    'With kubectl (or any Kubernetes client):',
    `  export KUBECONFIG=${shellWord(r.kubeconfig)}`,
    '  kubectl get nodes',
    '',
    `Config:      ${r.configFile} (context ${r.contextName})`,
    `Kubeconfig:  ${r.kubeconfig}`,
    `Logs:        ${r.layout.logs}`,
  ];
  if (k !== 'k8ts') lines.push('', `To type just "k8ts", put it on your PATH: ${pathHint()}`);
  lines.push('');
  return lines.join('\n');
}

/**
 * Foreground mode: stay until Ctrl-C or SIGTERM, then stop everything. A component that exits
 * meanwhile is reported (k8ts stop NAME does that on purpose).
 */
export async function supervise(io: IO, r: UpResult, children: Spawned[] | undefined): Promise<void> {
  const l = r.layout;
  io.err('The cluster runs in the foreground: press Ctrl-C to stop it (or start it with --detach).\n');
  for (const sp of children ?? []) {
    sp.exited.then((x) => {
      const st = readState(l);
      const entry = st?.processes.find((p) => p.pid === sp.entry.pid);
      if (entry && !entry.stopped) io.err(`k8ts: ${sp.entry.name} ${exitText(x).replace(/^it /, '')} (log: ${sp.entry.log})\n`);
    });
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      io.err('\nStopping the cluster...\n');
      const st = readState(l);
      await stopEverything(l, st?.processes ?? [], 8000);
      removeState(l);
      io.err('Stopped.\n');
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // Everything stopped from outside (k8ts down): nothing left to supervise.
    const poll = setInterval(() => {
      const st = readState(l);
      if (!st && !stopping) {
        clearInterval(poll);
        resolve();
      }
    }, 500);
    poll.unref();
  });
}
