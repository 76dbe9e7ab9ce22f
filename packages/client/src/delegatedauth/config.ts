// The flags of a server that delegates authentication and authorization of its callers to the
// apiserver (the kubelet's API, the proxy's admin API), named as the kubelet's, and how they
// become the server's TLS and its call guard:
// - it serves TLS always: --tls-cert/--tls-key (from the cluster CA), else a self-signed
//   certificate made at start, as the kubelet makes one when it is given none (with a
//   warning: callers cannot verify it);
// - --client-ca-file: client certificates are asked for and, when given, must be signed by
//   it (a caller may present a bearer token instead); the kit's --tls-client-ca, which would
//   require a certificate of every caller, is refused;
// - bearer tokens go to the apiserver's TokenReview (--authentication-token-webhook, on by
//   default), each call to SubjectAccessReview (--authorization-mode Webhook, the default),
//   both over the apiserver's HTTPS API: --apiserver-https, else derived from --apiserver
//   (same host, port + 1: the apiserver's --http-listen auto), trusting --apiserver-https-ca,
//   else --apiserver-ca, else the system roots, sending the component's own token
//   (--token-file, re-read when it changes);
// - --anonymous-auth and --authorization-mode AlwaysAllow open the server only when given,
//   each with a warning.
import * as net from 'net';
import * as os from 'os';
import type * as grpc from '@grpc/grpc-js';
import { ConfigError, type FlagSpec, type ServerTls, createCA, issueCertificate } from '@k8ts/kit';
import { tokenFileSource } from '../apiserverflags';
import type { Logger } from '../logger';
import { ReviewClient } from '../reviews';
import { TokenReviewAuthenticator, delegatingAuthenticator, x509Authenticator } from './authenticators';
import { WebhookAuthorizer, alwaysAllow } from './authorizers';
import { type CallGuardOptions, callGuard } from './guard';
import type { RequestAuthenticator, RequestAuthorizer } from './types';

export const AUTHORIZATION_MODES = ['Webhook', 'AlwaysAllow'] as const;

export const delegatedAuthFlags: FlagSpec[] = [
  {
    name: 'apiserver-https',
    type: 'string',
    default: '',
    description:
      "The apiserver's Kubernetes HTTP API (https://host:port), where callers' tokens (TokenReview) and calls (SubjectAccessReview) are checked; empty: the host of --apiserver, its port + 1",
    validate: (v: string) => (v === '' || /^https:\/\/[^/]+\/?$/.test(v) ? undefined : 'must be an https://host:port URL'),
  },
  { name: 'apiserver-https-ca', type: 'file', description: "PEM CA of the apiserver's HTTPS serving certificate; default --apiserver-ca, else the system roots" },
  {
    name: 'client-ca-file',
    type: 'file',
    description: 'PEM CA of client certificates: a caller presenting a certificate it signed is the user of its CN, in the groups of its O values',
  },
  {
    name: 'anonymous-auth',
    type: 'bool',
    default: false,
    description: 'Serve callers without credentials as system:anonymous (group system:unauthenticated) instead of refusing them (UNAUTHENTICATED)',
  },
  { name: 'authentication-token-webhook', type: 'bool', default: true, description: "Accept bearer tokens, checked with a TokenReview by the apiserver" },
  {
    name: 'authentication-token-webhook-cache-ttl',
    type: 'duration',
    default: '2m',
    description: 'How long a TokenReview answer (accepted or refused) is kept',
  },
  {
    name: 'authorization-mode',
    type: 'string',
    default: 'Webhook',
    description: 'Webhook: every call is authorized by a SubjectAccessReview to the apiserver; AlwaysAllow: any authenticated caller may call anything (tests only)',
    validate: (v: string) => ((AUTHORIZATION_MODES as readonly string[]).includes(v) ? undefined : `must be one of ${AUTHORIZATION_MODES.join(', ')}`),
  },
  { name: 'authorization-webhook-cache-authorized-ttl', type: 'duration', default: '5m', description: 'How long an allowing SubjectAccessReview answer is kept' },
  { name: 'authorization-webhook-cache-unauthorized-ttl', type: 'duration', default: '30s', description: 'How long a refusing SubjectAccessReview answer is kept' },
];

