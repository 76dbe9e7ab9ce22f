import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connect } from 'nats';
import { freePort } from './ports';
import { spawnService, ServiceProcess, waitFor } from './process';

export interface NatsServer {
  /** nats://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The server's own directory: config file, JetStream store, log. */
  dir: string;
  /** Stops the server gracefully (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Sends a signal (SIGKILL by default) without waiting: a crash. */
  kill(signal?: NodeJS.Signals): void;
  /** Starts the server again on the same port with the same storage. */
  restart(): Promise<void>;
  /** The server's output so far (of its current run). */
  logs(): string;
}

export interface NatsCluster {
  servers: NatsServer[];
  urls: string[];
  /** Stops every server and removes the cluster's directory. */
  stop(): Promise<void>;
}

export interface StartNatsOptions {
  /** JetStream on (default true). */
  jetstream?: boolean;
  /** Storage directory; default a fresh temporary directory, removed by stop(). */
  dir?: string;
  /**
   * JetStream's `sync_interval`: 'always' fsyncs every write before it is acknowledged;
   * default nats-server's (every 2 minutes).
   */
  syncInterval?: string;
  /**
   * Configuration appended to the server's file, e.g. an `authorization { ... }` block
   * (@k8ts/kit's natsAuthorizationConf): then anonymous clients are refused. Default none:
   * anyone may connect. With it, startNats does not wait for JetStream's first answer (it
   * would need credentials): single servers answer at once, and k8ts' clients retry anyway.
   */
  extraConfig?: string;
}

/**
 * The nats-server binary: $NATS_SERVER_BIN, then the repository's `.tools/bin` (where
 * scripts/nats-server.sh puts Debian 13's package when the machine's is older than 2.10),
 * then PATH, then /usr/sbin (Debian's package).
 */
export function natsServerBinary(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv) return fromEnv;
  // This file is packages/testkit/src/nats.ts (or dist/nats.js): the repository is three up.
  const tools = path.resolve(__dirname, '..', '..', '..', '.tools', 'bin');
  for (const dir of [tools, ...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/bin']) {
    const p = path.join(dir, 'nats-server');
    if (dir && fs.existsSync(p)) return p;
  }
  throw new Error('nats-server not found: run scripts/nats-server.sh (or make setup), or set NATS_SERVER_BIN');
}

interface ServerSpec {
  name: string;
  port: number;
  dir: string;
  ownsDir: boolean;
  config: string;
}

function makeServer(spec: ServerSpec, jetstream: boolean, waitReady: (url: string) => Promise<void>): Promise<NatsServer> {
  const url = `nats://127.0.0.1:${spec.port}`;
  let current: ServiceProcess | undefined;
  const confPath = path.join(spec.dir, 'nats.conf');
  fs.writeFileSync(confPath, spec.config);

  const launch = async () => {
    current = await spawnService({
      cmd: natsServerBinary(),
      args: ['-c', confPath],
      readyPattern: /Server is ready/,
      timeoutMs: 30000,
    });
    if (jetstream) await waitReady(url);
  };

  const server: NatsServer = {
    url,
    port: spec.port,
    dir: spec.dir,
    async stop() {
      if (current) await current.stop('SIGTERM');
      current = undefined;
      if (spec.ownsDir) fs.rmSync(spec.dir, { recursive: true, force: true });
    },
    kill(signal = 'SIGKILL') {
      current?.proc.kill(signal);
    },
    async restart() {
      if (current && current.proc.exitCode === null && current.proc.signalCode === null) await current.stop('SIGTERM');
      await launch();
    },
    logs: () => current?.logs() ?? '',
  };
  return launch().then(() => server);
}

/** Waits until JetStream answers account info requests on `url` (meta leader elected). */
async function waitJetStream(url: string, timeoutMs = 30000): Promise<void> {
  await waitFor(
    async () => {
      const nc = await connect({ servers: url, reconnect: false, timeout: 2000 });
      try {
        const jsm = await nc.jetstreamManager({ timeout: 2000 });
        await jsm.getAccountInfo();
        return true;
      } finally {
        await nc.close();
      }
    },
    timeoutMs,
    200,
  );
}

/** Starts one nats-server (JetStream on by default) on a free port in a temporary directory. */
export async function startNats(opts: StartNatsOptions = {}): Promise<NatsServer> {
  const jetstream = opts.jetstream ?? true;
  const ownsDir = !opts.dir;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-nats-'));
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const lines = [
    `server_name: k8ts-test-${port}`,
    `listen: 127.0.0.1:${port}`,
    // Large enough for the store's biggest values (1.5 MiB requests).
    'max_payload: 8MB',
  ];
  const sync = opts.syncInterval ? `, sync_interval: ${opts.syncInterval}` : '';
  if (jetstream) lines.push(`jetstream { store_dir: "${path.join(dir, 'js')}"${sync} }`);
  if (opts.extraConfig) lines.push(opts.extraConfig);
  // With an authorization block, JetStream cannot be probed anonymously: the server's banner
  // (and the clients' own retries) must do.
  return makeServer({ name: `n-${port}`, port, dir, ownsDir, config: lines.join('\n') + '\n' }, jetstream && !opts.extraConfig, (u) =>
    waitJetStream(u),
  );
}

/**
 * Starts a JetStream cluster of `size` nats-servers (default 3) on free ports, routes between
 * all of them, each with its own storage. Resolves once the cluster has elected a JetStream
 * meta leader, so R3 streams can be created at once.
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-nats-cluster-'));
  const ports = [] as number[];
  const clusterPorts = [] as number[];
  for (let i = 0; i < size; i++) {
    ports.push(await freePort());
    clusterPorts.push(await freePort());
  }
  const routes = clusterPorts.map((p) => `nats-route://127.0.0.1:${p}`);
  const specs: ServerSpec[] = ports.map((port, i) => {
    const dir = path.join(root, `n${i}`);
    fs.mkdirSync(dir, { recursive: true });
    const config = [
      `server_name: k8ts-n${i}`,
      `listen: 127.0.0.1:${port}`,
      'max_payload: 8MB',
      `jetstream { store_dir: "${path.join(dir, 'js')}" }`,
      'cluster {',
      '  name: k8ts-test',
      `  listen: 127.0.0.1:${clusterPorts[i]}`,
      `  routes: [${routes.filter((_, j) => j !== i).join(', ')}]`,
      '}',
    ].join('\n');
    return { name: `n${i}`, port, dir, ownsDir: false, config: config + '\n' };
  });
  // Servers must start together: JetStream waits for a quorum of peers to elect a leader.
  const servers = await Promise.all(specs.map((s) => makeServer(s, false, async () => undefined)));
  const urls = servers.map((s) => s.url);
  try {
    await waitJetStream(urls.join(','), 60000);
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop()));
    throw e;
  }
  return {
    servers,
    urls,
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
