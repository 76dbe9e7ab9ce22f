// IN-PROCESS micro-benchmark of the scheduling framework: no apiserver, no network. A
// synthetic cluster (1,000 nodes in 10 zones) in the scheduler cache; pods are queued,
// scheduled by the default profile, "bound" by a binder that resolves at once, and
// confirmed as the watch would. It measures the scheduler's own cost per pod, an upper
// bound for what bench/src/scheduler.ts (through the real apiserver) can reach.
//
//   node services/scheduler/dist/bench/inprocess.js            (after npm run build)
//   BENCH_NODES=1000 BENCH_PODS=10000 BENCH_ANTI_PODS=5000 ...
//
// Prints a table and one JSON line: inprocess_basic_pods_per_s, inprocess_antiaffinity_pods_per_s,
// and per-cycle latency percentiles.
import type { corev1 } from '@k8ts/api';
import { SchedulerCache } from '../cache/cache';
import { buildFramework, parseSchedulerConfig } from '../config';
import type { Binder } from '../framework/types';
import { SchedulingQueue } from '../queue/queue';
import { Scheduler } from '../scheduler';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const ANTI_PODS = Number(process.env.BENCH_ANTI_PODS ?? 5000);
const ANTI_GROUPS = Number(process.env.BENCH_ANTI_GROUPS ?? 5);

function makeNode(i: number): corev1.Node {
  const alloc = { cpu: { value: '32' }, memory: { value: '128Gi' }, pods: { value: '110' } };
  return {
    metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 10}` } },
    spec: {},
    status: { allocatable: alloc, capacity: alloc },
  };
}

function makePod(name: string, labels: Record<string, string>, affinity?: corev1.Affinity): corev1.Pod {
  return {
    metadata: { name, namespace: 'bench', uid: name, labels },
    spec: {
      affinity,
      containers: [{ name: 'c', image: 'echo', resources: { requests: { cpu: { value: '100m' }, memory: { value: '256Mi' } } } }],
    },
    status: { phase: 'Pending' },
  };
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Result {
  podsPerS: number;
  p50ms: number;
  p99ms: number;
  scheduled: number;
  failed: number;
}

async function run(pods: corev1.Pod[]): Promise<Result> {
  const cache = new SchedulerCache();
  const config = parseSchedulerConfig(undefined);
  let scheduler: Scheduler | undefined;
  // Binds resolve at once and the bound pod "arrives from the watch" right after.
  const binder: Binder = {
    bind: async (pod, nodeName) => {
      const bound = { ...pod.pod, spec: { ...pod.pod.spec, nodeName } };
      queueMicrotask(() => scheduler?.onAssignedPodAdd(bound));
    },
  };
  const fwk = buildFramework(config.profiles[0], config, { cache, binder, now: () => Date.now() });
  const frameworks = new Map([[fwk.profileName, fwk]]);
  const queue = new SchedulingQueue({ isRelevant: Scheduler.relevance(Scheduler.pluginEvents(frameworks.values())) });
  scheduler = new Scheduler({ cache, queue, frameworks });
  for (let i = 0; i < NODES; i++) scheduler.onNodeAdd(makeNode(i));
  for (const p of pods) scheduler.onPendingPodAdd(p);

  const cycles: number[] = [];
  const start = performance.now();
  for (;;) {
    const t = performance.now();
    if (!scheduler.scheduleOne()) break;
    cycles.push(performance.now() - t);
    if (cycles.length % 256 === 0) await scheduler.waitForBinds();
  }
  await scheduler.waitForBinds();
  await new Promise((r) => setImmediate(r));
  const seconds = (performance.now() - start) / 1000;
  queue.close();
  cycles.sort((a, b) => a - b);
  return {
    podsPerS: scheduler.stats.scheduled / seconds,
    p50ms: pct(cycles, 50),
    p99ms: pct(cycles, 99),
    scheduled: scheduler.stats.scheduled,
    failed: scheduler.stats.unschedulable + scheduler.stats.errors,
  };
}

async function main(): Promise<void> {
  const basic = Array.from({ length: PODS }, (_, i) => makePod(`basic-${i}`, { app: `app-${i % 50}` }));
  const anti = Array.from({ length: ANTI_PODS }, (_, i) => {
    const group = `group-${i % ANTI_GROUPS}`;
    return makePod(`anti-${i}`, { group }, {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { group } }, topologyKey: 'kubernetes.io/hostname' }],
      },
    });
  });
  const r1 = await run(basic);
  const r2 = await run(anti);
  const row = (name: string, n: number, r: Result) =>
    `${name.padEnd(34)} ${String(n).padStart(6)} ${r.podsPerS.toFixed(0).padStart(10)} ${r.p50ms.toFixed(3).padStart(9)} ${r.p99ms.toFixed(3).padStart(9)} ${String(r.failed).padStart(7)}`;
  console.log(`IN-PROCESS framework benchmark (no apiserver): ${NODES} nodes`);
  console.log(`${'scenario'.padEnd(34)} ${'pods'.padStart(6)} ${'pods/s'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'failed'.padStart(7)}`);
  console.log(row('basic (cpu/memory requests)', PODS, r1));
  console.log(row(`required anti-affinity (${ANTI_GROUPS} groups)`, ANTI_PODS, r2));
  console.log(
    JSON.stringify({
      benchmark: 'scheduler-inprocess',
      nodes: NODES,
      inprocess_basic_pods_per_s: Math.round(r1.podsPerS),
      inprocess_basic_cycle_p50_ms: r1.p50ms,
      inprocess_basic_cycle_p99_ms: r1.p99ms,
      inprocess_antiaffinity_pods_per_s: Math.round(r2.podsPerS),
      inprocess_antiaffinity_cycle_p50_ms: r2.p50ms,
      inprocess_antiaffinity_cycle_p99_ms: r2.p99ms,
    }),
  );
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
