// ConfigMaps: keys checked and not repeated between data and binaryData, the total size
// bounded, and no data change once immutable is set.
import { type corev1, kindFor } from '@k8ts/api';
import { semanticEqual } from '../util';
import type { Strategy } from './types';
import { isConfigMapKey, isDNS1123Subdomain } from './validation';

export const MAX_CONFIGMAP_BYTES = 1024 * 1024;

export const configMapStrategy: Strategy<corev1.ConfigMap> = {
  kind: kindFor('v1', 'ConfigMap')!,
  hasStatus: false,
  nameCheck: isDNS1123Subdomain,

  validate(cm, errs) {
    let total = 0;
    for (const [k, v] of Object.entries(cm.data ?? {})) {
      errs.invalidEach('data', k, isConfigMapKey(k));
      total += k.length + Buffer.byteLength(v);
    }
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) {
      errs.invalidEach('binaryData', k, isConfigMapKey(k));
      if (cm.data && Object.hasOwn(cm.data, k)) errs.invalid('data', k, 'duplicate of key present in binaryData');
      total += k.length + v.length;
    }
    if (total > MAX_CONFIGMAP_BYTES) errs.tooLong('', MAX_CONFIGMAP_BYTES);
  },

  validateUpdate(cm, old, errs) {
    if (old.immutable) {
      if (!cm.immutable) errs.forbidden('immutable', 'field is immutable when `immutable` is set');
      if (!semanticEqual(old.data ?? {}, cm.data ?? {})) errs.forbidden('data', 'field is immutable when `immutable` is set');
      if (!semanticEqual(old.binaryData ?? {}, cm.binaryData ?? {})) errs.forbidden('binaryData', 'field is immutable when `immutable` is set');
    }
  },
};
