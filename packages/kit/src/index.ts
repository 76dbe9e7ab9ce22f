// @k8ts/kit: the service kit. Everything a k8ts component needs to serve gRPC the k8ts way:
// configuration from flags and env, logging, the server (health, reflection, InfoService,
// metrics, TLS, limits, graceful shutdown), a main runner and client helpers.
export { ConfigError, grpcError } from './errors';
export {
  parseConfig,
  serverFlags,
  serverOptionsFromConfig,
  formatHelp,
  redactConfig,
  envName,
  parseDuration,
  formatDuration,
  parseAddress,
} from './config';
export type { FlagSpec, FlagType } from './config';
export { createLogger } from './logging';
export { startServer, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './server';
export type { ServerOptions, ServiceBinding, KitServer } from './server';
export { runMain } from './main';
export { clientCredentials } from './client';
export { MIN_NATS_SERVER, natsServerVersion, natsVersionOk } from './natsversion';
export { CLOCK_SKEW_MS, certificateInfo, createCA, isIssuedBy, issueCertificate } from './pki';
export type { CertificateAndKey, CertificateInfo, CertificateUsage, CreateCAOptions, IssueCertificateOptions } from './pki';
