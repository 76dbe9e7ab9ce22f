// bench/store: the k8ts store (one store process on one nats-server with JetStream file
// storage) and a real etcd (Debian's etcd 3.4, one member) started side by side in the same
// run, driven by the same workload through the `etcd3` npm client:
//
//   sequential puts   1,000 keys, 256-byte values, one client, one put at a time: puts/s,
//                     latency p50/p99
//   64-way puts       64 puts in flight over the same 1,000 keys, from 4 client processes
//                     (16 each, 2 connections per process) so that the servers, not one
//                     client process, are the bottleneck: puts/s, latency p50/p99
//   range 10,000      a linearizable Range of a prefix holding 10,000 keys (256-byte values,
//                     written beforehand by the 64-way writers), one at a time: p50/p99 until
//                     the client has the whole decoded response
//   watch delivery    1,000 watchers of one key, spread over 4 client processes (5
//                     connections each); 200 puts of that key, one every 20 ms; per delivered
//                     event: receive time - the put's send time, both on the machine's
//                     monotonic clock (process.hrtime, shared by all processes on the same
//                     machine; the send time travels in the value): p50/p99
//
// Each workload runs against the k8ts store, then against etcd, before the next workload, so
// that both see the same machine load. A second table gives, per workload and target, the
// wall time and the CPU seconds used by the servers (store + nats-server, from /proc) and by
// the client processes: on a small or shared machine it shows which side was the bottleneck. Sizes can be lowered for a quick run:
// BENCH_STORE_PUTS (64-way puts, default 16,000), BENCH_STORE_WATCHERS (default 1,000),
// BENCH_STORE_RANGES (default 40). Ends with one JSON line carrying put_per_s_64,
// etcd_put_per_s_64, put_ratio_64, watch_p99_ms and the other figures.
import { type ChildProcess, execFileSync, fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Etcd3 } from 'etcd3';
import { natsServerVersion } from '@k8ts/kit';
import { type NatsServer, type ServiceProcess, freePort, natsServerBinary, spawnService, startNats } from '@k8ts/testkit';

const REPO = path.resolve(__dirname, '..', '..');
const STORE = path.join(REPO, 'services', 'store', 'dist', 'main.js');
const KEYS = 1000;
const VALUE_BYTES = 256;
const SEQ_PUTS = KEYS;
const PUTS_64 = Number(process.env.BENCH_STORE_PUTS ?? 16_000);
const CONCURRENCY = 64;
const PUT_WORKERS = 4;
const RANGE_KEYS = 10_000;
const RANGES = Number(process.env.BENCH_STORE_RANGES ?? 40);
const WATCHERS = Number(process.env.BENCH_STORE_WATCHERS ?? 1000);
const WATCH_WORKERS = 4;
const WATCH_CONNS_PER_WORKER = 5;
const WATCH_PUTS = 200;
const WATCH_INTERVAL_MS = 20;
const WATCH_KEY = '/bench/watched';

/** Monotonic clock in ns (CLOCK_MONOTONIC: the same clock in every process of the machine). */
const now = (): bigint => process.hrtime.bigint();
const msSince = (t: bigint): number => Number(now() - t) / 1e6;

const client = (endpoint: string): Etcd3 =>
  // A connection of its own (grpc-js would otherwise share one between clients of a process).
  new Etcd3({ hosts: `http://${endpoint}`, grpcOptions: { 'grpc.use_local_subchannel_pool': 1 } });

const keyName = (prefix: string, i: number) => `${prefix}${String(i).padStart(5, '0')}`;
const paddedValue = (tag: string) => tag.padEnd(VALUE_BYTES, '.').slice(0, VALUE_BYTES);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const sortNum = (xs: number[]) => Float64Array.from(xs).sort() as unknown as number[];

// ---------------------------------------------------------------------------------------
// Worker processes (child_process.fork of this file with --role=worker): one job each.

