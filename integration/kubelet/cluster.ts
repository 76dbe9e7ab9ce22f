// Real processes for the kubelet's end-to-end tests (and bench/kubelet): a nats-server
// (testkit), the k8ts store on it, an apiserver with token authentication and the RBAC and
// Node authorizers, and kubelet processes authenticating with node credentials (a token-file
// line per node: user system:node:<name>, group system:nodes). Tests talk to the apiserver as
// an administrator through @k8ts/client; pods are bound by setting spec.nodeName at create.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { connect } from '@k8ts/client';
import type { GrpcClientset } from '@k8ts/client';
import { type NatsServer, type ServiceProcess, freePort, spawnService, startNats } from '@k8ts/testkit';
import { killAllUnder } from './harness';

export const REPO = path.resolve(__dirname, '..', '..');
export const STORE_MAIN = path.join(REPO, 'services', 'store', 'dist', 'main.js');
export const APISERVER_MAIN = path.join(REPO, 'services', 'apiserver', 'dist', 'main.js');
export const KUBELET_MAIN = path.join(REPO, 'services', 'kubelet', 'dist', 'main.js');

/** Fails with a clear message when the build has not run. */
export function requireBuild(): void {
  for (const f of [STORE_MAIN, APISERVER_MAIN, KUBELET_MAIN, path.join(REPO, 'packages', 'client', 'dist', 'index.js')]) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(REPO, f)} is missing: run 'npm run build' before the integration tests`);
  }
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
  /** 127.10.0.<index> is the node IP, 127.244.<index>.0/24 the pod CIDR. */
  index: number;
  /** Reuse a root dir (restart tests); default a fresh one in the cluster's dir. */
  root?: string;
  /** Extra flags after the defaults. */
  args?: string[];
  /** Run as an administrator instead of with the node's own token (sim nodes). */
  adminToken?: boolean;
  /** --pod-cidr; default 127.244.<index>.0/24; '' leaves it to the node IPAM (spec.podCIDR). */
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

export interface Cluster {
  dir: string;
  apiserverAddress: string;
  /** An administrator's clientset. */
  admin: GrpcClientset;
  startKubelet(o: KubeletOptions): Promise<KubeletProcess>;
  /** Every container process any kubelet of this cluster started is killed; processes stop; the dir goes. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** The nodes that get node tokens. */
  nodes: string[];
  apiserverArgs?: string[];
}

/** nats-server + store + apiserver, each a real process on free ports. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  requireBuild();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-kubelet-it-'));
  const adminToken = crypto.randomBytes(24).toString('base64url');
  const lines = [`${adminToken},admin,admin-uid,"system:masters"`];
  const tokenFiles = new Map<string, string>();
  for (const n of opts.nodes) {
    const t = crypto.randomBytes(24).toString('base64url');
    lines.push(`${t},system:node:${n},,system:nodes`);
    const f = path.join(dir, `kubelet-${n}.token`);
    fs.writeFileSync(f, `${t}\n`, { mode: 0o600 });
    tokenFiles.set(n, f);
  }
  const adminFile = path.join(dir, 'admin.token');
  fs.writeFileSync(adminFile, `${adminToken}\n`, { mode: 0o600 });
  const tokenFile = path.join(dir, 'tokens.csv');
  fs.writeFileSync(tokenFile, `${lines.join('\n')}\n`);

  const procs: ServiceProcess[] = [];
  const kubelets: KubeletProcess[] = [];
  const roots = new Set<string>();
  let nats: NatsServer | undefined;
  let admin: GrpcClientset | undefined;
  const stopAll = async () => {
    admin?.close();
    for (const k of kubelets.splice(0)) await k.stop('SIGKILL').catch(() => undefined);
    for (const r of roots) killAllUnder(r);
    for (const p of procs.splice(0).reverse()) await p.stop('SIGTERM').catch(() => undefined);
    await nats?.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    nats = await startNats({ dir: path.join(dir, 'nats') });
    const storePort = await freePort();
    procs.push(
      await spawnService({
        cmd: process.execPath,
        args: [STORE_MAIN, '--listen', `127.0.0.1:${storePort}`, '--nats-url', nats.url],
        readyPattern: /"msg":"ready"/,
        timeoutMs: 60_000,
      }),
    );
    const api = await spawnService({
      cmd: process.execPath,
      args: [
        APISERVER_MAIN,
        '--listen',
        '127.0.0.1:0',
        '--etcd-servers',
        `127.0.0.1:${storePort}`,
        '--nats-url',
        nats.url,
        '--token-auth-file',
        tokenFile,
        '--authorization-mode',
        'RBAC,Node',
        ...(opts.apiserverArgs ?? []),
      ],
      readyPattern: /"msg":"ready"/,
      timeoutMs: 60_000,
    });
    procs.push(api);
    const m = /"address":"([^"]+)"[^\n]*"msg":"listening"/.exec(api.logs());
    if (!m) throw new Error(`apiserver did not log its address:\n${api.logs()}`);
    const apiserverAddress = m[1];
    admin = connect({ address: apiserverAddress, token: adminToken });

    const startKubelet = async (o: KubeletOptions): Promise<KubeletProcess> => {
      const token = o.adminToken ? adminFile : tokenFiles.get(o.name);
      if (!token) throw new Error(`no token for node ${o.name}: list it in startCluster({ nodes })`);
      const root = o.root ?? path.join(dir, `root-${o.name}`);
      roots.add(root);
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
          `127.10.0.${o.index}`,
          '--pod-cidr',
          o.podCidr ?? `127.244.${o.index}.0/24`,
          '--root-dir',
          root,
          '--kubelet-port',
          '0',
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

    return { dir, apiserverAddress, admin, startKubelet, stop: stopAll };
  } catch (err) {
    await stopAll();
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
