// @k8ts/kit: the service kit. Everything a k8ts component needs to serve gRPC the k8ts way:
// configuration from flags and env, logging, the server (health, reflection, InfoService,
// metrics, TLS, limits, graceful shutdown), a main runner and client helpers, and the token
// format (JWTs signed with the apiserver's key) shared by the apiserver and the CLI.
export { ConfigError, grpcError, MAX_ERROR_MESSAGE_BYTES, truncateUtf8 } from './errors';
export { UndecodableRequest, decodeSafely, rejectUndecodable } from './decode';
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
export type { ServerOptions, ServerTls, ServiceBinding, KitServer } from './server';
export { runMain } from './main';
export { clientCredentials } from './client';
export { MIN_NATS_SERVER, natsServerVersion, natsVersionOk } from './natsversion';
export {
  natsAuthFlags,
  natsCredentialsFromConfig,
  natsPublicKey,
  generateNatsUserKey,
  storeNatsPermissions,
  apiserverNatsPermissions,
  natsAuthorizationConf,
  natsConnectAuth,
} from './natsauth';
export type { NatsConnectAuth } from './natsauth';
export type { NatsAuthConfig, NatsCredentials, NatsNkeyUser, NatsPermissions, StoreStreamNames } from './natsauth';
export { clientIdentityInterceptor, describeIdentity, formatAllowedClient, identityOf, isAllowedClient, parseAllowedClients } from './clientidentity';
export type { AllowedClient, ClientIdentity } from './clientidentity';
export { CLOCK_SKEW_MS, certificateInfo, createCA, isIssuedBy, issueCertificate } from './pki';
export type { CertificateAndKey, CertificateInfo, CertificateUsage, CreateCAOptions, IssueCertificateOptions } from './pki';
export {
  JwtError,
  audiencesOf,
  checkTimes,
  decodeJwt,
  generateKeyPairPem,
  keyId,
  loadSigningKey,
  loadVerificationKeys,
  looksLikeJwt,
  signJwt,
  verifySignature,
} from './jwt';
export type { DecodedJwt, JwtAlgorithm, JwtClaims, SigningKey, VerificationKey } from './jwt';
export {
  DEFAULT_AUDIENCE,
  DEFAULT_ISSUER,
  K8TS_CLAIM,
  NODE_USER_PREFIX,
  TokenIssuer,
  issueNodeToken,
  k8tsClaim,
  nodeUsername,
} from './tokens';
export type { IssueOptions, NodeTokenOptions, TokenIssuerOptions } from './tokens';
