// @k8ts/store: the k8ts store, an etcd v3 protocol server whose replicated log is a NATS
// JetStream stream. start(config) runs it in-process (tests) exactly as main.ts does.
import { clientIdentityInterceptor, createLogger, natsConnectAuth, natsCredentialsFromConfig, parseAllowedClients, serverOptionsFromConfig, startServer } from '@k8ts/kit';
import type { KitServer } from '@k8ts/kit';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Backend } from './backend';
import { checkTransport, resolveConfig, StoreConfig } from './config';
import { etcdServices } from './frontend/services';
import { WatchStreams } from './frontend/watch';
import { KeepAliveStreams } from './frontend/leaseKeepAlive';
import { JetStreamBackend } from './jetstream';
import { createStoreMetrics } from './metrics';
import { Store } from './store';

export { storeFlags, resolveConfig, checkTransport, DEFAULT_ALLOWED_CLIENTS } from './config';
export type { StoreConfig } from './config';
export { Store } from './store';
export type { Backend } from './backend';
export { MemoryBackend, MemoryLog } from './memory';
export { keySubject, subjectKey } from '@k8ts/machinery';
export { prefixEnd } from './keys';

export interface StoreServer {
  readonly address: string;
  readonly port: number;
  readonly store: Store;
  readonly server: KitServer;
  shutdown(): Promise<void>;
}

/**
 * The interceptors that decide who may call: under mutual TLS, only the client certificates
 * --allowed-client names; with --insecure-plaintext, anyone (and a warning says so).
 */
function callerCheck(c: StoreConfig, logger: Logger): grpc.ServerInterceptor[] {
  if (checkTransport(c).plaintext) {
    logger.warn(
      { listen: c.listen },
      'serving WITHOUT TLS (--insecure-plaintext): anyone who can reach this port can read every Secret and change the whole cluster state; use --tls-cert, --tls-key and --tls-client-ca outside tests',
    );
    return [];
  }
  return [clientIdentityInterceptor('store', parseAllowedClients(c.allowedClient), logger)];
}

/**
 * Starts the store: checks who may call it (mutual TLS unless --insecure-plaintext), connects
 * to NATS (creating the stream and the metadata bucket if needed), starts the gRPC server
 * (NOT_SERVING while the index is rebuilt from the stream), rebuilds the index, then reports
 * ready.
 */
export async function start(config: StoreConfig, opts: { logger?: Logger; backend?: Backend } = {}): Promise<StoreServer> {
  const c = resolveConfig(config);
  const logger = opts.logger ?? createLogger('store', c.logLevel);
  const interceptors = callerCheck(c, logger);
  const natsAuth = natsConnectAuth(natsCredentialsFromConfig(c));
  const backend =
    opts.backend ??
    (await JetStreamBackend.open({
      urls: c.natsUrl,
      stream: c.stream,
      subjectPrefix: c.subjectPrefix,
      replicas: c.replicas,
      timeoutMs: c.jetstreamTimeout,
      name: `k8ts-store ${c.name}`,
      logger,
      auth: natsAuth,
    }));
  const metrics = createStoreMetrics();
  const store = new Store({
    backend,
    subjectPrefix: c.subjectPrefix,
    name: c.name,
    logger,
    metrics,
    compactionWindowMs: c.compactionWindow,
    guardWindow: c.guardWindow,
    applyTimeoutMs: Math.max(30_000, c.jetstreamTimeout * 2),
  });
  const watches = new WatchStreams(store, { progressNotifyMs: c.watchProgressNotifyInterval });
  const keepAlives = new KeepAliveStreams();
  let server: KitServer | undefined;
  const clientUrls = () => (c.advertiseClientUrl ? [c.advertiseClientUrl] : server ? [`${c.tlsCert ? 'https' : 'http'}://${server.address}`] : []);
  try {
    server = await startServer({
      component: 'store',
      ...serverOptionsFromConfig(c),
      interceptors,
      services: etcdServices(store, watches, keepAlives, { maxTxnOps: c.maxTxnOps, maxRequestBytes: c.maxRequestBytes, clientUrls }),
      logger,
      config: { ...c },
      onShutdown: () => {
        watches.closeAll();
        keepAlives.closeAll();
      },
    });
    for (const m of Object.values(metrics)) server.registry.registerMetric(m);
    await store.start();
  } catch (err) {
    await server?.shutdown();
    await store.close();
    await backend.close();
    throw err;
  }
  const srv = server;
  logger.info(
    { address: srv.address, stream: c.stream, subjectPrefix: c.subjectPrefix, replicas: c.replicas, revision: store.index.rev, name: c.name, memberId: store.memberId },
    'store started',
  );
  srv.setReady(true);
  let stopping: Promise<void> | undefined;
  return {
    address: srv.address,
    port: srv.port,
    store,
    server: srv,
    shutdown() {
      stopping ??= (async () => {
        await srv.shutdown();
        await store.close();
        await backend.close();
      })();
      return stopping;
    },
  };
}
