// bench/cluster: the local cluster as a user meets it, through the k8ts binary.
//
//   up_s               seconds from starting `k8ts up --detach` (3 nodes, fresh data dir) to
//                      its return, i.e. every node Ready
//   idle_rss_mib       the whole cluster's resident memory after it has sat idle for a few
//                      seconds, with every page counted once: from /proc/<pid>/smaps_rollup
//                      of nats-server and every component process recorded in state.json,
//                      the private pages of each process plus, per executable, the largest
//                      shared set (the node binary's code is mapped by all ten Node.js
//                      processes but resident once). Also printed: the plain sum of VmRSS
//                      (idle_rss_sum_mib, which counts those shared pages ten times) and of
//                      PSS (idle_pss_mib, which splits them among all their users, including
//                      processes outside the cluster)
//   deploy30_ready_s   seconds from `k8ts apply` of a 30-replica Deployment of k8ts/echo
//                      (with a readiness probe) to every pod Ready (`rollout status` returns)
//
// Anchors: kind takes tens of seconds to start one node; Kubernetes' pod startup SLO is
// p99 <= 5 s. Targets: up <= 3 s, idle <= 400 MiB, 30 pods <= 5 s. BENCH_CLUSTER_NODES
// changes the node count (default 3). Prints a table, then one JSON line.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const REPO = path.resolve(__dirname, '..', '..');
const K8TS = path.join(REPO, 'cli', 'dist', 'main.js');
const NODES = Number(process.env.BENCH_CLUSTER_NODES ?? 3);
const IDLE_MS = Number(process.env.BENCH_CLUSTER_IDLE_MS ?? 5000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function k8ts(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<Run> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [K8TS, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
    child.stdin.end(input ?? '');
  });
}

async function must(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<Run> {
  const r = await k8ts(env, args, input);
  if (r.code !== 0) throw new Error(`k8ts ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

interface Mem {
  name: string;
  exe: string;
  rss: number;
  pss: number;
  /** Private_Clean + Private_Dirty. */
  priv: number;
  /** Shared_Clean + Shared_Dirty. */
  shared: number;
}

/** Memory of one process in KiB, from /proc/<pid>/smaps_rollup (zeros when it is gone). */
function memOf(pid: number, name: string): Mem {
  const m: Mem = { name, exe: '', rss: 0, pss: 0, priv: 0, shared: 0 };
  try {
    m.exe = fs.readlinkSync(`/proc/${pid}/exe`);
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    m.rss = field('Rss');
    m.pss = field('Pss');
    m.priv = field('Private_Clean') + field('Private_Dirty');
    m.shared = field('Shared_Clean') + field('Shared_Dirty');
  } catch {
    // gone
  }
  return m;
}

/** Resident memory of a set of processes with shared pages counted once (per executable). */
function uniqueKiB(mems: Mem[]): number {
  const sharedByExe = new Map<string, number>();
  for (const m of mems) sharedByExe.set(m.exe, Math.max(sharedByExe.get(m.exe) ?? 0, m.shared));
  return mems.reduce((a, m) => a + m.priv, 0) + [...sharedByExe.values()].reduce((a, b) => a + b, 0);
}

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench}
spec:
  replicas: 30
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      containers:
      - name: echo
        image: k8ts/echo
        ports: [{containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /readyz, port: 8080}
          periodSeconds: 1
`;

async function main(): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-bench-cluster-'));
  const dataDir = path.join(home, 'cluster');
  const env = { ...process.env, HOME: home, K8TS_CONFIG: path.join(dataDir, 'config') };
  const upArgs = [
    'up',
    '--detach',
    '--data-dir',
    dataDir,
    '--no-config-update',
    '--nodes',
    String(NODES),
    '--node-subnet',
    '127.41.0.0/24',
    '--cluster-cidr',
    '127.241.0.0/16',
    '--service-cidr',
    '127.141.0.0/16',
  ];
  let upS = Number.NaN;
  let idleMiB = Number.NaN;
  let rssSumMiB = Number.NaN;
  let pssMiB = Number.NaN;
  let deployS = Number.NaN;
  let processes = 0;
  try {
    const up = await must(env, upArgs);
    upS = up.seconds;

    await new Promise((r) => setTimeout(r, IDLE_MS));
    const state = JSON.parse(fs.readFileSync(path.join(dataDir, 'state.json'), 'utf8')) as { processes: { pid: number; name: string }[] };
    const mems = state.processes.map((p) => memOf(p.pid, p.name));
    processes = mems.length;
    idleMiB = uniqueKiB(mems) / 1024;
    rssSumMiB = mems.reduce((a, m) => a + m.rss, 0) / 1024;
    pssMiB = mems.reduce((a, m) => a + m.pss, 0) / 1024;
    const mib = (k: number) => (k / 1024).toFixed(0);
    const nameW = Math.max(9, ...mems.map((m) => m.name.length));
    process.stdout.write(`${'component'.padEnd(nameW)}  RSS MiB  PSS MiB  private MiB  shared MiB\n`);
    for (const m of mems) {
      process.stdout.write(`${m.name.padEnd(nameW)}  ${mib(m.rss).padStart(7)}  ${mib(m.pss).padStart(7)}  ${mib(m.priv).padStart(11)}  ${mib(m.shared).padStart(10)}\n`);
    }
    process.stdout.write('\n');

    const t0 = process.hrtime.bigint();
    await must(env, ['apply', '-f', '-'], DEPLOYMENT);
    await must(env, ['rollout', 'status', 'deployment/bench', '--timeout', '300s']);
    deployS = Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    await k8ts(env, ['down', '--data-dir', dataDir]);
    fs.rmSync(home, { recursive: true, force: true });
  }

  const rows: [string, string, string][] = [
    [`k8ts up: ${NODES} nodes Ready`, `${upS.toFixed(2)} s`, '<= 3 s (kind: tens of seconds for one node)'],
    [`idle resident memory, ${processes} processes (pages once)`, `${idleMiB.toFixed(0)} MiB`, '<= 400 MiB'],
    ['  (sum of RSS, shared pages counted per process)', `${rssSumMiB.toFixed(0)} MiB`, ''],
    ['  (sum of PSS)', `${pssMiB.toFixed(0)} MiB`, ''],
    ['30-replica Deployment to all Ready', `${deployS.toFixed(2)} s`, '<= 5 s (Kubernetes pod startup SLO p99 <= 5 s)'],
  ];
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  process.stdout.write(`${'measure'.padEnd(w[0])}   ${'value'.padEnd(w[1])}   target\n`);
  for (const r of rows) process.stdout.write(`${r[0].padEnd(w[0])}   ${r[1].padEnd(w[1])}   ${r[2]}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'cluster', nodes: NODES, up_s: round(upS), idle_rss_mib: round(idleMiB), idle_rss_sum_mib: round(rssSumMiB), idle_pss_mib: round(pssMiB), deploy30_ready_s: round(deployS), cpus: os.cpus().length })}\n`,
  );
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/cluster: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
