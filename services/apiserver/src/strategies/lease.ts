// Leases: node heartbeats and leader election.
import { type coordinationv1, kindFor } from '@k8ts/api';
import type { Strategy } from './types';
import { isDNS1123Subdomain } from './validation';

export const leaseStrategy: Strategy<coordinationv1.Lease> = {
  kind: kindFor('coordination.k8s.io/v1', 'Lease')!,
  hasStatus: false,
  nameCheck: isDNS1123Subdomain,

  validate(lease, errs) {
    const s = lease.spec;
    if (s?.leaseDurationSeconds !== undefined && s.leaseDurationSeconds <= 0) {
      errs.invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0');
    }
    if (s?.leaseTransitions !== undefined && s.leaseTransitions < 0) {
      errs.invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0');
    }
  },
};
