// The apiserver's authorizer: asks each authorizer in order (Node, then RBAC); the first
// 'allow' or 'deny' is the answer. When all have no opinion the request is denied. Every deny
// the chain returns starts with Kubernetes' forbidden message (user, verb, resource, scope),
// followed by what the authorizers said when that adds something, e.g.
//   User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace
//   "default": no relationship found between node 'n1' and secrets default/db-password
// An authorizer that throws is treated as having no opinion, and its error is reported in the
// reason (never as an allow).
import { forbiddenMessage } from './messages';
import type { Attributes, Authorizer, Decision } from './types';

export class UnionAuthorizer implements Authorizer {
  private readonly authorizers: readonly Authorizer[];

  constructor(authorizers: readonly Authorizer[]) {
    this.authorizers = authorizers;
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