/** The parsed flags this module reads (camelCased, as parseConfig returns them). */
export interface DelegatedAuthConfig {
  apiserver?: string;
  apiserverCa?: string;
  apiserverServerName?: string;
  tokenFile?: string;
  apiserverHttps?: string;
  apiserverHttpsCa?: string;
  clientCaFile?: string;
  anonymousAuth?: boolean;
  authenticationTokenWebhook?: boolean;
  authenticationTokenWebhookCacheTtl?: number;
  authorizationMode?: string;
  authorizationWebhookCacheAuthorizedTtl?: number;
  authorizationWebhookCacheUnauthorizedTtl?: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
}

export interface DelegatedAuthOptions extends Pick<CallGuardOptions, 'attributes' | 'alwaysAllow' | 'forbidden'> {
  /** The component ('kubelet', 'proxy'): names the self-signed certificate. */
  component: string;
  /** The User-Agent of the reviews ('kubelet/v0.1.0'). */
  userAgent: string;
  /** Host names and IPs the self-signed serving certificate is for (when there is no --tls-cert). */
  servingHosts: string[];
  logger: Logger;
}

export interface DelegatedAuth {
  /** The server's TLS, for startServer. */
  tls: ServerTls;
  /** The call guard, for startServer's interceptors. */
  interceptor: grpc.ServerInterceptor;
  /** Closes the review client's connections. */
  close(): void;
}

const DEFAULT_HTTPS_PORT_OFFSET = 1;

/**
 * The apiserver's HTTPS URL: --apiserver-https, else the host of --apiserver (host:port or
 * dns:///host:port) with its port + 1. Undefined when neither gives one.
 */
export function apiserverHttpsUrl(config: Pick<DelegatedAuthConfig, 'apiserver' | 'apiserverHttps'>): string | undefined {
  if (config.apiserverHttps) return config.apiserverHttps.replace(/\/$/, '');
  const m = /^(?:dns:\/\/\/)?(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(config.apiserver ?? '');
  if (!m) return undefined;
  return `https://${m[1]}:${Number(m[2]) + DEFAULT_HTTPS_PORT_OFFSET}`;
}

/** The reviews' client, or a ConfigError when there is no apiserver to ask. */
function reviewClient(config: DelegatedAuthConfig, opts: DelegatedAuthOptions, why: string, flag: string): ReviewClient {
  const url = apiserverHttpsUrl(config);
  if (!url) {
    throw new ConfigError(
      `${why} needs the apiserver: give --apiserver-https (or --apiserver host:port), or turn the check off with --${flag === 'authorization-mode' ? 'authorization-mode AlwaysAllow' : 'authentication-token-webhook=false'}`,
      { flag },
    );
  }
  const token = config.tokenFile
    ? tokenFileSource(config.tokenFile, { onError: (err) => opts.logger.warn({ file: err.file, err: err.message }, 'cannot re-read the token file; keeping the last token') })
    : undefined;
  return new ReviewClient({
    url,
    ca: config.apiserverHttpsCa || config.apiserverCa || undefined,
    serverName: config.apiserverServerName || undefined,
    token,
    userAgent: opts.userAgent,
  });
}

/** A self-signed serving certificate (and its one-off CA, appended to the chain) for `hosts`. */
async function selfSignedServing(component: string, hosts: string[]): Promise<{ cert: string; key: string }> {
  const wildcard = new Set(['0.0.0.0', '::', '']);
  const ips = [...new Set(['127.0.0.1', ...hosts.filter((h) => net.isIP(h) && !wildcard.has(h))])];
  const names = [...new Set(['localhost', ...hosts.filter((h) => !net.isIP(h) && h !== ''), os.hostname().toLowerCase()])].filter((n) =>
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n),
  );
  const stamp = Math.floor(Date.now() / 1000);
  const ca = await createCA({ commonName: `${component}-ca@${stamp}`, days: 365 });
  const leaf = await issueCertificate({ ca, commonName: `${component}@${stamp}`, dnsNames: names, ipAddresses: ips, usages: ['server'], days: 365 });
  const pem = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);
  return { cert: `${pem(leaf.certPem)}${pem(ca.certPem)}`, key: leaf.keyPem };
}

