// Roles: namespaced sets of RBAC rules.
import { kindFor, type rbacv1 } from '@k8ts/api';
import { validateRules } from './rbacrules';
import type { Strategy } from './types';
import { isPathSegmentName } from './validation';

export const roleStrategy: Strategy<rbacv1.Role> = {
  kind: kindFor('rbac.authorization.k8s.io/v1', 'Role')!,
  hasStatus: false,
  nameCheck: isPathSegmentName,
  validate(role, errs) {
    validateRules(role.rules, true, errs);
  },
};
