// bench/controllers: the k8ts controller-manager as a real process against a real apiserver,
// store and nats-server. No kubelets exist yet as processes, so an in-bench fake kubelet (one
// client, as an administrator) binds pods to ten node objects and reports them Running and
// Ready; it stands in for the kubelet's sim runtime.
//
//   deploy   a Deployment of 1,000 replicas: seconds until 1,000 pods exist (created by the
//            ReplicaSet controller: slow-start batches, expectations), and until the
//            Deployment reports 1,000 available replicas (with the fake kubelet).
//   churn    BENCH_CM_CHURN_DEPLOYMENTS Deployments of 10 replicas under constant change for
//            BENCH_CM_CHURN_S seconds: scaling, rolling updates, pod deletions. The
//            controller-manager's /metrics is sampled every 250 ms: the largest workqueue depth
//            per queue, and reconcile latency p50/p99 per controller over the churn (from the
//            controller_reconcile_duration_seconds histogram).
//
// Sizes: BENCH_CM_REPLICAS (1000), BENCH_CM_CHURN_S (20), BENCH_CM_CHURN_DEPLOYMENTS (20).
// Ends with one JSON line carrying deploy_1000_created_s.
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import type { appsv1, corev1 } from '@k8ts/api';
import { type GrpcClientset, Informer, connect, deepCopy, isConflict, isNotFound, keyOf, listWatchFor } from '@k8ts/client';
import { type ServiceProcess, freePort, spawnService, startControlPlane } from '@k8ts/testkit';

const REPO = path.resolve(__dirname, '..', '..');
const STORE = path.join(REPO, 'services', 'store', 'dist', 'main.js');
const APISERVER = path.join(REPO, 'services', 'apiserver', 'dist', 'main.js');
const CONTROLLER_MANAGER = path.join(REPO, 'services', 'controller-manager', 'dist', 'main.js');
const REPLICAS = Number(process.env.BENCH_CM_REPLICAS ?? 1000);
const CHURN_S = Number(process.env.BENCH_CM_CHURN_S ?? 20);
const CHURN_DEPLOYMENTS = Number(process.env.BENCH_CM_CHURN_DEPLOYMENTS ?? 20);
const NODES = 10;
const KUBELET_CONCURRENCY = 32;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`bench: ${what} not reached in ${timeoutMs} ms`);
    await sleep(50);
  }
}

function deployment(name: string, namespace: string, replicas: number): appsv1.Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'k8ts/echo' }] } },
    },
  };
}

/** Binds pods to nodes and reports them Running and Ready; finishes deletions at once. */
class FakeKubelet {
  private readonly informer: Informer<corev1.Pod>;
  private readonly abort = new AbortController();
  private readonly pending = new Map<string, corev1.Pod>();
  private readonly busy = new Set<string>();
  private inFlight = 0;
  private n = 0;

  constructor(private readonly cs: GrpcClientset) {
    this.informer = new Informer(listWatchFor(cs.pods), { name: 'bench-kubelet' });
    const on = (p: corev1.Pod) => {
      this.pending.set(keyOf(p), p);
      this.pump();
    };
    this.informer.addEventHandler({ onAdd: on, onUpdate: (_o, p) => on(p) });
  }

  async start(): Promise<void> {
    this.informer.start(this.abort.signal);
    await this.informer.waitForSync();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.informer.stop();
  }

  private pump(): void {
    for (const [key, pod] of this.pending) {
      if (this.inFlight >= KUBELET_CONCURRENCY) return;
      if (this.busy.has(key)) continue;
      this.pending.delete(key);
      const act = this.action(pod);
      if (!act) continue;
      this.busy.add(key);
      this.inFlight++;
      act()
        .catch(() => undefined)
        .finally(() => {
          this.busy.delete(key);
          this.inFlight--;
          const cur = this.informer.lister.getByKey(key);
          if (cur && cur.metadata?.resourceVersion !== pod.metadata?.resourceVersion) this.pending.set(key, cur);
          this.pump();
        });
    }
  }

  private action(pod: corev1.Pod): (() => Promise<void>) | undefined {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    if (pod.metadata?.deletionTimestamp) {
      return async () => {
        await this.cs.pods.delete(name, { namespace, gracePeriodSeconds: 0 }).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      };
    }
    if (!pod.spec?.nodeName) {
      const node = `node-${this.n++ % NODES}`;
      return async () => {
        await this.cs.pods.bind({ apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace }, target: { kind: 'Node', name: node } });
      };
    }
    if (pod.status?.phase === 'Running') return undefined;
    return async () => {
      const t = new Date().toISOString();
      const copy = deepCopy(pod);
      copy.status = {
        ...copy.status,
        phase: 'Running',
        podIP: `127.244.${this.n % 250}.${(this.n++ % 250) + 2}`,
        startTime: t,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          { type: 'Ready', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
        ],
      };
      try {
        await this.cs.pods.updateStatus(copy);
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    };
  }
}

// ---- metrics -------------------------------------------------------------------------------

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

