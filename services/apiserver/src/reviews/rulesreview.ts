// SelfSubjectRulesReview (authorization.k8s.io/v1): what may the caller do in a namespace?
// ("kubectl auth can-i --list -n NS"). Answered by every authorizer of the chain that can list
// permissions, as kube-apiserver's RuleResolver union: RBAC gives the rules of the caller's
// ClusterRoleBindings and of the namespace's RoleBindings (resourceRules for rules naming
// resources, nonResourceRules for rules naming URLs); the Node authorizer cannot list a node's
// permissions, so for a node the answer is incomplete with its error in evaluationError;
// bindings to missing roles are reported there too. As in Kubernetes, the response carries only
// the status (spec comes back empty), and a review without spec.namespace is a BadRequest.
import type { rbacv1 } from '@k8ts/api';
import { aggregateMessage } from '../auth/messages';
import { badRequest } from '../errors';
import { resolveUserRules } from './authorizers';
import { BodyReader, type JsonObject, type ReviewKind, apiVersionOf } from './body';
import type { ReviewContext } from './context';
import { AUTHORIZATION_GROUP } from './accessreviews';

export const SELF_SUBJECT_RULES_REVIEW: ReviewKind = { group: AUTHORIZATION_GROUP, version: 'v1', kind: 'SelfSubjectRulesReview' };

const nonEmpty = (key: string, list: string[] | undefined): JsonObject => (list && list.length > 0 ? { [key]: [...list] } : {});

/** A ResourceRule: verbs always, the other lists when not empty. */
function resourceRuleJson(r: rbacv1.PolicyRule): JsonObject {
  return {
    verbs: [...(r.verbs ?? [])],
    ...nonEmpty('apiGroups', r.apiGroups),
    ...nonEmpty('resources', r.resources),
    ...nonEmpty('resourceNames', r.resourceNames),
  };
}

/** A NonResourceRule: verbs always, the URLs when not empty. */
function nonResourceRuleJson(r: rbacv1.PolicyRule): JsonObject {
  return { verbs: [...(r.verbs ?? [])], ...nonEmpty('nonResourceURLs', r.nonResourceURLs) };
}

/** POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews */
export async function createSelfSubjectRulesReview(ctx: ReviewContext): Promise<Record<string, unknown>> {
  const reader = new BodyReader(SELF_SUBJECT_RULES_REVIEW);
  const obj = reader.body(ctx.body);
  const spec = reader.object(obj, 'spec', '') ?? {};
  const namespace = reader.string(spec, 'namespace', 'spec');
  if (namespace === '') throw badRequest('no namespace on request');
  const rules = resolveUserRules(ctx.security.authorizer, ctx.user, namespace);
  const status: JsonObject = {
    resourceRules: rules.resourceRules.map(resourceRuleJson),
    nonResourceRules: rules.nonResourceRules.map(nonResourceRuleJson),
    incomplete: rules.incomplete,
  };
  if (rules.errors.length > 0) status.evaluationError = aggregateMessage(rules.errors);
  return { apiVersion: apiVersionOf(SELF_SUBJECT_RULES_REVIEW), kind: SELF_SUBJECT_RULES_REVIEW.kind, metadata: {}, spec: {}, status };
}
