// @k8ts/apiserver: the resource API of k8ts, the only door to the cluster state.
//
// start(config) connects to the store (etcd v3 protocol), fills the watch caches from one
// consistent list and follows the change feed (the store's JetStream stream with --nats-url,
// else an etcd Watch), creates the system namespaces and the default RBAC policy, and serves
// one typed gRPC service per kind through the service kit.
import * as fs from 'fs';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { kindFor } from '@k8ts/api';
import {
  ConfigError,
  type KitServer,
  createCA,
  createLogger,
  issueCertificate,
  natsConnectAuth,
  natsCredentialsFromConfig,
  serverOptionsFromConfig,
  startServer,
} from '@k8ts/kit';
import { STORAGE_PREFIX, objectKey } from '@k8ts/machinery';
import { AdmissionChain } from './admission';
import { DefaultTolerationSeconds } from './admission/defaulttolerationseconds';
import { NamespaceLifecycle } from './admission/namespacelifecycle';
import { ServiceAccountAdmission } from './admission/serviceaccount';
import { PortRange, ServiceIPRange } from './allocator/ranges';
import { AuditFile, type AuditSink, NO_AUDIT } from './audit';
import { bootstrap } from './bootstrap';
import { type ChangeFeed, EtcdChangeFeed } from './cache/changefeed';
import { CacheHub } from './cache/hub';
import { NatsChangeFeed } from './cache/natsfeed';
import type { ApiserverConfig } from './config';
import { applyPatchHandler } from './http/apply';
import { type HttpDeps, type HttpServer, startHttpServer } from './http/server';
import { startKubernetesService } from './kubernetesservice';
import { registerMetrics } from './metrics';
import { REVIEW_RESOURCES } from './reviews';
import { LeaseManager } from './registry/leases';
import { Registry } from './registry/registry';
import { kubeletCredentials, kubeletDialer } from './server/logs';
import { resourceServices } from './server/resources';
import { Security } from './server/security';
import { EtcdClient, etcdCredentials } from './storage/etcd';
import { sleep } from './util';

export const COMPONENT = 'apiserver';

export { flags } from './config';
export type { ApiserverConfig } from './config';

export interface Apiserver {
  server: KitServer;
  /** The HTTPS Kubernetes API, unless --http-listen none. */
  http?: HttpServer;
  registry: Registry;
  hub: CacheHub;
  logger: Logger;
  shutdown(): Promise<void>;
}

/** The HTTPS address: --http-listen, or beside the gRPC port ('auto'); undefined for 'none'. */
export function httpListenAddress(httpListen: string, grpcListen: string, grpcPort: number): string | undefined {
  if (httpListen === 'none') return undefined;
  if (httpListen !== 'auto' && httpListen !== '') return httpListen;
  const host = grpcListen.slice(0, grpcListen.lastIndexOf(':'));
  const configured = Number(grpcListen.slice(grpcListen.lastIndexOf(':') + 1));
  return `${host}:${configured === 0 ? 0 : grpcPort + 1}`;
}

/** The serving certificate of the HTTPS API: the flags, the gRPC TLS pair, or a self-signed one. */
async function servingCertificate(config: ApiserverConfig, host: string, logger: Logger): Promise<{ cert: string; key: string }> {
  const read = (f: string) => fs.readFileSync(f, 'utf8');
  if (config.httpTlsCert || config.httpTlsKey) {
    if (!config.httpTlsCert || !config.httpTlsKey) throw new ConfigError('--http-tls-cert and --http-tls-key must be given together', { flag: 'http-tls-cert' });
    return { cert: read(config.httpTlsCert), key: read(config.httpTlsKey) };
  }
  if (config.tlsCert && config.tlsKey) return { cert: read(config.tlsCert), key: read(config.tlsKey) };
  logger.warn('no --http-tls-cert: the HTTPS API serves a self-signed certificate made at start (clients must skip verification)');
  const ca = await createCA({ commonName: 'k8ts-apiserver-self-signed-ca', days: 365 });
  const isIp = /^[\d.]+$|:/.test(host);
  const pair = await issueCertificate({
    ca,
    commonName: 'k8ts-apiserver',
    dnsNames: ['localhost', ...(isIp ? [] : [host])],
    ipAddresses: ['127.0.0.1', ...(isIp && host !== '0.0.0.0' ? [host] : [])],
    usages: ['server'],
    days: 365,
  });
  return { cert: pair.certPem, key: pair.keyPem };
}