interface Sample {
  depth: Map<string, number>;
  /** controller -> bucket upper bound -> cumulative count */
  buckets: Map<string, Map<number, number>>;
  counts: Map<string, number>;
}

function labelsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

function parseMetrics(text: string): Sample {
  const s: Sample = { depth: new Map(), buckets: new Map(), counts: new Map() };
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\}\s+(\S+)$/.exec(line);
    if (!m) continue;
    const [, name, labelText, value] = m;
    const labels = labelsOf(labelText);
    const v = Number(value);
    if (name === 'workqueue_depth') s.depth.set(labels.name, v);
    if (name === 'controller_reconcile_duration_seconds_bucket') {
      const key = labels.controller;
      const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
      const b = s.buckets.get(key) ?? new Map<number, number>();
      b.set(le, (b.get(le) ?? 0) + v);
      s.buckets.set(key, b);
    }
    if (name === 'controller_reconcile_duration_seconds_count') s.counts.set(labels.controller, (s.counts.get(labels.controller) ?? 0) + v);
  }
  return s;
}

/** A quantile from cumulative bucket deltas (upper bound of the bucket that reaches it), in ms. */
function quantile(before: Map<number, number> | undefined, after: Map<number, number> | undefined, q: number): number {
  if (!after) return Number.NaN;
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Number.POSITIVE_INFINITY) ?? 0) - (before?.get(Number.POSITIVE_INFINITY) ?? 0);
  if (total <= 0) return Number.NaN;
  for (const le of bounds) {
    const n = (after.get(le) ?? 0) - (before?.get(le) ?? 0);
    if (n >= q * total) return le === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : le * 1000;
  }
  return Number.NaN;
}

