// What the four RBAC kinds share: policy rules, subjects and role references.
import type { rbacv1 } from '@k8ts/api';
import { type ErrorList, isDNS1123Subdomain, validateEnum } from './validation';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export function validateRules(rules: rbacv1.PolicyRule[] | undefined, namespaced: boolean, errs: ErrorList): void {
  (rules ?? []).forEach((r, i) => {
    const p = `rules[${i}]`;
    if ((r.verbs ?? []).length === 0) errs.required(`${p}.verbs`, 'verbs must contain at least one value');
    const urls = r.nonResourceURLs ?? [];
    if (urls.length > 0) {
      if (namespaced) errs.invalid(`${p}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs');
      if ((r.apiGroups ?? []).length > 0 || (r.resources ?? []).length > 0 || (r.resourceNames ?? []).length > 0) {
        errs.invalid(`${p}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs');
      }
      return;
    }
    if ((r.apiGroups ?? []).length === 0) errs.required(`${p}.apiGroups`, 'resource rules must supply at least one api group');
    if ((r.resources ?? []).length === 0) errs.required(`${p}.resources`, 'resource rules must supply at least one resource');
  });
}

export function defaultSubjects(subjects: rbacv1.Subject[] | undefined): void {
  for (const s of subjects ?? []) {
    if (s.apiGroup) continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
  }
}

export function validateSubjects(subjects: rbacv1.Subject[] | undefined, requireSANamespace: boolean, errs: ErrorList): void {
  (subjects ?? []).forEach((s, i) => {
    const p = `subjects[${i}]`;
    if (!s.name) errs.required(`${p}.name`);
    validateEnum(s.kind, ['ServiceAccount', 'User', 'Group'], `${p}.kind`, errs);
    if (s.kind === 'ServiceAccount') {
      if (s.apiGroup) errs.notSupported(`${p}.apiGroup`, s.apiGroup, ['']);
      if (s.name) errs.invalidEach(`${p}.name`, s.name, isDNS1123Subdomain(s.name));
      if (requireSANamespace && !s.namespace) errs.required(`${p}.namespace`);
    } else if ((s.kind === 'User' || s.kind === 'Group') && s.apiGroup !== RBAC_GROUP) {
      errs.notSupported(`${p}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]);
    }
  });
}

export function validateRoleRef(ref: rbacv1.RoleRef | undefined, kinds: readonly string[], errs: ErrorList): void {
  if (!ref) {
    errs.required('roleRef');
    return;
  }
  validateEnum(ref.kind, kinds, 'roleRef.kind', errs);
  if (ref.apiGroup !== RBAC_GROUP) errs.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]);
  if (!ref.name) errs.required('roleRef.name');
}

export function validateRoleRefUpdate(ref: rbacv1.RoleRef | undefined, old: rbacv1.RoleRef | undefined, errs: ErrorList): void {
  if (ref?.kind !== old?.kind || ref?.name !== old?.name || ref?.apiGroup !== old?.apiGroup) {
    errs.invalid('roleRef', ref ?? null, 'cannot change roleRef');
  }
}
