// Real processes for the kubelet's end-to-end tests: a nats-server
// (testkit), the k8ts store on it, an apiserver with token authentication and the RBAC and
// Node authorizers, and kubelet processes authenticating with node credentials (a token-file
// line per node: user system:node:<name>, group system:nodes). Tests talk to the apiserver as
// an administrator through @k8ts/client; pods are bound by setting spec.nodeName at create.
// Node, pod and Service addresses come from the test file's own leased network (testkit), so
// they never meet those of a running cluster or of another test.
// As `k8ts up` runs them, the kubelet API is TLS with a serving certificate of a test cluster
// CA for the node's IP, callers are checked through the apiserver (client certificates of the
// CA, TokenReview, SubjectAccessReview over the apiserver's HTTPS API, whose serving
// certificate the CA signed too), and the apiserver presents kube-apiserver-kubelet-client.
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { connect } from '@k8ts/client';
import type { GrpcClientset } from '@k8ts/client';
import { type CertificateAndKey, createCA, issueCertificate } from '@k8ts/kit';
import {
  APISERVER_MAIN,
  type ControlPlaneUser,
  STORE_MAIN,
  type ServiceProcess,
  type TestNetwork,
  isProcessAlive,
  killProcessGroup,
  leaseTestNetwork,
  requireBuilt,
  spawnService,
  startControlPlane,
} from '@k8ts/testkit';

export const REPO = path.resolve(__dirname, '..', '..');
export { APISERVER_MAIN, STORE_MAIN };
export const KUBELET_MAIN = path.join(REPO, 'services', 'kubelet', 'dist', 'main.js');

/** Fails with a clear message when the build has not run. */
export function requireBuild(): void {
  requireBuilt([STORE_MAIN, APISERVER_MAIN, KUBELET_MAIN, path.join(REPO, 'packages', 'client', 'dist', 'index.js')]);
}

/** Flags that make a kubelet quick enough for tests (heartbeats, probes, back-off). */
export const FAST_FLAGS = [
  '--lease-renew-interval',
  '1s',
  '--node-status-update-frequency',
  '1s',
  '--probe-second',
  '250ms',
  '--crashloop-backoff-base',
  '300ms',
  '--crashloop-backoff-cap',
  '2400ms',
  '--pod-resync',
  '1s',
  '--shutdown-timeout',
  '2s',
];

export interface KubeletOptions {
  /** The node's name; its token must have been asked for in ClusterOptions.nodes. */
  name: string;
  /** The node's index in the cluster's network: node IP nodeIP(index), pod CIDR podCidr(index). */
  index: number;
  /** Reuse a root dir (restart tests); default a fresh one in the cluster's dir. */
  root?: string;
  /** Extra flags after the defaults. */
  args?: string[];
  /** Run as an administrator instead of with the node's own token (sim nodes). */
  adminToken?: boolean;
  /** --pod-cidr; default the network's podCidr(index); '' leaves it to the node IPAM (spec.podCIDR). */
  podCidr?: string;
  /** Wait for this log line; default the "kubelet ready" line. */
  readyPattern?: RegExp;
}

export interface KubeletProcess {
  proc: ServiceProcess;
  name: string;
  root: string;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The test cluster's CA and the files made from it. */
export interface ClusterPki {
  /** Where the PEM files are. */
  dir: string;
  ca: CertificateAndKey;
  /** ca.crt: the apiserver's --kubelet-ca, the kubelets' --client-ca-file and --apiserver-https-ca. */
  caFile: string;
}

export interface Cluster {
  dir: string;
  pki: ClusterPki;
  /** https://host:port of the apiserver's Kubernetes HTTP API (the reviews). */
  httpUrl: string;
  /** The test file's addresses: node IPs, pod CIDRs, the apiserver's service range. */
  network: TestNetwork;
  apiserverAddress: string;
  /** An administrator's clientset. */
  admin: GrpcClientset;
  /** The bearer token of 'admin' or of a user of ClusterOptions.users. */
  token(user: string): string;
  startKubelet(o: KubeletOptions): Promise<KubeletProcess>;
  /** Every container process any kubelet of this cluster started is killed; processes stop; the dir goes. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** The nodes that get node tokens. */
  nodes: string[];
  /** More static-token users (no groups unless given), e.g. a user without rights. */
  users?: ControlPlaneUser[];
  apiserverArgs?: string[];
}

/** Writes a certificate and its key as <name>.crt and <name>.key in dir. */
function writePair(dir: string, name: string, pair: CertificateAndKey): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  fs.writeFileSync(cert, pair.certPem);
  fs.writeFileSync(key, pair.keyPem, { mode: 0o600 });
  return { cert, key };
}

