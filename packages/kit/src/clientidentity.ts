// Which clients may call a server that requires client certificates (mutual TLS): the
// identity check that comes after the TLS handshake. The handshake already refused every
// client without a certificate of the client CA; this refuses, before any handler runs, the
// certificates of that CA that name someone else.
//
// A client certificate is read as Kubernetes reads it: the subject's CN is the user, its O
// values are the groups. An allowed client is written `CN=<name>` (that user) or `O=<group>`
// (any member of that group); a call is let through when any rule matches. kube-apiserver's
// etcd is protected the same way in kubeadm clusters by a CA of its own; here the cluster CA
// signs every certificate, so the CN/O rule is what keeps a kubelet's certificate out.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { PeerCertificate } from 'tls';
import { ConfigError } from './errors';

/** One allowed client: a user (the certificate's CN) or a group (one of its O values). */
export type AllowedClient = { commonName: string } | { organization: string };

/** What grpc-js tells about a call's transport: the peer's certificate under mutual TLS. */
export interface AuthContext {
  sslPeerCertificate?: PeerCertificate;
}

/** The identity a client certificate carries. */
export interface ClientIdentity {
  commonName: string;
  organizations: string[];
}

/**
 * Parses `CN=<name>` and `O=<group>` entries (the --allowed-client flag); the attribute is
 * case-insensitive, the value is taken as is. Throws a ConfigError naming `flag` and the entry.
 */
export function parseAllowedClients(entries: string[], flag = 'allowed-client'): AllowedClient[] {
  if (entries.length === 0) throw new ConfigError(`--${flag} must name at least one client (CN=<user> or O=<group>)`, { flag });
  return entries.map((entry) => {
    const m = /^\s*(CN|O)\s*=(.*)$/i.exec(entry);
    const value = m?.[2].trim() ?? '';
    if (!m || value === '') {
      throw new ConfigError(`invalid value ${JSON.stringify(entry)} for --${flag}: must be CN=<user> or O=<group>`, { flag, value: entry });
    }
    return m[1].toUpperCase() === 'CN' ? { commonName: value } : { organization: value };
  });
}

/** The rule as it is written on the command line. */
export function formatAllowedClient(rule: AllowedClient): string {
  return 'commonName' in rule ? `CN=${rule.commonName}` : `O=${rule.organization}`;
}

/** A certificate subject attribute, which Node gives as a string or, when repeated, an array. */
function attribute(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The CN and O values of a peer certificate's subject. */
export function identityOf(cert: PeerCertificate): ClientIdentity {
  const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
  return { commonName: attribute(subject.CN)[0] ?? '', organizations: attribute(subject.O) };
}

/** Whether any rule matches the identity. */
export function isAllowedClient(identity: ClientIdentity, rules: AllowedClient[]): boolean {
  return rules.some((r) => ('commonName' in r ? identity.commonName === r.commonName : identity.organizations.includes(r.organization)));
}

/** The identity as messages show it: CN=x, O=[a, b]. */
export function describeIdentity(identity: ClientIdentity): string {
  return `CN=${JSON.stringify(identity.commonName)}, O=[${identity.organizations.map((o) => JSON.stringify(o)).join(', ')}]`;
}

/** Why a call with this auth context is refused, or undefined when it may go on. */
export function refusal(component: string, auth: AuthContext | undefined, rules: AllowedClient[]): { code: grpc.status; details: string; identity?: ClientIdentity } | undefined {
  const cert = auth?.sslPeerCertificate;
  if (!cert) {
    return { code: grpc.status.UNAUTHENTICATED, details: `${component}: no client certificate: this server accepts only clients with a certificate of its client CA` };
  }
  const identity = identityOf(cert);
  if (isAllowedClient(identity, rules)) return undefined;
  return {
    code: grpc.status.PERMISSION_DENIED,
    details: `${component}: the client certificate ${describeIdentity(identity)} is not allowed to call the ${component}`,
    identity,
  };
}

/**
 * The server interceptor that lets a call through only when its client certificate matches
 * one of `rules`; others end with UNAUTHENTICATED (no certificate) or PERMISSION_DENIED before
 * the handler sees the call. Every refusal is logged at warn with the peer and the identity.
 */
export function clientIdentityInterceptor(component: string, rules: AllowedClient[], logger: Logger): grpc.ServerInterceptor {
  const allowed = rules.map(formatAllowedClient);
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        const refused = refusal(component, call.getAuthContext(), rules);
        if (!refused) {
          next();
          return;
        }
        logger.warn({ method: method.path, peer: call.getPeer(), client: refused.identity, allowed, code: grpc.status[refused.code] }, 'call refused: client not allowed');
        // Nothing the client sends reaches a handler; the call ends at once.
        next({ onReceiveMetadata: () => undefined, onReceiveMessage: () => undefined, onReceiveHalfClose: () => undefined });
        call.sendStatus({ code: refused.code, details: refused.details, metadata: new grpc.Metadata() });
      },
    });
}
