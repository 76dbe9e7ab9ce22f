// ClusterRoleBindings: grant a ClusterRole to subjects across the cluster; roleRef is immutable.
import { kindFor, type rbacv1 } from '@k8ts/api';
import { defaultSubjects, validateRoleRef, validateRoleRefUpdate, validateSubjects } from './rbacrules';
import type { Strategy } from './types';
import { isPathSegmentName } from './validation';

export const clusterRoleBindingStrategy: Strategy<rbacv1.ClusterRoleBinding> = {
  kind: kindFor('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding')!,
  hasStatus: false,
  nameCheck: isPathSegmentName,
  defaults(rb) {
    defaultSubjects(rb.subjects);
  },
  validate(rb, errs) {
    validateRoleRef(rb.roleRef, ['ClusterRole'], errs);
    validateSubjects(rb.subjects, true, errs);
  },
  validateUpdate(rb, old, errs) {
    validateRoleRefUpdate(rb.roleRef, old.roleRef, errs);
  },
};
