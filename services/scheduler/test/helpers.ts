// Builders of in-memory nodes and pods, a manual clock, and a framework over a cache for
// unit tests.
import type { corev1 } from '@k8ts/api';
import { SchedulerCache } from '../src/cache/cache';
import type { Clock } from '../src/clock';
import { buildFramework, parseSchedulerConfig } from '../src/config';
import type { Framework } from '../src/framework/framework';
import type { Binder, FrameworkHandle } from '../src/framework/types';
import { PodInfo } from '../src/podinfo';

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: corev1.Taint[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
}

export function node(name: string, o: NodeOpts = {}): corev1.Node {
  const allocatable: Record<string, { value: string }> = {
    cpu: { value: o.cpu ?? '4' },
    memory: { value: o.memory ?? '8Gi' },
    pods: { value: o.pods ?? '110' },
  };
  for (const [k, v] of Object.entries(o.extra ?? {})) allocatable[k] = { value: v };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels }, resourceVersion: '1' },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { allocatable, capacity: allocatable },
  };
}

export interface PodOpts {
  namespace?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  tolerations?: corev1.Toleration[];
  nodeSelector?: Record<string, string>;
  affinity?: corev1.Affinity;
  spread?: corev1.TopologySpreadConstraint[];
  hostPorts?: { port: number; ip?: string; protocol?: string }[];
  schedulerName?: string;
  initContainers?: corev1.Container[];
  extra?: Record<string, string>;
  uid?: string;
  gates?: string[];
}

export function pod(name: string, o: PodOpts = {}): corev1.Pod {
  const requests: Record<string, { value: string }> = {};
  if (o.cpu) requests.cpu = { value: o.cpu };
  if (o.memory) requests.memory = { value: o.memory };
  for (const [k, v] of Object.entries(o.extra ?? {})) requests[k] = { value: v };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels, uid: o.uid ?? `uid-${name}`, resourceVersion: '1' },
    spec: {
      schedulerName: o.schedulerName,
      nodeName: o.nodeName,
      priority: o.priority,
      tolerations: o.tolerations,
      nodeSelector: o.nodeSelector,
      affinity: o.affinity,
      topologySpreadConstraints: o.spread,
      initContainers: o.initContainers,
      schedulingGates: o.gates?.map((name) => ({ name })),
      containers: [
        {
          name: 'c',
          image: 'busybox',
          resources: Object.keys(requests).length > 0 ? { requests } : undefined,
          ports: o.hostPorts?.map((p) => ({ containerPort: p.port, hostPort: p.port, hostIP: p.ip, protocol: p.protocol })),
        },
      ],
    },
    status: { phase: 'Pending' },
  };
}

export function info(name: string, o: PodOpts = {}): PodInfo {
  const p = new PodInfo(pod(name, o));
  p.prepareForScheduling();
  return p;
}

/** A clock driven by hand: timers fire in order as advance() passes them. */
export class ManualClock implements Clock {
  private t: number;
  private timers: { id: number; at: number; fn: () => void }[] = [];
  private next = 1;

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const first = this.timers[0];
      if (!first || first.at > end) break;
      this.timers.shift();
      this.t = first.at;
      first.fn();
    }
    this.t = end;
  }
}

export class FakeBinder implements Binder {
  readonly bound: [string, string][] = [];
  fail: ((pod: PodInfo, nodeName: string) => Error | undefined) | undefined;

  async bind(p: PodInfo, nodeName: string): Promise<void> {
    const err = this.fail?.(p, nodeName);
    if (err) throw err;
    this.bound.push([p.key, nodeName]);
  }
}

/** A cache with the given nodes and bound pods. */
export function cacheWith(nodes: corev1.Node[], pods: corev1.Pod[] = [], now?: () => number): SchedulerCache {
  const cache = new SchedulerCache({ now });
  for (const n of nodes) cache.setNode(n);
  for (const p of pods) cache.addPod(p);
  return cache;
}

/** The framework of a profile from a YAML config (default: Kubernetes' default profile) over a cache. */
export function frameworkFor(
  cache: SchedulerCache,
  yaml?: string,
  opts: { binder?: Binder; random?: () => number; now?: () => number } = {},
): Framework {
  const config = parseSchedulerConfig(yaml);
  const handle: FrameworkHandle = { cache, binder: opts.binder ?? new FakeBinder(), now: opts.now ?? (() => 0) };
  return buildFramework(config.profiles[0], config, handle, { random: opts.random ?? (() => 0) });
}

/** A framework with exactly these plugins (and DefaultBinder), from the registry. */
export function frameworkWithOnly(cache: SchedulerCache, plugins: { name: string; weight?: number }[], extraYaml = ''): Framework {
  const enabled = plugins.map((p) => `          - name: ${p.name}${p.weight ? `\n            weight: ${p.weight}` : ''}`).join('\n');
  const yaml = `percentageOfNodesToScore: 100
profiles:
  - plugins:
      multiPoint:
        disabled: [{name: '*'}]
        enabled:
${enabled}
          - name: DefaultBinder
${extraYaml}`;
  return frameworkFor(cache, yaml);
}

/** A deterministic pseudo-random sequence. */
export function seeded(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
