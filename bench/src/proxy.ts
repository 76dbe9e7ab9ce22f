// bench/proxy: the k8ts proxy's data plane side by side with a direct connection and with
// haproxy, in one run on this machine's loopback addresses.
//
//   bulk throughput   1 GiB written over 4 connections to sinks that count it
//   latency           20,000 ping-pongs of 64 bytes on one connection (p50, p99)
//
// Paths: (a) direct to the backends, (b) through the k8ts proxy process
// (services/proxy/dist/main.js serving a manifests file; default 'buffers' forwarding, and
// 'streams' for comparison), (c) through haproxy (Debian package) in mode tcp, balance
// roundrobin, over the same three backends. The backends run in a child process of their
// own, the proxies in theirs, the clients in this one. Latency is measured first, then
// throughput, each in rounds that interleave the paths; a path's latency is its median
// round (samples taken after a warm-up), its throughput its best round.
//
// Ends with one JSON line: throughput_ratio_direct, throughput_ratio_haproxy, added_p99_ms
// (proxy p99 minus direct p99) and the raw figures.
import { type ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const PODS = ['127.244.9.2', '127.244.9.3', '127.244.9.4'];
const SINK_PORT = 28080;
const ECHO_PORT = 28081;
const NODE_IP = '127.10.9.1';
const VIP_PROXY = '127.96.9.10';
const VIP_STREAMS = '127.96.9.12';
const VIP_HAPROXY = '127.96.9.11';
const SVC_SINK = 28000;
const SVC_ECHO = 28001;

const TOTAL_BYTES = Number(process.env.BENCH_PROXY_BYTES ?? 1024 * 1024 * 1024);
const CONNECTIONS = 4;
const ROUNDS = Number(process.env.BENCH_PROXY_ROUNDS ?? 3);
const PINGS = Number(process.env.BENCH_PROXY_PINGS ?? 20_000);
const WARMUP = 2_000;
const MSG = 64;

const REPO = path.resolve(__dirname, '..', '..');
const PROXY_MAIN = path.join(REPO, 'services', 'proxy', 'dist', 'main.js');

// ---------------------------------------------------------------------------------------
// Backends (child process): a sink and an echo server on each pod address.

function runBackends(): void {
  for (const ip of PODS) {
    net
      .createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
        let n = 0;
        s.on('data', (d: Buffer) => {
          n += d.length;
        });
        s.on('end', () => s.end(`${n}\n`));
        s.on('error', () => undefined);
      })
      .listen(SINK_PORT, ip);
    net
      .createServer({ noDelay: true }, (s) => {
        s.pipe(s);
        s.on('error', () => undefined);
      })
      .listen(ECHO_PORT, ip);
  }
  setTimeout(() => process.stdout.write('ready\n'), 100);
}

// ---------------------------------------------------------------------------------------
// Clients (this process).

/** Writes TOTAL_BYTES over CONNECTIONS connections (to targets[i % n]); resolves MB/s. */
async function throughput(targets: { host: string; port: number }[]): Promise<number> {
  const per = Math.floor(TOTAL_BYTES / CONNECTIONS);
  const chunk = Buffer.alloc(256 * 1024, 7);
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, i) => {
      const t = targets[i % targets.length];
      return new Promise<void>((resolve, reject) => {
        const s = net.connect({ host: t.host, port: t.port, allowHalfOpen: true, noDelay: true });
        let sent = 0;
        let reply = '';
        const pump = () => {
          while (sent < per) {
            const n = Math.min(chunk.length, per - sent);
            sent += n;
            if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              s.once('drain', pump);
              return;
            }
          }
          s.end();
        };
        s.on('connect', pump);
        s.setEncoding('utf8');
        s.on('data', (d: string) => (reply += d));
        s.on('end', () => {
          if (Number(reply.trim()) !== per) reject(new Error(`sink got ${reply.trim()} bytes, sent ${per}`));
          else resolve();
          s.destroy();
        });
        s.on('error', reject);
      });
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return (per * CONNECTIONS) / seconds / 1e6;
}

