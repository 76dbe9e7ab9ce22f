// bench/scheduler: the k8ts scheduler as a real process against a real apiserver, store and
// nats-server, with node objects only (no kubelets). Two scenarios on 1,000 nodes:
//
//   basic          10,000 pods with cpu/memory requests
//   anti-affinity   5,000 pods with required pod anti-affinity on kubernetes.io/hostname
//                  (5 groups of 1,000: a group's pods must all land on different nodes)
//
// Each scenario runs twice:
//   stream  the scheduler runs while 32 clients create the pods as fast as the apiserver
//           takes them: per-pod latency from the create's answer to the bind seen on a
//           watch (p50/p99), and throughput = pods / (last bind - first create);
//   burst   the pods exist before a scheduler for them starts: throughput = pods / (last
//           bind - first bind), the scheduler's own ceiling (binds through the apiserver
//           included), not limited by how fast pods can be created.
// Before them, the same number of pods is bound by 32 clients directly (no scheduler): the
// apiserver's and store's own bind ceiling on this machine, printed for comparison (every
// scheduled pod costs at least one bind and, as in Kubernetes, one Scheduled Event write).
// The headline figures (basic_pods_per_s, antiaffinity_pods_per_s) are the burst ones; the
// stream ones are printed beside them. Targets: >= 1,500 pods/s basic, >= 300 pods/s with
// anti-affinity (Kubernetes' scheduler_perf CI floors: 680 and 60 pods/s on 5,000 nodes).
//
// Sizes: BENCH_SCHED_NODES, BENCH_SCHED_PODS, BENCH_SCHED_ANTI_PODS, BENCH_SCHED_MODES
// (stream,burst). Ends with one JSON line.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { connect } from '@k8ts/client';
import type { GrpcClientset } from '@k8ts/client';
import { type ServiceProcess, spawnService, startControlPlane } from '@k8ts/testkit';

const REPO = path.resolve(__dirname, '..', '..');
const STORE = path.join(REPO, 'services', 'store', 'dist', 'main.js');
const APISERVER = path.join(REPO, 'services', 'apiserver', 'dist', 'main.js');
const SCHEDULER = path.join(REPO, 'services', 'scheduler', 'dist', 'main.js');
const NODES = Number(process.env.BENCH_SCHED_NODES ?? 1000);
const PODS = Number(process.env.BENCH_SCHED_PODS ?? 10_000);
const ANTI_PODS = Number(process.env.BENCH_SCHED_ANTI_PODS ?? 5000);
const ANTI_GROUPS = 5;
const CLIENTS = 32;
const CONNECTIONS = 8;
const MODES = (process.env.BENCH_SCHED_MODES ?? 'stream,burst').split(',');
/** BENCH_SCHED_CPU_PROF=<dir>: write V8 CPU profiles of the scheduler processes there. */
const PROFILE = process.env.BENCH_SCHED_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_SCHED_CPU_PROF] : [];

interface Figures {
  pods: number;
  bound: number;
  podsPerS: number;
  p50: number;
  p99: number;
  createsPerS: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function node(i: number): corev1.Node {
  const alloc = { cpu: { value: '32' }, memory: { value: '128Gi' }, pods: { value: '110' } };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, 'topology.kubernetes.io/zone': `zone-${i % 10}` } },
    spec: {},
    status: { allocatable: alloc, capacity: alloc },
  };
}

