// bench/apiserver: the k8ts apiserver over the k8ts store (on a nats-server with JetStream),
// and, side by side in the same run, over a real etcd (Debian's etcd-server) as the baseline
// store. Every process is real; the clients are the generated gRPC clients in this process.
//
//   creates      10,000 pods created by 32 concurrent clients (32 gRPC connections): creates/s
//   list         List of those 10,000 pods (consistent read, resourceVersion ""): p50/p99 ms
//                until the whole response has arrived; and, separately, including the
//                client's decoding of the 10,000 pods into objects
//   watch        1,000 concurrent watches of one namespace's ConfigMaps; 200 writes, one every
//                20 ms: delay from the start of each write to its delivery at every watcher,
//                p50/p99 ms (it includes the write itself: store commit and feed)
//
// Authentication is on (a token file, RBAC and Node authorizers), as in a cluster. Sizes can
// be lowered for a quick run: BENCH_APISERVER_PODS, BENCH_APISERVER_WATCHERS,
// BENCH_APISERVER_BASELINE=0 skips the etcd run, BENCH_APISERVER_HTTP=0 the HTTP path.
//
// The HTTP path (k8ts store run only): the same three workloads through the Kubernetes HTTP
// API, HTTP/2 with JSON as client-go speaks it (32 sessions creating pods, JSON and Table
// lists of the gRPC run's 10,000 pods, 1,000 watches on 10 sessions), side by side with the
// gRPC figures of the same run; the JSON line adds http_creates_per_s, http_list_10k_p99_ms,
// http_watch_p99_ms and http_vs_grpc_*_ratio. Ends with one JSON line carrying
// creates_per_s, list_10k_p50_ms, list_10k_p99_ms, watch_p50_ms, watch_p99_ms and the etcd
// figures with their ratios.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as http2 from 'http2';
import * as grpc from '@grpc/grpc-js';
import { corev1 } from '@k8ts/api';
import { type ServiceProcess, freePort, spawnService, startNats } from '@k8ts/testkit';

const REPO = path.resolve(__dirname, '..', '..');
const APISERVER = path.join(REPO, 'services', 'apiserver', 'dist', 'main.js');
const STORE = path.join(REPO, 'services', 'store', 'dist', 'main.js');
const PODS = Number(process.env.BENCH_APISERVER_PODS ?? 10_000);
const CLIENTS = 32;
const LISTS = Number(process.env.BENCH_APISERVER_LISTS ?? 30);
const WATCHERS = Number(process.env.BENCH_APISERVER_WATCHERS ?? 1000);
const WRITES = Number(process.env.BENCH_APISERVER_WRITES ?? 200);
const BASELINE = process.env.BENCH_APISERVER_BASELINE !== '0';
const ONLY_BASELINE = process.env.BENCH_APISERVER_ONLY_BASELINE === '1';
const TOKEN = crypto.randomBytes(24).toString('base64url');
const HTTP = process.env.BENCH_APISERVER_HTTP !== '0';

interface Backend {
  name: string;
  endpoint: string;
  natsUrl?: string;
  stop(): Promise<void>;
}

interface Results {
  createsPerS: number;
  listP50: number;
  listP99: number;
  decodedP50: number;
  decodedP99: number;
  listItems: number;
  watchP50: number;
  watchP99: number;
  watchEvents: number;
  http?: HttpResults;
}

