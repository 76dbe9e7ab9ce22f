// Jobs (batch/v1): pods run to completion. As in Kubernetes' job strategy: parallelism and
// completions default to 1 (a work-queue job sets parallelism only and leaves completions
// unset), backoffLimit to 6; unless spec.manualSelector is true the server generates the
// selector from the job's uid and labels the pod template with it; the template's pods must
// restart OnFailure or Never; selector, template, completions and completionMode cannot
// change. k8ts supports the NonIndexed completion mode only.
import { type batchv1, type corev1, kindFor, type metav1 } from '@k8ts/api';
import { semanticEqual } from '../util';
import { defaultPodSpec, RESTART_POLICIES, validatePodTemplate } from './podspec';
import type { Strategy } from './types';
import {
  type ErrorList,
  isDNS1123Subdomain,
  selectorMisses,
  validateEnum,
  validateLabelSelector,
  validateNonNegative,
} from './validation';

/** The label (and generated selector key) holding the uid of the job that owns a pod. */
export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
/** The label holding the name of the job that owns a pod. */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
/** The labels Kubernetes set before 1.27, still added for selectors that use them. */
export const LEGACY_JOB_CONTROLLER_UID_LABEL = 'controller-uid';
export const LEGACY_JOB_NAME_LABEL = 'job-name';

export const JOB_RESTART_POLICIES = ['OnFailure', 'Never'] as const;
export const JOB_COMPLETION_MODES = ['NonIndexed', 'Indexed'] as const;

/** Job labels default to the template's labels when the job has none (Kubernetes' SetDefaults_Job). */
function defaultJobLabels(job: batchv1.Job): void {
  const labels = job.spec?.template?.metadata?.labels ?? {};
  if (Object.keys(labels).length === 0) return;
  const meta = (job.metadata ??= {} as metav1.ObjectMeta);
  if (Object.keys(meta.labels ?? {}).length === 0) meta.labels = { ...labels };
}

/**
 * Labels the pod template with the job's uid and name (keeping labels the client set, which
 * validation then checks) and selects the uid label, as Kubernetes' generateSelector does.
 */
function generateSelector(job: batchv1.Job): void {
  const spec = job.spec!;
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  spec.template ??= {} as corev1.PodTemplateSpec;
  spec.template.metadata ??= {} as metav1.ObjectMeta;
  const labels = (spec.template.metadata.labels ??= {});
  for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!Object.hasOwn(labels, key)) labels[key] = name;
  for (const key of [LEGACY_JOB_CONTROLLER_UID_LABEL, JOB_CONTROLLER_UID_LABEL]) if (!Object.hasOwn(labels, key)) labels[key] = uid;
  spec.selector ??= { matchLabels: {}, matchExpressions: [] };
  const match = (spec.selector.matchLabels ??= {});
  if (!Object.hasOwn(match, JOB_CONTROLLER_UID_LABEL)) match[JOB_CONTROLLER_UID_LABEL] = uid;
}

/** A template label that must hold a given value (Kubernetes' ValidateHasLabel). */
function validateHasLabel(labels: Record<string, string>, key: string, expected: string, errs: ErrorList): void {
  const path = `spec.template.metadata.labels[${key}]`;
  if (!Object.hasOwn(labels, key)) errs.required(path, `must be '${expected}'`);
  else if (labels[key] !== expected) errs.invalid(path, labels, `must be '${expected}'`);
}

/** The generated selector and template labels name this job (unless manualSelector is true). */
function validateGeneratedSelector(job: batchv1.Job, errs: ErrorList): void {
  const spec = job.spec;
  if (!spec || spec.manualSelector === true) return;
  const labels = spec.template?.metadata?.labels;
  if (!labels || Object.keys(labels).length === 0) return;
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  validateHasLabel(labels, LEGACY_JOB_CONTROLLER_UID_LABEL, uid, errs);
  validateHasLabel(labels, LEGACY_JOB_NAME_LABEL, name, errs);
  validateHasLabel(labels, JOB_CONTROLLER_UID_LABEL, uid, errs);
  validateHasLabel(labels, JOB_NAME_LABEL, name, errs);
  if (spec.selector && selectorMisses(spec.selector, { [JOB_CONTROLLER_UID_LABEL]: uid })) {
    errs.invalid('spec.selector', spec.selector, '`selector` not auto-generated');
  }
}

function validatePositive(value: number | undefined, path: string, errs: ErrorList): void {
  if (value !== undefined && value <= 0) errs.invalid(path, value, 'must be greater than 0');
}

