// Helpers for the CLI's end-to-end tests: run the built k8ts binary as a process, call
// Services over HTTP, poll until something holds. Tests use nothing else: no imports of the
// services, no direct API calls.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { leaseTestNetwork, type TestNetwork } from '@k8ts/testkit';

export const ROOT = path.resolve(__dirname, '..', '..');
export const K8TS = path.join(ROOT, 'cli', 'dist', 'main.js');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * An isolated cluster for one test file: its own data dir, home, config and address ranges
 * (node subnet, cluster CIDR and service CIDR of a network leased from @k8ts/testkit, so
 * never those of a default `k8ts up` or of another test).
 */
export interface TestCluster {
  dataDir: string;
  home: string;
  config: string;
  network: TestNetwork;
  /** Flags for `k8ts up` that keep this cluster apart from any other on the machine. */
  upFlags: string[];
  env: NodeJS.ProcessEnv;
  /** Removes the home directory and ends the network's lease (after `k8ts down`). */
  dispose(): Promise<void>;
}

export async function testCluster(name: string): Promise<TestCluster> {
  const network = await leaseTestNetwork(`cli ${name}`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `k8ts-it-${name}-`));
  const dataDir = path.join(home, 'cluster');
  return {
    dataDir,
    home,
    config: path.join(dataDir, 'config'),
    network,
    upFlags: [
      '--data-dir',
      dataDir,
      '--no-config-update',
      '--node-subnet',
      network.nodeSubnet,
      '--cluster-cidr',
      network.clusterCidr,
      '--service-cidr',
      network.serviceCidr,
    ],
    // HOME points into the test's directory, so the user's ~/.k8ts is never touched.
    env: { ...process.env, HOME: home, K8TS_CONFIG: path.join(dataDir, 'config') },
    async dispose() {
      fs.rmSync(home, { recursive: true, force: true });
      await network.release();
    },
  };
}

/**
 * Runs `k8ts args...` and resolves with its exit code and output (never rejects on failure).
 * When the build is being redone meanwhile (dist/ briefly missing: the CLI, or a component
 * that `up` starts, fails to load before doing anything; `up` stops what it started), the
 * command runs again.
 */
export async function k8ts(c: TestCluster, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  for (let attempt = 0; ; attempt++) {
    const r = await k8tsOnce(c, args, opts);
    if (attempt >= 20 || !/Cannot find module/.test(r.stderr)) return r;
    await sleep(3000);
  }
}

function k8tsOnce(c: TestCluster, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [K8TS, ...args], { env: { ...c.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs k8ts and fails the test (with its output) unless it exits 0. */
export async function ok(c: TestCluster, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await k8ts(c, args, opts);
  if (r.code !== 0) throw new Error(`k8ts ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r.stdout;
}

export async function json<T = any>(c: TestCluster, args: string[]): Promise<T> {
  return JSON.parse(await ok(c, [...args, '-o', 'json'])) as T;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; throws with the last error or value when time runs out. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | false | undefined | null> | T | false | undefined | null,
  timeoutMs = 60_000,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(everyMs);
  }
}

/** One HTTP GET on a fresh connection (so a Service's load balancing picks again). */
export function httpGet(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

export function httpPost(url: string, timeoutMs = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Calls `url` over and over until stopped, counting answers and failures. */
export function keepCalling(url: string): { stop: () => Promise<{ ok: number; failed: number; errors: string[] }> } {
  let running = true;
  let okCount = 0;
  let failed = 0;
  const errors: string[] = [];
  const loop = (async () => {
    while (running) {
      try {
        const r = await httpGet(url, 2000);
        if (r.status === 200) okCount++;
        else {
          failed++;
          errors.push(`HTTP ${r.status}`);
        }
      } catch (e) {
        failed++;
        errors.push((e as Error).message);
      }
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok: okCount, failed, errors: errors.slice(0, 10) };
    },
  };
}

/** Processes whose command line mentions the directory (components and pods of a cluster). */
export function processesMentioning(dir: string): string[] {
  const out: string[] = [];
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(dir) && Number(p) !== process.pid) out.push(`${p}: ${cmd.slice(0, 200)}`);
    } catch {
      // gone
    }
  }
  return out;
}

/** The pods of a label selector, from `k8ts get pods -o json`. */
export async function pods(c: TestCluster, selector: string, ns = 'default'): Promise<any[]> {
  const list = await json(c, ['get', 'pods', '-l', selector, '-n', ns]);
  return list.items as any[];
}

export const isReady = (p: any) =>
  !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && (p.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True');
