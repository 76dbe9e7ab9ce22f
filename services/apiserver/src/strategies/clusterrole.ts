// ClusterRoles: cluster-wide sets of RBAC rules (resource rules and non-resource URLs).
import { kindFor, type rbacv1 } from '@k8ts/api';
import { validateRules } from './rbacrules';
import type { Strategy } from './types';
import { isPathSegmentName, validateLabelSelector } from './validation';

export const clusterRoleStrategy: Strategy<rbacv1.ClusterRole> = {
  kind: kindFor('rbac.authorization.k8s.io/v1', 'ClusterRole')!,
  hasStatus: false,
  nameCheck: isPathSegmentName,
  validate(role, errs) {
    validateRules(role.rules, false, errs);
    (role.aggregationRule?.clusterRoleSelectors ?? []).forEach((s, i) => {
      validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`, errs);
    });
  },
};
