// bench/cluster: the local cluster as a user meets it, through the k8ts binary.
//
//   up_s               seconds from starting `k8ts up --detach` (3 nodes, fresh data dir) to
//                      its return, i.e. every node Ready
//   idle_rss_mib       the whole cluster's resident memory after it has sat idle for a few
//                      seconds: the sum of VmRSS (/proc/<pid>/status) of nats-server and
//                      every component process recorded in state.json
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

function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
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
  let deployS = Number.NaN;
  let processes = 0;
  try {
    const up = await must(env, upArgs);
    upS = up.seconds;

    await new Promise((r) => setTimeout(r, IDLE_MS));
    const state = JSON.parse(fs.readFileSync(path.join(dataDir, 'state.json'), 'utf8')) as { processes: { pid: number; name: string }[] };
    const perComponent = state.processes.map((p) => ({ name: p.name, kib: rssKiB(p.pid) }));
    processes = perComponent.length;
    idleMiB = perComponent.reduce((a, p) => a + p.kib, 0) / 1024;
    process.stderr.write(`idle RSS per process (MiB): ${perComponent.map((p) => `${p.name}=${(p.kib / 1024).toFixed(0)}`).join(' ')}\n`);

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
    [`idle RSS, ${processes} processes`, `${idleMiB.toFixed(0)} MiB`, '<= 400 MiB'],
    ['30-replica Deployment to all Ready', `${deployS.toFixed(2)} s`, '<= 5 s (Kubernetes pod startup SLO p99 <= 5 s)'],
  ];
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  process.stdout.write(`${'measure'.padEnd(w[0])}   ${'value'.padEnd(w[1])}   target\n`);
  for (const r of rows) process.stdout.write(`${r[0].padEnd(w[0])}   ${r[1].padEnd(w[1])}   ${r[2]}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'cluster', nodes: NODES, up_s: round(upS), idle_rss_mib: round(idleMiB), deploy30_ready_s: round(deployS), cpus: os.cpus().length })}\n`,
  );
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/cluster: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
