// ReplicaSet, Deployment and Job columns, as Kubernetes' printReplicaSet, printDeployment and
// printJob compute them; each has CONTAINERS, IMAGES and SELECTOR with -o wide.
// - ReplicaSet: DESIRED CURRENT READY (integers) AGE.
// - Deployment: READY "ready/desired", UP-TO-DATE, AVAILABLE, AGE. Its SELECTOR is the
//   selector's text as is ("" when empty, "<invalid>" when it does not convert), where the
//   ReplicaSet's and Job's print "<none>" / "<error>" (metav1.FormatLabelSelector).
// - Job: STATUS (Complete, Failed, Terminating, Suspended, FailureTarget, SuccessCriteriaMet,
//   else Running), COMPLETIONS ("succeeded/completions"; a work queue without completions is
//   "succeeded/1", or "succeeded/1 of parallelism" when parallel), DURATION (start to
//   completion, or to now while running; empty before it starts), AGE.
import type { ColumnDefinition, PrinterColumns } from './columns';
import { AGE_COLUMN, NAME_COLUMN, TEMPLATE_COLUMNS, column, containerCells, nameOf, wide } from './columns';
import { humanDuration, parseTimestamp, timestampAge } from './duration';
import type { JsonObject } from './json';
import { SelectorError, formatLabelSelector, tryLabelSelectorAsSelector } from '../selectors';
import { field, has, labelSelectorAt, numberAt, objectsAt, optionalNumberAt, stringAt } from './json';

const REPLICA_SET_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Desired', 'integer', 'The number of pods wanted (spec.replicas).'),
  column('Current', 'integer', 'The number of pods the ReplicaSet has now (status.replicas).'),
  column('Ready', 'integer', 'The number of its pods that are ready (status.readyReplicas).'),
  AGE_COLUMN,
  ...TEMPLATE_COLUMNS,
  wide('Selector', 'string', 'The label query over the pods the ReplicaSet owns (spec.selector).'),
];

const DEPLOYMENT_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Ready', 'string', 'Number of the pod with ready state'),
  column('Up-to-date', 'string', 'The number of pods made from the current pod template (status.updatedReplicas).'),
  column('Available', 'string', 'The number of pods ready for at least minReadySeconds (status.availableReplicas).'),
  AGE_COLUMN,
  ...TEMPLATE_COLUMNS,
  wide('Selector', 'string', "The label query over the pods of the deployment's ReplicaSets (spec.selector)."),
];

const JOB_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Status', 'string', 'Status of the job.'),
  column('Completions', 'string', 'How many pods succeeded out of the completions wanted (status.succeeded, spec.completions).'),
  column('Duration', 'string', 'Time required to complete the job.'),
  AGE_COLUMN,
  ...TEMPLATE_COLUMNS,
  wide('Selector', 'string', "The label query over the job's pods (spec.selector)."),
];

/** spec.replicas, with the API's default (1) when unset. */
function desiredReplicas(obj: JsonObject): number {
  return optionalNumberAt(obj, 'spec', 'replicas') ?? 1;
}

function age(obj: JsonObject, now: number): string {
  return timestampAge(field(obj, 'metadata', 'creationTimestamp'), now);
}

/** Whether the object has a condition of this type; the first one of the type decides. */
function hasCondition(obj: JsonObject, type: string): boolean {
  const found = objectsAt(obj, 'status', 'conditions').find((c) => stringAt(c, 'type') === type);
  return found !== undefined && stringAt(found, 'status') === 'True';
}

/** A job's STATUS, in Kubernetes' order of precedence. */
export function jobStatus(job: JsonObject): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (has(job, 'metadata', 'deletionTimestamp')) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

/** A job's COMPLETIONS. */
export function jobCompletions(job: JsonObject): string {
  const succeeded = numberAt(job, 'status', 'succeeded');
  const completions = optionalNumberAt(job, 'spec', 'completions');
  if (completions !== undefined) return `${succeeded}/${completions}`;
  const parallelism = optionalNumberAt(job, 'spec', 'parallelism') ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** A job's DURATION: start to completion, start to now while it runs, "" before it starts. */
export function jobDuration(job: JsonObject, now: number): string {
  const start = parseTimestamp(field(job, 'status', 'startTime'));
  if (start === undefined) return '';
  const end = parseTimestamp(field(job, 'status', 'completionTime'));
  return humanDuration((end ?? now) - start);
}

export const replicaSetColumns: PrinterColumns = {
  columns: REPLICA_SET_COLUMNS,
  cells(rs, now) {
    return [
      nameOf(rs),
      desiredReplicas(rs),
      numberAt(rs, 'status', 'replicas'),
      numberAt(rs, 'status', 'readyReplicas'),
      age(rs, now),
      ...containerCells(field(rs, 'spec', 'template')),
      formatLabelSelector(labelSelectorAt(rs, 'spec', 'selector')),
    ];
  },
};

export const deploymentColumns: PrinterColumns = {
  columns: DEPLOYMENT_COLUMNS,
  cells(d, now) {
    const ready = numberAt(d, 'status', 'readyReplicas');
    return [
      nameOf(d),
      `${ready}/${desiredReplicas(d)}`,
      numberAt(d, 'status', 'updatedReplicas'),
      numberAt(d, 'status', 'availableReplicas'),
      age(d, now),
      ...containerCells(field(d, 'spec', 'template')),
      deploymentSelector(d),
    ];
  },
};

/** printDeployment's SELECTOR: the selector's text as it is, "<invalid>" when it does not convert. */
function deploymentSelector(d: JsonObject): string {
  const selector = tryLabelSelectorAsSelector(labelSelectorAt(d, 'spec', 'selector'));
  return selector instanceof SelectorError ? '<invalid>' : selector.toString();
}

export const jobColumns: PrinterColumns = {
  columns: JOB_COLUMNS,
  cells(job, now) {
    return [
      nameOf(job),
      jobStatus(job),
      jobCompletions(job),
      jobDuration(job, now),
      age(job, now),
      ...containerCells(field(job, 'spec', 'template')),
      formatLabelSelector(labelSelectorAt(job, 'spec', 'selector')),
    ];
  },
};
