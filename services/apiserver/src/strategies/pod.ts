// Pods: defaults and validation of the spec, status reset on create, the narrow set of spec
// changes an update may make, graceful deletion, and the pod field selectors.
import { type corev1, kindFor } from '@k8ts/api';
import { clone, semanticEqual } from '../util';
import { defaultPodSpec, qosClass, validatePodSpec } from './podspec';
import type { Strategy } from './types';
import { ErrorList, isDNS1123Subdomain, validateEnum } from './validation';

export const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;

/** The spec fields an update may change, as in Kubernetes' ValidatePodUpdate. */
function mutableView(newSpec: corev1.PodSpec, oldSpec: corev1.PodSpec): corev1.PodSpec {
  const view = clone(oldSpec);
  // Images of existing containers.
  (view.containers ?? []).forEach((c, i) => {
    const n = newSpec.containers?.[i];
    if (n) {
      c.image = n.image;
      c.imagePullPolicy = n.imagePullPolicy;
    }
  });
  (view.initContainers ?? []).forEach((c, i) => {
    const n = newSpec.initContainers?.[i];
    if (n) {
      c.image = n.image;
      c.imagePullPolicy = n.imagePullPolicy;
    }
  });
  view.activeDeadlineSeconds = newSpec.activeDeadlineSeconds;
  // Tolerations: additions only (checked below), so the new list stands in for the old.
  view.tolerations = newSpec.tolerations;
  // Scheduling gates may only be removed (checked below).
  view.schedulingGates = newSpec.schedulingGates;
  // A negative grace period may be raised to 1, as in Kubernetes.
  if ((oldSpec.terminationGracePeriodSeconds ?? 0) < 0 && newSpec.terminationGracePeriodSeconds === 1) view.terminationGracePeriodSeconds = 1;
  return view;
}

export const podStrategy: Strategy<corev1.Pod> = {
  kind: kindFor('v1', 'Pod')!,
  hasStatus: true,
  nameCheck: isDNS1123Subdomain,

  defaults(pod) {
    pod.spec ??= {} as corev1.PodSpec;
    defaultPodSpec(pod.spec);
  },

  prepareForCreate(pod) {
    pod.status = {
      phase: 'Pending',
      qosClass: qosClass(pod.spec ?? ({} as corev1.PodSpec)),
      conditions: [],
      hostIPs: [],
      podIPs: [],
      initContainerStatuses: [],
      containerStatuses: [],
    } as corev1.PodStatus;
  },

  validate(pod, errs) {
    validatePodSpec(pod.spec, 'spec', errs, { requireImage: true });
  },

  validateUpdate(pod, old, errs) {
    const n = pod.spec ?? ({} as corev1.PodSpec);
    const o = old.spec ?? ({} as corev1.PodSpec);
    if (!semanticEqual(mutableView(n, o), n)) {
      errs.forbidden(
        'spec',
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      );
    }
    if ((n.containers ?? []).length !== (o.containers ?? []).length) errs.forbidden('spec.containers', 'pod updates may not add or remove containers');
    for (const t of o.tolerations ?? []) {
      if (!(n.tolerations ?? []).some((x) => semanticEqual(x, t))) {
        errs.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds');
        break;
      }
    }
    const oldGates = new Set((o.schedulingGates ?? []).map((g) => g.name));
    (n.schedulingGates ?? []).forEach((g, i) => {
      if (!oldGates.has(g.name)) errs.forbidden(`spec.schedulingGates[${i}]`, 'only deletion is allowed, but found new scheduling gate');
    });
    if (o.activeDeadlineSeconds !== undefined && (n.activeDeadlineSeconds === undefined || n.activeDeadlineSeconds > o.activeDeadlineSeconds)) {
      errs.invalid('spec.activeDeadlineSeconds', n.activeDeadlineSeconds ?? null, 'must be less than or equal to previous value');
    }
  },

  validateStatusUpdate(pod, _old, errs) {
    const s = pod.status;
    if (!s) return;
    if (s.phase) validateEnum(s.phase, POD_PHASES, 'status.phase', errs);
    const seen = new Set<string>();
    (s.conditions ?? []).forEach((c, i) => {
      if (!c.type) errs.required(`status.conditions[${i}].type`);
      if (seen.has(c.type ?? '')) errs.duplicate(`status.conditions[${i}].type`, c.type);
      seen.add(c.type ?? '');
      validateEnum(c.status, ['True', 'False', 'Unknown'], `status.conditions[${i}].status`, errs);
    });
  },

  fields(pod) {
    return {
      'spec.nodeName': pod.spec?.nodeName ?? '',
      'spec.restartPolicy': pod.spec?.restartPolicy ?? '',
      'spec.schedulerName': pod.spec?.schedulerName ?? '',
      'spec.serviceAccountName': pod.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(pod.spec?.hostNetwork ?? false),
      'status.phase': pod.status?.phase ?? '',
      'status.podIP': pod.status?.podIP ?? '',
      'status.nominatedNodeName': pod.status?.nominatedNodeName ?? '',
    };
  },

  deleteGracePeriod(pod, requested) {
    // A pod that never reached a node, or has finished, has nothing to stop: it goes at once.
    const phase = pod.status?.phase ?? '';
    if (!pod.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
    const g = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, g);
  },
};

/** Exposed for tests: the errors of an update of `pod` over `old`. */
export function podUpdateErrors(pod: corev1.Pod, old: corev1.Pod): ErrorList {
  const errs = new ErrorList();
  podStrategy.validateUpdate!(pod, old, errs);
  return errs;
}
