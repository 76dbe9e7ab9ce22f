// RoleBindings: grant a Role or ClusterRole to subjects within one namespace; roleRef is immutable.
import { kindFor, type rbacv1 } from '@k8ts/api';
import { defaultSubjects, validateRoleRef, validateRoleRefUpdate, validateSubjects } from './rbacrules';
import type { Strategy } from './types';
import { isPathSegmentName } from './validation';

export const roleBindingStrategy: Strategy<rbacv1.RoleBinding> = {
  kind: kindFor('rbac.authorization.k8s.io/v1', 'RoleBinding')!,
  hasStatus: false,
  nameCheck: isPathSegmentName,
  defaults(rb) {
    defaultSubjects(rb.subjects);
  },
  validate(rb, errs) {
    validateRoleRef(rb.roleRef, ['Role', 'ClusterRole'], errs);
    validateSubjects(rb.subjects, false, errs);
  },
  validateUpdate(rb, old, errs) {
    validateRoleRefUpdate(rb.roleRef, old.roleRef, errs);
  },
};