interface HttpResults {
  createsPerS: number;
  listP50: number;
  listP99: number;
  tableP50: number;
  tableP99: number;
  listItems: number;
  watchP50: number;
  watchP99: number;
  watchEvents: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function startK8tsStore(dir: string): Promise<Backend> {
  const nats = await startNats({ dir: path.join(dir, 'nats') });
  const port = await freePort();
  const proc = await spawnService({ cmd: process.execPath, args: [STORE, '--listen', `127.0.0.1:${port}`, '--nats-url', nats.url, '--insecure-plaintext'], readyPattern: /"msg":"ready"/, timeoutMs: 60000 });
  return {
    name: 'k8ts store',
    endpoint: `127.0.0.1:${port}`,
    natsUrl: nats.url,
    async stop() {
      await proc.stop();
      await nats.stop();
    },
  };
}

async function startEtcd(dir: string): Promise<Backend> {
  const client = await freePort();
  const peer = await freePort();
  const proc = await spawnService({
    cmd: process.env.ETCD_BIN ?? '/usr/bin/etcd',
    args: [
      '--name', 'bench', '--data-dir', path.join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `bench=http://127.0.0.1:${peer}`,
    ],
    readyPattern: /ready to serve client requests/,
    timeoutMs: 30000,
  });
  return { name: 'etcd', endpoint: `127.0.0.1:${client}`, stop: async () => void (await proc.stop()) };
}

async function startApiserver(b: Backend, tokenFile: string): Promise<{ address: string; httpUrl: string; proc: ServiceProcess }> {
  const args = [APISERVER, '--listen', '127.0.0.1:0', '--etcd-servers', b.endpoint, '--token-auth-file', tokenFile, '--authorization-mode', 'RBAC,Node', '--log-level', 'warn'];
  if (b.natsUrl) args.push('--nats-url', b.natsUrl);
  // The "ready" line is at info level: wait for the listening port instead.
  const proc = await spawnService({ cmd: process.execPath, args: args.map((a) => (a === 'warn' ? 'info' : a)), readyPattern: /"msg":"ready"/, timeoutMs: 60000 });
  const m = /"address":"([^"]+)"[^\n]*"msg":"listening"/.exec(proc.logs());
  if (!m) throw new Error(`no address in the apiserver log:\n${proc.logs()}`);
  const h = /"address":"(https:\/\/[^"]+)"[^\n]*"msg":"Kubernetes HTTP API listening"/.exec(proc.logs());
  if (!h) throw new Error(`no HTTP address in the apiserver log:\n${proc.logs()}`);
  return { address: m[1], httpUrl: h[1], proc };
}

