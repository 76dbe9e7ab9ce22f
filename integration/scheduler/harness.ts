// Real processes for the scheduler's integration tests (and bench/scheduler): a nats-server
// (testkit), the k8ts store on it, an apiserver with token authentication and RBAC, and
// scheduler processes authenticating as system:kube-scheduler. Objects are written through
// @k8ts/client as an administrator; there are node objects only, no kubelets.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { connect } from '@k8ts/client';
import type { GrpcClientset } from '@k8ts/client';
import { type NatsServer, type ServiceProcess, freePort, spawnService, startNats } from '@k8ts/testkit';

export const REPO = path.resolve(__dirname, '..', '..');
export const STORE_MAIN = path.join(REPO, 'services', 'store', 'dist', 'main.js');
export const APISERVER_MAIN = path.join(REPO, 'services', 'apiserver', 'dist', 'main.js');
export const SCHEDULER_MAIN = path.join(REPO, 'services', 'scheduler', 'dist', 'main.js');

/** Fails with a clear message when the build has not run. */
export function requireBuild(): void {
  for (const f of [STORE_MAIN, APISERVER_MAIN, SCHEDULER_MAIN, path.join(REPO, 'packages', 'client', 'dist', 'index.js')]) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(REPO, f)} is missing: run 'npm run build' before the integration tests`);
  }
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

/** nats-server + store + apiserver, each a real process on free ports. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  requireBuild();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-scheduler-it-'));
  const adminToken = crypto.randomBytes(24).toString('base64url');
  const schedulerToken = crypto.randomBytes(24).toString('base64url');
  const tokenFile = path.join(dir, 'tokens.csv');
  fs.writeFileSync(tokenFile, `${adminToken},admin,admin-uid,"system:masters"\n${schedulerToken},system:kube-scheduler,scheduler-uid\n`);
  const schedulerTokenFile = path.join(dir, 'scheduler.token');
  fs.writeFileSync(schedulerTokenFile, `${schedulerToken}\n`);

  const procs: ServiceProcess[] = [];
  let nats: NatsServer | undefined;
  const schedulers: SchedulerProcess[] = [];
  const stopAll = async () => {
    for (const s of schedulers.splice(0)) await s.stop().catch(() => undefined);
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
        '--log-level',
        'info',
        ...(opts.apiserverArgs ?? []),
      ],
      readyPattern: /"msg":"ready"/,
      timeoutMs: 60_000,
    });
    procs.push(api);
    const m = /"address":"([^"]+)"[^\n]*"msg":"listening"/.exec(api.logs());
    if (!m) throw new Error(`apiserver did not log its address:\n${api.logs()}`);
    const apiserverAddress = m[1];
    const admin = connect({ address: apiserverAddress, token: adminToken });

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

    return {
      dir,
      apiserverAddress,
      admin,
      startScheduler,
      async stop() {
        admin.close();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
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