/** Ping-pongs MSG bytes PINGS times on one connection; resolves round-trip times in ms. */
function latency(host: string, port: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true });
    const msg = Buffer.alloc(MSG, 1);
    const samples: number[] = [];
    let got = 0;
    let i = 0;
    let t0 = 0n;
    const send = () => {
      got = 0;
      t0 = process.hrtime.bigint();
      s.write(msg);
    };
    s.on('connect', send);
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got < MSG) return;
      const dt = Number(process.hrtime.bigint() - t0) / 1e6;
      if (i >= WARMUP) samples.push(dt);
      i++;
      if (i < WARMUP + PINGS) send();
      else {
        s.destroy();
        resolve(samples);
      }
    });
    s.on('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ---------------------------------------------------------------------------------------
// Processes under test.

const children: ChildProcess[] = [];

function startChild(cmd: string, args: string[], ready?: RegExp): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    if (!ready) return resolve(child);
    const timer = setInterval(() => {
      if (ready.test(out)) {
        clearInterval(timer);
        resolve(child);
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${cmd} exited with ${code}: ${out.slice(-2000)}`));
    });
  });
}

async function waitConnectable(host: string, port: number): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${host}:${port} never accepted connections`);
}

function manifests(vip: string): string {
  const ports = [
    { name: 'sink', port: SVC_SINK, target: SINK_PORT },
    { name: 'echo', port: SVC_ECHO, target: ECHO_PORT },
  ];
  return ports
    .map(
      (p) => `apiVersion: v1
kind: Service
metadata: { name: bench-${p.name} }
spec:
  clusterIP: ${vip}
  ports: [{ name: ${p.name}, port: ${p.port}, targetPort: ${p.target} }]
---
apiVersion: v1
kind: Endpoints
metadata: { name: bench-${p.name} }
subsets:
  - addresses: [${PODS.map((ip) => `{ ip: ${ip} }`).join(', ')}]
    ports: [{ name: ${p.name}, port: ${p.target} }]
`,
    )
    .join('---\n');
}

function haproxyConfig(): string {
  const backend = (name: string, port: number) =>
    [`backend ${name}`, '  balance roundrobin', ...PODS.map((ip, i) => `  server p${i} ${ip}:${port}`)].join('\n');
  return [
    'global',
    '  maxconn 4000',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend sink',
    `  bind ${VIP_HAPROXY}:${SVC_SINK}`,
    '  default_backend sink',
    'frontend echo',
    `  bind ${VIP_HAPROXY}:${SVC_ECHO}`,
    '  default_backend echo',
    backend('sink', SINK_PORT),
    backend('echo', ECHO_PORT),
    '',
  ].join('\n');
}

function haproxyBinary(): string | undefined {
  for (const p of ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy']) if (fs.existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

// ---------------------------------------------------------------------------------------

interface PathResult {
  name: string;
  mbps: number;
  p50: number;
  p99: number;
}

async function main(): Promise<void> {
  if (!fs.existsSync(PROXY_MAIN)) throw new Error(`${PROXY_MAIN} is missing: run 'make build' first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-bench-proxy-'));
  try {
    await startChild(process.execPath, [__filename, '--role=backend'], /ready/);
    const proxyArgs = (vip: string, forwarding: string) => {
      const file = path.join(dir, `${forwarding}.yaml`);
      fs.writeFileSync(file, manifests(vip));
      return [PROXY_MAIN, '--manifests', file, '--listen', '127.0.0.1:0', '--node-ip', NODE_IP, '--log-level', 'warn', '--forwarding', forwarding];
    };
    await startChild(process.execPath, proxyArgs(VIP_PROXY, 'buffers'));
    await startChild(process.execPath, proxyArgs(VIP_STREAMS, 'streams'));
    const haproxy = haproxyBinary();
    if (haproxy) {
      const cfg = path.join(dir, 'haproxy.cfg');
      fs.writeFileSync(cfg, haproxyConfig());
      await startChild(haproxy, ['-db', '-f', cfg]);
    } else {
      process.stderr.write('bench/proxy: haproxy not found (Debian: apt-get install -y haproxy); its column is skipped\n');
    }
    for (const vip of [VIP_PROXY, VIP_STREAMS, ...(haproxy ? [VIP_HAPROXY] : [])]) {
      await waitConnectable(vip, SVC_SINK);
      await waitConnectable(vip, SVC_ECHO);
    }

    const paths = [
      { name: 'direct', sink: PODS.map((host) => ({ host, port: SINK_PORT })), echo: { host: PODS[0], port: ECHO_PORT } },
      { name: 'k8ts proxy', sink: [{ host: VIP_PROXY, port: SVC_SINK }], echo: { host: VIP_PROXY, port: SVC_ECHO } },
      { name: 'k8ts proxy (streams)', sink: [{ host: VIP_STREAMS, port: SVC_SINK }], echo: { host: VIP_STREAMS, port: SVC_ECHO } },
      ...(haproxy ? [{ name: 'haproxy', sink: [{ host: VIP_HAPROXY, port: SVC_SINK }], echo: { host: VIP_HAPROXY, port: SVC_ECHO } }] : []),
    ];
    // Latency first (a quiet machine), then throughput; both in interleaved rounds. The
    // median round is kept for latency, the best round for throughput.
    const lat = new Map<string, { p50: number; p99: number }[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of paths) {
        const samples = (await latency(p.echo.host, p.echo.port)).sort((a, b) => a - b);
        const list = lat.get(p.name) ?? [];
        list.push({ p50: percentile(samples, 50), p99: percentile(samples, 99) });
        lat.set(p.name, list);
      }
    }
    const best = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of paths) {
        const mbps = await throughput(p.sink);
        best.set(p.name, Math.max(best.get(p.name) ?? 0, mbps));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const results: PathResult[] = paths.map((p) => {
      const l = lat.get(p.name)!;
      return { name: p.name, mbps: best.get(p.name)!, p50: median(l.map((x) => x.p50)), p99: median(l.map((x) => x.p99)) };
    });

    const by = (name: string) => results.find((r) => r.name === name);
    const direct = by('direct')!;
    const proxy = by('k8ts proxy')!;
    const streams = by('k8ts proxy (streams)')!;
    const hap = by('haproxy');
    const fmt = (n: number, d = 0) => n.toFixed(d);
    const lines = [
      `bench/proxy: ${fmt(TOTAL_BYTES / 2 ** 20)} MiB over ${CONNECTIONS} connections (best of ${ROUNDS} rounds), ${PINGS} ping-pongs of ${MSG} B (median of ${ROUNDS} rounds); ${os.cpus().length} CPUs, Node ${process.version}`,
      '',
      `${'path'.padEnd(22)}${'throughput MB/s'.padStart(16)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'vs direct'.padStart(11)}${'vs haproxy'.padStart(12)}`,
      ...results.map(
        (r) =>
          `${r.name.padEnd(22)}${fmt(r.mbps).padStart(16)}${fmt(r.p50, 3).padStart(10)}${fmt(r.p99, 3).padStart(10)}` +
          `${fmt(r.mbps / direct.mbps, 2).padStart(11)}${(hap ? fmt(r.mbps / hap.mbps, 2) : '-').padStart(12)}`,
      ),
      '',
      `k8ts proxy throughput: ${fmt(proxy.mbps / direct.mbps, 2)} of direct (target >= 0.8)` +
        (hap ? `, ${fmt(proxy.mbps / hap.mbps, 2)} of haproxy (target >= 1.0)` : ', haproxy not measured'),
      `k8ts proxy added p99 latency: ${fmt(proxy.p99 - direct.p99, 3)} ms (target <= 0.3)` +
        (hap ? `; haproxy adds ${fmt(hap.p99 - direct.p99, 3)} ms` : ''),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    const round3 = (n: number) => Math.round(n * 1000) / 1000;
    const json = {
      bench: 'proxy',
      throughput_ratio_direct: round3(proxy.mbps / direct.mbps),
      throughput_ratio_haproxy: hap ? round3(proxy.mbps / hap.mbps) : null,
      added_p99_ms: round3(proxy.p99 - direct.p99),
      direct_mbps: round3(direct.mbps),
      proxy_mbps: round3(proxy.mbps),
      proxy_streams_mbps: round3(streams.mbps),
      haproxy_mbps: hap ? round3(hap.mbps) : null,
      direct_p50_ms: round3(direct.p50),
      direct_p99_ms: round3(direct.p99),
      proxy_p50_ms: round3(proxy.p50),
      proxy_p99_ms: round3(proxy.p99),
      proxy_streams_p99_ms: round3(streams.p99),
      haproxy_p50_ms: hap ? round3(hap.p50) : null,
      haproxy_p99_ms: hap ? round3(hap.p99) : null,
      haproxy_added_p99_ms: hap ? round3(hap.p99 - direct.p99) : null,
      bytes: TOTAL_BYTES,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      pingpongs: PINGS,
      cpus: os.cpus().length,
    };
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--role=backend')) {
  runBackends();
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      for (const c of children) c.kill('SIGKILL');
      process.stderr.write(`bench/proxy: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
