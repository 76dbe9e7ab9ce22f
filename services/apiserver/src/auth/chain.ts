// The apiserver's authorizer: asks each authorizer in order (Node, then RBAC); the first
// 'allow' or 'deny' is the answer. When all have no opinion the request is denied. Every deny
// the chain returns starts with Kubernetes' forbidden message (user, verb, resource, scope),
// followed by what the authorizers said when that adds something, e.g.
//   User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace
//   "default": no relationship found between node 'n1' and secrets default/db-password
// An authorizer that throws is treated as having no opinion, and its error is reported in the
// reason (never as an allow).
//
// For the access reviews (SubjectAccessReview and friends), `evaluate` gives the chain's answer
// as Kubernetes' union authorizer does instead: allow, deny or no opinion, with the reason of the
// authorizer that decided (or the reasons of all, one per line), and evaluation errors apart.
// Kubernetes adds its forbidden message only when it refuses an HTTP request, so `evaluate`
// leaves it out of the reasons. `resolveRules` lists a user's permissions (SelfSubjectRulesReview).
import { aggregateMessage, forbiddenMessage } from './messages';
import {
  type Attributes,
  type Authorizer,
  type Decision,
  isRuleResolver,
  type RuleResolution,
  type RuleResolver,
  type UserInfo,
} from './types';

/** A chain's answer as Kubernetes' union authorizer gives it (a SubjectAccessReview's status). */
export interface Evaluation {
  decision: Decision['decision'];
  /** The deciding authorizer's reason, or for no opinion the reasons of all, one per line; '' when none. */
  reason: string;
  /** Errors of authorizers that failed, aggregated as Kubernetes does; '' when none. */
  evaluationError: string;
}

/** Kubernetes' reason for a decision: a k8ts authorizer's reason without the forbidden message that k8ts puts first. */
function kubernetesReason(a: Attributes, reason: string): string {
  const base = forbiddenMessage(a);
  if (reason === base) return '';
  return reason.startsWith(`${base}: `) ? reason.slice(base.length + 2) : reason;
}

/** Asks each authorizer in order: the first allow or deny decides; otherwise no opinion, with every reason. */
export async function evaluateAuthorizers(authorizers: readonly Authorizer[], a: Attributes): Promise<Evaluation> {
  const reasons: string[] = [];
  const errors: string[] = [];
  for (const authorizer of authorizers) {
    let d: Decision;
    try {
      d = await authorizer.authorize(a);
    } catch (e) {
      errors.push((e as Error).message);
      continue;
    }
    const reason = kubernetesReason(a, d.reason);
    // As Kubernetes: a decision carries only the deciding authorizer's error, and k8ts authorizers decide without one.
    if (d.decision !== 'noopinion') return { decision: d.decision, reason, evaluationError: '' };
    if (reason !== '') reasons.push(reason);
  }
  return { decision: 'noopinion', reason: reasons.join('\n'), evaluationError: errors.length > 0 ? aggregateMessage(errors) : '' };
}

/**
 * A user's permissions in a namespace by every authorizer of a chain, as Kubernetes' union rule
 * resolver: the rules of all, incomplete when one is, the errors of all. An authorizer that
 * cannot list permissions makes the answer incomplete.
 */
export function resolveRulesOf(authorizers: readonly Authorizer[], user: UserInfo, namespace: string): RuleResolution {
  const out: RuleResolution = { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
  for (const authorizer of authorizers) {
    if (!isRuleResolver(authorizer)) {
      out.incomplete = true;
      out.errors.push('authorizer does not support user rule resolution');
      continue;
    }
    const r = authorizer.resolveRules(user, namespace);
    out.resourceRules.push(...r.resourceRules);
    out.nonResourceRules.push(...r.nonResourceRules);
    out.incomplete ||= r.incomplete;
    out.errors.push(...r.errors);
  }
  return out;
}

/** Allows everything (--authorization-mode AlwaysAllow, for tests): Kubernetes' alwaysAllowAuthorizer. */
export class AlwaysAllowAuthorizer implements Authorizer, RuleResolver {
  authorize(): Decision {
    return { decision: 'allow', reason: '' };
  }

  resolveRules(): RuleResolution {
    return {
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
      errors: [],
    };
  }
}

export class UnionAuthorizer implements Authorizer, RuleResolver {
  /** The authorizers, in the order they are asked. */
  readonly authorizers: readonly Authorizer[];

  constructor(authorizers: readonly Authorizer[]) {
    this.authorizers = authorizers;
  }

  /** The chain's answer as Kubernetes gives it in a SubjectAccessReview (see evaluateAuthorizers). */
  evaluate(a: Attributes): Promise<Evaluation> {
    return evaluateAuthorizers(this.authorizers, a);
  }

  resolveRules(user: UserInfo, namespace: string): RuleResolution {
    return resolveRulesOf(this.authorizers, user, namespace);
  }

  async authorize(a: Attributes): Promise<Decision> {
    const reasons: string[] = [];
    for (const authorizer of this.authorizers) {
      let d: Decision;
      try {
        d = await authorizer.authorize(a);
      } catch (e) {
        reasons.push(`authorizer error: ${(e as Error).message}`);
        continue;
      }
      if (d.decision === 'allow') return d;
      if (d.decision === 'deny') return { decision: 'deny', reason: denyMessage(a, [d.reason]) };
      if (d.reason !== '') reasons.push(d.reason);
    }
    return { decision: 'deny', reason: denyMessage(a, reasons) };
  }
}

/** Kubernetes' forbidden message for the request, then the reasons that add to it. */
export function denyMessage(a: Attributes, reasons: readonly string[]): string {
  const base = forbiddenMessage(a);
  const extra = [...new Set(reasons.filter((r) => r !== '' && r !== base))].map((r) =>
    r.startsWith(`${base}: `) ? r.slice(base.length + 2) : r,
  );
  return extra.length === 0 ? base : `${base}: ${extra.join('; ')}`;
}
