// Pod columns: NAME READY STATUS RESTARTS AGE, and IP NODE NOMINATED NODE READINESS GATES with
// -o wide, computed as Kubernetes' printPod does:
// - READY counts ready regular containers and started, ready sidecars (init containers with
//   restartPolicy Always), out of the regular containers plus the sidecars.
// - STATUS starts from status.reason or the phase, becomes SchedulingGated while scheduling
//   gates hold the pod, Init:<reason> / Init:<n>/<total> while init containers run, then the
//   reason of the last regular container that is waiting or terminated; "Completed" with a
//   container still running turns back into Running (or NotReady). A pod being deleted is
//   Terminating (or Unknown when its node was lost) unless it already finished.
// - RESTARTS sums the restart counts (only the sidecars' among init containers once the pod
//   has initialized) and, when the last container termination is known, says how long ago it
//   was: "3 (45s ago)". It is a string column.
import type { ColumnDefinition, PrinterColumns, TableRowCondition } from './columns';
import { AGE_COLUMN, NAME_COLUMN, column, nameOf, wide } from './columns';
import { humanDuration, parseTimestamp, timestampAge } from './duration';
import type { JsonObject } from './json';
import { field, has, numberAt, objectAt, objectsAt, stringAt } from './json';

const POD_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'string', 'The aggregate status of the containers in this pod.'),
  column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  AGE_COLUMN,
  wide('IP', 'string', "The pod's IP address (the first of status.podIPs); empty until one is allocated."),
  wide('Node', 'string', 'The node the pod is bound to (spec.nodeName).'),
  wide('Nominated Node', 'string', 'The node the scheduler expects the pod to run on once preemption has made room there (status.nominatedNodeName).'),
  wide('Readiness Gates', 'string', "How many of the pod's readiness gates (spec.readinessGates) have their condition True."),
];

/** READY, STATUS and RESTARTS of a pod. */
export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

/** What the container statuses add up to while they are walked. */
interface Tally {
  restarts: number;
  /** Epoch ms of the last container termination seen, 0 when none. */
  lastRestart: number;
}

function noteRestarts(tally: Tally, status: JsonObject): void {
  tally.restarts += numberAt(status, 'restartCount');
  const finished = parseTimestamp(field(status, 'lastState', 'terminated', 'finishedAt'));
  if (finished !== undefined && finished > tally.lastRestart) tally.lastRestart = finished;
}

function conditionStatus(pod: JsonObject, type: string): string | undefined {
  const found = objectsAt(pod, 'status', 'conditions').find((c) => stringAt(c, 'type') === type);
  return found ? stringAt(found, 'status') : undefined;
}

/** The reason a terminated container gives: its reason, else Signal:<n> or ExitCode:<n>. */
function terminatedReason(terminated: JsonObject, prefix: string): string {
  const reason = stringAt(terminated, 'reason');
  if (reason !== '') return `${prefix}${reason}`;
  const signal = numberAt(terminated, 'signal');
  if (signal !== 0) return `${prefix}Signal:${signal}`;
  return `${prefix}ExitCode:${numberAt(terminated, 'exitCode')}`;
}

/** The pod's starting reason: status.reason or the phase, SchedulingGated while gated. */
function initialReason(pod: JsonObject): string {
  let reason = stringAt(pod, 'status', 'reason') || stringAt(pod, 'status', 'phase');
  for (const c of objectsAt(pod, 'status', 'conditions')) {
    if (stringAt(c, 'type') === 'PodScheduled' && stringAt(c, 'reason') === 'SchedulingGated') reason = 'SchedulingGated';
  }
  return reason;
}

interface InitResult {
  /** The STATUS while initializing, when an init container holds the pod back. */
  reason?: string;
  readySidecars: number;
  all: Tally;
  sidecars: Tally;
}

/** Walks the init containers up to the first one still holding the pod back. */
function walkInitContainers(pod: JsonObject): InitResult {
  const specs = objectsAt(pod, 'spec', 'initContainers');
  const isSidecar = (name: string) => specs.some((s) => stringAt(s, 'name') === name && stringAt(s, 'restartPolicy') === 'Always');
  const result: InitResult = { readySidecars: 0, all: { restarts: 0, lastRestart: 0 }, sidecars: { restarts: 0, lastRestart: 0 } };
  const statuses = objectsAt(pod, 'status', 'initContainerStatuses');
  for (let i = 0; i < statuses.length; i++) {
    const cs = statuses[i];
    const sidecar = isSidecar(stringAt(cs, 'name'));
    noteRestarts(result.all, cs);
    if (sidecar) noteRestarts(result.sidecars, cs);
    const terminated = field(cs, 'state', 'terminated');
    const waitingReason = stringAt(cs, 'state', 'waiting', 'reason');
    if (has(cs, 'state', 'terminated') && numberAt(terminated, 'exitCode') === 0) continue;
    if (sidecar && field(cs, 'started') === true) {
      if (field(cs, 'ready') === true) result.readySidecars++;
      continue;
    }
    if (has(cs, 'state', 'terminated')) result.reason = terminatedReason(objectAt(cs, 'state', 'terminated'), 'Init:');
    else if (waitingReason !== '' && waitingReason !== 'PodInitializing') result.reason = `Init:${waitingReason}`;
    else result.reason = `Init:${i}/${specs.length}`;
    break;
  }
  return result;
}

