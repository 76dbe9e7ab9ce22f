// ReplicaSets: a replica count of pods from a template; scaled through the Scale subresource.
import { type appsv1, kindFor } from '@k8ts/api';
import type { Strategy } from './types';
import { isDNS1123Subdomain } from './validation';
import { defaultWorkload, validateWorkload, validateWorkloadStatus, validateWorkloadUpdate } from './workload';

export const replicaSetStrategy: Strategy<appsv1.ReplicaSet> = {
  kind: kindFor('apps/v1', 'ReplicaSet')!,
  hasStatus: true,
  nameCheck: isDNS1123Subdomain,

  defaults(rs) {
    rs.spec ??= {} as appsv1.ReplicaSetSpec;
    defaultWorkload(rs.spec);
  },

  prepareForCreate(rs) {
    rs.status = { replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 0, conditions: [] };
  },

  validate(rs, errs) {
    validateWorkload(rs.spec, 'replicaset', errs);
  },

  validateUpdate(rs, old, errs) {
    validateWorkloadUpdate(rs.spec, old.spec, errs);
  },

  validateStatusUpdate(rs, _old, errs) {
    validateWorkloadStatus(rs.status as unknown as Record<string, unknown>, errs);
  },

  fields(rs) {
    return { 'status.replicas': String(rs.status?.replicas ?? 0) };
  },
};
