// Real processes for the controller-manager's integration tests: a nats-server (testkit), the
// k8ts store on it, an apiserver with token authentication, RBAC and a service-account key,
// and controller-manager processes authenticating as system:kube-controller-manager. There
// are no kubelets and no scheduler: FakeKubelet plays both through the real API, as an
// administrator (binds pods to its nodes, reports them Running and Ready with an IP, renews
// the nodes' Leases and Ready conditions, finishes deletions of its nodes' pods).
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { type GrpcClientset, Informer, connect, deepCopy, isConflict, isNotFound, keyOf, listWatchFor } from '@k8ts/client';
import { APISERVER_MAIN, STORE_MAIN, type ServiceProcess, requireBuilt, spawnService, startControlPlane } from '@k8ts/testkit';

export const REPO = path.resolve(__dirname, '..', '..');
export { APISERVER_MAIN, STORE_MAIN };
export const CONTROLLER_MANAGER_MAIN = path.join(REPO, 'services', 'controller-manager', 'dist', 'main.js');

/** Fails with a clear message when the build has not run. */
export function requireBuild(): void {
  requireBuilt([STORE_MAIN, APISERVER_MAIN, CONTROLLER_MANAGER_MAIN, path.join(REPO, 'packages', 'client', 'dist', 'index.js')]);
}

