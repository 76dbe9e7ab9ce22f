import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type NatsServer, startNats } from './nats';
import { freePort } from './ports';
import { type ServiceProcess, spawnService } from './process';

// This file is packages/testkit/src/controlplane.ts (or dist/controlplane.js): the repository
// is three up.
const REPO = path.resolve(__dirname, '..', '..', '..');
/** The k8ts store's entry point (built by `make build`). */
export const STORE_MAIN = path.join(REPO, 'services', 'store', 'dist', 'main.js');
/** The apiserver's entry point (built by `make build`). */
export const APISERVER_MAIN = path.join(REPO, 'services', 'apiserver', 'dist', 'main.js');

/** A static-token user of the control plane besides the administrator. */
export interface ControlPlaneUser {
  /** The user name, e.g. 'system:kube-scheduler' or 'system:node:n1'. */
  name: string;
  /** The user's uid; default none (an empty column). */
  uid?: string;
  /** The user's groups; default none. */
  groups?: string[];
  /** The name of the user's token file in the control plane's dir; default from the user name. */
  file?: string;
}

export interface ControlPlaneOptions {
  /** Prefix of the temporary directory, e.g. 'k8ts-scheduler-it-'. */
  dirPrefix: string;
  /** Static-token users besides the administrator; each gets a token and a token file. */
  users?: ControlPlaneUser[];
  /** Generate an EC P-256 service-account signing key and pass --service-account-key-file. */
  serviceAccountKey?: boolean;
  /** --log-level of the apiserver; default none (the apiserver's default). */
  apiserverLogLevel?: string;
  /** Extra apiserver flags, after the defaults. */
  apiserverArgs?: string[];
}

/**
 * A nats-server, the k8ts store on it and an apiserver with static-token authentication and the
 * RBAC and Node authorizers, each a real process on free ports, in a temporary directory. The
 * store serves plaintext (--insecure-plaintext) and NATS takes anonymous clients: the secure
 * defaults are for `k8ts up` and the deploy manifests, and have tests of their own.
 */
export interface ControlPlane {
  /** The temporary directory (token files, nats-server storage); removed by stop(). */
  dir: string;
  nats: NatsServer;
  natsUrl: string;
  store: ServiceProcess;
  /** host:port of the store's etcd v3 API. */
  storeEndpoint: string;
  apiserver: ServiceProcess;
  /** host:port the apiserver listens on. */
  apiserverAddress: string;
  /** https://host:port of the apiserver's Kubernetes HTTP API (undefined with --http-listen none). */
  httpUrl?: string;
  /** The token of user 'admin' (uid admin-uid, group system:masters). */
  adminToken: string;
  /** The apiserver's --token-auth-file. */
  tokenAuthFile: string;
  /** The apiserver's --service-account-key-file (with serviceAccountKey). */
  serviceAccountKeyFile?: string;
  /** The token of 'admin' or of a user of ControlPlaneOptions.users; throws for others. */
  token(user: string): string;
  /** The path of a file holding the token of 'admin' or of a user of ControlPlaneOptions.users; throws for others. */
  tokenFile(user: string): string;
  /**
   * Registers a clean-up (components, clients) that stop() runs before it stops the control
   * plane; the last registered runs first. A failing clean-up does not keep the others or the
   * control plane from stopping; stop() rejects with its error afterwards.
   */
  onStop(fn: () => Promise<unknown> | unknown): void;
  /** Runs the clean-ups, stops the apiserver, the store and nats-server, removes the dir. Idempotent. */
  stop(): Promise<void>;
}

const ADMIN: Required<ControlPlaneUser> = { name: 'admin', uid: 'admin-uid', groups: ['system:masters'], file: 'admin.token' };

