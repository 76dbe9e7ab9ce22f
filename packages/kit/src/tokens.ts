// The claims of the tokens the apiserver's key signs (service-account and node tokens), kept
// once for the apiserver and for `k8ts up`, which mints node tokens before any apiserver runs.
//
// Every token has iss (default "k8ts"), sub, aud (default ["k8ts"]), iat, nbf = iat, jti (a
// random UUID), exp only when it expires, and the private claim "k8ts" (Kubernetes calls its
// own "kubernetes.io"). A node token is the credential of one kubelet:
//   sub "system:node:<nodeName>", k8ts { node: { name: <nodeName> } }
// The apiserver authenticates it as user system:node:<nodeName> in group system:nodes.
import * as crypto from 'node:crypto';
import { type JwtClaims, type SigningKey, loadSigningKey, signJwt } from './jwt';

/** The issuer k8ts uses when none is configured. */
export const DEFAULT_ISSUER = 'k8ts';
/** The audience of tokens meant for the apiserver when none is configured. */
export const DEFAULT_AUDIENCE = 'k8ts';

/** The private claim k8ts adds to the tokens it signs (Kubernetes uses "kubernetes.io"). */
export const K8TS_CLAIM = 'k8ts';

export interface TokenIssuerOptions {
  /** The signing key, or its PEM text. */
  key: SigningKey | string;
  /** The "iss" claim. Default DEFAULT_ISSUER. */
  issuer?: string;
  /** The audiences of tokens that do not ask for others. Default [DEFAULT_AUDIENCE]. */
  audiences?: string[];
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
}

/** What a token says beyond the registered claims the issuer fills in. */
export interface IssueOptions {
  sub: string;
  /** Audiences; default the issuer's. */
  audiences?: string[];
  /** Lifetime in seconds. Absent: the token does not expire (like Kubernetes' legacy tokens). */
  expirationSeconds?: number;
  /** The private k8ts claim. */
  k8ts: Record<string, unknown>;
}

/** Signs tokens with the apiserver's key. */
export class TokenIssuer {
  readonly key: SigningKey;
  readonly issuer: string;
  readonly audiences: readonly string[];
  private readonly now: () => number;

  constructor(opts: TokenIssuerOptions) {
    this.key = typeof opts.key === 'string' ? loadSigningKey(opts.key) : opts.key;
    this.issuer = opts.issuer ?? DEFAULT_ISSUER;
    this.audiences = opts.audiences ?? [DEFAULT_AUDIENCE];
    if (this.audiences.length === 0) throw new Error('a token issuer needs at least one audience');
    this.now = opts.now ?? Date.now;
  }

  issue(opts: IssueOptions): string {
    const iat = Math.floor(this.now() / 1000);
    const claims: JwtClaims = {
      iss: this.issuer,
      sub: opts.sub,
      aud: opts.audiences && opts.audiences.length > 0 ? opts.audiences : [...this.audiences],
      iat,
      nbf: iat,
      jti: crypto.randomUUID(),
    };
    if (opts.expirationSeconds !== undefined) {
      if (!Number.isInteger(opts.expirationSeconds) || opts.expirationSeconds <= 0) {
        throw new Error(`expirationSeconds must be a positive integer, got ${opts.expirationSeconds}`);
      }
      claims.exp = iat + opts.expirationSeconds;
    }
    claims[K8TS_CLAIM] = opts.k8ts;
    return signJwt(this.key, claims);
  }
}

/** The k8ts claim of a decoded token, when it is an object. */
export function k8tsClaim(claims: JwtClaims): Record<string, unknown> | undefined {
  const c = claims[K8TS_CLAIM];
  return typeof c === 'object' && c !== null && !Array.isArray(c) ? (c as Record<string, unknown>) : undefined;
}

export const NODE_USER_PREFIX = 'system:node:';

/** "system:node:<nodeName>". */
export function nodeUsername(nodeName: string): string {
  return `${NODE_USER_PREFIX}${nodeName}`;
}

export interface NodeTokenOptions {
  nodeName: string;
  /** Audiences; default the issuer's. */
  audiences?: string[];
  /** Lifetime in seconds; absent for a token that does not expire. */
  expirationSeconds?: number;
}

/** Issues a node token for the kubelet of `nodeName`. */
export function issueNodeToken(issuer: TokenIssuer, opts: NodeTokenOptions): string {
  if (opts.nodeName === '' || opts.nodeName.includes(':') || /\s/.test(opts.nodeName)) {
    throw new Error(`nodeName: invalid node name ${JSON.stringify(opts.nodeName)}: must be non-empty, without ':' or white space`);
  }
  return issuer.issue({
    sub: nodeUsername(opts.nodeName),
    audiences: opts.audiences,
    expirationSeconds: opts.expirationSeconds,
    k8ts: { node: { name: opts.nodeName } },
  });
}
