// ServiceAccounts: identities for pods; the name is what tokens and pods refer to.
import { type corev1, kindFor } from '@k8ts/api';
import type { Strategy } from './types';
import { isDNS1123Subdomain } from './validation';

export const serviceAccountStrategy: Strategy<corev1.ServiceAccount> = {
  kind: kindFor('v1', 'ServiceAccount')!,
  hasStatus: false,
  nameCheck: isDNS1123Subdomain,

  validate(sa, errs) {
    (sa.secrets ?? []).forEach((s, i) => {
      if (!s.name) errs.required(`secrets[${i}].name`);
    });
    (sa.imagePullSecrets ?? []).forEach((s, i) => {
      if (!s.name) errs.required(`imagePullSecrets[${i}].name`);
    });
  },
};