// ---- the run -------------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const f of [STORE, APISERVER, CONTROLLER_MANAGER]) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(REPO, f)} is missing: run 'npm run build' first`);
  }
  // nats-server, the store and an apiserver with static tokens and a service-account key.
  const cp = await startControlPlane({
    dirPrefix: 'k8ts-bench-cm-',
    users: [{ name: 'system:kube-controller-manager', uid: 'cm-uid', file: 'cm.token' }],
    serviceAccountKey: true,
    apiserverLogLevel: 'info',
  });
  const procs: ServiceProcess[] = [];
  let admin: GrpcClientset | undefined;
  let kubelet: FakeKubelet | undefined;
  try {
    const address = cp.apiserverAddress;
    admin = connect({ address, token: cp.adminToken });
    for (let i = 0; i < NODES; i++) {
      await admin.nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}` }, spec: {} });
    }
    const metricsPort = await freePort();
    procs.push(
      await spawnService({
        cmd: process.execPath,
        args: [
          CONTROLLER_MANAGER,
          '--listen',
          '127.0.0.1:0',
          '--metrics-listen',
          `127.0.0.1:${metricsPort}`,
          '--apiserver',
          address,
          '--token-file',
          cp.tokenFile('system:kube-controller-manager'),
          '--controllers',
          '*,-nodelifecycle',
          '--log-level',
          'info',
        ],
        readyPattern: /caches synced; controllers running/,
        timeoutMs: 60_000,
      }),
    );
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    await until(async () => (await fetchText(metricsUrl)).includes('leader_election_master_status{name="kube-controller-manager"'), 30_000, 'leadership');
    await sleep(500);

    // ---- deploy ------------------------------------------------------------------------
    await admin.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const created = new Set<string>();
    let createdAt = 0;
    const watcher = new Informer(listWatchFor(admin.pods, { namespace: 'bench' }), { name: 'bench-watch' });
    const t0 = { at: 0 };
    watcher.addEventHandler({
      onAdd: (p) => {
        created.add(p.metadata?.uid ?? '');
        if (created.size === REPLICAS && !createdAt) createdAt = performance.now();
      },
    });
    const stopWatch = new AbortController();
    watcher.start(stopWatch.signal);
    await watcher.waitForSync();
    kubelet = new FakeKubelet(admin);
    await kubelet.start();

    t0.at = performance.now();
    await admin.deployments.create(deployment('big', 'bench', REPLICAS));
    await until(() => createdAt, 600_000, `${REPLICAS} pods created`);
    const createdS = (createdAt - t0.at) / 1000;
    const cs = admin;
    await until(
      async () => {
        const d = await cs.deployments.get('big', { namespace: 'bench' });
        return (d.status?.availableReplicas ?? 0) >= REPLICAS;
      },
      600_000,
      `${REPLICAS} available`,
    );
    const readyS = (performance.now() - t0.at) / 1000;
    stopWatch.abort();
    await watcher.stop();

    // ---- churn -------------------------------------------------------------------------
    await admin.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'churn' } });
    for (let i = 0; i < CHURN_DEPLOYMENTS; i++) await admin.deployments.create(deployment(`d${i}`, 'churn', 10));
    await sleep(2000);
    const before = parseMetrics(await fetchText(metricsUrl));
    const maxDepth = new Map<string, number>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = parseMetrics(await fetchText(metricsUrl));
        for (const [q, d] of s.depth) maxDepth.set(q, Math.max(maxDepth.get(q) ?? 0, d));
        await sleep(250);
      }
    })();
    const churnStart = performance.now();
    // The apiserver's own latency meanwhile (a write, as most reconciles make), for context.
    const probes: number[] = [];
    const prober = (async () => {
      await cs.configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe', namespace: 'churn' }, data: { n: '0' } });
      let n = 0;
      while (performance.now() - churnStart < CHURN_S * 1000) {
        const t = performance.now();
        try {
          const cm = await cs.configMaps.get('probe', { namespace: 'churn' });
          await cs.configMaps.update({ ...cm, data: { n: String(++n) } });
          probes.push(performance.now() - t);
        } catch {
          // ignore
        }
        await sleep(100);
      }
    })();
    let ops = 0;
    let version = 0;
    const pick = () => `d${Math.floor(Math.random() * CHURN_DEPLOYMENTS)}`;
    const churners = Array.from({ length: 4 }, async () => {
      while (performance.now() - churnStart < CHURN_S * 1000) {
        const name = pick();
        const kind = Math.random();
        try {
          if (kind < 0.5) {
            const pods = (await cs.pods.list({ namespace: 'churn', labelSelector: `app=${name}` })).items;
            const victim = pods[Math.floor(Math.random() * pods.length)];
            if (victim) await cs.pods.delete(victim.metadata!.name!, { namespace: 'churn' });
          } else {
            const d = deepCopy(await cs.deployments.get(name, { namespace: 'churn' }));
            if (kind < 0.75) d.spec!.replicas = 5 + Math.floor(Math.random() * 11);
            else d.spec!.template!.spec!.containers![0].image = `k8ts/echo:${++version}`;
            await cs.deployments.update(d);
          }
          ops++;
        } catch {
          // conflicts and vanished pods are part of churn
        }
        await sleep(20);
      }
    });
    await Promise.all([...churners, prober]);
    probes.sort((a, b) => a - b);
    const probeP50 = probes[Math.floor(probes.length / 2)] ?? Number.NaN;
    const probeP99 = probes[Math.min(probes.length - 1, Math.ceil(probes.length * 0.99) - 1)] ?? Number.NaN;
    const churnS = (performance.now() - churnStart) / 1000;
    sampling = false;
    await sampler;
    const after = parseMetrics(await fetchText(metricsUrl));

    const controllers = [...after.buckets.keys()].sort();
    const p50: Record<string, number> = {};
    const p99: Record<string, number> = {};
    const reconciles: Record<string, number> = {};
    for (const c of controllers) {
      p50[c] = quantile(before.buckets.get(c), after.buckets.get(c), 0.5);
      p99[c] = quantile(before.buckets.get(c), after.buckets.get(c), 0.99);
      reconciles[c] = (after.counts.get(c) ?? 0) - (before.counts.get(c) ?? 0);
    }
    const depth = Object.fromEntries([...maxDepth].sort());

    const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 1 : 0) : '-');
    console.log(`controller-manager bench (${REPLICAS} replicas; churn: ${CHURN_DEPLOYMENTS} deployments, ${churnS.toFixed(0)} s, ${ops} changes)`);
    console.log('');
    console.log(`  Deployment of ${REPLICAS}: all pods created      ${createdS.toFixed(2)} s`);
    console.log(`  Deployment of ${REPLICAS}: all available (fake kubelet) ${readyS.toFixed(2)} s`);
    console.log('');
    console.log(`  apiserver get+update during churn: p50 ${fmt(probeP50)} ms, p99 ${fmt(probeP99)} ms (each reconcile makes one or more such calls)`);
    console.log('  controller           reconciles   p50 ms   p99 ms   (upper bucket bounds)');
    for (const c of controllers) console.log(`  ${c.padEnd(20)} ${String(reconciles[c]).padStart(10)} ${fmt(p50[c]).padStart(8)} ${fmt(p99[c]).padStart(8)}`);
    console.log('');
    console.log('  queue                       max depth');
    for (const [q, d] of Object.entries(depth)) console.log(`  ${q.padEnd(28)} ${String(d).padStart(8)}`);
    console.log(
      JSON.stringify({
        deploy_1000_created_s: Number(createdS.toFixed(3)),
        deploy_1000_available_s: Number(readyS.toFixed(3)),
        replicas: REPLICAS,
        churn_s: Number(churnS.toFixed(1)),
        churn_changes: ops,
        workqueue_depth_max: depth,
        reconcile_p50_ms: p50,
        reconcile_p99_ms: p99,
        reconciles,
        apiserver_get_update_p50_ms: Number(probeP50.toFixed(1)),
        apiserver_get_update_p99_ms: Number(probeP99.toFixed(1)),
      }),
    );
  } finally {
    await kubelet?.stop().catch(() => undefined);
    admin?.close();
    for (const p of procs.reverse()) await p.stop('SIGTERM').catch(() => undefined);
    await cp.stop().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
