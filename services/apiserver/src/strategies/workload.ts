// What ReplicaSets and Deployments share: a replica count, a selector that must match the
// template's labels and cannot change, and a pod template whose pods restart Always.
import type { corev1, metav1 } from '@k8ts/api';
import { semanticEqual } from '../util';
import { defaultPodSpec, validatePodTemplate } from './podspec';
import { type ErrorList, selectorMisses, validateEnum, validateLabelSelector, validateNonNegative } from './validation';

export interface WorkloadSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: metav1.LabelSelector;
  template?: corev1.PodTemplateSpec;
}

export function defaultWorkload(spec: WorkloadSpec): void {
  if (spec.replicas === undefined) spec.replicas = 1;
  if (spec.template) {
    spec.template.spec ??= {} as corev1.PodSpec;
    defaultPodSpec(spec.template.spec);
  }
}

export function validateWorkload(spec: WorkloadSpec | undefined, kindLower: string, errs: ErrorList): void {
  if (!spec) {
    errs.required('spec');
    return;
  }
  validateNonNegative(spec.replicas, 'spec.replicas', errs);
  validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds', errs);
  const sel = spec.selector;
  const empty = !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
  if (!sel) errs.required('spec.selector');
  else if (empty) errs.invalid('spec.selector', sel, `empty selector is invalid for ${kindLower}`);
  else validateLabelSelector(sel, 'spec.selector', errs);
  validatePodTemplate(spec.template, 'spec.template', errs);
  const labels = spec.template?.metadata?.labels ?? {};
  if (spec.template && sel && !empty && selectorMisses(sel, labels)) {
    errs.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`');
  }
  if (spec.template?.spec) validateEnum(spec.template.spec.restartPolicy, ['Always'], 'spec.template.spec.restartPolicy', errs);
  if (spec.template?.spec?.activeDeadlineSeconds !== undefined) {
    errs.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicaSet is not Supported');
  }
}

export function validateWorkloadUpdate(spec: WorkloadSpec | undefined, old: WorkloadSpec | undefined, errs: ErrorList): void {
  if (!semanticEqual(spec?.selector, old?.selector)) errs.immutable('spec.selector', spec?.selector ?? null);
}

export function validateWorkloadStatus(status: Record<string, unknown> | undefined, errs: ErrorList): void {
  for (const [k, v] of Object.entries(status ?? {})) {
    if (typeof v === 'number' && v < 0) errs.invalid(`status.${k}`, v, 'must be greater than or equal to 0');
  }
}
