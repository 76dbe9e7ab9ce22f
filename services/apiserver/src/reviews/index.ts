// The review resources of the Kubernetes HTTP API: create-only, never stored, answered from the
// apiserver's own authenticator and authorizers (see README.md). The HTTP router serves each
// entry of REVIEW_RESOURCES at POST /apis/<group>/<version>[/namespaces/<ns>]/<resource>, after
// authorizing `create` on the resource like any other write, and lists them in discovery.
import type { UserInfo } from '../auth/types';
import { AUTHORIZATION_GROUP, createLocalSubjectAccessReview, createSelfSubjectAccessReview, createSubjectAccessReview } from './accessreviews';
import { AUTHENTICATION_GROUP, createSelfSubjectReview, createTokenReview } from './authenticationreviews';
import type { ReviewContext, ReviewSecurity } from './context';
import { createSelfSubjectRulesReview } from './rulesreview';

export type { ReviewContext, ReviewSecurity } from './context';

export interface ReviewResource {
  group: string;
  version: string;
  /** The plural resource of the URL: 'selfsubjectaccessreviews'. */
  resource: string;
  /** Its singular name, as discovery reports it: 'selfsubjectaccessreview'. */
  singularName: string;
  kind: string;
  namespaced: boolean;
  /** What discovery lists: reviews can only be created. */
  verbs: readonly ['create'];
  /**
   * POST body (already JSON-parsed) -> the response object (Kubernetes JSON, with apiVersion and
   * kind). Throws ApiError (src/errors.ts) for bad input (Invalid with field causes, BadRequest).
   */
  create(ctx: { security: ReviewSecurity; user: UserInfo; namespace?: string; body: unknown }): Promise<Record<string, unknown>>;
}

function review(
  group: string,
  kind: string,
  namespaced: boolean,
  create: (ctx: ReviewContext) => Promise<Record<string, unknown>>,
): ReviewResource {
  const singularName = kind.toLowerCase();
  return { group, version: 'v1', resource: `${singularName}s`, singularName, kind, namespaced, verbs: ['create'], create };
}

export const REVIEW_RESOURCES: readonly ReviewResource[] = [
  review(AUTHENTICATION_GROUP, 'TokenReview', false, createTokenReview),
  review(AUTHENTICATION_GROUP, 'SelfSubjectReview', false, createSelfSubjectReview),
  review(AUTHORIZATION_GROUP, 'LocalSubjectAccessReview', true, createLocalSubjectAccessReview),
  review(AUTHORIZATION_GROUP, 'SelfSubjectAccessReview', false, createSelfSubjectAccessReview),
  review(AUTHORIZATION_GROUP, 'SelfSubjectRulesReview', false, createSelfSubjectRulesReview),
  review(AUTHORIZATION_GROUP, 'SubjectAccessReview', false, createSubjectAccessReview),
];

/** The review served at group/version/resource, if any. */
export function reviewResource(group: string, version: string, resource: string): ReviewResource | undefined {
  return REVIEW_RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}
