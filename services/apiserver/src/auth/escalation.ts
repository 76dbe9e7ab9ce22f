// Privilege-escalation prevention for RBAC writes, as Kubernetes does it: RBAC itself lets a
// namespace "admin" create Roles and RoleBindings, but nobody may grant permissions they do not
// hold. The registry strategies of roles, clusterroles, rolebindings and clusterrolebindings
// call these checks on create and update, after authorization, and answer PERMISSION_DENIED
// with the returned message.
//
// - Writing a Role or ClusterRole is allowed when the user holds every permission in it (at the
//   role's scope: its namespace for a Role, the cluster for a ClusterRole), or has the verb
//   "escalate" on roles/clusterroles. Writing an aggregationRule needs every permission ("*").
// - Writing a RoleBinding or ClusterRoleBinding is allowed when the user holds every permission
//   of the referenced role at the binding's scope, or has the verb "bind" on that role.
// "Holds" compares rules one permission at a time (verb × group × resource × name), so a "*" is
// covered only by a "*".
import type { rbacv1 } from '@k8ts/api';
import { RBAC_API_GROUP, type RbacAuthorizer } from './rbac';
import type { UserInfo } from './types';

const has = (list: string[] | undefined, v: string) => list?.includes(v) ?? false;

/** Splits a rule into rules of one verb, one group, one resource (and one name, when it has names). */
export function breakdownRule(rule: rbacv1.PolicyRule): rbacv1.PolicyRule[] {
  const out: rbacv1.PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs ?? []) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        else for (const n of names) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [n] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
  }
  return out;
}

function resourceCovered(owner: string[] | undefined, resource: string): boolean {
  if (has(owner, '*') || has(owner, resource)) return true;
  const slash = resource.indexOf('/');
  return slash > 0 && has(owner, `*/${resource.slice(slash + 1)}`);
}

function urlCovered(owner: string[] | undefined, url: string): boolean {
  return (owner ?? []).some((o) => o === '*' || o === url || (o.endsWith('*') && url.startsWith(o.slice(0, -1))));
}

/** Whether an owner rule covers a single-permission rule (from breakdownRule). */
export function ruleCovers(owner: rbacv1.PolicyRule, sub: rbacv1.PolicyRule): boolean {
  const verb = sub.verbs?.[0] ?? '';
  if (!has(owner.verbs, '*') && !has(owner.verbs, verb)) return false;
  if (sub.nonResourceURLs && sub.nonResourceURLs.length > 0) return urlCovered(owner.nonResourceURLs, sub.nonResourceURLs[0]);
  const group = sub.apiGroups?.[0] ?? '';
  if (!has(owner.apiGroups, '*') && !has(owner.apiGroups, group)) return false;
  if (!resourceCovered(owner.resources, sub.resources?.[0] ?? '')) return false;
  const ownerNames = owner.resourceNames ?? [];
  if (ownerNames.length === 0) return true;
  const name = sub.resourceNames?.[0];
  return name !== undefined && ownerNames.includes(name);
}

/** The single permissions of `requested` that `owned` does not cover (empty when all are covered). */
export function uncoveredRules(owned: readonly rbacv1.PolicyRule[], requested: readonly rbacv1.PolicyRule[]): rbacv1.PolicyRule[] {
  return requested.flatMap(breakdownRule).filter((sub) => !owned.some((o) => ruleCovers(o, sub)));
}

function describeRule(r: rbacv1.PolicyRule): string {
  const parts: string[] = [];
  const list = (label: string, v: string[] | undefined) => {
    if (v && v.length > 0) parts.push(`${label}:[${v.map((x) => JSON.stringify(x)).join(' ')}]`);
  };
  list('APIGroups', r.apiGroups);
  list('Resources', r.resources);
  list('ResourceNames', r.resourceNames);
  list('NonResourceURLs', r.nonResourceURLs);
  list('Verbs', r.verbs);
  return `{${parts.join(', ')}}`;
}

function refusal(user: UserInfo, missing: rbacv1.PolicyRule[], scope: string): string {
  const shown = missing.slice(0, 10).map(describeRule);
  if (missing.length > shown.length) shown.push(`... and ${missing.length - shown.length} more`);
  return `user ${JSON.stringify(user.name)} is attempting to grant RBAC permissions not currently held ${scope}: ${shown.join('; ')}`;
}

const scopeOf = (namespace?: string) => (namespace ? `in the namespace ${JSON.stringify(namespace)}` : 'at the cluster scope');

/**
 * Checks that `user` may write a Role (namespace given) or ClusterRole (no namespace) with these
 * rules. Returns undefined when allowed, else the refusal message.
 */
export function checkRoleEscalation(
  rbac: RbacAuthorizer,
  user: UserInfo,
  role: { namespace?: string; name?: string; rules?: rbacv1.PolicyRule[]; aggregationRule?: rbacv1.AggregationRule },
): string | undefined {
  const resource = role.namespace ? 'roles' : 'clusterroles';
  if (rbac.allows(user, role.namespace, { verb: 'escalate', apiGroup: RBAC_API_GROUP, resource, name: role.name })) return undefined;
  const owned = rbac.rulesFor(user, role.namespace);
  const requested = [...(role.rules ?? [])];
  if ((role.aggregationRule?.clusterRoleSelectors ?? []).length > 0) {
    // An aggregated role may come to hold anything: only someone who holds everything may write one.
    requested.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
  }
  const missing = uncoveredRules(owned, requested);
  return missing.length === 0 ? undefined : refusal(user, missing, scopeOf(role.namespace));
}

/**
 * Checks that `user` may write a RoleBinding (namespace given) or ClusterRoleBinding (no
 * namespace) to `roleRef`. Returns undefined when allowed, else the refusal message.
 */
export function checkBindingEscalation(
  rbac: RbacAuthorizer,
  user: UserInfo,
  binding: { namespace?: string; roleRef?: rbacv1.RoleRef },
): string | undefined {
  const ref = binding.roleRef ?? {};
  const resource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
  if (rbac.allows(user, binding.namespace, { verb: 'bind', apiGroup: RBAC_API_GROUP, resource, name: ref.name })) return undefined;
  const roleRules = rbac.referencedRules(ref, binding.namespace);
  if (roleRules === undefined) {
    const where = ref.kind === 'Role' ? ` in the namespace ${JSON.stringify(binding.namespace ?? '')}` : '';
    return `${ref.kind ?? 'role'} ${JSON.stringify(ref.name ?? '')} not found${where}: a binding must refer to an existing role (unless the user may "bind" it)`;
  }
  const missing = uncoveredRules(rbac.rulesFor(user, binding.namespace), roleRules);
  return missing.length === 0 ? undefined : refusal(user, missing, scopeOf(binding.namespace));
}
