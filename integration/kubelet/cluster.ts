// Real processes for the kubelet's end-to-end tests: a nats-server
// (testkit), the k8ts store on it, an apiserver with token authentication and the RBAC and
// Node authorizers, and kubelet processes authenticating with node credentials (a token-file
// line per node: user system:node:<name>, group system:nodes). Tests talk to the apiserver as
// an administrator through @k8ts/client; pods are bound by setting spec.nodeName at create.
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { connect } from '@k8ts/client';
import type { GrpcClientset } from '@k8ts/client';
import { APISERVER_MAIN, STORE_MAIN, type ServiceProcess, requireBuilt, spawnService, startControlPlane } from '@k8ts/testkit';
import { killAllUnder } from './harness';

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

/** nats-server + store + apiserver (testkit's startControlPlane), each a real process on free ports. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  requireBuild();
  const cp = await startControlPlane({
    dirPrefix: 'k8ts-kubelet-it-',
    users: [...new Set(opts.nodes)].map((n) => ({ name: `system:node:${n}`, groups: ['system:nodes'], file: `kubelet-${n}.token` })),
    apiserverArgs: opts.apiserverArgs,
  });
  try {
    const { dir, apiserverAddress } = cp;
    const admin = connect({ address: apiserverAddress, token: cp.adminToken });
    const kubelets: KubeletProcess[] = [];
    const roots = new Set<string>();
    cp.onStop(async () => {
      admin.close();
      for (const k of kubelets.splice(0)) await k.stop('SIGKILL').catch(() => undefined);
      // Container processes outlive a killed kubelet: kill them before the control plane stops.
      for (const r of roots) killAllUnder(r);
    });

    const startKubelet = async (o: KubeletOptions): Promise<KubeletProcess> => {
      if (!o.adminToken && !opts.nodes.includes(o.name)) throw new Error(`no token for node ${o.name}: list it in startCluster({ nodes })`);
      const token = cp.tokenFile(o.adminToken ? 'admin' : `system:node:${o.name}`);
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

    return { dir, apiserverAddress, admin, startKubelet, stop: () => cp.stop() };
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
