// Real processes for the scheduler's integration tests: a nats-server
// (testkit), the k8ts store on it, an apiserver with token authentication and RBAC, and
// scheduler processes authenticating as system:kube-scheduler. Objects are written through
// @k8ts/client as an administrator; there are node objects only, no kubelets.
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { connect } from '@k8ts/client';
import type { GrpcClientset } from '@k8ts/client';
import { APISERVER_MAIN, STORE_MAIN, type ServiceProcess, requireBuilt, spawnService, startControlPlane } from '@k8ts/testkit';

export const REPO = path.resolve(__dirname, '..', '..');
export { APISERVER_MAIN, STORE_MAIN };
export const SCHEDULER_MAIN = path.join(REPO, 'services', 'scheduler', 'dist', 'main.js');

/** Fails with a clear message when the build has not run. */
export function requireBuild(): void {
  requireBuilt([STORE_MAIN, APISERVER_MAIN, SCHEDULER_MAIN, path.join(REPO, 'packages', 'client', 'dist', 'index.js')]);
}

export interface SchedulerProcess {
  proc: ServiceProcess;
  identity: string;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface Cluster {
  dir: string;
  apiserverAddress: string;
  /** An administrator's clientset. */
  admin: GrpcClientset;
  /** Starts a scheduler process (extra flags after the defaults). */
  startScheduler(args?: string[], identity?: string): Promise<SchedulerProcess>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Extra apiserver flags. */
  apiserverArgs?: string[];
  logLevel?: string;
}

/** nats-server + store + apiserver (testkit's startControlPlane), each a real process on free ports. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  requireBuild();
  const cp = await startControlPlane({
    dirPrefix: 'k8ts-scheduler-it-',
    users: [{ name: 'system:kube-scheduler', uid: 'scheduler-uid', file: 'scheduler.token' }],
    apiserverLogLevel: 'info',
    apiserverArgs: opts.apiserverArgs,
  });
  try {
    const { apiserverAddress } = cp;
    const schedulerTokenFile = cp.tokenFile('system:kube-scheduler');
    const admin = connect({ address: apiserverAddress, token: cp.adminToken });
    const schedulers: SchedulerProcess[] = [];
    cp.onStop(async () => {
      admin.close();
      for (const s of schedulers.splice(0)) await s.stop().catch(() => undefined);
    });

    let n = 0;
    const startScheduler = async (args: string[] = [], identity = `scheduler-${++n}`): Promise<SchedulerProcess> => {
      const proc = await spawnService({
        cmd: process.execPath,
        args: [
          SCHEDULER_MAIN,
          '--listen',
          '127.0.0.1:0',
          '--apiserver',
          apiserverAddress,
          '--token-file',
          schedulerTokenFile,
          '--identity',
          identity,
          '--log-level',
          opts.logLevel ?? 'info',
          ...args,
        ],
        readyPattern: /"msg":"listening"/,
        timeoutMs: 30_000,
      });
      const s: SchedulerProcess = {
        proc,
        identity,
        logs: () => proc.logs(),
        stop: (signal: NodeJS.Signals = 'SIGTERM') => proc.stop(signal),
      };
      schedulers.push(s);
      return s;
    };

    return { dir: cp.dir, apiserverAddress, admin, startScheduler, stop: () => cp.stop() };
  } catch (err) {
    await cp.stop().catch(() => undefined);
    throw err;
  }
}

/** A node object as a kubelet would register it (no kubelet here). */
export function nodeObject(
  name: string,
  o: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: corev1.Taint[] } = {},
): corev1.Node {
  const allocatable = { cpu: { value: o.cpu ?? '4' }, memory: { value: o.memory ?? '8Gi' }, pods: { value: o.pods ?? '110' } };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { taints: o.taints },
    status: { capacity: allocatable, allocatable },
  };
}

/** A pod with one container and the given requests and constraints. */
export function podObject(
  name: string,
  o: {
    namespace?: string;
    cpu?: string;
    memory?: string;
    labels?: Record<string, string>;
    tolerations?: corev1.Toleration[];
    affinity?: corev1.Affinity;
    nodeSelector?: Record<string, string>;
    schedulerName?: string;
  } = {},
): corev1.Pod {
  const requests: Record<string, { value: string }> = {};
  if (o.cpu) requests.cpu = { value: o.cpu };
  if (o.memory) requests.memory = { value: o.memory };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels },
    spec: {
      schedulerName: o.schedulerName,
      tolerations: o.tolerations,
      affinity: o.affinity,
      nodeSelector: o.nodeSelector,
      containers: [{ name: 'c', image: 'echo', resources: Object.keys(requests).length > 0 ? { requests } : undefined }],
    },
  };
}

/** Polls until fn returns a truthy value (never asserts timing). */
type Falsy = undefined | null | false | '' | 0;

export async function eventually<T>(what: string, fn: () => Promise<T | Falsy> | T | Falsy, timeoutMs = 30_000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The node a pod is bound to ('' when pending). */
export async function nodeOf(admin: GrpcClientset, name: string, namespace = 'default'): Promise<string> {
  const p = await admin.pods.get(name, { namespace });
  return p.spec?.nodeName ?? '';
}
