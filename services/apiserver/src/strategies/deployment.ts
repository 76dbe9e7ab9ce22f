// Deployments: a ReplicaSet template rolled out by strategy (RollingUpdate 25%/25% by
// default, or Recreate), with a revision history limit and a progress deadline.
import { type appsv1, kindFor, type metav1 } from '@k8ts/api';
import type { Strategy } from './types';
import { type ErrorList, isDNS1123Subdomain, validateEnum, validateNonNegative } from './validation';
import { defaultWorkload, validateWorkload, validateWorkloadStatus, validateWorkloadUpdate } from './workload';

function validateIntOrPercent(v: metav1.IntOrString | undefined, path: string, errs: ErrorList): number | undefined {
  if (!v) return undefined;
  if (v.strVal !== undefined) {
    const m = /^(\d+)%$/.exec(v.strVal);
    if (!m) {
      errs.invalid(path, v.strVal, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
      return undefined;
    }
    const n = Number(m[1]);
    if (n > 100) errs.invalid(path, v.strVal, 'must not be greater than 100%');
    return n;
  }
  const n = v.intVal ?? 0;
  if (n < 0) errs.invalid(path, n, 'must be greater than or equal to 0');
  return n;
}

export const deploymentStrategy: Strategy<appsv1.Deployment> = {
  kind: kindFor('apps/v1', 'Deployment')!,
  hasStatus: true,
  nameCheck: isDNS1123Subdomain,

  defaults(d) {
    d.spec ??= {} as appsv1.DeploymentSpec;
    const spec = d.spec;
    defaultWorkload(spec);
    spec.strategy ??= { type: '' };
    if (!spec.strategy.type) spec.strategy.type = 'RollingUpdate';
    if (spec.strategy.type === 'RollingUpdate') {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxUnavailable ??= { strVal: '25%' };
      spec.strategy.rollingUpdate.maxSurge ??= { strVal: '25%' };
    }
    if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
    if (spec.progressDeadlineSeconds === undefined) spec.progressDeadlineSeconds = 600;
  },

  prepareForCreate(d) {
    d.status = {
      observedGeneration: 0,
      replicas: 0,
      updatedReplicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      unavailableReplicas: 0,
      conditions: [],
    };
  },

  validate(d, errs) {
    const spec = d.spec;
    validateWorkload(spec, 'deployment', errs);
    if (!spec) return;
    const st = spec.strategy;
    validateEnum(st?.type, ['RollingUpdate', 'Recreate'], 'spec.strategy.type', errs);
    if (st?.type === 'Recreate' && st.rollingUpdate) {
      errs.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'");
    }
    if (st?.type === 'RollingUpdate' && st.rollingUpdate) {
      const ru = st.rollingUpdate;
      const mu = validateIntOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable', errs);
      const ms = validateIntOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge', errs);
      if (mu === 0 && ms === 0) errs.invalid('spec.strategy.rollingUpdate.maxUnavailable', 0, 'may not be 0 when `maxSurge` is 0');
    }
    validateNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit', errs);
    if (spec.progressDeadlineSeconds !== undefined) {
      validateNonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds', errs);
      if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
        errs.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds');
      }
    }
  },

  validateUpdate(d, old, errs) {
    validateWorkloadUpdate(d.spec, old.spec, errs);
  },

  validateStatusUpdate(d, _old, errs) {
    validateWorkloadStatus(d.status as unknown as Record<string, unknown>, errs);
  },
};
