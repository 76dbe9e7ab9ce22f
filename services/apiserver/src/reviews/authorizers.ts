// The apiserver's authorizer chain as the reviews ask it: a decision with Kubernetes' reason
// (SubjectAccessReview and friends) and a user's permissions (SelfSubjectRulesReview). The
// chain is Security's UnionAuthorizer (Node, RBAC); a lone authorizer (AlwaysAllow) is asked as
// a chain of one.
import { type Evaluation, UnionAuthorizer, evaluateAuthorizers, resolveRulesOf } from '../auth/chain';
import type { Attributes, Authorizer, RuleResolution, UserInfo } from '../auth/types';

function chainOf(authorizer: Authorizer): readonly Authorizer[] {
  return authorizer instanceof UnionAuthorizer ? authorizer.authorizers : [authorizer];
}

/** The chain's answer to the attributes, as a SubjectAccessReview reports it. */
export function evaluateAccess(authorizer: Authorizer, a: Attributes): Promise<Evaluation> {
  return evaluateAuthorizers(chainOf(authorizer), a);
}

/** What the user may do in the namespace, by every authorizer of the chain. */
export function resolveUserRules(authorizer: Authorizer, user: UserInfo, namespace: string): RuleResolution {
  return resolveRulesOf(chainOf(authorizer), user, namespace);
}