type Job =
  | { cmd: 'puts'; endpoint: string; prefix: string; keys: number; first: number; count: number; concurrency: number; conns: number }
  | { cmd: 'watch'; endpoint: string; watchers: number; conns: number; key: string };

type Reply =
  | { type: 'ready' }
  | { type: 'done'; start: string; end: string; latencies: number[]; errors: number; cpu: number }
  | { type: 'delays'; delays: number[]; received: number; cpu: number };

/** CPU seconds (user + system) this process used since `from`. */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};
/** CPU seconds used by client worker processes, added up as they report. */
let workerCpu = 0;

async function runWorker(): Promise<void> {
  const job = await new Promise<Job>((resolve) => process.once('message', (m) => resolve(m as Job)));
  const send = (r: Reply) => new Promise<void>((resolve) => process.send!(r, () => resolve()));
  const next = () => new Promise<unknown>((resolve) => process.once('message', resolve));
  if (job.cmd === 'puts') {
    const cs = Array.from({ length: job.conns }, () => client(job.endpoint));
    // Warm-up: connections open, code paths hot.
    await Promise.all(cs.map((c, i) => c.put(`/bench/warmup/${process.pid}/${i}`).value(paddedValue('w'))));
    await send({ type: 'ready' });
    await next();
    const cpu0 = process.cpuUsage();
    const latencies: number[] = [];
    let errors = 0;
    let n = 0;
    const start = now();
    await Promise.all(
      Array.from({ length: job.concurrency }, async (_, lane) => {
        const c = cs[lane % cs.length];
        for (;;) {
          const i = n++;
          if (i >= job.count) return;
          const t = now();
          try {
            await c.put(keyName(job.prefix, (job.first + i) % job.keys)).value(paddedValue(`${process.pid}-${i}`));
            latencies.push(msSince(t));
          } catch {
            errors++;
          }
        }
      }),
    );
    const end = now();
    for (const c of cs) c.close();
    await send({ type: 'done', start: String(start), end: String(end), latencies, errors, cpu: cpuSince(cpu0) });
    process.exit(0);
  } else {
    const cs = Array.from({ length: job.conns }, () => client(job.endpoint));
    const delays: number[] = [];
    let received = 0;
    const watchers = [];
    for (let i = 0; i < job.watchers; i++) {
      const w = await cs[i % cs.length].watch().key(job.key).create();
      w.on('put', (kv) => {
        const t = now();
        received++;
        const v = kv.value.toString();
        if (v.startsWith('m')) delays.push(Number(t - BigInt(v.slice(1, v.indexOf('|')))) / 1e6);
      });
      watchers.push(w);
    }
    const cpu0 = process.cpuUsage();
    await send({ type: 'ready' });
    const expected = (await next()) as { expected: number };
    const deadline = Date.now() + 15_000;
    while (delays.length < expected.expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await send({ type: 'delays', delays, received, cpu: cpuSince(cpu0) });
    for (const c of cs) c.close();
    process.exit(0);
  }
}

/** Forks n workers, gives each its job, resolves once all are ready. */
async function startWorkers(jobs: Job[]): Promise<{ procs: ChildProcess[]; replies: Promise<Reply>[] }> {
  const procs = jobs.map(() => fork(__filename, ['--role=worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const ready = procs.map((p) => new Promise<void>((resolve, reject) => {
    p.once('message', (m) => ((m as Reply).type === 'ready' ? resolve() : reject(new Error(`worker: ${JSON.stringify(m)}`))));
    p.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  }));
  for (const [i, p] of procs.entries()) p.send(jobs[i]);
  await Promise.all(ready);
  const replies = procs.map((p) => new Promise<Reply>((resolve, reject) => {
    p.once('message', (m) => resolve(m as Reply));
    p.once('exit', (code) => reject(new Error(`worker exited with ${code} before replying`)));
  }));
  return { procs, replies };
}

// ---------------------------------------------------------------------------------------
// The workloads (this process drives them).

interface Figures {
  seqPerS: number;
  seqP50: number;
  seqP99: number;
  putPerS64: number;
  putP50: number;
  putP99: number;
  putErrors: number;
  rangeP50: number;
  rangeP99: number;
  rangeKeys: number;
  watchP50: number;
  watchP99: number;
  watchDelivered: number;
  watchExpected: number;
}

async function sequentialPuts(endpoint: string): Promise<Pick<Figures, 'seqPerS' | 'seqP50' | 'seqP99'>> {
  const c = client(endpoint);
  try {
    for (let i = 0; i < 50; i++) await c.put(keyName('/bench/k/', i)).value(paddedValue('warm'));
    const lat: number[] = [];
    const t0 = now();
    for (let i = 0; i < SEQ_PUTS; i++) {
      const t = now();
      await c.put(keyName('/bench/k/', i % KEYS)).value(paddedValue(`s${i}`));
      lat.push(msSince(t));
    }
    const s = sortNum(lat);
    return { seqPerS: SEQ_PUTS / (msSince(t0) / 1000), seqP50: percentile(s, 50), seqP99: percentile(s, 99) };
  } finally {
    c.close();
  }
}

/** `total` puts over `keys` keys under prefix, CONCURRENCY in flight over PUT_WORKERS processes. */
async function concurrentPuts(endpoint: string, prefix: string, keys: number, total: number): Promise<{ perS: number; p50: number; p99: number; errors: number }> {
  const per = Math.ceil(total / PUT_WORKERS);
  const jobs: Job[] = Array.from({ length: PUT_WORKERS }, (_, w) => ({
    cmd: 'puts',
    endpoint,
    prefix,
    keys,
    first: w * per,
    count: Math.min(per, total - w * per),
    concurrency: CONCURRENCY / PUT_WORKERS,
    conns: 2,
  }));
  const { procs, replies } = await startWorkers(jobs);
  for (const p of procs) p.send({ go: true });
  const done = (await Promise.all(replies)) as Extract<Reply, { type: 'done' }>[];
  for (const d of done) workerCpu += d.cpu;
  // Monotonic ns (well below 2^53 for years of uptime).
  const start = Math.min(...done.map((d) => Number(d.start)));
  const end = Math.max(...done.map((d) => Number(d.end)));
  const lat = sortNum(done.flatMap((d) => d.latencies));
  return { perS: lat.length / ((end - start) / 1e9), p50: percentile(lat, 50), p99: percentile(lat, 99), errors: done.reduce((n, d) => n + d.errors, 0) };
}

async function ranges(endpoint: string): Promise<{ p50: number; p99: number; keys: number }> {
  const c = client(endpoint);
  try {
    let keys = 0;
    for (let i = 0; i < 3; i++) keys = Object.keys(await c.getAll().prefix('/bench/r/').buffers()).length;
    const lat: number[] = [];
    for (let i = 0; i < RANGES; i++) {
      const t = now();
      const r = await c.getAll().prefix('/bench/r/').exec();
      lat.push(msSince(t));
      keys = r.kvs.length;
    }
    const s = sortNum(lat);
    return { p50: percentile(s, 50), p99: percentile(s, 99), keys };
  } finally {
    c.close();
  }
}

async function watchDelivery(endpoint: string): Promise<{ p50: number; p99: number; delivered: number; expected: number }> {
  const per = Math.ceil(WATCHERS / WATCH_WORKERS);
  const jobs: Job[] = Array.from({ length: WATCH_WORKERS }, (_, w) => ({
    cmd: 'watch',
    endpoint,
    watchers: Math.min(per, WATCHERS - w * per),
    conns: WATCH_CONNS_PER_WORKER,
    key: WATCH_KEY,
  }));
  const { procs, replies } = await startWorkers(jobs);
  const c = client(endpoint);
  try {
    // Warm-up puts (not measured: their values do not start with "m").
    for (let i = 0; i < 10; i++) {
      await c.put(WATCH_KEY).value(paddedValue(`w${i}|`));
      await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
    }
    for (let i = 0; i < WATCH_PUTS; i++) {
      const sent = now();
      await c.put(WATCH_KEY).value(paddedValue(`m${sent}|${i}|`));
      await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
    }
  } finally {
    c.close();
  }
  for (const [i, p] of procs.entries()) p.send({ expected: (jobs[i] as Extract<Job, { cmd: 'watch' }>).watchers * WATCH_PUTS });
  const got = (await Promise.all(replies)) as Extract<Reply, { type: 'delays' }>[];
  for (const g of got) workerCpu += g.cpu;
  const d = sortNum(got.flatMap((g) => g.delays));
  return { p50: percentile(d, 50), p99: percentile(d, 99), delivered: d.length, expected: WATCHERS * WATCH_PUTS };
}

// ---------------------------------------------------------------------------------------
// The servers.

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  // Linux's usual value.
}