function pod(name: string, namespace: string, schedulerName: string, anti: boolean, i: number): corev1.Pod {
  const group = `group-${i % ANTI_GROUPS}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: anti ? { group } : { app: `app-${i % 50}` } },
    spec: {
      schedulerName,
      affinity: anti
        ? {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { group } }, topologyKey: 'kubernetes.io/hostname' }],
            },
          }
        : undefined,
      containers: [{ name: 'app', image: 'k8ts/echo', resources: { requests: { cpu: { value: '100m' }, memory: { value: '256Mi' } } } }],
    },
  };
}

/** Runs `work(i)` for i in [0, n) on `clients` concurrent workers. */
async function parallel(n: number, clients: number, work: (i: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, w) => {
      for (let i = next++; i < n; i = next++) await work(i, w);
    }),
  );
}

/** Records when each pod of a namespace is first seen bound, through a watch. */
function watchBinds(cs: GrpcClientset, namespace: string): { bound: Map<string, number>; stop(): void } {
  const bound = new Map<string, number>();
  const abort = new AbortController();
  (async () => {
    const w = cs.pods.watch({ namespace, fieldSelector: 'spec.nodeName!=', signal: abort.signal });
    try {
      for await (const ev of w) {
        const name = ev.object.metadata?.name;
        if (name && ev.object.spec?.nodeName && !bound.has(name)) bound.set(name, performance.now());
      }
    } catch {
      // stopped
    }
  })();
  return { bound, stop: () => abort.abort() };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  for (const f of [STORE, APISERVER, SCHEDULER]) if (!fs.existsSync(f)) throw new Error(`${f} is missing: run npm run build`);
  // nats-server, the store and an apiserver with static tokens (admin, the scheduler).
  const cp = await startControlPlane({
    dirPrefix: 'k8ts-bench-scheduler-',
    users: [{ name: 'system:kube-scheduler', uid: 'scheduler', file: 'scheduler.token' }],
    apiserverArgs: ['--event-ttl', '10m'],
  });
  const schedTokenFile = cp.tokenFile('system:kube-scheduler');
  const procs: ServiceProcess[] = [];
  const results: Record<string, Figures> = {};
  let ceiling = Number.NaN;
  try {
    const address = cp.apiserverAddress;
    const conns = Array.from({ length: CONNECTIONS }, () =>
      connect({ address, token: cp.adminToken, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
    );
    const admin = conns[0];
    await parallel(NODES, CLIENTS, async (i, w) => void (await conns[w % CONNECTIONS].nodes.create(node(i))));
    console.log(`${NODES} nodes created`);

    const startScheduler = async (name: string) => {
      const p = await spawnService({
        cmd: process.execPath,
        args: [...PROFILE, SCHEDULER, '--listen', '127.0.0.1:0', '--apiserver', address, '--token-file', schedTokenFile, '--scheduler-name', name, '--leader-elect=false', '--log-level', 'info'],
        readyPattern: /"msg":"informers synced"/,
        timeoutMs: 120_000,
      });
      procs.push(p);
      return p;
    };

    const scenario = async (label: string, n: number, anti: boolean, mode: string) => {
      const ns = `${label}-${mode}`;
      await admin.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const watch = watchBinds(admin, ns);
      const created = new Map<string, number>();
      let sched: ServiceProcess | undefined;
      let t0 = 0;
      let createsDone = 0;
      if (mode === 'stream') sched = await startScheduler(ns);
      t0 = performance.now();
      await parallel(n, CLIENTS, async (i, w) => {
        const name = `p-${i}`;
        await conns[w % CONNECTIONS].pods.create(pod(name, ns, ns, anti, i));
        created.set(name, performance.now());
      });
      createsDone = performance.now();
      if (mode === 'burst') sched = await startScheduler(ns);
      await waitFor(`${ns}: ${n} pods bound`, () => watch.bound.size >= n, 600_000);
      watch.stop();
      const binds = [...watch.bound.values()].sort((a, b) => a - b);
      const first = mode === 'stream' ? t0 : binds[0];
      const last = binds[binds.length - 1];
      const lat = mode === 'stream' ? [...watch.bound].map(([name, t]) => t - (created.get(name) ?? t)).sort((a, b) => a - b) : [];
      results[`${label}-${mode}`] = {
        pods: n,
        bound: watch.bound.size,
        podsPerS: (mode === 'stream' ? n : n - 1) / ((last - first) / 1000),
        p50: pct(lat, 50),
        p99: pct(lat, 99),
        createsPerS: n / ((createsDone - t0) / 1000),
      };
      await sched?.stop('SIGTERM');
      console.log(`${ns}: done`);
    };

    // The ceiling: the same pods bound by 32 clients directly, no scheduler: how many binds
    // per second this apiserver and store take on this machine.
    {
      const ns = 'ceiling';
      await admin.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await parallel(PODS, CLIENTS, async (i, w) => void (await conns[w % CONNECTIONS].pods.create(pod(`p-${i}`, ns, 'nobody', false, i))));
      const t = performance.now();
      await parallel(PODS, CLIENTS, async (i, w) => {
        await conns[w % CONNECTIONS].pods.bind({ metadata: { name: `p-${i}`, namespace: ns }, target: { kind: 'Node', name: `node-${i % NODES}` } });
      });
      ceiling = PODS / ((performance.now() - t) / 1000);
      console.log(`ceiling: ${ceiling.toFixed(0)} binds/s without a scheduler`);
    }

    for (const mode of MODES) {
      await scenario('basic', PODS, false, mode);
      await scenario('anti', ANTI_PODS, true, mode);
    }
    for (const c of conns) c.close();
  } finally {
    for (const p of procs.reverse()) await p.stop('SIGTERM').catch(() => undefined);
    await cp.stop();
  }

  const f = (x: number | undefined, d = 0) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
  const rows = [['scenario', 'mode', 'pods', 'pods/s', 'p50 ms', 'p99 ms', 'creates/s']];
  for (const [key, r] of Object.entries(results)) {
    const [label, mode] = key.split('-');
    rows.push([label === 'anti' ? 'required anti-affinity' : 'basic', mode, String(r.pods), f(r.podsPerS), f(r.p50, 1), f(r.p99, 1), f(r.createsPerS)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`scheduler over the real apiserver, ${NODES} nodes (node objects only)`);
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log(`ceiling: ${f(ceiling)} binds/s by 32 clients binding directly (no scheduler) on this apiserver and machine (${os.cpus().length} CPUs)`);
  console.log('targets: >= 1500 pods/s basic, >= 300 pods/s required anti-affinity (scheduler_perf CI floors: 680 and 60 on 5000 nodes)');
  const pick = (k: string) => results[k];
  const headline = (label: string) => pick(`${label}-burst`) ?? pick(`${label}-stream`);
  const round = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);
  console.log(
    JSON.stringify({
      bench: 'scheduler',
      nodes: NODES,
      basic_pods: PODS,
      antiaffinity_pods: ANTI_PODS,
      cpus: os.cpus().length,
      direct_binds_per_s: round(ceiling),
      basic_pods_per_s: round(headline('basic')?.podsPerS),
      antiaffinity_pods_per_s: round(headline('anti')?.podsPerS),
      basic_stream_pods_per_s: round(pick('basic-stream')?.podsPerS),
      basic_stream_p50_ms: round(pick('basic-stream')?.p50),
      basic_stream_p99_ms: round(pick('basic-stream')?.p99),
      antiaffinity_stream_pods_per_s: round(pick('anti-stream')?.podsPerS),
      antiaffinity_stream_p50_ms: round(pick('anti-stream')?.p50),
      antiaffinity_stream_p99_ms: round(pick('anti-stream')?.p99),
    }),
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
