// Real processes for the apiserver's integration tests: a store (the k8ts store on a real
// nats-server when it is built, else a real etcd from Debian's etcd-server, each on free ports
// in a temporary directory), apiserver processes, and gRPC clients generated from proto/.
//
// K8TS_TEST_STORE=etcd forces etcd; K8TS_TEST_STORE=store forces the k8ts store.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { type NatsServer, type ServiceProcess, freePort, spawnService, startNats } from '@k8ts/testkit';

export const REPO = path.resolve(__dirname, '..', '..');
export const APISERVER_MAIN = path.join(REPO, 'services', 'apiserver', 'dist', 'main.js');
export const STORE_MAIN = path.join(REPO, 'services', 'store', 'dist', 'main.js');
export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';
export const ETCDCTL_BIN = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl';

/** Fails with a clear message when the build has not run. */
export function requireBuild(): void {
  for (const f of [APISERVER_MAIN, path.join(REPO, 'packages', 'api', 'dist', 'index.js')]) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(REPO, f)} is missing: run 'npm run build' before the integration tests`);
  }
}

/** Which store the tests run against. */
export function storeKind(): 'etcd' | 'store' {
  const forced = process.env.K8TS_TEST_STORE;
  if (forced === 'etcd' || forced === 'store') return forced;
  return fs.existsSync(STORE_MAIN) ? 'store' : 'etcd';
}

export interface Store {
  kind: 'etcd' | 'store';
  /** host:port of the etcd v3 API. */
  endpoint: string;
  /** The NATS URL of the store's JetStream (store only). */
  natsUrl?: string;
  stop(): Promise<void>;
}

/** Starts the store: the k8ts store on a fresh nats-server, or a real etcd. */
export async function startStore(kind = storeKind()): Promise<Store> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-apiserver-it-'));
  if (kind === 'etcd') {
    const client = await freePort();
    const peer = await freePort();
    const proc = await spawnService({
      cmd: ETCD_BIN,
      args: [
        '--name',
        'it',
        '--data-dir',
        path.join(dir, 'etcd'),
        '--listen-client-urls',
        `http://127.0.0.1:${client}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${client}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-cluster',
        `it=http://127.0.0.1:${peer}`,
      ],
      readyPattern: /ready to serve client requests/,
      timeoutMs: 30000,
    });
    return {
      kind,
      endpoint: `127.0.0.1:${client}`,
      async stop() {
        await proc.stop('SIGTERM');
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const nats: NatsServer = await startNats();
  const port = await freePort();
  const proc = await spawnService({
    cmd: process.execPath,
    // Plaintext: these tests are about the API, not about who may call the store.
    args: [STORE_MAIN, '--listen', `127.0.0.1:${port}`, '--nats-url', nats.url, '--insecure-plaintext'],
    readyPattern: /"msg":"ready"/,
    timeoutMs: 60000,
  });
  return {
    kind,
    endpoint: `127.0.0.1:${port}`,
    natsUrl: nats.url,
    async stop() {
      await proc.stop('SIGTERM');
      await nats.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Apiserver {
  address: string;
  proc: ServiceProcess;
  logs(): string;
  stop(): Promise<void>;
}

/** Starts an apiserver process on the store; extra flags after the defaults. */
export async function startApiserver(store: Store, args: string[] = []): Promise<Apiserver> {
  requireBuild();
  const base = ['--listen', '127.0.0.1:0', '--etcd-servers', store.endpoint, '--log-level', 'info'];
  // The HTTPS API on a free port of its own (its default, the gRPC port + 1, may be taken when a
  // test restarts an apiserver on a fixed gRPC port).
  if (!args.includes('--http-listen')) base.push('--http-listen', '127.0.0.1:0');
  if (store.natsUrl && !args.includes('--no-nats')) base.push('--nats-url', store.natsUrl);
  const proc = await spawnService({
    cmd: process.execPath,
    args: [APISERVER_MAIN, ...base, ...args.filter((a) => a !== '--no-nats')],
    readyPattern: /"msg":"ready"/,
    timeoutMs: 60000,
  });
  const m = /"address":"([^"]+)"[^\n]*"msg":"listening"/.exec(proc.logs());
  if (!m) throw new Error(`apiserver did not log its address:\n${proc.logs()}`);
  return {
    address: m[1],
    proc,
    logs: () => proc.logs(),
    async stop() {
      await proc.stop('SIGTERM');
    },
  };
}

const tempDirs: string[] = [];
// Jest loads this module once per test file: the file's temporary files go after its tests.
afterAll(() => {
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A temporary file holding `text`; its directory is removed after the test file's tests. */
export function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-apiserver-it-'));
  tempDirs.push(dir);
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Runs the real etcdctl against the store. */
export function etcdctl(store: Store, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(ETCDCTL_BIN, [`--endpoints=${store.endpoint}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`etcdctl ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Metadata carrying a bearer token. */
export function bearer(token?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

type UnaryMethod<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown;

/** Calls a unary method of a generated client with a token and a deadline. */
export function call<Res = any, Req = any>(client: grpc.Client, method: string, req: Req, token?: string): Promise<Res> {
  const fn = (client as unknown as Record<string, UnaryMethod<Req, Res>>)[method];
  if (typeof fn !== 'function') throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, req, bearer(token), { deadline: Date.now() + 20000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** Expects a call to fail with `code`; returns the error. */
export async function expectCode(p: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code !== code) throw new Error(`expected ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`);
    return e;
  }
  throw new Error(`expected ${grpc.status[code]}, but the call succeeded`);
}

/** A running watch collecting its events. */
export interface Collected<T = any> {
  events: T[];
  error?: grpc.ServiceError;
  ended: boolean;
  /** Resolves once `pred` holds for the events so far (polling; never asserts timing). */
  until(pred: (events: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  cancel(): void;
}

export function collect<T = any>(client: grpc.Client, method: string, req: unknown, token?: string): Collected<T> {
  const stream = (client as unknown as Record<string, (r: unknown, md: grpc.Metadata) => grpc.ClientReadableStream<T>>)[method].call(client, req, bearer(token));
  const c: Collected<T> = {
    events: [],
    ended: false,
    async until(pred, timeoutMs = 20000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (pred(c.events)) return c.events;
        if (c.error && c.error.code !== grpc.status.CANCELLED) throw new Error(`stream failed: ${c.error.details}`);
        if (Date.now() > deadline) throw new Error(`condition not met; events so far: ${JSON.stringify(c.events.map((e: any) => [e.type, e.object?.metadata?.name]))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    cancel() {
      stream.cancel();
    },
  };
  stream.on('data', (ev: T) => c.events.push(ev));
  stream.on('error', (err: grpc.ServiceError) => {
    c.error = err;
  });
  stream.on('end', () => {
    c.ended = true;
  });
  return c;
}

/** Polls until fn returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`eventually: not met${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