/** CPU seconds (user + system) used so far by processes, from /proc (0 where unreadable). */
function cpuOfPids(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // Gone or not Linux.
    }
  }
  return ticks / clockTicks;
}

/** Pids of the processes whose command line contains `needle` (the nats-server of this run). */
function pidsWith(needle: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch {
      // Gone.
    }
  }
  return out;
}

async function startStore(nats: NatsServer): Promise<{ endpoint: string; proc: ServiceProcess }> {
  const proc = await spawnService({
    cmd: process.execPath,
    args: [STORE, '--listen', '127.0.0.1:0', '--nats-url', nats.url, '--replicas', '1', '--compaction-window', '0', '--name', 'bench-store', '--insecure-plaintext'],
    readyPattern: /"address":"(127\.0\.0\.1:\d+)"[^\n]*"msg":"store started"/,
    timeoutMs: 60_000,
  });
  const endpoint = proc.match[1];
  // Ready once it answers.
  const c = client(endpoint);
  for (let i = 0; ; i++) {
    try {
      await c.get('/bench/ready').string();
      break;
    } catch (e) {
      if (i > 200) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  c.close();
  return { endpoint, proc };
}

async function startEtcd(dir: string): Promise<{ endpoint: string; proc: ServiceProcess }> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const proc = await spawnService({
    cmd: fs.existsSync('/usr/bin/etcd') ? '/usr/bin/etcd' : 'etcd',
    args: [
      '--data-dir', path.join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${clientPort}`,
      '--advertise-client-urls', `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
    ],
    readyPattern: /ready to serve client requests/,
    timeoutMs: 60_000,
  });
  return { endpoint: `127.0.0.1:${clientPort}`, proc };
}

async function main(): Promise<void> {
  if (!fs.existsSync(STORE)) throw new Error(`${STORE} is missing: run make build first`);
  const load0 = os.loadavg();
  const t0 = now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-bench-store-'));
  const nats = await startNats({ dir: path.join(dir, 'nats') });
  const stopping: (() => Promise<unknown>)[] = [() => nats.stop()];
  try {
    const store = await startStore(nats);
    stopping.unshift(() => store.proc.stop());
    const etcd = await startEtcd(dir);
    stopping.unshift(() => etcd.proc.stop());
    const targets = [
      { name: 'k8ts store', endpoint: store.endpoint, pids: [store.proc.proc.pid!, ...pidsWith(path.join(dir, 'nats', 'nats.conf'))] },
      { name: 'etcd', endpoint: etcd.endpoint, pids: [etcd.proc.proc.pid!] },
    ];
    const figs: Partial<Figures>[] = targets.map(() => ({}));
    /** Per workload and target: wall seconds, CPU seconds of the servers and of the clients. */
    const usage: { what: string; per: { wall: number; server: number; first: number; client: number }[] }[] = [];
    const step = async (what: string, fn: (endpoint: string, f: Partial<Figures>) => Promise<void>) => {
      const row = { what, per: [] as { wall: number; server: number; first: number; client: number }[] };
      usage.push(row);
      for (const [i, t] of targets.entries()) {
        const ts = now();
        const server0 = cpuOfPids(t.pids);
        const first0 = cpuOfPids(t.pids.slice(0, 1));
        const main0 = process.cpuUsage();
        const workers0 = workerCpu;
        await fn(t.endpoint, figs[i]);
        row.per.push({ wall: msSince(ts) / 1000, server: cpuOfPids(t.pids) - server0, first: cpuOfPids(t.pids.slice(0, 1)) - first0, client: cpuSince(main0) + workerCpu - workers0 });
        process.stderr.write(`bench/store: ${what} on ${t.name}: ${(msSince(ts) / 1000).toFixed(1)} s\n`);
      }
    };
    await step('sequential puts', async (ep, f) => {
      Object.assign(f, await sequentialPuts(ep));
    });
    await step('64-way puts, warm-up (2,000)', async (ep) => {
      await concurrentPuts(ep, '/bench/k/', KEYS, 2000);
    });
    await step(`64-way puts (${PUTS_64})`, async (ep, f) => {
      const r = await concurrentPuts(ep, '/bench/k/', KEYS, PUTS_64);
      Object.assign(f, { putPerS64: r.perS, putP50: r.p50, putP99: r.p99, putErrors: r.errors });
    });
    await step('10,000 keys written for the ranges', async (ep) => {
      await concurrentPuts(ep, '/bench/r/', RANGE_KEYS, RANGE_KEYS);
    });
    await step('ranges', async (ep, f) => {
      const r = await ranges(ep);
      Object.assign(f, { rangeP50: r.p50, rangeP99: r.p99, rangeKeys: r.keys });
    });
    await step('watch delivery', async (ep, f) => {
      const r = await watchDelivery(ep);
      Object.assign(f, { watchP50: r.p50, watchP99: r.p99, watchDelivered: r.delivered, watchExpected: r.expected });
    });

    // The same puts on a store whose nats-server fsyncs every write before acknowledging it
    // (sync_interval: always), as etcd does: the comparison at equal durability.
    const syncNats = await startNats({ dir: path.join(dir, 'nats-sync'), syncInterval: 'always' });
    stopping.unshift(() => syncNats.stop());
    const syncStore = await startStore(syncNats);
    stopping.unshift(() => syncStore.proc.stop());
    const ts = now();
    const durable: { seqPerS: number; seqP50: number; seqP99: number; putPerS64: number; putP50: number; putP99: number } = {
      ...(await sequentialPuts(syncStore.endpoint)),
      putPerS64: Number.NaN,
      putP50: Number.NaN,
      putP99: Number.NaN,
    };
    await concurrentPuts(syncStore.endpoint, '/bench/k/', KEYS, 2000);
    const d64 = await concurrentPuts(syncStore.endpoint, '/bench/k/', KEYS, PUTS_64);
    Object.assign(durable, { putPerS64: d64.perS, putP50: d64.p50, putP99: d64.p99 });
    process.stderr.write(`bench/store: sequential and ${CONCURRENCY}-way puts on k8ts store with fsync per write: ${(msSince(ts) / 1000).toFixed(1)} s\n`);

    const [k, e] = figs as Figures[];
    const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
    const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '-');
    const rows: string[][] = [
      ['workload', 'k8ts store', 'etcd 3.4', 'store/etcd'],
      [`sequential puts (1 client), puts/s`, fmt(k.seqPerS, 0), fmt(e.seqPerS, 0), ratio(k.seqPerS, e.seqPerS)],
      ['  latency p50 / p99 ms', `${fmt(k.seqP50, 2)} / ${fmt(k.seqP99, 2)}`, `${fmt(e.seqP50, 2)} / ${fmt(e.seqP99, 2)}`, ratio(k.seqP99, e.seqP99)],
      [`${CONCURRENCY}-way puts (${PUT_WORKERS} processes), puts/s`, fmt(k.putPerS64, 0), fmt(e.putPerS64, 0), ratio(k.putPerS64, e.putPerS64)],
      ['  latency p50 / p99 ms', `${fmt(k.putP50, 2)} / ${fmt(k.putP99, 2)}`, `${fmt(e.putP50, 2)} / ${fmt(e.putP99, 2)}`, ratio(k.putP99, e.putP99)],
      [`range of ${RANGE_KEYS} keys p50 / p99 ms`, `${fmt(k.rangeP50)} / ${fmt(k.rangeP99)}`, `${fmt(e.rangeP50)} / ${fmt(e.rangeP99)}`, ratio(k.rangeP99, e.rangeP99)],
      [`watch delivery, ${WATCHERS} watchers, p50 / p99 ms`, `${fmt(k.watchP50, 2)} / ${fmt(k.watchP99, 2)}`, `${fmt(e.watchP50, 2)} / ${fmt(e.watchP99, 2)}`, ratio(k.watchP99, e.watchP99)],
      ['  events delivered', `${k.watchDelivered}/${k.watchExpected}`, `${e.watchDelivered}/${e.watchExpected}`, ''],
      ['with an fsync before every ack (nats-server sync_interval: always), as etcd:', '', '', ''],
      ['  sequential puts (1 client), puts/s', fmt(durable.seqPerS, 0), fmt(e.seqPerS, 0), ratio(durable.seqPerS, e.seqPerS)],
      [`  ${CONCURRENCY}-way puts, puts/s`, fmt(durable.putPerS64, 0), fmt(e.putPerS64, 0), ratio(durable.putPerS64, e.putPerS64)],
      ['    latency p50 / p99 ms', `${fmt(durable.putP50, 2)} / ${fmt(durable.putP99, 2)}`, `${fmt(e.putP50, 2)} / ${fmt(e.putP99, 2)}`, ratio(durable.putP99, e.putP99)],
    ];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    console.log('');
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   '));
    console.log('');
    console.log(`${KEYS} keys, ${VALUE_BYTES}-byte values; ${CONCURRENCY}-way: ${PUTS_64} puts; ranges: ${RANGES} linearizable reads of a ${RANGE_KEYS}-key prefix;`);
    console.log(`watch: ${WATCH_PUTS} puts of one key, one every ${WATCH_INTERVAL_MS} ms, ${WATCHERS} watchers over ${WATCH_WORKERS} processes x ${WATCH_CONNS_PER_WORKER} connections; delay = receipt - send of the put.`);
    console.log('');
    const u = (x: { wall: number; server: number; first: number; client: number }, split: boolean) =>
      `${fmt(x.wall)} s: ${fmt(x.server)}${split ? ` (store ${fmt(x.first)})` : ''} / ${fmt(x.client)}`;
    const urows = [
      ['CPU seconds used per workload', 'k8ts store + nats-server', 'etcd'],
      ['wall: servers / client processes', '', ''],
      ...usage.map((r) => [r.what, u(r.per[0], true), u(r.per[1], false)]),
    ];
    const uw = urows[0].map((_, i) => Math.max(...urows.map((r) => r[i].length)));
    for (const r of urows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(uw[i]) : c.padStart(uw[i]))).join('   '));
    console.log('');
    console.log(`targets: ${CONCURRENCY}-way put throughput >= 2x etcd's (got ${ratio(k.putPerS64, e.putPerS64)}), watch delivery p99 < 10 ms (got ${fmt(k.watchP99, 2)} ms)`);
    console.log('durability of an acknowledged write:');
    const natsVersion = natsServerVersion(natsServerBinary()) ?? '(unknown version)';
    console.log(`  k8ts store: JetStream (nats-server ${natsVersion}, file storage, 1 server, R1) has written the entry to its block file`);
    console.log('              (write(2), page cache) before the ack, and fsyncs every 2 minutes: it survives a crash of the');
    console.log('              store or of nats-server, not a power loss or kernel crash (up to 2 minutes lost). With 3 NATS');
    console.log('              servers (R3) the ack waits for 2 of 3 to have it, each in its page cache: survives losing one server.');
    console.log('  k8ts store with sync_interval: always (the rows so marked, and k8ts up by default): nats-server fsyncs');
    console.log('              each write before the ack: survives power loss, like etcd.');
    console.log('  etcd:       fsyncs its WAL before acknowledging (one member here; in a cluster on a majority): survives power loss.');
    const load1 = os.loadavg();
    console.log(`machine: ${os.cpus().length} CPUs; load average at the start ${load0.map((x) => x.toFixed(2)).join(' ')}, at the end ${load1.map((x) => x.toFixed(2)).join(' ')}; data dirs in ${os.tmpdir()}; took ${(msSince(t0) / 1000).toFixed(0)} s`);
    const r2 = (n: number) => (Number.isFinite(n) ? Math.round(n * 100) / 100 : null);
    console.log(
      JSON.stringify({
        bench: 'store',
        keys: KEYS,
        value_bytes: VALUE_BYTES,
        put_per_s_64: r2(k.putPerS64),
        etcd_put_per_s_64: r2(e.putPerS64),
        put_ratio_64: r2(k.putPerS64 / e.putPerS64),
        put_p50_ms_64: r2(k.putP50),
        put_p99_ms_64: r2(k.putP99),
        etcd_put_p50_ms_64: r2(e.putP50),
        etcd_put_p99_ms_64: r2(e.putP99),
        put_errors_64: k.putErrors,
        etcd_put_errors_64: e.putErrors,
        seq_put_per_s: r2(k.seqPerS),
        etcd_seq_put_per_s: r2(e.seqPerS),
        seq_put_ratio: r2(k.seqPerS / e.seqPerS),
        fsync_put_per_s_64: r2(durable.putPerS64),
        fsync_put_ratio_64: r2(durable.putPerS64 / e.putPerS64),
        fsync_put_p99_ms_64: r2(durable.putP99),
        fsync_seq_put_per_s: r2(durable.seqPerS),
        seq_put_p50_ms: r2(k.seqP50),
        seq_put_p99_ms: r2(k.seqP99),
        etcd_seq_put_p50_ms: r2(e.seqP50),
        etcd_seq_put_p99_ms: r2(e.seqP99),
        range_10k_p50_ms: r2(k.rangeP50),
        range_10k_p99_ms: r2(k.rangeP99),
        etcd_range_10k_p50_ms: r2(e.rangeP50),
        etcd_range_10k_p99_ms: r2(e.rangeP99),
        range_keys: k.rangeKeys,
        watch_p50_ms: r2(k.watchP50),
        watch_p99_ms: r2(k.watchP99),
        etcd_watch_p50_ms: r2(e.watchP50),
        etcd_watch_p99_ms: r2(e.watchP99),
        watch_delivered: k.watchDelivered,
        etcd_watch_delivered: e.watchDelivered,
        watch_expected: k.watchExpected,
        cpu_s: Object.fromEntries(
          usage.map((r) => [r.what, { wall: r2(r.per[0].wall), store_servers: r2(r.per[0].server), store_process: r2(r.per[0].first), store_clients: r2(r.per[0].client), etcd_wall: r2(r.per[1].wall), etcd_server: r2(r.per[1].server), etcd_clients: r2(r.per[1].client) }]),
        ),
        cpus: os.cpus().length,
        loadavg_start: load0.map((x) => Math.round(x * 100) / 100),
        loadavg_end: load1.map((x) => Math.round(x * 100) / 100),
      }),
    );
  } finally {
    for (const stop of stopping) await stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--role=worker')) {
  runWorker().catch((err) => {
    console.error(`bench/store worker: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(`bench/store: ${(err as Error).stack ?? err}`);
      process.exit(1);
    },
  );
}