/** A cluster CA with the apiserver's HTTPS serving certificate and its kubelet client certificate, and the apiserver flags for them. */
async function clusterPki(): Promise<{ pki: ClusterPki; apiserverArgs: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-kubelet-pki-'));
  const ca = await createCA({ commonName: 'k8ts-test-ca', days: 1 });
  const caFile = path.join(dir, 'ca.crt');
  fs.writeFileSync(caFile, ca.certPem);
  const https = writePair(dir, 'apiserver', await issueCertificate({ ca, commonName: 'kube-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 }));
  const client = writePair(dir, 'apiserver-kubelet-client', await issueCertificate({ ca, commonName: 'kube-apiserver-kubelet-client', usages: ['client'], days: 1 }));
  const apiserverArgs = [
    ...['--http-tls-cert', https.cert, '--http-tls-key', https.key, '--kubelet-ca', caFile],
    ...['--kubelet-client-certificate', client.cert, '--kubelet-client-key', client.key],
  ];
  return { pki: { dir, ca, caFile }, apiserverArgs };
}

/** nats-server + store + apiserver (testkit's startControlPlane), each a real process on free ports. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  requireBuild();
  const network = await leaseTestNetwork(expect.getState().testPath ?? 'kubelet');
  const { pki, apiserverArgs } = await clusterPki();
  const cp = await startControlPlane({
    dirPrefix: 'k8ts-kubelet-it-',
    users: [...[...new Set(opts.nodes)].map((n) => ({ name: `system:node:${n}`, groups: ['system:nodes'], file: `kubelet-${n}.token` })), ...(opts.users ?? [])],
    apiserverArgs: ['--service-cluster-ip-range', network.serviceCidr, ...apiserverArgs, ...(opts.apiserverArgs ?? [])],
  }).catch(async (err: unknown) => {
    await network.release();
    fs.rmSync(pki.dir, { recursive: true, force: true });
    throw err;
  });
  cp.onStop(() => network.release());
  cp.onStop(() => fs.rmSync(pki.dir, { recursive: true, force: true }));
  try {
    const { dir, apiserverAddress } = cp;
    if (!cp.httpUrl) throw new Error('the apiserver serves no HTTPS API: kubelets cannot check their callers');
    const httpUrl = cp.httpUrl;
    const admin = connect({ address: apiserverAddress, token: cp.adminToken });
    const kubelets: KubeletProcess[] = [];
    const roots = new Set<string>();
    cp.onStop(async () => {
      admin.close();
      for (const k of kubelets.splice(0)) await k.stop('SIGKILL').catch(() => undefined);
      // Container processes outlive a killed kubelet: kill them before the control plane stops.
      for (const r of roots) killContainersUnder(r);
    });

    const startKubelet = async (o: KubeletOptions): Promise<KubeletProcess> => {
      if (!o.adminToken && !opts.nodes.includes(o.name)) throw new Error(`no token for node ${o.name}: list it in startCluster({ nodes })`);
      const token = cp.tokenFile(o.adminToken ? 'admin' : `system:node:${o.name}`);
      const root = o.root ?? path.join(dir, `root-${o.name}`);
      roots.add(root);
      const nodeIp = network.nodeIP(o.index);
      const serving = writePair(
        pki.dir,
        `kubelet-${o.name}`,
        await issueCertificate({ ca: pki.ca, commonName: `system:node:${o.name}`, organizations: ['system:nodes'], ipAddresses: [nodeIp], usages: ['server'], days: 1 }),
      );
      const proc = await spawnService({
        cmd: process.execPath,
        args: [
          KUBELET_MAIN,
          '--apiserver',
          apiserverAddress,
          '--token-file',
          token,
          '--node-name',
          o.name,
          '--node-ip',
          network.nodeIP(o.index),
          '--pod-cidr',
          o.podCidr ?? network.podCidr(o.index),
          '--root-dir',
          root,
          '--kubelet-port',
          '0',
          ...['--tls-cert', serving.cert, '--tls-key', serving.key, '--client-ca-file', pki.caFile],
          ...['--apiserver-https', httpUrl, '--apiserver-https-ca', pki.caFile],
          ...FAST_FLAGS,
          ...(o.args ?? []),
        ],
        readyPattern: o.readyPattern ?? /"msg":"kubelet ready"/,
        timeoutMs: 60_000,
      });
      const k: KubeletProcess = { proc, name: o.name, root, logs: () => proc.logs(), stop: (signal: NodeJS.Signals = 'SIGTERM') => proc.stop(signal) };
      kubelets.push(k);
      return k;
    };

    return { dir, pki, httpUrl, network, apiserverAddress, admin, token: (user) => cp.token(user), startKubelet, stop: () => cp.stop() };
  } catch (err) {
    await cp.stop().catch(() => undefined);
    throw err;
  }
}

/** A pod bound to `node` at create (no scheduler). */
export function boundPod(name: string, node: string, spec: Partial<corev1.PodSpec>, meta: Partial<NonNullable<corev1.Pod['metadata']>> = {}): corev1.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name }, ...meta },
    spec: { nodeName: node, terminationGracePeriodSeconds: 5, containers: [], ...spec },
  };
}

