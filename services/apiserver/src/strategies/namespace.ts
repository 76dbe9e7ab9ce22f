// Namespaces: the "kubernetes" finalizer and phase Active on create, Terminating once a
// deletion starts; removed only when both metadata.finalizers and spec.finalizers are empty.
import { type corev1, kindFor } from '@k8ts/api';
import type { Strategy } from './types';
import { isDNS1123Label, isQualifiedName, validateEnum } from './validation';

/** The finalizer the namespace controller removes once the namespace's content is gone. */
export const NAMESPACE_FINALIZER = 'kubernetes';
/** The label Kubernetes puts on every namespace, holding its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** Namespaces that exist from the start and may not be deleted. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

export const namespaceStrategy: Strategy<corev1.Namespace> = {
  kind: kindFor('v1', 'Namespace')!,
  hasStatus: true,
  nameCheck: isDNS1123Label,

  defaults(ns) {
    const name = ns.metadata?.name;
    if (ns.metadata && name) {
      ns.metadata.labels ??= {};
      ns.metadata.labels[NAMESPACE_NAME_LABEL] = name;
    }
  },

  prepareForCreate(ns) {
    ns.spec ??= { finalizers: [] };
    if (!(ns.spec.finalizers ?? []).includes(NAMESPACE_FINALIZER)) ns.spec.finalizers = [...(ns.spec.finalizers ?? []), NAMESPACE_FINALIZER];
    ns.status = { phase: 'Active', conditions: [] };
  },

  validate(ns, errs) {
    (ns.spec?.finalizers ?? []).forEach((f, i) => {
      errs.invalidEach(`spec.finalizers[${i}]`, f, isQualifiedName(f));
    });
  },

  validateUpdate(ns, old, errs) {
    if (old.metadata?.deletionTimestamp) {
      const before = new Set(old.spec?.finalizers ?? []);
      (ns.spec?.finalizers ?? []).forEach((f, i) => {
        if (!before.has(f)) errs.forbidden(`spec.finalizers[${i}]`, 'no new finalizers can be added if the object is being deleted');
      });
    }
  },

  validateStatusUpdate(ns, old, errs) {
    validateEnum(ns.status?.phase, ['Active', 'Terminating'], 'status.phase', errs, false);
    if (old.metadata?.deletionTimestamp && ns.status?.phase !== 'Terminating') {
      errs.invalid('status.phase', ns.status?.phase ?? '', 'may only be Terminating once a deletion has started');
    }
  },

  fields(ns) {
    return { 'status.phase': ns.status?.phase ?? '' };
  },

  beginDelete(ns) {
    ns.status ??= { phase: '', conditions: [] };
    ns.status.phase = 'Terminating';
  },

  readyToRemove(ns) {
    return (ns.spec?.finalizers ?? []).length === 0;
  },
};