const md = () => {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${TOKEN}`);
  return m;
};

function unary<Res>(fn: (req: any, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: unknown): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, md(), (e, r) => (e ? reject(e) : resolve(r))));
}

/** Separate connections: one per client, as separate processes would have. */
function podClient(address: string): corev1.PodServiceClient {
  return new corev1.PodServiceClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
}

async function run(b: Backend, tokenFile: string): Promise<Results> {
  const api = await startApiserver(b, tokenFile);
  try {
    const ns = new corev1.NamespaceServiceClient(api.address, grpc.credentials.createInsecure());
    for (const name of ['bench', 'watched']) await unary(ns.createNamespace.bind(ns), { namespace: { metadata: { name } } });
    ns.close();

    // Creates: 32 clients, PODS pods.
    const clients = Array.from({ length: CLIENTS }, () => podClient(api.address));
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c) => {
        for (let i = next++; i < PODS; i = next++) {
          await unary(c.createPod.bind(c), {
            pod: {
              metadata: { name: `pod-${i}`, namespace: 'bench', labels: { app: 'bench', shard: String(i % 10) } },
              spec: { containers: [{ name: 'app', image: 'k8ts/echo', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: { value: '100m' }, memory: { value: '64Mi' } } } }] },
            },
          });
        }
      }),
    );
    const createsPerS = PODS / ((performance.now() - t0) / 1000);

    // Lists of every pod, consistent reads: the raw response (bytes), then decoded objects.
    const raw = new grpc.Client(api.address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
    const rawList = () =>
      new Promise<Buffer>((resolve, reject) =>
        raw.makeUnaryRequest(
          '/k8ts.core.v1.PodService/ListPods',
          (r: corev1.ListPodsRequest) => Buffer.from(corev1.ListPodsRequest.encode(r).finish()),
          (b: Buffer) => b,
          { namespace: 'bench' },
          md(),
          (e, r) => (e ? reject(e) : resolve(r!)),
        ),
      );
    const lat: number[] = [];
    const decoded: number[] = [];
    let items = 0;
    for (let i = 0; i < LISTS + 3; i++) {
      const s = performance.now();
      const bytes = await rawList();
      const t = performance.now();
      items = corev1.ListPodsResponse.decode(bytes).items?.length ?? 0;
      if (i >= 3) {
        lat.push(t - s);
        decoded.push(performance.now() - s);
      }
    }
    raw.close();
    lat.sort((x, y) => x - y);
    decoded.sort((x, y) => x - y);
    for (const c of clients) c.close();

    // Watch delivery at WATCHERS watchers.
    const cms = Array.from({ length: 10 }, () => new corev1.ConfigMapServiceClient(api.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    const started = new Map<string, number>();
    const delays: number[] = [];
    let ready = 0;
    const streams: grpc.ClientReadableStream<corev1.WatchConfigMapsResponse>[] = [];
    const list = await unary<corev1.ListConfigMapsResponse>(cms[0].listConfigMaps.bind(cms[0]), { namespace: 'watched' });
    for (let i = 0; i < WATCHERS; i++) {
      const c = cms[i % cms.length];
      const s = c.watchConfigMaps({ namespace: 'watched', resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true }, md());
      let first = true;
      s.on('data', (ev: corev1.WatchConfigMapsResponse) => {
        if (first) {
          first = false;
          ready++;
        }
        const name = ev.object?.metadata?.name;
        const t = name ? started.get(name) : undefined;
        if (t !== undefined) delays.push(performance.now() - t);
      });
      s.on('error', () => undefined);
      streams.push(s);
    }
    // Every watch sends a bookmark first: wait until all are established.
    const deadline = Date.now() + 60000;
    while (ready < WATCHERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const w = cms[0];
    for (let i = 0; i < WRITES; i++) {
      const name = `cm-${i}`;
      started.set(name, performance.now());
      await unary(w.createConfigMap.bind(w), { configMap: { metadata: { name, namespace: 'watched' }, data: { i: String(i) } } });
      await new Promise((r) => setTimeout(r, 20));
    }
    const want = WRITES * WATCHERS;
    const end = Date.now() + 30000;
    while (delays.length < want && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    for (const s of streams) s.cancel();
    for (const c of cms) c.close();
    delays.sort((x, y) => x - y);
    const http = b.natsUrl && HTTP ? await httpPhase(api.httpUrl) : undefined;
    return {
      http,
      createsPerS,
      listP50: pct(lat, 50),
      listP99: pct(lat, 99),
      decodedP50: pct(decoded, 50),
      decodedP99: pct(decoded, 99),
      listItems: items,
      watchP50: pct(delays, 50),
      watchP99: pct(delays, 99),
      watchEvents: delays.length,
    };
  } finally {
    await api.proc.stop();
  }
}

async function main(): Promise<void> {
  for (const f of [APISERVER, STORE]) if (!fs.existsSync(f)) throw new Error(`${path.relative(REPO, f)} is missing: run 'make build'`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-bench-apiserver-'));
  const tokenFile = path.join(dir, 'tokens.csv');
  fs.writeFileSync(tokenFile, `${TOKEN},admin,admin,"system:masters"\n`);
  const results: [string, Results][] = [];
  try {
    if (!ONLY_BASELINE) {
      const store = await startK8tsStore(dir);
      try {
        results.push([store.name, await run(store, tokenFile)]);
      } finally {
        await store.stop();
      }
    }
    if (BASELINE) {
      const etcd = await startEtcd(dir);
      try {
        results.push([etcd.name, await run(etcd, tokenFile)]);
      } finally {
        await etcd.stop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  const rows = [
    ['apiserver over', `creates/s (${CLIENTS} clients)`, `List ${PODS} p50 ms`, 'p99 ms', '+decode p50', 'p99', `watch (${WATCHERS}) p50 ms`, 'p99 ms', 'events'],
    ...results.map(([name, r]) => [
      name,
      f(r.createsPerS, 0),
      f(r.listP50),
      f(r.listP99),
      f(r.decodedP50),
      f(r.decodedP99),
      f(r.watchP50),
      f(r.watchP99),
      `${r.watchEvents}/${WRITES * WATCHERS}`,
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log(`targets: >= 2000 creates/s, List ${PODS} p99 <= 200 ms, watch delivery p99 <= 50 ms (measured from the start of each write)`);
  const hk = results[0][1];
  const h = hk.http;
  if (h) {
    console.log('');
    const hrows = [
      ['k8ts store, door', `creates/s (${CLIENTS} clients)`, `List ${PODS} p50 ms`, 'p99 ms', 'Table p50 ms', 'p99 ms', `watch (${WATCHERS}) p50 ms`, 'p99 ms', 'events'],
      ['gRPC (protobuf)', f(hk.createsPerS, 0), f(hk.listP50), f(hk.listP99), '-', '-', f(hk.watchP50), f(hk.watchP99), `${hk.watchEvents}/${WRITES * WATCHERS}`],
      ['HTTP/2 (JSON)', f(h.createsPerS, 0), f(h.listP50), f(h.listP99), f(h.tableP50), f(h.tableP99), f(h.watchP50), f(h.watchP99), `${h.watchEvents}/${WRITES * WATCHERS}`],
      ['HTTP vs gRPC', f(h.createsPerS / hk.createsPerS, 2), f(hk.listP50 / h.listP50, 2), f(hk.listP99 / h.listP99, 2), f(hk.listP50 / h.tableP50, 2), f(hk.listP99 / h.tableP99, 2), f(hk.watchP50 / h.watchP50, 2), f(hk.watchP99 / h.watchP99, 2), ''],
    ];
    const hw = hrows[0].map((_, i) => Math.max(...hrows.map((r) => r[i].length)));
    for (const r of hrows) console.log(r.map((c, i) => c.padEnd(hw[i])).join('  '));
    console.log('ratios: gRPC figure / HTTP figure for latencies, HTTP / gRPC for creates (1.0 = as fast as gRPC; target >= 0.9)');
  }
  const [, k] = results[0];
  const e = results[1]?.[1];
  const round = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? null : Math.round(n * 100) / 100);
  console.log(
    JSON.stringify({
      bench: 'apiserver',
      pods: PODS,
      clients: CLIENTS,
      watchers: WATCHERS,
      creates_per_s: round(k.createsPerS),
      list_10k_p50_ms: round(k.listP50),
      list_10k_p99_ms: round(k.listP99),
      list_10k_decoded_p50_ms: round(k.decodedP50),
      list_10k_decoded_p99_ms: round(k.decodedP99),
      list_items: k.listItems,
      watch_p50_ms: round(k.watchP50),
      watch_p99_ms: round(k.watchP99),
      etcd_creates_per_s: round(e?.createsPerS),
      etcd_list_10k_p99_ms: round(e?.listP99),
      etcd_watch_p99_ms: round(e?.watchP99),
      creates_ratio_vs_etcd: e ? round(k.createsPerS / e.createsPerS) : null,
      http_creates_per_s: round(h?.createsPerS),
      http_list_10k_p50_ms: round(h?.listP50),
      http_list_10k_p99_ms: round(h?.listP99),
      http_table_10k_p99_ms: round(h?.tableP99),
      http_watch_p50_ms: round(h?.watchP50),
      http_watch_p99_ms: round(h?.watchP99),
      http_vs_grpc_creates_ratio: h ? round(h.createsPerS / k.createsPerS) : null,
      http_vs_grpc_list_p99_ratio: h ? round(k.listP99 / h.listP99) : null,
      http_vs_grpc_table_p99_ratio: h ? round(k.listP99 / h.tableP99) : null,
      http_vs_grpc_watch_p99_ratio: h ? round(k.watchP99 / h.watchP99) : null,
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

// ---- The HTTP path: the same workloads through the Kubernetes HTTP API (HTTP/2, JSON) ----

/** One HTTP/2 session, as one client-go process keeps per apiserver. */
function session(url: string): http2.ClientHttp2Session {
  // client-go's HTTP/2 transport (Go's x/net/http2) opens each stream with a 4 MiB window and
  // the connection with 1 GiB; Node's defaults (64 KiB) would make a 10 MB List wait on
  // window updates, measuring the client rather than the server.
  const s = http2.connect(url, { rejectUnauthorized: false, settings: { initialWindowSize: 4 * 1024 * 1024 } });
  s.on('connect', () => s.setLocalWindowSize(1024 * 1024 * 1024));
  s.on('error', () => undefined);
  return s;
}

function call(s: http2.ClientHttp2Session, method: string, path: string, body?: string, accept = 'application/json'): Promise<{ status: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = s.request({ ':method': method, ':path': path, authorization: `Bearer ${TOKEN}`, accept, ...(body ? { 'content-type': 'application/json' } : {}) });
    const chunks: Buffer[] = [];
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const b = Buffer.concat(chunks);
      resolve({ status, bytes: b.length, text: status >= 300 ? b.toString('utf8').slice(0, 300) : '' });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function httpPhase(url: string): Promise<HttpResults> {
  const sessions = Array.from({ length: CLIENTS }, () => session(url));
  try {
    const admin = sessions[0];
    for (const name of ['bench-http', 'watched-http']) {
      const r = await call(admin, 'POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
      if (r.status !== 201) throw new Error(`create namespace ${name}: ${r.status} ${r.text}`);
    }
    // Creates: 32 sessions, the same pods as the gRPC run (in their own namespace).
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      sessions.map(async (s) => {
        for (let i = next++; i < PODS; i = next++) {
          const pod = {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `pod-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
            spec: { containers: [{ name: 'app', image: 'k8ts/echo', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
          };
          const r = await call(s, 'POST', '/api/v1/namespaces/bench-http/pods', JSON.stringify(pod));
          if (r.status !== 201) throw new Error(`create pod-${i}: ${r.status} ${r.text}`);
        }
      }),
    );
    const createsPerS = PODS / ((performance.now() - t0) / 1000);

    // Lists of the gRPC run's 10,000 pods (namespace bench): JSON, then Tables (what kubectl asks).
    const timeList = async (accept: string) => {
      const lat: number[] = [];
      let bytes = 0;
      for (let i = 0; i < LISTS + 3; i++) {
        const s = performance.now();
        const r = await call(admin, 'GET', '/api/v1/namespaces/bench/pods', undefined, accept);
        if (r.status !== 200) throw new Error(`list: ${r.status} ${r.text}`);
        bytes = r.bytes;
        if (i >= 3) lat.push(performance.now() - s);
      }
      lat.sort((x, y) => x - y);
      return { lat, bytes };
    };
    const json = await timeList('application/json');
    const table = await timeList('application/json;as=Table;v=v1;g=meta.k8s.io,application/json');
    const counted = await call(admin, 'GET', '/api/v1/namespaces/bench/pods?limit=1');
    void counted;

    // Watch delivery at WATCHERS HTTP watchers (10 sessions, as the gRPC run's 10 connections).
    const watchSessions = sessions.slice(0, 10);
    const listed = await new Promise<string>((resolve, reject) => {
      const req = admin.request({ ':path': '/api/v1/namespaces/watched-http/configmaps', authorization: `Bearer ${TOKEN}` });
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (text += c));
      req.on('end', () => resolve((JSON.parse(text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion));
      req.on('error', reject);
      req.end();
    });
    const started = new Map<string, number>();
    const delays: number[] = [];
    let ready = 0;
    const streams: http2.ClientHttp2Stream[] = [];
    for (let i = 0; i < WATCHERS; i++) {
      const s = watchSessions[i % watchSessions.length];
      const req = s.request({
        ':path': `/api/v1/namespaces/watched-http/configmaps?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=${listed}`,
        authorization: `Bearer ${TOKEN}`,
      });
      let buf = '';
      let first = true;
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        buf += c;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (first) {
            first = false;
            ready++;
          }
          const m = /"name":"(cm-\d+)"/.exec(line);
          const t = m ? started.get(m[1]) : undefined;
          if (t !== undefined && line.startsWith('{"type":"ADDED"')) delays.push(performance.now() - t);
        }
      });
      req.on('error', () => undefined);
      req.end();
      streams.push(req);
    }
    const deadline = Date.now() + 60000;
    while (ready < WATCHERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < WRITES; i++) {
      const name = `cm-${i}`;
      started.set(name, performance.now());
      const r = await call(admin, 'POST', '/api/v1/namespaces/watched-http/configmaps', JSON.stringify({ metadata: { name }, data: { i: String(i) } }));
      if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${r.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const want = WRITES * WATCHERS;
    const end = Date.now() + 30000;
    while (delays.length < want && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    for (const s of streams) s.close();
    delays.sort((x, y) => x - y);
    return {
      createsPerS,
      listP50: pct(json.lat, 50),
      listP99: pct(json.lat, 99),
      tableP50: pct(table.lat, 50),
      tableP99: pct(table.lat, 99),
      listItems: PODS,
      watchP50: pct(delays, 50),
      watchP99: pct(delays, 99),
      watchEvents: delays.length,
    };
  } finally {
    for (const s of sessions) s.close();
  }
}