/** The IP the kubernetes Endpoints name: --advertise-address, else the HTTPS host (127.0.0.1 for a wildcard). */
function advertiseAddress(config: ApiserverConfig, host: string): string {
  if (config.advertiseAddress) return config.advertiseAddress;
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

/** /version: the Kubernetes version whose API k8ts serves, and k8ts' own in gitVersion. */
function versionInfo(): HttpDeps['version'] {
  return {
    major: '1',
    minor: '32',
    gitVersion: `v1.32.0-k8ts.${K8TS_VERSION}`,
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

const K8TS_VERSION = '0.1.0';

async function startHttpApi(config: ApiserverConfig, server: KitServer, logger: Logger, deps: HttpDeps): Promise<HttpServer | undefined> {
  const listen = httpListenAddress(config.httpListen, config.listen, server.port);
  if (!listen) return undefined;
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const { cert, key } = await servingCertificate(config, host, logger);
  const http = await startHttpServer(deps, {
    listen,
    cert,
    key,
    ...(config.clientCaFile ? { clientCa: fs.readFileSync(config.clientCaFile) } : {}),
    extra: REVIEW_RESOURCES.map((r) => ({
      ...r,
      create: (ctx, body, namespace) => r.create({ security: ctx.deps.security, user: ctx.user, namespace: namespace || undefined, body }),
    })),
  });
  logger.info({ address: `https://${http.host}:${http.port}` }, 'Kubernetes HTTP API listening');
  return http;
}

/** The TLS of calls to kubelets (pods/log): --kubelet-ca, --kubelet-client-certificate and --kubelet-client-key. */
function kubeletClientCredentials(config: ApiserverConfig, logger: Logger): grpc.ChannelCredentials {
  const cert = config.kubeletClientCertificate || undefined;
  const key = config.kubeletClientKey || undefined;
  if (!!cert !== !!key) {
    throw new ConfigError('--kubelet-client-certificate and --kubelet-client-key must be given together', { flag: cert ? 'kubelet-client-key' : 'kubelet-client-certificate' });
  }
  if (!config.kubeletCa) logger.warn("no --kubelet-ca: kubelets' serving certificates are not verified");
  if (!cert) logger.warn('no --kubelet-client-certificate: kubelets will refuse pods/log (the apiserver has no identity to present)');
  try {
    return kubeletCredentials({ ca: config.kubeletCa || undefined, cert, key });
  } catch (err) {
    throw new ConfigError(`cannot read the kubelet TLS files: ${(err as Error).message}`, { flag: 'kubelet-client-certificate', cause: err });
  }
}

/** Waits until the store answers (it may be starting alongside). */
async function waitForStore(kv: EtcdClient, logger: Logger): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await kv.range(STORAGE_PREFIX, { countOnly: true });
      return;
    } catch (err) {
      if (attempt % 10 === 0) logger.warn({ err: (err as Error).message, endpoints: kv.endpoints }, 'the store does not answer yet; retrying');
      if (attempt > 600) throw err;
      await sleep(200);
    }
  }
}

