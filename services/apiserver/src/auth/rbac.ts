// The RBAC authorizer: a request is allowed when a ClusterRoleBinding, or a RoleBinding in the
// request's namespace, grants the user a role with a rule that matches the request. RBAC only
// adds permissions: when nothing matches it has no opinion (the chain then denies), with
// Kubernetes' forbidden message as the reason.
//
// Matching, as Kubernetes' rbac/v1 helpers:
// - verbs: the verb, or "*";
// - apiGroups: the group ("" is core), or "*";
// - resources: "*" (everything, subresources included), the exact "resource" or
//   "resource/subresource", or "*/subresource" (that subresource of any resource); "pods"
//   does not cover "pods/status";
// - resourceNames: empty means any object; otherwise the request must name one of them (so a
//   create, or a list without a name, never matches);
// - a non-resource request (GET /healthz, /version, /apis/...) matches only rules with
//   nonResourceURLs: "*", the exact path, or a prefix ending in "*" ("/apis/*" covers
//   "/apis/apps/v1"; "/apis" itself needs its own entry); only ClusterRoleBindings grant them,
//   since such a request has no namespace.
// Subjects: User (by name), Group (by membership), ServiceAccount (name and namespace, both
// required: "system:serviceaccount:<namespace>:<name>").
// Members of system:masters are allowed everything, whatever the bindings say.
// ClusterRoles with an aggregationRule get, on top of their own rules, the rules of every
// ClusterRole whose labels one of its selectors matches (computed at evaluation time; k8ts has
// no aggregation controller). Selectors read as LabelSelectorAsSelector reads them, so an
// empty selector ({}) aggregates every other ClusterRole, as in Kubernetes.
// A binding to a role that does not exist grants nothing and is reported as Kubernetes does
// (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`) in the reason of a refusal and
// in the errors of resolveRules.
import type { metav1, rbacv1 } from '@k8ts/api';
import { SelectorError, tryLabelSelectorAsSelector } from '@k8ts/machinery';
import { aggregateMessage, forbiddenMessage } from './messages';
import { parseServiceAccountUsername } from './serviceaccount';
import {
  type Attributes,
  type Authorizer,
  type Decision,
  GROUP_MASTERS,
  type RbacSource,
  type RuleResolution,
  type RuleResolver,
  type UserInfo,
} from './types';

export const RBAC_API_GROUP = 'rbac.authorization.k8s.io';

/** What a rule is matched against. The verb is a string so that special verbs ("bind", "escalate") can be checked too. */
export interface RuleRequest {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  name?: string;
  /** Set for a non-resource request: the URL path; the resource fields are then ignored. */
  nonResourcePath?: string;
}

const has = (list: string[] | undefined, value: string): boolean => list?.includes(value) ?? false;

export function verbMatches(rule: rbacv1.PolicyRule, verb: string): boolean {
  return has(rule.verbs, '*') || has(rule.verbs, verb);
}

export function apiGroupMatches(rule: rbacv1.PolicyRule, apiGroup: string): boolean {
  return has(rule.apiGroups, '*') || has(rule.apiGroups, apiGroup);
}

export function resourceMatches(rule: rbacv1.PolicyRule, resource: string, subresource?: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: rbacv1.PolicyRule, name: string | undefined): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return name !== undefined && name !== '' && names.includes(name);
}

/** Whether a rule's nonResourceURLs cover a path: "*", the path itself, or a prefix ending in "*". */
export function nonResourceURLMatches(rule: rbacv1.PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === '*' || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.slice(0, -1))) return true;
  }
  return false;
}

/** Whether one rule allows the request. */
export function ruleAllows(rule: rbacv1.PolicyRule, req: RuleRequest): boolean {
  if (req.nonResourcePath !== undefined) return verbMatches(rule, req.verb) && nonResourceURLMatches(rule, req.nonResourcePath);
  return (
    verbMatches(rule, req.verb) &&
    apiGroupMatches(rule, req.apiGroup) &&
    resourceMatches(rule, req.resource, req.subresource) &&
    resourceNameMatches(rule, req.name)
  );
}

/** Whether any of the rules allows the request. */
export function rulesAllow(rules: readonly rbacv1.PolicyRule[], req: RuleRequest): boolean {
  return rules.some((r) => ruleAllows(r, req));
}