export interface Cluster {
  dir: string;
  apiserverAddress: string;
  /** An administrator's clientset. */
  admin: GrpcClientset;
  /**
   * Starts a controller-manager process (extra flags after the defaults). It resolves once
   * the process leads with synced caches, or with `standby`, once it is up (and waiting).
   */
  startControllerManager(args?: string[], opts?: { standby?: boolean }): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/** Flags that make node failures show within seconds (tests only). */
export const FAST_NODE_FLAGS = ['--node-monitor-period', '500ms', '--node-monitor-grace-period', '4s', '--node-startup-grace-period', '10s', '--node-eviction-rate', '10'];

/** nats-server + store + apiserver (testkit's startControlPlane), each a real process on free ports. */
export async function startCluster(opts: { apiserverArgs?: string[] } = {}): Promise<Cluster> {
  requireBuild();
  const cp = await startControlPlane({
    dirPrefix: 'k8ts-cm-it-',
    users: [{ name: 'system:kube-controller-manager', uid: 'cm-uid', file: 'controller-manager.token' }],
    serviceAccountKey: true,
    apiserverLogLevel: 'info',
    apiserverArgs: opts.apiserverArgs,
  });
  try {
    const { apiserverAddress } = cp;
    const cmTokenFile = cp.tokenFile('system:kube-controller-manager');
    const admin = connect({ address: apiserverAddress, token: cp.adminToken });
    const managers: ServiceProcess[] = [];
    cp.onStop(async () => {
      // K8TS_TEST_LOGS=1 prints the controller-manager's log (for debugging a failure).
      if (process.env.K8TS_TEST_LOGS) for (const m of managers) process.stderr.write(m.logs());
      for (const m of managers.splice(0)) await m.stop('SIGTERM').catch(() => undefined);
      admin.close();
    });

    const startControllerManager = async (args: string[] = [], o: { standby?: boolean } = {}): Promise<ServiceProcess> => {
      const proc = await spawnService({
        cmd: process.execPath,
        args: [
          CONTROLLER_MANAGER_MAIN,
          '--listen',
          '127.0.0.1:0',
          '--apiserver',
          apiserverAddress,
          '--token-file',
          cmTokenFile,
          '--log-level',
          'info',
          '--leader-elect-retry-period',
          '500ms',
          '--leader-elect-renew-deadline',
          '4s',
          '--leader-elect-lease-duration',
          '6s',
          ...args,
        ],
        readyPattern: o.standby ? /"msg":"ready"/ : /caches synced; controllers running/,
        timeoutMs: 60_000,
      });
      managers.push(proc);
      return proc;
    };
    return { dir: cp.dir, apiserverAddress, admin, startControllerManager, stop: () => cp.stop() };
  } catch (err) {
    await cp.stop().catch(() => undefined);
    throw err;
  }
}

/** Polls until fn returns a truthy value (never asserts timing). */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 30_000, what = 'condition'): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Exclude<T, undefined | null | false>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`eventually: ${what} not met after ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Deployment of the built-in echo image. */
export function deploymentObject(name: string, namespace: string, replicas: number, extra: Record<string, unknown> = {}): import('@k8ts/api').appsv1.Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'k8ts/echo', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
      },
      ...extra,
    },
  };
}

/** Pod IPs of FakeKubelet: TEST-NET-1 (192.0.2.0/24). */
const FAKE_POD_NET = '192.0.2';
/** The host IP of FakeKubelet's pods: TEST-NET-2. */
const FAKE_HOST_IP = '198.51.100.1';

/**
 * Plays the kubelets of a few nodes and the scheduler, through the real API: registers the
 * nodes, renews their Leases and Ready conditions every second, binds unscheduled pods to
 * live nodes (round robin), reports bound pods Running and Ready with an IP, and finishes the
 * deletion of pods on live nodes. A "killed" node stops all of that. The IPs it reports are
 * never bound (no process runs): they come from the documentation ranges of RFC 5737, which no
 * cluster uses.
 */
export class FakeKubelet {
  private readonly pods: Informer<corev1.Pod>;
  private readonly live = new Set<string>();
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private next = 0;
  private ip = 2;
  private readonly busy = new Set<string>();
  /** Pods reported not ready on purpose (setReady). */
  private readonly notReady = new Set<string>();

  constructor(
    private readonly cs: GrpcClientset,
    readonly nodes: string[],
  ) {
    this.pods = new Informer(listWatchFor(cs.pods), { name: 'fake-kubelet-pods' });
    this.pods.addEventHandler({ onAdd: (p) => this.handle(p), onUpdate: (_o, p) => this.handle(p) });
  }

  async start(): Promise<void> {
    for (const n of this.nodes) {
      this.live.add(n);
      await this.cs.nodes.create({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: n, labels: { 'kubernetes.io/hostname': n } },
        spec: {},
      });
      await this.cs.leases.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: n, namespace: 'kube-node-lease' },
        spec: { holderIdentity: n, leaseDurationSeconds: 40, renewTime: microTime() },
      });
    }
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat().catch(() => undefined), 1000);
    this.pods.start(this.abort.signal);
    await this.pods.waitForSync();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.abort.abort();
    await this.pods.stop();
  }

  /** The node stops: no heartbeats, its pods are left as they are. */
  kill(node: string): void {
    this.live.delete(node);
  }

  /** Reports a pod ready or not (a readiness probe passing or failing). */
  async setReady(namespace: string, name: string, ready: boolean): Promise<void> {
    const key = `${namespace}/${name}`;
    if (ready) this.notReady.delete(key);
    else this.notReady.add(key);
    await retryConflicts(async () => {
      const p = await this.cs.pods.get(name, { namespace });
      await this.cs.pods.updateStatus(this.withStatus(p, ready));
    });
  }

  private async heartbeat(): Promise<void> {
    for (const n of this.live) {
      await retryConflicts(async () => {
        const l = await this.cs.leases.get(n, { namespace: 'kube-node-lease' });
        await this.cs.leases.update({ ...l, spec: { ...l.spec, renewTime: microTime() } });
      });
      await retryConflicts(async () => {
        const node = await this.cs.nodes.get(n);
        const t = new Date().toISOString();
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        const copy = deepCopy(node);
        copy.status = {
          ...copy.status,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'kubelet is posting ready status',
              lastHeartbeatTime: t,
              lastTransitionTime: ready?.status === 'True' ? ready.lastTransitionTime : t,
            },
          ],
        };
        await this.cs.nodes.updateStatus(copy);
      });
    }
  }

  private withStatus(p: corev1.Pod, ready: boolean): corev1.Pod {
    const copy = deepCopy(p);
    const t = new Date().toISOString();
    const old = p.status?.conditions?.find((c) => c.type === 'Ready');
    const since = old && (old.status === 'True') === ready ? old.lastTransitionTime : t;
    copy.status = {
      ...copy.status,
      phase: 'Running',
      podIP: p.status?.podIP || `${FAKE_POD_NET}.${this.ip++ % 250}`,
      hostIP: FAKE_HOST_IP,
      startTime: p.status?.startTime || t,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: since },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: since },
      ],
      containerStatuses: [{ name: 'web', ready, restartCount: 0, image: 'k8ts/echo', state: { running: { startedAt: t } } }],
    };
    return copy;
  }

  private handle(pod: corev1.Pod): void {
    const key = keyOf(pod);
    if (this.busy.has(key)) return;
    const act = this.action(pod);
    if (!act) return;
    this.busy.add(key);
    act()
      .catch(() => undefined)
      .finally(() => {
        this.busy.delete(key);
        // Look again at the latest state.
        const cur = this.pods.lister.getByKey(key);
        if (cur && cur.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.handle(cur);
      });
  }

  private action(pod: corev1.Pod): (() => Promise<void>) | undefined {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const node = pod.spec?.nodeName ?? '';
    if (pod.metadata?.deletionTimestamp) {
      if (!node || !this.live.has(node)) return undefined;
      return async () => {
        await this.cs.pods.delete(name, { namespace: ns, gracePeriodSeconds: 0 }).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      };
    }
    if (!node) {
      const live = this.nodes.filter((n) => this.live.has(n));
      if (live.length === 0) return undefined;
      const target = live[this.next++ % live.length];
      return async () => {
        await this.cs.pods.bind({ apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns }, target: { kind: 'Node', name: target } });
      };
    }
    if (!this.live.has(node)) return undefined;
    const wantReady = !this.notReady.has(`${ns}/${name}`);
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (pod.status?.phase === 'Running' && ready === wantReady && pod.status?.podIP) return undefined;
    return () => retryConflicts(async () => {
      const fresh = await this.cs.pods.get(name, { namespace: ns });
      if (fresh.metadata?.deletionTimestamp || fresh.spec?.nodeName !== node) return;
      await this.cs.pods.updateStatus(this.withStatus(fresh, wantReady));
    });
  }
}

function microTime(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

async function retryConflicts(fn: () => Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await fn();
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err) || i >= 5) throw err;
    }
  }
}