/** Fails with a clear message naming the first of `files` (built outputs) that is missing. */
export function requireBuilt(files: string[]): void {
  for (const f of files) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(REPO, f)} is missing: run 'make build' (or 'npm run build') before the integration tests`);
  }
}

/** One token-file line: token,user,uid[,"group1,group2"]. */
function tokenLine(token: string, u: ControlPlaneUser): string {
  const base = `${token},${u.name},${u.uid ?? ''}`;
  return u.groups && u.groups.length > 0 ? `${base},"${u.groups.join(',')}"` : base;
}

/**
 * Starts a control plane: writes the token files (and the service-account key), then starts
 * nats-server, the store and the apiserver, each waited for until ready. On any failure it stops
 * what it started, removes the dir and rejects.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  requireBuilt([STORE_MAIN, APISERVER_MAIN]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.dirPrefix));
  let nats: NatsServer | undefined;
  const procs: ServiceProcess[] = [];
  const stopProcesses = async () => {
    for (const p of procs.splice(0).reverse()) await p.stop('SIGTERM').catch(() => undefined);
    await nats?.stop().catch(() => undefined);
    nats = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const tokens = new Map<string, { token: string; file: string }>();
    const lines: string[] = [];
    for (const u of [ADMIN, ...(opts.users ?? [])]) {
      if (tokens.has(u.name)) throw new Error(`startControlPlane: user ${u.name} is listed twice`);
      const token = crypto.randomBytes(24).toString('base64url');
      const file = path.join(dir, u.file ?? `${u.name.replace(/[^A-Za-z0-9._-]/g, '-')}.token`);
      fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
      tokens.set(u.name, { token, file });
      lines.push(tokenLine(token, u));
    }
    const tokenAuthFile = path.join(dir, 'tokens.csv');
    fs.writeFileSync(tokenAuthFile, `${lines.join('\n')}\n`);
    let serviceAccountKeyFile: string | undefined;
    if (opts.serviceAccountKey) {
      serviceAccountKeyFile = path.join(dir, 'sa.key');
      const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      fs.writeFileSync(serviceAccountKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    }

    const natsServer = await startNats({ dir: path.join(dir, 'nats') });
    nats = natsServer;
    const storePort = await freePort();
    const store = await spawnService({
      cmd: process.execPath,
      // Plaintext on purpose: these control planes serve tests that are not about the store's
      // security (integration/store/security.test.ts and integration/cli/ports.test.ts are).
      args: [STORE_MAIN, '--listen', `127.0.0.1:${storePort}`, '--nats-url', natsServer.url, '--insecure-plaintext'],
      readyPattern: /"msg":"ready"/,
      timeoutMs: 60_000,
    });
    procs.push(store);
    const storeEndpoint = `127.0.0.1:${storePort}`;
    const apiserver = await spawnService({
      cmd: process.execPath,
      args: [
        APISERVER_MAIN,
        '--listen',
        '127.0.0.1:0',
        '--etcd-servers',
        storeEndpoint,
        '--nats-url',
        natsServer.url,
        '--token-auth-file',
        tokenAuthFile,
        ...(serviceAccountKeyFile ? ['--service-account-key-file', serviceAccountKeyFile] : []),
        '--authorization-mode',
        'RBAC,Node',
        ...(opts.apiserverLogLevel ? ['--log-level', opts.apiserverLogLevel] : []),
        ...(opts.apiserverArgs ?? []),
      ],
      readyPattern: /"msg":"ready"/,
      timeoutMs: 60_000,
    });
    procs.push(apiserver);
    const m = /"address":"([^"]+)"[^\n]*"msg":"listening"/.exec(apiserver.logs());
    if (!m) throw new Error(`apiserver did not log its address:\n${apiserver.logs()}`);
    const httpUrl = /"address":"(https:\/\/[^"]+)"[^\n]*"msg":"Kubernetes HTTP API listening"/.exec(apiserver.logs())?.[1];

    const known = (user: string) => {
      const t = tokens.get(user);
      if (!t) throw new Error(`no token for user ${user}: list it in startControlPlane({ users })`);
      return t;
    };
    const cleanups: Array<() => Promise<unknown> | unknown> = [];
    let stopped: Promise<void> | undefined;
    const stop = async () => {
      let failure: { err: unknown } | undefined;
      for (const fn of cleanups.splice(0).reverse()) {
        try {
          await fn();
        } catch (err) {
          failure ??= { err };
        }
      }
      await stopProcesses();
      if (failure) throw failure.err;
    };
    return {
      dir,
      nats: natsServer,
      natsUrl: natsServer.url,
      store,
      storeEndpoint,
      apiserver,
      apiserverAddress: m[1],
      httpUrl,
      adminToken: known(ADMIN.name).token,
      tokenAuthFile,
      serviceAccountKeyFile,
      token: (user) => known(user).token,
      tokenFile: (user) => known(user).file,
      onStop(fn) {
        cleanups.push(fn);
      },
      stop: () => (stopped ??= stop()),
    };
  } catch (err) {
    await stopProcesses();
    throw err;
  }
}