export async function start(config: ApiserverConfig): Promise<Apiserver> {
  const logger = createLogger(COMPONENT, config.logLevel);
  const serviceIPs = new ServiceIPRange(config.serviceClusterIpRange);
  const nodePorts = PortRange.parse(config.serviceNodePortRange);
  const etcdTls = etcdCredentials({ caFile: config.etcdCafile, certFile: config.etcdCertfile, keyFile: config.etcdKeyfile });
  if (!etcdTls) logger.warn({ endpoints: config.etcdServers }, 'connecting to the store in plaintext (no --etcd-cafile): only a store started with --insecure-plaintext accepts it');
  const natsAuth = natsConnectAuth(natsCredentialsFromConfig(config));
  const kv = new EtcdClient({ endpoints: config.etcdServers, timeoutMs: config.storeTimeout, credentials: etcdTls });
  await waitForStore(kv, logger);

  const feed: ChangeFeed =
    config.natsUrl.length > 0
      ? await NatsChangeFeed.connect({ servers: config.natsUrl, stream: config.natsStream, subjectPrefix: config.natsSubjectPrefix, logger, auth: natsAuth })
      : new EtcdChangeFeed(kv, STORAGE_PREFIX);
  const hub = new CacheHub(kv, feed, logger, { historyMs: config.watchCacheHistory, maxEvents: config.watchCacheMaxEvents });
  await hub.start();

  const security = new Security(
    {
      tokenAuthFile: config.tokenAuthFile || undefined,
      serviceAccountKeyFile: config.serviceAccountKeyFile || undefined,
      serviceAccountIssuer: config.serviceAccountIssuer,
      authorizationModes: config.authorizationMode,
      anonymousAuth: config.anonymousAuth,
    },
    hub,
  );

  const namespaces = kindFor('v1', 'Namespace')!;
  const serviceAccounts = kindFor('v1', 'ServiceAccount')!;
  let registry: Registry;
  const admission = new AdmissionChain([
    new NamespaceLifecycle({
      async getNamespace(name) {
        const cached = hub.cache('namespaces').get(objectKey(namespaces, '', name))?.obj;
        const ns = cached ?? (await registry.read(namespaces, '', name));
        if (!ns) return undefined;
        return { terminating: !!ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating' };
      },
    }),
    new ServiceAccountAdmission({
      async serviceAccountExists(ns, name) {
        if (hub.cache('serviceaccounts').get(objectKey(serviceAccounts, ns, name))) return true;
        return (await registry.read(serviceAccounts, ns, name)) !== undefined;
      },
    }),
    new DefaultTolerationSeconds(config.defaultNotReadyTolerationSeconds, config.defaultUnreachableTolerationSeconds),
  ]);
  registry = new Registry({
    kv,
    hub,
    admission,
    serviceIPs,
    nodePorts,
    eventLeases: new LeaseManager(kv, Math.max(1, Math.round(config.eventTtl / 1000))),
    logger,
  });
  if (config.bootstrap) await bootstrap(registry, logger);

  const audit: AuditSink = config.auditLogPath ? new AuditFile(config.auditLogPath) : NO_AUDIT;
  const kubelet = kubeletDialer(kubeletClientCredentials(config, logger));
  // What both doors (gRPC services and the HTTP API) serve from.
  const doors = { registry, hub, security, audit, logger, kubelet, bookmarkIntervalMs: config.watchBookmarkInterval };
  const server = await startServer({
    component: COMPONENT,
    ...serverOptionsFromConfig(config),
    // Requests stay under --max-message-bytes; a List answers with everything stored.
    maxSendMessageBytes: -1,
    services: resourceServices(doors),
    logger,
    config: { ...config },
    // End the watches first, so that draining does not wait for them.
    onShutdown: () => {
      for (const c of hub.caches.values()) c.closeAll();
    },
  });
  registerMetrics(server.registry, hub);
  let ready = false;
  const http = await startHttpApi(config, server, logger, {
    ...doors,
    applyPatch: applyPatchHandler,
    version: versionInfo(),
    ready: () => ready,
    metrics: async () => ({ contentType: server.registry.contentType, body: await server.registry.metrics() }),
  });
  // The default/kubernetes Service and its Endpoints (this apiserver's HTTPS address, leased).
  const kubernetesService = http
    ? startKubernetesService({ registry, logger, advertiseAddress: advertiseAddress(config, http.host), httpsPort: http.port, serviceIPRange: serviceIPs })
    : undefined;
  server.setReady(true);
  ready = true;

  let stopping: Promise<void> | undefined;
  return {
    server,
    http,
    registry,
    hub,
    logger,
    shutdown() {
      stopping ??= (async () => {
        ready = false;
        await kubernetesService?.stop().catch((err: unknown) => logger.warn({ err }, 'kubernetes service: stop failed'));
        await http?.close();
        await server.shutdown();
        await hub.stop();
        kubelet.close();
        kv.close();
        await audit.close();
      })();
      return stopping;
    },
  };
}

export { Registry } from './registry/registry';
export { CacheHub } from './cache/hub';
export { STATUS_METADATA_KEY, statusOf, ApiError } from './errors';
