// Shared harness of the store's integration tests: the real store process, a real etcd,
// and the real etcdctl. Every process is stopped by the test that started it (afterAll).
import { execFile, spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freePort, spawnService } from '@k8ts/testkit';
import type { ServiceProcess } from '@k8ts/testkit';

const ROOT = path.resolve(__dirname, '..', '..');
export const STORE_MAIN = path.join(ROOT, 'services', 'store', 'dist', 'main.js');

/** Makes sure the store is built (npm run gen && node scripts/build.js). */
export function ensureBuilt(): void {
  if (!fs.existsSync(STORE_MAIN)) {
    throw new Error(`${STORE_MAIN} is missing: run 'npm run gen && node scripts/build.js' first`);
  }
}

export interface StoreProcess {
  endpoint: string;
  proc: ServiceProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node services/store/dist/main.js` against NATS; resolves once it is ready. Plaintext
 * (--insecure-plaintext) unless `extra` sets up TLS (--tls-cert): the etcd protocol tests are
 * not about who may call (security.test.ts is).
 */
export async function startStore(natsUrl: string, extra: string[] = []): Promise<StoreProcess> {
  ensureBuilt();
  const transport = extra.includes('--tls-cert') ? [] : ['--insecure-plaintext'];
  const proc = await spawnService({
    cmd: process.execPath,
    args: [STORE_MAIN, '--listen', '127.0.0.1:0', '--nats-url', natsUrl, '--compaction-window', '0', ...transport, ...extra],
    readyPattern: /"address":"(127\.0\.0\.1:\d+)"[^\n]*"msg":"store started"/,
    timeoutMs: 60_000,
  });
  const endpoint = proc.match[1];
  return {
    endpoint,
    proc,
    async stop() {
      await proc.stop('SIGTERM');
    },
  };
}

export interface EtcdProcess {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts a real single-member etcd in a temporary directory. */
export async function startEtcd(): Promise<EtcdProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-etcd-'));
  const client = await freePort();
  const peer = await freePort();
  const proc = await spawnService({
    cmd: 'etcd',
    args: [
      '--data-dir', path.join(dir, 'data'),
      '--listen-client-urls', `http://127.0.0.1:${client}`,
      '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `default=http://127.0.0.1:${peer}`,
    ],
    readyPattern: /ready to serve client requests/,
    timeoutMs: 60_000,
  });
  return {
    endpoint: `127.0.0.1:${client}`,
    async stop() {
      await proc.stop('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs etcdctl (API v3) against an endpoint, with optional stdin. */
export function etcdctl(endpoint: string, args: string[], input?: string, timeoutMs = 20_000): Promise<CtlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'etcdctl',
      [`--endpoints=${endpoint}`, '--command-timeout=10s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

/** A long-running etcdctl (watch, keep-alive) whose output is collected. */
export interface CtlChild {
  proc: ChildProcess;
  output(): string;
  waitFor(pred: (out: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export function etcdctlChild(endpoint: string, args: string[]): CtlChild {
  const proc = spawn('etcdctl', [`--endpoints=${endpoint}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', () => undefined);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    output: () => out,
    async waitFor(pred, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(out)) {
        if (Date.now() > deadline) throw new Error(`etcdctl ${args.join(' ')}: expected output not seen; got:\n${out}`);
        if (proc.exitCode !== null) throw new Error(`etcdctl ${args.join(' ')} exited (${proc.exitCode}); output:\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return out;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** Polls until fn returns true. */
export async function eventually(fn: () => Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`${what}: not met after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
