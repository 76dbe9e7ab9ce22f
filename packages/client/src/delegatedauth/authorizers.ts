// May the caller do this? As a server that delegates authorization to the apiserver decides
// (Kubernetes' webhook authorizer, used by the kubelet with --authorization-mode Webhook):
// a SubjectAccessReview for exactly the caller's user, uid, groups and extra, with the
// request's attributes. Answers are kept per (user, attributes): an allowed one for the
// authorized TTL (Kubernetes' kubelet default 5 minutes), a refused one for the unauthorized
// TTL (30 seconds), so a new RBAC binding takes effect within half a minute. A review that
// fails is not cached and is thrown: the call fails rather than being allowed.
// AlwaysAllow allows everything (tests and local play only, by an explicit flag).
import { type Clock, realClock } from '../clock';
import type { AccessReviewer, SubjectAccessReviewSpec } from '../reviews';
import { TtlCache } from './ttlcache';
import type { AuthorizationDecision, RequestAttributes, RequestAuthorizer, UserInfo } from './types';

export interface WebhookAuthorizerOptions {
  authorizedTtlMs: number;
  unauthorizedTtlMs: number;
  clock?: Clock;
  maxEntries?: number;
}

/** The SubjectAccessReview spec of a user's request. */
export function accessReviewSpec(user: UserInfo, attrs: RequestAttributes): SubjectAccessReviewSpec {
  const spec: SubjectAccessReviewSpec = { user: user.name, groups: [...user.groups] };
  if (user.uid) spec.uid = user.uid;
  if (user.extra && Object.keys(user.extra).length > 0) spec.extra = user.extra;
  if (attrs.kind === 'nonResource') {
    spec.nonResourceAttributes = { path: attrs.path, verb: attrs.verb };
    return spec;
  }
  spec.resourceAttributes = {
    verb: attrs.verb,
    group: attrs.apiGroup,
    version: attrs.apiVersion,
    resource: attrs.resource,
    ...(attrs.subresource ? { subresource: attrs.subresource } : {}),
    ...(attrs.name ? { name: attrs.name } : {}),
    ...(attrs.namespace ? { namespace: attrs.namespace } : {}),
  };
  return spec;
}

/** Asks the apiserver with a SubjectAccessReview; answers cached by outcome. */
export class WebhookAuthorizer implements RequestAuthorizer {
  private readonly cache: TtlCache<AuthorizationDecision>;

  constructor(
    private readonly reviewer: AccessReviewer,
    private readonly opts: WebhookAuthorizerOptions,
  ) {
    this.cache = new TtlCache(opts.maxEntries ?? 8192, opts.clock ?? realClock);
  }

  async authorize(user: UserInfo, attrs: RequestAttributes): Promise<AuthorizationDecision> {
    const spec = accessReviewSpec(user, attrs);
    const key = JSON.stringify(spec);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const status = await this.reviewer.subjectAccessReview(spec);
    // "denied" (refused outright) and "no opinion" both refuse here: nothing else may allow.
    const decision: AuthorizationDecision = {
      allowed: status.allowed,
      reason: [status.reason, status.evaluationError].filter((s) => s).join('; '),
    };
    this.cache.set(key, decision, decision.allowed ? this.opts.authorizedTtlMs : this.opts.unauthorizedTtlMs);
    return decision;
  }
}

/** Allows every request (--authorization-mode AlwaysAllow). */
export const alwaysAllow: RequestAuthorizer = {
  authorize: async () => ({ allowed: true, reason: 'AlwaysAllow' }),
};