/** Polls until fn returns a truthy value (never asserts timing). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false | ''> | T | undefined | null | false | '', timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pod's status in the API once pred holds. */
export function podStatus(admin: GrpcClientset, name: string, pred: (s: corev1.PodStatus, pod: corev1.Pod) => boolean, what: string, timeoutMs = 30_000): Promise<corev1.PodStatus> {
  let last: corev1.PodStatus | undefined;
  return eventually(
    `${what} of pod ${name}`,
    async () => {
      const pod = await admin.pods.get(name, { namespace: 'default' });
      last = pod.status;
      return pod.status && pred(pod.status, pod) ? pod.status : undefined;
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last status:\n${JSON.stringify(last, null, 2)}`);
  });
}

export function conditionOf(s: corev1.PodStatus | corev1.NodeStatus | undefined, type: string): string | undefined {
  return (s?.conditions as Array<{ type?: string; status?: string }> | undefined)?.find((c) => c.type === type)?.status;
}

/** Reads a whole log stream (ends by itself without follow). */
export async function readLogs(admin: GrpcClientset, name: string, opts: { tailLines?: number; previous?: boolean; container?: string } = {}): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of admin.pods.logs(name, { namespace: 'default', ...opts })) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

/**
 * Kills the process group of every container a kubelet started under `root` that still runs.
 * The kubelet's process runtime writes one state file per container instance,
 * pods/<ns>_<name>_<uid>/<container>/<attempt>.json, holding its pid and start time.
 */
export function killContainersUnder(root: string): number {
  let killed = 0;
  for (const file of stateFiles(root)) {
    try {
      const st = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: number; procStartTime?: number };
      if (st.pid && isProcessAlive(st.pid, st.procStartTime) && killProcessGroup(st.pid, 'SIGKILL')) killed++;
    } catch {
      // not a state file, or gone meanwhile
    }
  }
  return killed;
}

function stateFiles(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return stateFiles(p);
    return /^\d+\.json$/.test(e.name) ? [p] : [];
  });
}

export interface HttpResult {
  status: number;
  body: string;
}

/** A real HTTP request (no keep-alive). */
export function request(method: string, url: string, timeoutMs = 3000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}
