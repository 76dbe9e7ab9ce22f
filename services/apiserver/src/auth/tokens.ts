// Issuing and verifying the JWTs signed by the apiserver's key (service-account tokens and
// node tokens). The issuer fills the registered claims (iss, aud, iat, nbf, exp, jti); the
// verifier checks issuer, signature (memoised per token), expiry and audience. The
// authenticators in serviceaccount.ts and node.ts share one verifier and add their own checks
// on the k8ts claim.
import * as crypto from 'node:crypto';
import {
  audiencesOf,
  checkTimes,
  decodeJwt,
  type DecodedJwt,
  JwtError,
  type JwtClaims,
  looksLikeJwt,
  loadSigningKey,
  loadVerificationKeys,
  type SigningKey,
  signJwt,
  type VerificationKey,
  verifySignature,
} from './jwt';

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

export interface TokenVerifierOptions {
  /**
   * Keys whose signatures are accepted (the current key and, during a rotation, the previous
   * one): loaded keys, or PEM text (public or private keys; see loadVerificationKeys).
   */
  keys: readonly VerificationKey[] | string | string[];
  /** Accepted "iss" values; the first is the one tokens are issued with. */
  issuers: readonly string[];
  /** Accepted audiences: a token must name at least one of them in "aud". */
  audiences: readonly string[];
  /** Allowed clock skew for exp and nbf, in seconds. Default 60 (as Kubernetes). */
  leewaySeconds?: number;
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** How many verified signatures to remember (by token hash). Default 4096; 0 disables. */
  cacheSize?: number;
}

/**
 * Verifies tokens signed by the apiserver's key. A token whose (unverified) issuer is not one of
 * ours is not ours at all: `decodeIfOurs` returns null so that other authenticators can try it.
 */
export class TokenVerifier {
  private readonly keys: readonly VerificationKey[];
  private readonly issuers: ReadonlySet<string>;
  private readonly audiences: readonly string[];
  private readonly leeway: number;
  private readonly now: () => number;
  private readonly cacheSize: number;
  /** sha256(token) → nothing: the signature of this exact token was checked. Insertion-ordered (LRU by re-insertion). */
  private readonly verified = new Map<string, true>();

  constructor(opts: TokenVerifierOptions) {
    const keys =
      typeof opts.keys === 'string' || (opts.keys.length > 0 && typeof opts.keys[0] === 'string')
        ? loadVerificationKeys(opts.keys as string | string[])
        : (opts.keys as readonly VerificationKey[]);
    if (keys.length === 0) throw new Error('a token verifier needs at least one public key');
    if (opts.issuers.length === 0) throw new Error('a token verifier needs at least one issuer');
    if (opts.audiences.length === 0) throw new Error('a token verifier needs at least one audience');
    this.keys = keys;
    this.issuers = new Set(opts.issuers);
    this.audiences = opts.audiences;
    this.leeway = opts.leewaySeconds ?? 60;
    this.now = opts.now ?? Date.now;
    this.cacheSize = opts.cacheSize ?? 4096;
  }

  /** Seconds since the epoch by the verifier's clock. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /**
   * Decodes the token without verifying it when it is a JWT from one of our issuers; null
   * otherwise (not a JWT, undecodable, or another issuer's).
   */
  decodeIfOurs(token: string): DecodedJwt | null {
    if (!looksLikeJwt(token)) return null;
    let jwt: DecodedJwt;
    try {
      jwt = decodeJwt(token);
    } catch {
      return null;
    }
    return typeof jwt.claims.iss === 'string' && this.issuers.has(jwt.claims.iss) ? jwt : null;
  }

  /** Verifies a token returned by decodeIfOurs: signature, expiry, not-before and audience. Throws JwtError. */
  verify(token: string, jwt: DecodedJwt): JwtClaims {
    const hash = crypto.createHash('sha256').update(token).digest('base64url');
    if (this.verified.has(hash)) {
      this.verified.delete(hash);
      this.verified.set(hash, true);
    } else {
      verifySignature(jwt, this.keys);
      if (this.cacheSize > 0) {
        this.verified.set(hash, true);
        if (this.verified.size > this.cacheSize) this.verified.delete(this.verified.keys().next().value as string);
      }
    }
    checkTimes(jwt.claims, this.nowSeconds(), this.leeway);
    const aud = audiencesOf(jwt.claims);
    if (!aud.some((a) => this.audiences.includes(a))) {
      throw new JwtError(
        'audience',
        aud.length === 0
          ? 'the token has no audience'
          : `the token is for audience ${aud.map((a) => JSON.stringify(a)).join(', ')}, not this apiserver`,
      );
    }
    return jwt.claims;
  }
}
