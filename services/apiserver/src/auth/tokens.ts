// Verifying the JWTs signed by the apiserver's key (service-account tokens and node tokens):
// the verifier checks issuer, signature (memoised per token), expiry and audience. The
// authenticators in serviceaccount.ts and node.ts share one verifier and add their own checks
// on the k8ts claim. Issuing them (TokenIssuer: iss, aud, iat, nbf, exp, jti and the k8ts
// claim) is @k8ts/kit's, shared with `k8ts up`; it is re-exported here.
import * as crypto from 'node:crypto';
import {
  audiencesOf,
  checkTimes,
  decodeJwt,
  type DecodedJwt,
  JwtError,
  type JwtClaims,
  looksLikeJwt,
  loadVerificationKeys,
  type VerificationKey,
  verifySignature,
} from './jwt';

export { DEFAULT_AUDIENCE, DEFAULT_ISSUER, K8TS_CLAIM, TokenIssuer, k8tsClaim } from '@k8ts/kit';
export type { IssueOptions, TokenIssuerOptions } from '@k8ts/kit';

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
