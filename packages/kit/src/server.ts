// startServer: the one way a k8ts component serves gRPC. Around the component's services it
// adds grpc.health.v1, server reflection, k8ts.system.v1.InfoService, per-method metrics and
// logs, message size limits, INVALID_ARGUMENT for requests that do not decode (decode.ts), TLS,
// an HTTP /metrics and /healthz endpoint, and a graceful shutdown.
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { systemv1 } from '@k8ts/api';
import { parseAddress, redactConfig } from './config';
import { decodeSafely, rejectUndecodable } from './decode';
import { ConfigError } from './errors';
import { defaultVersion, infoService } from './info';
import { createLogger } from './logging';
import { createRegistry, metricsInterceptor } from './metrics';
import { addReflection, serviceNames } from './reflection';

/** A service to serve: its grpc-js definition (e.g. systemv1.InfoServiceService) and handlers. */
export interface ServiceBinding {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface ServerOptions {
  /** The component's name, e.g. 'store'; appears in logs, metrics and InfoService. */
  component: string;
  /** 'host:port' to serve gRPC on; port 0 picks a free port. */
  listen: string;
  /** 'host:port' for the HTTP /metrics and /healthz endpoint; omitted or '' = none. */
  metricsListen?: string;
  /** TLS; with clientCa, client certificates signed by it (mutual TLS). See ServerTls. */
  tls?: ServerTls;
  /** Largest message received or sent, in bytes; default 4 MiB. */
  maxMessageBytes?: number;
  /**
   * Largest message sent, when it differs from maxMessageBytes; -1: no limit (the apiserver's
   * lists are as large as what is stored, as in Kubernetes, while requests stay bounded).
   */
  maxSendMessageBytes?: number;
  services: ServiceBinding[];
  /** Default: createLogger(component, config.logLevel). */
  logger?: Logger;
  /** How long in-flight calls may run on shutdown before they are cancelled; default 10000. */
  shutdownTimeoutMs?: number;
  /** The effective configuration, reported (secrets redacted) by InfoService. */
  config?: Record<string, unknown>;
  /** The version InfoService reports; default K8TS_VERSION or the kit's version. */
  version?: string;
  /**
   * More server interceptors, run after the kit's own (which count and log every call, so a
   * call they refuse is still counted with its code): the place for authentication and
   * authorization of callers.
   */
  interceptors?: grpc.ServerInterceptor[];
  /**
   * Called on shutdown after health went NOT_SERVING and before the server drains: the place
   * to end the component's own long-lived streams (watches) so that draining is quick.
   */
  onShutdown?: () => void | Promise<void>;
}

/** The server's TLS: each value a PEM file path or the PEM text itself. */
export interface ServerTls {
  cert: string;
  key: string;
  /** The CA bundle client certificates must be signed by. */
  clientCa?: string;
  /**
   * With clientCa: 'require' (the default) refuses a connection without a client certificate
   * the CA signed (mutual TLS); 'if-given' asks for one and verifies it when the client sends
   * it, but also lets callers without one connect, for the server to authenticate them some
   * other way (a bearer token), as Kubernetes' servers do. Calls see only a verified
   * certificate (grpc-js' getAuthContext().sslPeerCertificate).
   */
  clientCertificate?: 'require' | 'if-given';
}

export interface KitServer {
  /** The actual 'host:port' bound (port resolved when 0). */
  readonly address: string;
  readonly port: number;
  /** The actual 'host:port' of the metrics HTTP server, when there is one. */
  readonly metricsAddress?: string;
  readonly logger: Logger;
  /** The prom-client registry: services register their own metrics here. */
  readonly registry: Registry;
  /** Drives grpc.health.v1 status for '' and every served service, and /healthz. */
  setReady(ready: boolean): void;
  /** NOT_SERVING, stop accepting, drain up to shutdownTimeoutMs, then force. Idempotent. */
  shutdown(): Promise<void>;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

function readPem(file: string, what: string, flag: string): Buffer {
  if (file.includes('-----BEGIN')) return Buffer.from(file);
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${JSON.stringify(file)} (--${flag}): ${(err as Error).message}`, {
      flag,
      value: file,
      cause: err,
    });
  }
}

/**
 * A certificate provider of fixed PEM data. grpc-js registers its watcher on the credentials
 * only after it subscribed to the provider, so the data is handed over a moment later (a
 * microtask), when someone is listening; the server accepts connections once it has it.
 */
function fixedCertificates(data: { cert: Buffer; key: Buffer; ca: Buffer }): grpc.experimental.CertificateProvider {
  return {
    addCaCertificateListener: (listener) => queueMicrotask(() => listener({ caCertificate: data.ca })),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) => queueMicrotask(() => listener({ certificate: data.cert, privateKey: data.key })),
    removeIdentityCertificateListener: () => undefined,
  };
}

function serverCredentials(tls: ServerTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const cert = readPem(tls.cert, 'TLS certificate', 'tls-cert');
  const key = readPem(tls.key, 'TLS key', 'tls-key');
  const ca = tls.clientCa ? readPem(tls.clientCa, 'client CA bundle', 'tls-client-ca') : null;
  if (ca && tls.clientCertificate === 'if-given') {
    // createSsl either requires client certificates or does not ask for them; the provider
    // form asks (requestCert) without requiring (rejectUnauthorized: false).
    const provider = fixedCertificates({ cert, key, ca });
    return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
  }
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
}

function checkAddress(value: string, what: string): { host: string; port: number } {
  const a = parseAddress(value);
  if (!a) throw new ConfigError(`invalid ${what} address ${JSON.stringify(value)}: must be host:port (port 0 = any free port)`);
  return a;
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/**
 * Starts a gRPC server with grpc.health.v1 (NOT_SERVING until setReady(true)), server
 * reflection (v1 and v1alpha) for every served service, k8ts.system.v1.InfoService,
 * per-method metrics, logging and size limits. Logs one info line
 * {"msg":"listening","address":"host:port","metricsAddress":"host:port"} once bound.
 */
export async function startServer(opts: ServerOptions): Promise<KitServer> {
  const startTime = new Date();
  const component = opts.component;
  const configLevel = typeof opts.config?.logLevel === 'string' ? opts.config.logLevel : undefined;
  const logger = opts.logger ?? createLogger(component, configLevel);
  const maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= 0) {
    throw new ConfigError(`invalid maxMessageBytes ${maxMessageBytes}: must be a positive integer`);
  }
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const listen = checkAddress(opts.listen, 'listen');
  const metricsListen = opts.metricsListen ? checkAddress(opts.metricsListen, 'metrics-listen') : undefined;
  const creds = serverCredentials(opts.tls);

  const { registry, metrics } = createRegistry(component);
  const server = new grpc.Server({
    // Metrics first (innermost), so that it counts the INVALID_ARGUMENT of undecodable requests.
    interceptors: [metricsInterceptor(metrics, logger), rejectUndecodable(), ...(opts.interceptors ?? [])],
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': opts.maxSendMessageBytes ?? maxMessageBytes,
  });

  let address = '';
  let metricsAddress: string | undefined;
  let ready = false;
  let stopping = false;

  // The component's services and InfoService.
  const served: string[] = [];
  const serve = (b: ServiceBinding) => {
    const names = serviceNames(b.definition);
    for (const n of names) if (served.includes(n)) throw new Error(`kit: service ${n} is registered twice`);
    server.addService(decodeSafely(b.definition), b.implementation);
    served.push(...names);
  };
  for (const b of opts.services) serve(b);
  const reportedConfig = opts.config ?? {
    listen: opts.listen,
    metricsListen: opts.metricsListen ?? '',
    tlsCert: opts.tls?.cert ?? '',
    tlsKey: opts.tls?.key ?? '',
    tlsClientCa: opts.tls?.clientCa ?? '',
    maxMessageBytes,
    shutdownTimeout: shutdownTimeoutMs,
  };
  serve({
    definition: systemv1.InfoServiceService,
    implementation: infoService({
      component,
      version: opts.version ?? defaultVersion(),
      startTime,
      address: () => address,
      metricsAddress: () => metricsAddress ?? '',
      config: () => redactConfig(reportedConfig),
    }),
  });

  // Health: '' (the whole server) and every served service, NOT_SERVING until ready. Watch
  // streams are tracked so that shutdown can end them once NOT_SERVING has been sent.
  const healthNames = ['', ...served];
  const health = new HealthImplementation(Object.fromEntries(healthNames.map((n) => [n, 'NOT_SERVING' as const])));
  const watches = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  health.addToServer({
    addService: (definition, implementation) => {
      const watch = implementation.watch as grpc.handleServerStreamingCall<unknown, unknown>;
      server.addService(decodeSafely(definition as grpc.ServiceDefinition), {
        ...(implementation as grpc.UntypedServiceImplementation),
        watch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
          watches.add(call);
          call.on('cancelled', () => watches.delete(call));
          watch(call);
          if (stopping) call.end();
        },
      });
    },
  });
  const setHealth = (serving: boolean) => {
    for (const n of healthNames) health.setStatus(n, serving ? 'SERVING' : 'NOT_SERVING');
  };

  const invisible = addReflection(server, served);
  if (invisible.length > 0) {
    logger.warn({ services: invisible }, 'services not described by the k8ts API schema are not visible to reflection');
  }

  // Bind gRPC, then the metrics endpoint.
  let port: number;
  try {
    port = await bind(server, opts.listen, creds);
  } catch (err) {
    server.forceShutdown();
    throw new Error(`cannot listen on ${opts.listen}: ${(err as Error).message}`, { cause: err });
  }
  address = `${listen.host}:${port}`;

  let httpServer: http.Server | undefined;
  if (metricsListen) {
    httpServer = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      } else if (url === '/metrics') {
        registry.metrics().then(
          (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
          (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`collecting metrics failed: ${err.message}\n`),
        );
      } else if (url === '/healthz') {
        const ok = ready && !stopping;
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : stopping ? 'shutting down\n' : 'not ready\n');
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
      }
    });
    const hs = httpServer;
    try {
      await new Promise<void>((resolve, reject) => {
        hs.once('error', reject);
        hs.listen(metricsListen.port, metricsListen.host.replace(/^\[(.*)\]$/, '$1'), () => {
          hs.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      server.forceShutdown();
      throw new Error(`cannot listen on ${opts.metricsListen} for metrics: ${(err as Error).message}`, { cause: err });
    }
    metricsAddress = `${metricsListen.host}:${(hs.address() as AddressInfo).port}`;
  }

  logger.info(
    {
      address,
      metricsAddress,
      tls: !!opts.tls,
      mutualTls: !!opts.tls?.clientCa,
      ...(opts.tls?.clientCa ? { clientCertificate: opts.tls.clientCertificate ?? 'require' } : {}),
      services: served,
    },
    'listening',
  );

  let shutdownPromise: Promise<void> | undefined;
  const doShutdown = async () => {
    stopping = true;
    setHealth(false);
    logger.info({ address, timeoutMs: shutdownTimeoutMs }, 'shutting down');
    // The kit's own long-lived streams: NOT_SERVING was just written to them; end them.
    for (const call of watches) call.end();
    if (opts.onShutdown) {
      try {
        await opts.onShutdown();
      } catch (err) {
        logger.error({ err }, 'onShutdown hook failed');
      }
    }
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        logger.warn({ timeoutMs: shutdownTimeoutMs }, 'calls still running after the shutdown timeout: cancelling them');
        server.forceShutdown();
        finish();
      }, shutdownTimeoutMs);
      server.tryShutdown((err) => {
        if (err) logger.warn({ err }, 'graceful shutdown reported an error');
        finish();
      });
    });
    if (httpServer) {
      const hs = httpServer;
      await new Promise<void>((resolve) => {
        hs.close(() => resolve());
        hs.closeAllConnections();
      });
    }
    logger.info({ address }, 'stopped');
  };

  return {
    address,
    port,
    metricsAddress,
    logger,
    registry,
    setReady(value: boolean) {
      if (stopping) {
        if (value) logger.warn('setReady(true) ignored: the server is shutting down');
        return;
      }
      if (value !== ready) logger.info({ ready: value }, value ? 'ready' : 'not ready');
      ready = value;
      setHealth(value);
    },
    shutdown() {
      shutdownPromise ??= doShutdown();
      return shutdownPromise;
    },
  };
}