/** The serving TLS: the flags' pair, or a self-signed one; client certificates asked for when --client-ca-file is set. */
async function servingTls(config: DelegatedAuthConfig, opts: DelegatedAuthOptions): Promise<ServerTls> {
  if (config.tlsClientCa) {
    throw new ConfigError(
      `--tls-client-ca would require a client certificate of every caller, but the ${opts.component} authenticates callers itself: give the CA as --client-ca-file`,
      { flag: 'tls-client-ca', value: config.tlsClientCa },
    );
  }
  if (!!config.tlsCert !== !!config.tlsKey) throw new ConfigError('--tls-cert and --tls-key must be given together', { flag: config.tlsCert ? 'tls-key' : 'tls-cert' });
  let pair: { cert: string; key: string };
  if (config.tlsCert && config.tlsKey) {
    pair = { cert: config.tlsCert, key: config.tlsKey };
  } else {
    opts.logger.warn(
      { hosts: opts.servingHosts },
      `no --tls-cert: the ${opts.component} serves a self-signed certificate made at start, which callers cannot verify; give --tls-cert and --tls-key issued by the cluster CA`,
    );
    pair = await selfSignedServing(opts.component, opts.servingHosts);
  }
  return config.clientCaFile ? { ...pair, clientCa: config.clientCaFile, clientCertificate: 'if-given' } : pair;
}

function authenticatorOf(config: DelegatedAuthConfig, opts: DelegatedAuthOptions, client: () => ReviewClient): RequestAuthenticator {
  const chain: RequestAuthenticator[] = [];
  if (config.clientCaFile) chain.push(x509Authenticator());
  if (config.authenticationTokenWebhook ?? true) {
    chain.push(new TokenReviewAuthenticator(client(), { cacheTtlMs: config.authenticationTokenWebhookCacheTtl ?? 120_000 }));
  }
  const anonymous = config.anonymousAuth ?? false;
  if (anonymous) {
    opts.logger.warn(
      {},
      `--anonymous-auth: the ${opts.component} API serves callers without credentials as system:anonymous (what they may do is still authorized)`,
    );
  }
  if (chain.length === 0 && !anonymous) {
    opts.logger.warn({}, `no --client-ca-file and no token webhook: no caller can authenticate to the ${opts.component} API`);
  }
  return delegatingAuthenticator(chain, { anonymous });
}

function authorizerOf(config: DelegatedAuthConfig, opts: DelegatedAuthOptions, client: () => ReviewClient): RequestAuthorizer {
  if ((config.authorizationMode ?? 'Webhook') === 'AlwaysAllow') {
    opts.logger.warn({}, `--authorization-mode AlwaysAllow: every authenticated caller may call anything on the ${opts.component} API`);
    return alwaysAllow;
  }
  return new WebhookAuthorizer(client(), {
    authorizedTtlMs: config.authorizationWebhookCacheAuthorizedTtl ?? 300_000,
    unauthorizedTtlMs: config.authorizationWebhookCacheUnauthorizedTtl ?? 30_000,
  });
}

/**
 * The serving TLS and the call guard the flags ask for. Throws ConfigError for flags that do
 * not fit together (the kit's --tls-client-ca; a review without an apiserver to ask).
 */
export async function delegatedAuthFromConfig(config: DelegatedAuthConfig, opts: DelegatedAuthOptions): Promise<DelegatedAuth> {
  const tls = await servingTls(config, opts);
  let reviews: ReviewClient | undefined;
  const authorizationMode = config.authorizationMode ?? 'Webhook';
  const client = (why: string, flag: string) => () => (reviews ??= reviewClient(config, opts, why, flag));
  const authenticator = authenticatorOf(config, opts, client('accepting bearer tokens (TokenReview)', 'authentication-token-webhook'));
  const authorizer = authorizerOf(config, opts, client(`--authorization-mode ${authorizationMode} (SubjectAccessReview)`, 'authorization-mode'));
  const interceptor = callGuard({
    authenticator,
    authorizer,
    attributes: opts.attributes,
    alwaysAllow: opts.alwaysAllow,
    forbidden: opts.forbidden,
    logger: opts.logger,
  });
  return { tls, interceptor, close: () => reviews?.close() };
}
