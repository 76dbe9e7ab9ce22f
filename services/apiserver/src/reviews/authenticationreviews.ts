// The reviews of authentication.k8s.io/v1, answered by the apiserver's own authenticator as
// kube-apiserver's pkg/registry/authentication does:
// - TokenReview (cluster-scoped): who is the bearer of spec.token? status.authenticated, the
//   user (username, uid, groups, extra), the audiences the token is good for, or the error
//   that refused it. spec.audiences defaults to the apiserver's own audiences. Static tokens
//   (the token file) are valid for any of the apiserver's audiences and for no other;
//   service-account and node JWTs are valid for the audiences of their "aud" claim
//   ("token audiences [...] is invalid for the target audiences [...]" otherwise). The response
//   echoes the request, token included, as Kubernetes does.
// - SelfSubjectReview: who is the caller? ("kubectl auth whoami"): status.userInfo.
import { AuthError, DEFAULT_AUDIENCE, type UserInfo, audiencesOf, decodeJwt, looksLikeJwt, nodeIdentity, parseServiceAccountUsername } from '../auth';
import { badRequest } from '../errors';
import { nowRFC3339 } from '../util';
import { BodyReader, type JsonObject, type ReviewKind, apiVersionOf } from './body';
import type { ReviewContext, ReviewSecurity } from './context';

export const AUTHENTICATION_GROUP = 'authentication.k8s.io';
export const TOKEN_REVIEW: ReviewKind = { group: AUTHENTICATION_GROUP, version: 'v1', kind: 'TokenReview' };
export const SELF_SUBJECT_REVIEW: ReviewKind = { group: AUTHENTICATION_GROUP, version: 'v1', kind: 'SelfSubjectReview' };

/** The audiences of tokens meant for this apiserver: its issuer and its default audience (those its verifier accepts). */
export function apiAudiences(security: ReviewSecurity): string[] {
  if (!security.issuer) return [DEFAULT_AUDIENCE];
  return [...new Set([security.issuer.issuer, ...security.issuer.audiences])];
}

/** What authenticating a token for some audiences gave. */
interface TokenResult {
  user?: UserInfo;
  audiences?: string[];
  error?: string;
}

const intersect = (a: readonly string[], b: readonly string[]): string[] => a.filter((x) => b.includes(x));

/** Go's %q of a list of strings: ["a" "b"]. */
const goQuoted = (list: readonly string[]): string => `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;

/**
 * The "aud" of a token the JWT authenticators accepted (a service-account or node user);
 * undefined for a static token, which is valid for the apiserver's audiences only.
 */
function jwtAudiences(token: string, user: UserInfo): string[] | undefined {
  const fromJwt = parseServiceAccountUsername(user.name) !== undefined || nodeIdentity(user).isNode;
  if (!fromJwt || !looksLikeJwt(token)) return undefined;
  try {
    return audiencesOf(decodeJwt(token).claims);
  } catch {
    return undefined;
  }
}

/** Authenticates a token for the wanted audiences (the apiserver's when the review names none). */
async function authenticateToken(security: ReviewSecurity, token: string, wanted: string[]): Promise<TokenResult> {
  const implicit = apiAudiences(security);
  let user: UserInfo | null;
  try {
    user = await security.authenticator.authenticate(token);
  } catch (err) {
    if (err instanceof AuthError) return { error: err.message };
    throw err;
  }
  if (!user) return {};
  const fromToken = jwtAudiences(token, user);
  if (fromToken === undefined) {
    // An audience-agnostic credential is good for the apiserver's audiences only.
    const granted = intersect(implicit, wanted);
    return granted.length > 0 ? { user, audiences: granted } : {};
  }
  const tokenAudiences = fromToken.length > 0 ? fromToken : implicit;
  const granted = intersect(tokenAudiences, wanted);
  if (granted.length === 0) return { error: `token audiences ${goQuoted(tokenAudiences)} is invalid for the target audiences ${goQuoted(wanted)}` };
  return { user, audiences: granted };
}

/** Kubernetes' authentication/v1 UserInfo: empty fields left out. */
export function userInfoJson(user: UserInfo): JsonObject {
  const out: JsonObject = { username: user.name };
  if (user.uid) out.uid = user.uid;
  if (user.groups.length > 0) out.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length > 0) out.extra = structuredClone(user.extra);
  return out;
}

function tokenStatus(result: TokenResult): JsonObject {
  const status: JsonObject = {};
  if (result.user) status.authenticated = true;
  // user is a struct in Kubernetes' type: it is always there, empty when nobody was recognised.
  status.user = result.user ? userInfoJson(result.user) : {};
  if (result.audiences && result.audiences.length > 0) status.audiences = result.audiences;
  if (result.error) status.error = result.error;
  return status;
}

/** POST /apis/authentication.k8s.io/v1/tokenreviews */
export async function createTokenReview(ctx: ReviewContext): Promise<Record<string, unknown>> {
  const reader = new BodyReader(TOKEN_REVIEW);
  const obj = reader.body(ctx.body);
  if (ctx.namespace) throw badRequest(`namespace is not allowed on this type: ${ctx.namespace}`);
  const spec = reader.object(obj, 'spec', '') ?? {};
  const token = reader.string(spec, 'token', 'spec');
  const audiences = reader.strings(spec, 'audiences', 'spec');
  if (token === '') throw badRequest('token is required for TokenReview in authentication');
  const result = await authenticateToken(ctx.security, token, audiences.length > 0 ? audiences : apiAudiences(ctx.security));
  return {
    apiVersion: apiVersionOf(TOKEN_REVIEW),
    kind: TOKEN_REVIEW.kind,
    metadata: reader.object(obj, 'metadata', '') ?? {},
    spec: { token, ...(audiences.length > 0 ? { audiences } : {}) },
    status: tokenStatus(result),
  };
}

/** POST /apis/authentication.k8s.io/v1/selfsubjectreviews: the caller's user info. */
export async function createSelfSubjectReview(ctx: ReviewContext): Promise<Record<string, unknown>> {
  new BodyReader(SELF_SUBJECT_REVIEW).body(ctx.body);
  return {
    apiVersion: apiVersionOf(SELF_SUBJECT_REVIEW),
    kind: SELF_SUBJECT_REVIEW.kind,
    metadata: { creationTimestamp: nowRFC3339() },
    status: { userInfo: userInfoJson(ctx.user) },
  };
}
