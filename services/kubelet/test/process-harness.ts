// A kubelet engine in the test process: a PodManager over a ProcessRuntime in a temporary root
// directory, with recording sinks instead of the API. Containers are real child processes
// listening on real loopback pod IPs of the test file's own network (leased from @k8ts/testkit,
// so never an address of a running cluster); nothing of the network is mocked. Every process a
// test started is killed by close() (call it in afterAll), also those of an earlier runtime
// instance (restart tests), found through the runtime's state files.
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { leaseTestNetwork, type TestNetwork } from '@k8ts/testkit';
import {
  ImageTable,
  isAlive,
  killGroup,
  PodManager,
  ProcessRuntime,
  type EnvSource,
  type EventSink,
  type NodeIdentity,
  type PodEvent,
  type PodRef,
  type StatusSink,
} from '../src';

export class RecordingStatusSink implements StatusSink {
  readonly history = new Map<string, corev1.PodStatus[]>();
  updatePodStatus(pod: PodRef, status: corev1.PodStatus): void {
    const list = this.history.get(pod.uid) ?? [];
    list.push(structuredClone(status));
    this.history.set(pod.uid, list);
  }
  latest(uid: string): corev1.PodStatus | undefined {
    const list = this.history.get(uid);
    return list?.[list.length - 1];
  }
}

export class RecordingEventSink implements EventSink {
  readonly events: PodEvent[] = [];
  event(e: PodEvent): void {
    this.events.push(e);
  }
  of(uid: string, reason?: string): PodEvent[] {
    return this.events.filter((e) => e.pod.uid === uid && (!reason || e.reason === reason));
  }
}

export interface NodeOptions {
  /** The node's name; default 'node-1'. */
  name?: string;
  cpu?: number;
  memoryBytes?: number;
  pods?: number;
  envSource?: EnvSource;
  imageTableFile?: string;
  /** Root dir to reuse (restart tests). */
  root?: string;
  /**
   * The network whose node 1 this node is (node IP nodeIP(1), pod CIDR podCidr(1)); a restarted
   * engine passes the first one's. Default: start() leases one for the test file, close() ends it.
   */
  network?: TestNetwork;
}

export const BACKOFF = { baseMs: 300, capMs: 2400, resetAfterMs: 600_000 };
/** One "second" of probe settings in these tests. */
export const PROBE_SECOND_MS = 250;
/** The node's index in its network. */
const NODE_INDEX = 1;

export class TestNode {
  readonly statuses = new RecordingStatusSink();
  readonly events = new RecordingEventSink();
  readonly terminated: string[] = [];
  readonly name: string;
  readonly root: string;
  runtime!: ProcessRuntime;
  manager!: PodManager;
  private leased?: TestNetwork;

  constructor(readonly opts: NodeOptions) {
    this.root = opts.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-kubelet-'));
    this.name = opts.name ?? 'node-1';
  }

  /** The node's addresses; known once start() ran. */
  get network(): TestNetwork {
    const n = this.opts.network ?? this.leased;
    if (!n) throw new Error(`TestNode ${this.name}: no network before start()`);
    return n;
  }

  get ip(): string {
    return this.network.nodeIP(NODE_INDEX);
  }

  get podCIDR(): string {
    return this.network.podCidr(NODE_INDEX);
  }

  get node(): NodeIdentity {
    const { cpu, memoryBytes, pods } = this.opts;
    return { name: this.name, ip: this.ip, allocatable: { cpuMilli: cpu ?? 4000, memoryBytes: memoryBytes ?? 8 * 2 ** 30, pods: pods ?? 110 } };
  }

  /** Starts (or, after stop(), restarts) the engine on the same root dir. */
  async start(): Promise<void> {
    if (!this.opts.network && !this.leased) this.leased = await leaseTestNetwork(expect.getState().testPath ?? this.name);
    this.runtime = new ProcessRuntime({
      rootDir: this.root,
      podCIDR: this.podCIDR,
      images: new ImageTable({ allowLocal: true, file: this.opts.imageTableFile }),
      monitorIntervalMs: 100,
      logRotation: { maxBytes: 64 * 1024, maxFiles: 2 },
    });
    this.manager = new PodManager({
      node: this.node,
      runtime: this.runtime,
      statusSink: this.statuses,
      eventSink: this.events,
      envSource: this.opts.envSource,
      backoff: BACKOFF,
      probeSecondMs: PROBE_SECOND_MS,
      resyncMs: 1000,
      onPodTerminated: (pod) => {
        this.terminated.push(pod.metadata?.uid ?? '');
      },
    });
    await this.manager.start();
  }

  /** Stops the engine as a kubelet exit would: containers keep running. */
  async stop(): Promise<void> {
    await this.manager.stop();
  }

  run(pod: corev1.Pod): corev1.Pod {
    this.manager.updatePod(pod);
    return pod;
  }

  status(pod: corev1.Pod): corev1.PodStatus | undefined {
    return this.statuses.latest(pod.metadata!.uid!);
  }

  /** Waits until the pod's latest reported status satisfies pred; returns it. */
  async waitStatus(pod: corev1.Pod, pred: (s: corev1.PodStatus) => boolean, what: string, timeoutMs = 20_000): Promise<corev1.PodStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = this.status(pod);
      if (s && pred(s)) return s;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what} of pod ${pod.metadata?.name}; last status:\n${JSON.stringify(s, null, 2)}`);
      }
      await sleep(50);
    }
  }

  /** Kills every process this node's runtime ever started (any instance) and removes the root. */
  async close(): Promise<void> {
    try {
      await this.manager?.stop();
    } catch {
      /* already stopped */
    }
    killAllUnder(this.root);
    fs.rmSync(this.root, { recursive: true, force: true });
    await this.leased?.release();
  }
}

/** Kills the process group of every container state file under root whose process lives. */
export function killAllUnder(root: string): number {
  let killed = 0;
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^\d+\.json$/.test(e.name)) {
        try {
          const st = JSON.parse(fs.readFileSync(p, 'utf8'));
          if (st.pid && isAlive(st.pid, st.procStartTime)) {
            killGroup(st.pid, 'SIGKILL');
            killed++;
          }
        } catch {
          /* not a state file */
        }
      }
    }
  };
  walk(root);
  return killed;
}

let seq = 0;

/** A pod bound to the node, with a fresh uid. */
export function makePod(node: TestNode, name: string, spec: Partial<corev1.PodSpec>, meta: Partial<corev1.Pod['metadata']> = {}): corev1.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: new Date(Date.now() + seq++).toISOString(),
      labels: { app: name },
      ...meta,
    },
    spec: { nodeName: node.name, restartPolicy: 'Always', terminationGracePeriodSeconds: 5, containers: [], ...spec },
    status: { phase: 'Pending' },
  };
}

export function containerStatus(s: corev1.PodStatus | undefined, name: string): corev1.ContainerStatus | undefined {
  return s?.containerStatuses?.find((c) => c.name === name) ?? s?.initContainerStatuses?.find((c) => c.name === name);
}

export function condition(s: corev1.PodStatus | undefined, type: string): string | undefined {
  return s?.conditions?.find((c) => c.type === type)?.status;
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

/** Polls fn until it returns a truthy value. */
export async function eventually<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The echo container most tests use. */
export function echoContainer(extra: Partial<corev1.Container> = {}): corev1.Container {
  return { name: 'web', image: 'k8ts/echo', ports: [{ name: 'http', containerPort: 8080 }], ...extra };
}