/** Walks the regular containers from the last to the first, as printPod does. */
function walkContainers(pod: JsonObject, reason: string, tally: Tally): { reason: string; ready: number } {
  let ready = 0;
  let hasRunning = false;
  const statuses = objectsAt(pod, 'status', 'containerStatuses');
  for (let i = statuses.length - 1; i >= 0; i--) {
    const cs = statuses[i];
    noteRestarts(tally, cs);
    const waitingReason = stringAt(cs, 'state', 'waiting', 'reason');
    if (waitingReason !== '') reason = waitingReason;
    else if (has(cs, 'state', 'terminated')) reason = terminatedReason(objectAt(cs, 'state', 'terminated'), '');
    else if (field(cs, 'ready') === true && has(cs, 'state', 'running')) {
      hasRunning = true;
      ready++;
    }
  }
  if (reason === 'Completed' && hasRunning) reason = conditionStatus(pod, 'Ready') === 'True' ? 'Running' : 'NotReady';
  return { reason, ready };
}

/** READY, STATUS and RESTARTS of a pod (Kubernetes JSON), with ages relative to now. */
export function podSummary(pod: JsonObject, now: number): PodSummary {
  const sidecarCount = objectsAt(pod, 'spec', 'initContainers').filter((c) => stringAt(c, 'restartPolicy') === 'Always').length;
  const total = objectsAt(pod, 'spec', 'containers').length + sidecarCount;
  const init = walkInitContainers(pod);
  let reason = init.reason ?? initialReason(pod);
  let ready = init.readySidecars;
  let tally = init.all;
  // Once initialized, only the sidecars' restarts count among the init containers.
  if (init.reason === undefined || conditionStatus(pod, 'Initialized') === 'True') {
    tally = init.sidecars;
    const regular = walkContainers(pod, reason, tally);
    reason = regular.reason;
    ready += regular.ready;
  }
  reason = deletionReason(pod, reason);
  const restarts = tally.restarts !== 0 && tally.lastRestart !== 0 ? `${tally.restarts} (${humanDuration(now - tally.lastRestart)} ago)` : String(tally.restarts);
  return { ready: `${ready}/${total}`, status: reason, restarts };
}

/** A pod being deleted: Unknown when its node was lost, Terminating unless it already finished. */
function deletionReason(pod: JsonObject, reason: string): string {
  if (!has(pod, 'metadata', 'deletionTimestamp')) return reason;
  if (stringAt(pod, 'status', 'reason') === 'NodeLost') return 'Unknown';
  const phase = stringAt(pod, 'status', 'phase');
  return phase === 'Succeeded' || phase === 'Failed' ? reason : 'Terminating';
}

/**
 * The pod's IP: status.podIP, else the first of status.podIPs (the v1 to internal conversion
 * treats podIP as authoritative and fills podIPs from it); "<none>" when there is none.
 */
function podIP(pod: JsonObject): string {
  return stringAt(pod, 'status', 'podIP') || stringAt(objectsAt(pod, 'status', 'podIPs')[0], 'ip') || '<none>';
}

/** "<true>/<gates>": how many readiness gates have their condition True, "<none>" without gates. */
function readinessGates(pod: JsonObject): string {
  const gates = objectsAt(pod, 'spec', 'readinessGates');
  if (gates.length === 0) return '<none>';
  const conditions = objectsAt(pod, 'status', 'conditions');
  const met = gates.filter((g) => {
    const c = conditions.find((x) => stringAt(x, 'type') === stringAt(g, 'conditionType'));
    return c !== undefined && stringAt(c, 'status') === 'True';
  }).length;
  return `${met}/${gates.length}`;
}

/** Rows of pods that finished carry a Completed condition. */
function podConditions(pod: JsonObject): TableRowCondition[] {
  const phase = stringAt(pod, 'status', 'phase');
  if (phase === 'Succeeded') return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
  if (phase === 'Failed') return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
  return [];
}

export const podColumns: PrinterColumns = {
  columns: POD_COLUMNS,
  cells(pod, now) {
    const s = podSummary(pod, now);
    return [
      nameOf(pod),
      s.ready,
      s.status,
      s.restarts,
      timestampAge(field(pod, 'metadata', 'creationTimestamp'), now),
      podIP(pod),
      stringAt(pod, 'spec', 'nodeName') || '<none>',
      stringAt(pod, 'status', 'nominatedNodeName') || '<none>',
      readinessGates(pod),
    ];
  },
  conditions: podConditions,
};
