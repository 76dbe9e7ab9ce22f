// Secrets: stringData merged into data on write, keys checked, the total size bounded, the
// keys a typed secret needs, an immutable type, and no data change once immutable is set.
import { type corev1, kindFor } from '@k8ts/api';
import { semanticEqual } from '../util';
import type { Strategy } from './types';
import { isConfigMapKey, isDNS1123Subdomain } from './validation';

export const MAX_SECRET_BYTES = 1024 * 1024;

const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

export const secretStrategy: Strategy<corev1.Secret> = {
  kind: kindFor('v1', 'Secret')!,
  hasStatus: false,
  nameCheck: isDNS1123Subdomain,

  defaults(secret) {
    if (!secret.type) secret.type = 'Opaque';
    const sd = secret.stringData ?? {};
    if (Object.keys(sd).length > 0) {
      secret.data ??= {};
      for (const [k, v] of Object.entries(sd)) secret.data[k] = Buffer.from(v, 'utf8');
      secret.stringData = {};
    }
  },

  validate(secret, errs) {
    let total = 0;
    for (const [k, v] of Object.entries(secret.data ?? {})) {
      errs.invalidEach('data', k, isConfigMapKey(k));
      total += v.length;
    }
    if (total > MAX_SECRET_BYTES) errs.tooLong('data', MAX_SECRET_BYTES);
    const type = secret.type ?? 'Opaque';
    for (const key of REQUIRED_KEYS[type] ?? []) {
      if (!secret.data?.[key]) errs.required(`data[${key}]`);
    }
    if (type === 'kubernetes.io/service-account-token' && !secret.metadata?.annotations?.['kubernetes.io/service-account.name']) {
      errs.required('metadata.annotations[kubernetes.io/service-account.name]');
    }
    if (type === 'kubernetes.io/basic-auth' && !secret.data?.username && !secret.data?.password) {
      errs.required('data[username]', 'either username or password must be specified');
    }
  },

  validateUpdate(secret, old, errs) {
    if ((old.type ?? 'Opaque') !== (secret.type ?? 'Opaque')) errs.immutable('type', secret.type ?? '');
    if (old.immutable) {
      if (!secret.immutable) errs.forbidden('immutable', 'field is immutable when `immutable` is set');
      if (!semanticEqual(old.data ?? {}, secret.data ?? {})) errs.forbidden('data', 'field is immutable when `immutable` is set');
    }
  },

  fields(secret) {
    return { type: secret.type ?? '' };
  },
};