/** Whether a binding's subject is this user. */
export function subjectMatches(subject: rbacv1.Subject, user: UserInfo): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name !== undefined && subject.name !== '' && subject.name === user.name;
    case 'Group':
      return subject.name !== undefined && subject.name !== '' && user.groups.includes(subject.name);
    case 'ServiceAccount': {
      if (!subject.namespace || !subject.name) return false;
      const sa = parseServiceAccountUsername(user.name);
      return sa !== undefined && sa.namespace === subject.namespace && sa.name === subject.name;
    }
    default:
      return false;
  }
}

function describeSubject(s: rbacv1.Subject): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount "${s.namespace}/${s.name}"` : `${s.kind} ${JSON.stringify(s.name)}`;
}

/**
 * Whether an aggregation rule's selector picks a ClusterRole with these labels, as Kubernetes'
 * aggregation controller lists them (metav1.LabelSelectorAsSelector): an empty selector picks
 * every ClusterRole, and one that does not convert picks none.
 */
function aggregationSelects(selector: metav1.LabelSelector, labels: Record<string, string> | undefined): boolean {
  const converted = tryLabelSelectorAsSelector(selector);
  return !(converted instanceof SelectorError) && converted.matches(labels);
}

/** Where a rule came from, for the allow reason (audit). */
interface RuleOrigin {
  binding: string;
  role: string;
  subject: rbacv1.Subject;
}

export interface RbacAuthorizerOptions {
  /** Groups allowed everything. Default ["system:masters"]. */
  superuserGroups?: string[];
}

export class RbacAuthorizer implements Authorizer, RuleResolver {
  private readonly superuserGroups: readonly string[];

  constructor(
    private readonly source: RbacSource,
    opts: RbacAuthorizerOptions = {},
  ) {
    this.superuserGroups = opts.superuserGroups ?? [GROUP_MASTERS];
  }

  authorize(a: Attributes): Decision {
    const superGroup = this.superuserGroups.find((g) => a.user.groups.includes(g));
    if (superGroup !== undefined) return { decision: 'allow', reason: `RBAC: allowed: member of group ${JSON.stringify(superGroup)}` };
    const req: RuleRequest = {
      verb: a.verb,
      apiGroup: a.apiGroup,
      resource: a.resource,
      subresource: a.subresource,
      name: a.name,
      nonResourcePath: a.nonResourcePath,
    };
    // A non-resource request has no namespace: only ClusterRoleBindings can grant it.
    const namespace = a.nonResourcePath === undefined ? a.namespace : undefined;
    let origin: RuleOrigin | undefined;
    const errors: string[] = [];
    this.visitRules(
      a.user,
      namespace,
      (rule, o) => {
        if (!ruleAllows(rule, req)) return false;
        origin = o;
        return true;
      },
      (err) => errors.push(err),
    );
    if (origin) {
      return {
        decision: 'allow',
        reason: `RBAC: allowed by ${origin.binding} of ${origin.role} to ${describeSubject(origin.subject)}`,
      };
    }
    const base = forbiddenMessage(a);
    return { decision: 'noopinion', reason: errors.length === 0 ? base : `${base}: RBAC: ${aggregateMessage(errors)}` };
  }

  /**
   * What the user may do in `namespace` by its bindings (ClusterRoleBindings, then the
   * namespace's RoleBindings), as Kubernetes' RBAC RulesFor: the rules split into resource and
   * non-resource ones, never incomplete, with the bindings whose role is missing as errors.
   * Unlike rulesFor, superuser groups get no shortcut: as in Kubernetes, system:masters shows
   * what its bindings (cluster-admin) grant.
   */
  resolveRules(user: UserInfo, namespace: string): RuleResolution {
    const out: RuleResolution = { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
    this.visitRules(
      user,
      namespace || undefined,
      (rule) => {
        if ((rule.resources ?? []).length > 0) out.resourceRules.push(rule);
        if ((rule.nonResourceURLs ?? []).length > 0) out.nonResourceRules.push(rule);
        return false;
      },
      (err) => out.errors.push(err),
    );
    return out;
  }

  /**
   * Whether the user may do `verb` (any verb, "bind" and "escalate" included) on the resource, by
   * RBAC alone; used by the role and binding strategies to prevent privilege escalation.
   */
  allows(user: UserInfo, namespace: string | undefined, req: RuleRequest): boolean {
    if (this.superuserGroups.some((g) => user.groups.includes(g))) return true;
    let found = false;
    this.visitRules(user, namespace, (rule) => (found = ruleAllows(rule, req)));
    return found;
  }

  /**
   * Every rule granted to the user at this scope: ClusterRoleBindings, plus the RoleBindings of
   * `namespace` when given. Superusers get a rule allowing everything.
   */
  rulesFor(user: UserInfo, namespace?: string): rbacv1.PolicyRule[] {
    if (this.superuserGroups.some((g) => user.groups.includes(g))) {
      return [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }];
    }
    const rules: rbacv1.PolicyRule[] = [];
    this.visitRules(user, namespace, (rule) => {
      rules.push(rule);
      return false;
    });
    return rules;
  }

  /**
   * The rules of the role a binding refers to: a Role in `namespace` or a ClusterRole (with what it
   * aggregates). undefined when there is no such role.
   */
  referencedRules(ref: rbacv1.RoleRef, namespace?: string): rbacv1.PolicyRule[] | undefined {
    if (!ref.name) return undefined;
    if (ref.kind === 'ClusterRole') {
      const roles = new Map(this.source.clusterRoles().map((r) => [r.metadata?.name ?? '', r]));
      return roles.has(ref.name) ? effectiveRules(ref.name, roles) : undefined;
    }
    if (ref.kind === 'Role' && namespace) {
      const role = this.source.roles(namespace).find((r) => r.metadata?.name === ref.name);
      return role ? (role.rules ?? []) : undefined;
    }
    return undefined;
  }

  /**
   * Calls `visit` with each rule granted to the user at this scope until it returns true, and
   * `onError` with Kubernetes' message for each matching binding whose role does not exist.
   */
  private visitRules(
    user: UserInfo,
    namespace: string | undefined,
    visit: (rule: rbacv1.PolicyRule, origin: RuleOrigin) => boolean,
    onError: (message: string) => void = () => {},
  ): void {
    let clusterRoles: Map<string, rbacv1.ClusterRole> | undefined;
    const clusterRoleRules = (name: string): rbacv1.PolicyRule[] => {
      clusterRoles ??= new Map(this.source.clusterRoles().map((r) => [r.metadata?.name ?? '', r]));
      if (!clusterRoles.has(name)) onError(roleNotFound('clusterrole', name));
      return effectiveRules(name, clusterRoles);
    };

    for (const b of this.source.clusterRoleBindings()) {
      const subject = b.subjects?.find((s) => subjectMatches(s, user));
      if (!subject || b.roleRef?.kind !== 'ClusterRole' || !b.roleRef.name) continue;
      const origin = {
        binding: `ClusterRoleBinding ${JSON.stringify(b.metadata?.name ?? '')}`,
        role: `ClusterRole ${JSON.stringify(b.roleRef.name)}`,
        subject,
      };
      for (const rule of clusterRoleRules(b.roleRef.name)) if (visit(rule, origin)) return;
    }

    if (!namespace) return;
    let roles: Map<string, rbacv1.Role> | undefined;
    for (const b of this.source.roleBindings(namespace)) {
      const subject = b.subjects?.find((s) => subjectMatches(s, user));
      const ref = b.roleRef;
      if (!subject || !ref?.name) continue;
      let rules: rbacv1.PolicyRule[];
      if (ref.kind === 'ClusterRole') {
        rules = clusterRoleRules(ref.name);
      } else if (ref.kind === 'Role') {
        roles ??= new Map(this.source.roles(namespace).map((r) => [r.metadata?.name ?? '', r]));
        const role = roles.get(ref.name);
        if (!role) onError(roleNotFound('role', ref.name));
        rules = role?.rules ?? [];
      } else {
        continue;
      }
      const origin = {
        binding: `RoleBinding "${namespace}/${b.metadata?.name ?? ''}"`,
        role: `${ref.kind} ${ref.kind === 'Role' ? `"${namespace}/${ref.name}"` : JSON.stringify(ref.name)}`,
        subject,
      };
      for (const rule of rules) if (visit(rule, origin)) return;
    }
  }
}

/** Kubernetes' lister message for a missing role: `clusterrole.rbac.authorization.k8s.io "x" not found`. */
function roleNotFound(kind: 'role' | 'clusterrole', name: string): string {
  return `${kind}.${RBAC_API_GROUP} ${JSON.stringify(name)} not found`;
}

/** A ClusterRole's rules, with those of the roles it aggregates (recursively, each role once). */
function effectiveRules(name: string, roles: Map<string, rbacv1.ClusterRole>): rbacv1.PolicyRule[] {
  const out: rbacv1.PolicyRule[] = [];
  const seen = new Set<string>();
  const add = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    const role = roles.get(n);
    if (!role) return;
    out.push(...(role.rules ?? []));
    const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
    if (selectors.length === 0) return;
    for (const [other, r] of roles) {
      if (other !== n && selectors.some((s) => aggregationSelects(s, r.metadata?.labels))) add(other);
    }
  };
  add(name);
  return out;
}