export const jobStrategy: Strategy<batchv1.Job> = {
  kind: kindFor('batch/v1', 'Job')!,
  hasStatus: true,
  nameCheck: isDNS1123Subdomain,

  defaults(job) {
    job.spec ??= {} as batchv1.JobSpec;
    const spec = job.spec;
    // A non-parallel job may leave both unset; a work queue sets parallelism only.
    if (spec.completions === undefined && spec.parallelism === undefined) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    if (spec.parallelism === undefined) spec.parallelism = 1;
    if (spec.backoffLimit === undefined) spec.backoffLimit = 6;
    if (spec.completionMode === undefined || spec.completionMode === '') spec.completionMode = 'NonIndexed';
    if (spec.suspend === undefined) spec.suspend = false;
    if (spec.manualSelector === undefined) spec.manualSelector = false;
    if (spec.template) {
      spec.template.spec ??= {} as corev1.PodSpec;
      defaultPodSpec(spec.template.spec);
    }
    defaultJobLabels(job);
  },

  prepareForCreate(job) {
    job.status = { conditions: [], active: 0, succeeded: 0, failed: 0, completedIndexes: '' };
    // The registry has assigned metadata.uid (and the generated name) before this runs.
    if (job.spec && job.spec.manualSelector !== true) generateSelector(job);
    defaultJobLabels(job);
  },

  validate(job, errs) {
    const spec = job.spec;
    if (!spec) {
      errs.required('spec');
      return;
    }
    validateGeneratedSelector(job, errs);
    validateNonNegative(spec.parallelism, 'spec.parallelism', errs);
    validateNonNegative(spec.completions, 'spec.completions', errs);
    validatePositive(spec.activeDeadlineSeconds, 'spec.activeDeadlineSeconds', errs);
    validateNonNegative(spec.backoffLimit, 'spec.backoffLimit', errs);
    validateNonNegative(spec.ttlSecondsAfterFinished, 'spec.ttlSecondsAfterFinished', errs);
    if (spec.completionMode === 'Indexed') {
      errs.add(
        'spec.completionMode',
        'FieldValueNotSupported',
        'Unsupported value: "Indexed": supported values: "NonIndexed" (Indexed jobs are not supported by k8ts)',
      );
    } else validateEnum(spec.completionMode, JOB_COMPLETION_MODES, 'spec.completionMode', errs);
    const sel = spec.selector;
    if (!sel) errs.required('spec.selector');
    else validateLabelSelector(sel, 'spec.selector', errs);
    const labels = spec.template?.metadata?.labels ?? {};
    if (spec.template && sel && selectorMisses(sel, labels)) {
      errs.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`');
    }
    const rp = spec.template?.spec?.restartPolicy;
    // An unknown policy is reported by the pod spec's own validation.
    if (rp && (RESTART_POLICIES as readonly string[]).includes(rp) && !(JOB_RESTART_POLICIES as readonly string[]).includes(rp)) {
      errs.notSupported('spec.template.spec.restartPolicy', rp, JOB_RESTART_POLICIES);
    }
    validatePodTemplate(spec.template, 'spec.template', errs);
  },

  validateUpdate(job, old, errs) {
    const spec = job.spec ?? ({} as batchv1.JobSpec);
    const o = old.spec ?? ({} as batchv1.JobSpec);
    if (spec.completions !== o.completions) errs.immutable('spec.completions', spec.completions ?? null);
    if (!semanticEqual(spec.selector, o.selector)) errs.immutable('spec.selector', spec.selector ?? null);
    if (!semanticEqual(spec.template, o.template)) errs.immutable('spec.template', spec.template ?? null);
    if ((spec.completionMode ?? '') !== (o.completionMode ?? '')) errs.immutable('spec.completionMode', spec.completionMode ?? null);
  },

  validateStatusUpdate(job, _old, errs) {
    const s = job.status;
    if (!s) return;
    for (const f of ['active', 'succeeded', 'failed', 'ready'] as const) validateNonNegative(s[f], `status.${f}`, errs);
    const seen = new Set<string>();
    (s.conditions ?? []).forEach((c, i) => {
      if (!c.type) errs.required(`status.conditions[${i}].type`);
      else if (seen.has(c.type)) errs.duplicate(`status.conditions[${i}].type`, c.type);
      seen.add(c.type ?? '');
      validateEnum(c.status, ['True', 'False', 'Unknown'], `status.conditions[${i}].status`, errs);
    });
    // A pod is recorded at most once: in one list, once (Kubernetes' validateJobStatus).
    const uncounted = s.uncountedTerminatedPods;
    const uids = new Set<string>();
    for (const list of ['succeeded', 'failed'] as const) {
      (uncounted?.[list] ?? []).forEach((uid, i) => {
        const path = `status.uncountedTerminatedPods.${list}[${i}]`;
        if (!uid) errs.invalid(path, uid, 'must not be empty');
        else if (uids.has(uid)) errs.duplicate(path, uid);
        uids.add(uid);
      });
    }
  },

  fields(job) {
    // Kubernetes' job field selector: status.successful (the succeeded count).
    return { 'status.successful': String(job.status?.succeeded ?? 0) };
  },
};
