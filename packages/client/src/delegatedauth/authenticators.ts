// Who is calling, as a server that delegates authentication to the apiserver finds out
// (Kubernetes' DelegatingAuthenticatorConfig, used by the kubelet):
// - x509: a client certificate the client CA signed (TLS verified the chain) is the user of
//   its subject's CN, in the groups of its O values; a certificate whose extended key usage
//   does not allow client authentication is refused;
// - bearer tokens: "authorization: Bearer <token>" is asked about with a TokenReview, and the
//   answer (accepted or refused) is kept for the cache TTL, keyed by a hash of the token, so
//   the token itself is never kept; a review that fails (apiserver unreachable) is not cached;
// - in that order; the first that knows the caller decides; every authenticated user gets
//   system:authenticated;
// - anonymous callers (no credentials at all) are system:anonymous in system:unauthenticated
//   only when allowed; credentials that were presented but refused never fall back to
//   anonymous (Kubernetes' FailOnError union).
import * as crypto from 'crypto';
import { type Clock, realClock } from '../clock';
import type { ReviewUser, TokenReviewer } from '../reviews';
import { TtlCache } from './ttlcache';
import {
  ANONYMOUS_USER,
  AuthenticationError,
  type CallCredentials,
  GROUP_AUTHENTICATED,
  GROUP_UNAUTHENTICATED,
  type RequestAuthenticator,
  type UserInfo,
} from './types';

/** The OID of the extended key usage "TLS Web Client Authentication". */
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
/** The OID of "any extended key usage". */
const ANY_EKU_OID = '2.5.29.37.0';

/** A subject field as Node reports it: one value, several (an array), or none. */
function values(field: string | string[] | undefined): string[] {
  if (field === undefined) return [];
  return Array.isArray(field) ? field : [field];
}

/** The user of a verified client certificate: CN the name, O values the groups. */
export function x509Authenticator(): RequestAuthenticator {
  return {
    async authenticate({ peerCertificate: cert }: CallCredentials) {
      if (!cert) return undefined;
      const usages = cert.ext_key_usage;
      if (usages && usages.length > 0 && !usages.includes(CLIENT_AUTH_OID) && !usages.includes(ANY_EKU_OID)) {
        throw new AuthenticationError('x509: certificate specifies an incompatible key usage (no client authentication)');
      }
      const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
      const name = values(subject.CN)[0] ?? '';
      if (!name) return undefined;
      return { name, groups: values(subject.O) };
    },
  };
}

/** The token of an "authorization" value "Bearer <token>" (any case of the scheme); undefined otherwise. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m ? m[1] : undefined;
}

function userOf(u: ReviewUser): UserInfo {
  const user: UserInfo = { name: u.username, groups: [...(u.groups ?? [])] };
  if (u.uid) user.uid = u.uid;
  if (u.extra && Object.keys(u.extra).length > 0) user.extra = u.extra;
  return user;
}

export interface TokenReviewAuthenticatorOptions {
  /** How long an answer is kept (both accepted and refused tokens); Kubernetes' default 2 minutes. */
  cacheTtlMs: number;
  /** The audiences asked for; default none (the apiserver's own). */
  audiences?: string[];
  clock?: Clock;
  maxEntries?: number;
}

type TokenAnswer = { user: UserInfo } | { refused: string };

/** Bearer tokens checked by a TokenReview, answers cached; concurrent calls with one token share one review. */
export class TokenReviewAuthenticator implements RequestAuthenticator {
  private readonly cache: TtlCache<TokenAnswer>;
  private readonly inflight = new Map<string, Promise<TokenAnswer>>();

  constructor(
    private readonly reviewer: TokenReviewer,
    private readonly opts: TokenReviewAuthenticatorOptions,
  ) {
    this.cache = new TtlCache(opts.maxEntries ?? 4096, opts.clock ?? realClock);
  }

  async authenticate({ authorization }: CallCredentials): Promise<UserInfo | undefined> {
    const token = bearerToken(authorization);
    if (!token) return undefined;
    const key = `${crypto.createHash('sha256').update(token).digest('base64url')}|${(this.opts.audiences ?? []).join(',')}`;
    const answer = this.cache.get(key) ?? (await this.review(key, token));
    if ('refused' in answer) throw new AuthenticationError(answer.refused);
    return answer.user;
  }

  private review(key: string, token: string): Promise<TokenAnswer> {
    let p = this.inflight.get(key);
    if (!p) {
      p = this.ask(token)
        .then((answer) => {
          this.cache.set(key, answer, this.opts.cacheTtlMs);
          return answer;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async ask(token: string): Promise<TokenAnswer> {
    let r: Awaited<ReturnType<TokenReviewer['tokenReview']>>;
    try {
      r = await this.reviewer.tokenReview(token, this.opts.audiences);
    } catch (err) {
      // Not cached: the next call asks again.
      throw new AuthenticationError(`the token could not be checked: ${(err as Error).message}`, { cause: err });
    }
    if (r.authenticated && r.user) return { user: userOf(r.user) };
    return { refused: `the apiserver did not accept the token${r.error ? `: ${r.error}` : ''}` };
  }
}

export const ANONYMOUS: UserInfo = { name: ANONYMOUS_USER, groups: [GROUP_UNAUTHENTICATED] };

/** Adds system:authenticated to an authenticated user's groups, as Kubernetes' AuthenticatedGroupAdder. */
function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(GROUP_AUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, GROUP_AUTHENTICATED] };
}

export interface DelegatingAuthenticatorOptions {
  /** Callers without any credentials are system:anonymous (else they are refused). */
  anonymous: boolean;
}

/**
 * The authenticators in order (x509 first, then bearer tokens): the first that knows the caller
 * wins. Nobody knowing the caller: the refusals of those that saw credentials, as one
 * AuthenticationError; no credentials at all: ANONYMOUS when allowed, else undefined.
 */
export function delegatingAuthenticator(authenticators: RequestAuthenticator[], opts: DelegatingAuthenticatorOptions): RequestAuthenticator {
  return {
    async authenticate(creds) {
      const refusals: string[] = [];
      for (const a of authenticators) {
        try {
          const user = await a.authenticate(creds);
          if (user) return withAuthenticatedGroup(user);
        } catch (err) {
          if (!(err instanceof AuthenticationError)) throw err;
          refusals.push(err.message);
        }
      }
      if (refusals.length > 0) throw new AuthenticationError(refusals.join('; '));
      return opts.anonymous ? ANONYMOUS : undefined;
    },
  };
}
