// The columns of `get` per kind, as kubectl's printers define them (pods: NAME READY STATUS
// RESTARTS AGE, + IP NODE NOMINATED NODE READINESS GATES with -o wide, and so on).
import { age, humanDuration } from './table';

type Obj = Record<string, any>;

export interface Columns {
  headers: string[];
  /** Leave out the NAME column (events, as kubectl prints them). */
  noName?: boolean;
  /** Extra columns of `-o wide`. */
  wide?: string[];
  /** The cells after NAME (NAME is added by the caller). */
  row(obj: Obj, now: number): string[];
  wideRow?(obj: Obj, now: number): string[];
}

const none = (v: string | undefined | null) => (v === undefined || v === null || v === '' ? '<none>' : v);
const meta = (o: Obj) => (o.metadata ?? {}) as Obj;
const created = (o: Obj, now: number) => age(meta(o).creationTimestamp, now);

export function intOrString(v: { intVal?: number; strVal?: string } | number | string | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' || typeof v === 'string') return String(v);
  if (v.strVal !== undefined && v.strVal !== null && v.strVal !== '') return v.strVal;
  return String(v.intVal ?? 0);
}

function selectorString(sel: Obj | undefined): string {
  if (!sel) return '<none>';
  const parts: string[] = [];
  for (const [k, v] of Object.entries((sel.matchLabels ?? {}) as Record<string, string>)) parts.push(`${k}=${v}`);
  for (const e of (sel.matchExpressions ?? []) as Obj[]) {
    const op = String(e.operator ?? '');
    const values = ((e.values ?? []) as string[]).join(',');
    if (op === 'In') parts.push(`${e.key} in (${values})`);
    else if (op === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (op === 'Exists') parts.push(String(e.key));
    else if (op === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length > 0 ? parts.join(',') : '<none>';
}

function mapSelector(sel: Record<string, string> | undefined): string {
  const parts = Object.entries(sel ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join(',') : '<none>';
}

function containersAndImages(template: Obj | undefined): [string, string] {
  const cs = (template?.spec?.containers ?? []) as Obj[];
  return [none(cs.map((c) => c.name).join(',')), none(cs.map((c) => c.image).join(','))];
}

/** A pod's READY, STATUS, RESTARTS as kubectl computes them. */
export function podSummary(pod: Obj, now: number = Date.now()): { ready: string; status: string; restarts: string } {
  const spec = (pod.spec ?? {}) as Obj;
  const status = (pod.status ?? {}) as Obj;
  const total = ((spec.containers ?? []) as Obj[]).length;
  let readyCount = 0;
  let restarts = 0;
  let lastRestart = 0;
  let reason: string = status.phase || 'Pending';
  if (status.reason) reason = status.reason;
  const noteRestart = (cs: Obj) => {
    restarts += Number(cs.restartCount ?? 0);
    const finished = cs.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished) || 0);
  };

  let initializing = false;
  const initSpecs = (spec.initContainers ?? []) as Obj[];
  const initStatuses = (status.initContainerStatuses ?? []) as Obj[];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    noteRestart(cs);
    const term = cs.state?.terminated;
    const wait = cs.state?.waiting;
    if (term && Number(term.exitCode ?? 0) === 0) continue;
    const sidecar = initSpecs.find((s) => s.name === cs.name)?.restartPolicy === 'Always';
    if (sidecar && cs.started) continue;
    if (term) {
      if (term.reason) reason = `Init:${term.reason}`;
      else if (term.signal) reason = `Init:Signal:${term.signal}`;
      else reason = `Init:ExitCode:${term.exitCode ?? 0}`;
    } else if (wait?.reason && wait.reason !== 'PodInitializing') {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }
  const conditions = (status.conditions ?? []) as Obj[];
  const initialized = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    let hasRunning = false;
    const statuses = (status.containerStatuses ?? []) as Obj[];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      noteRestart(cs);
      const wait = cs.state?.waiting;
      const term = cs.state?.terminated;
      if (wait?.reason) reason = wait.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyCount++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata?.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  const restartText = lastRestart > 0 && restarts > 0 ? `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)` : String(restarts);
  return { ready: `${readyCount}/${total}`, status: reason, restarts: restartText };
}

/** Whether an object has a condition of this type with status True. */
function hasCondition(obj: Obj, type: string): boolean {
  return ((obj.status?.conditions ?? []) as Obj[]).some((c) => c.type === type && c.status === 'True');
}

/** A job's STATUS as kubectl 1.28+ prints it: Complete, Failed, Terminating, Suspended, ..., Running. */
export function jobStatus(job: Obj): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

/** A job's COMPLETIONS: succeeded/completions, or succeeded/1 (of parallelism) for a work queue. */
export function jobCompletions(job: Obj): string {
  const succeeded = Number(job.status?.succeeded ?? 0);
  const completions = job.spec?.completions;
  if (completions !== undefined && completions !== null) return `${succeeded}/${completions}`;
  const parallelism = Number(job.spec?.parallelism ?? 0);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** A job's DURATION: start to completion, or start to now while it runs; empty before it starts. */
export function jobDuration(job: Obj, now: number = Date.now()): string {
  const start = Date.parse(job.status?.startTime ?? '');
  if (Number.isNaN(start)) return '';
  const end = Date.parse(job.status?.completionTime ?? '');
  return humanDuration((Number.isNaN(end) ? now : end) - start);
}

/** A node's STATUS: Ready, NotReady or Unknown, plus SchedulingDisabled. */
export function nodeStatus(node: Obj): string {
  const ready = ((node.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'Ready');
  let s = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'Unknown' ? 'NotReady' : 'NotReady';
  if (node.spec?.unschedulable) s += ',SchedulingDisabled';
  return s;
}

function nodeRoles(node: Obj): string {
  const roles: string[] = [];
  for (const [k, v] of Object.entries((meta(node).labels ?? {}) as Record<string, string>)) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.push(k.slice('node-role.kubernetes.io/'.length) || v);
    else if (k === 'kubernetes.io/role') roles.push(v);
  }
  return roles.length > 0 ? roles.sort().join(',') : '<none>';
}

export function servicePorts(svc: Obj): string {
  const ports = (svc.spec?.ports ?? []) as Obj[];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol || 'TCP'}`).join(',');
}

function externalIP(svc: Obj): string {
  const type = svc.spec?.type || 'ClusterIP';
  const ext = (svc.spec?.externalIPs ?? []) as string[];
  if (type === 'ExternalName') return svc.spec?.externalName || '<none>';
  if (type === 'LoadBalancer') {
    const ing = ((svc.status?.loadBalancer?.ingress ?? []) as Obj[]).map((i) => i.ip || i.hostname).filter(Boolean);
    const all = [...ing, ...ext];
    return all.length > 0 ? all.join(',') : '<pending>';
  }
  return ext.length > 0 ? ext.join(',') : '<none>';
}

/** `127.244.1.2:8080,127.244.2.2:8080 + 1 more...`, as kubectl abbreviates endpoints. */
export function formatEndpoints(ep: Obj, max = 3): string {
  const list: string[] = [];
  let count = 0;
  for (const subset of (ep.subsets ?? []) as Obj[]) {
    const ports = (subset.ports ?? []) as Obj[];
    for (const addr of (subset.addresses ?? []) as Obj[]) {
      if (ports.length === 0) {
        count++;
        if (list.length < max) list.push(addr.ip);
      }
      for (const p of ports) {
        count++;
        if (list.length < max) list.push(`${addr.ip}:${p.port}`);
      }
    }
  }
  if (count === 0) return '<none>';
  return count > max ? `${list.join(',')} + ${count - max} more...` : list.join(',');
}

function eventObject(ev: Obj): string {
  const io = (ev.involvedObject ?? {}) as Obj;
  return `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`;
}

export function eventTime(ev: Obj): string | undefined {
  return ev.lastTimestamp || ev.eventTime || ev.firstTimestamp || ev.metadata?.creationTimestamp;
}

function subjects(binding: Obj, kind: string): string {
  const names = ((binding.subjects ?? []) as Obj[])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name));
  return names.length > 0 ? names.join(', ') : '';
}

/** The columns of each kind (by Kind); kinds not listed get NAME AGE. */
export const COLUMNS: Record<string, Columns> = {
  Pod: {
    headers: ['READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row(pod, now) {
      const s = podSummary(pod, now);
      return [s.ready, s.status, s.restarts, created(pod, now)];
    },
    wideRow(pod) {
      const gates = (pod.spec?.readinessGates ?? []) as Obj[];
      const conds = (pod.status?.conditions ?? []) as Obj[];
      const ready = gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === 'True')).length;
      return [none(pod.status?.podIP), none(pod.spec?.nodeName), none(pod.status?.nominatedNodeName), gates.length > 0 ? `${ready}/${gates.length}` : '<none>'];
    },
  },
  Deployment: {
    headers: ['READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row(d, now) {
      const st = (d.status ?? {}) as Obj;
      return [`${st.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, String(st.updatedReplicas ?? 0), String(st.availableReplicas ?? 0), created(d, now)];
    },
    wideRow(d) {
      return [...containersAndImages(d.spec?.template), selectorString(d.spec?.selector)];
    },
  },
  ReplicaSet: {
    headers: ['DESIRED', 'CURRENT', 'READY', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row(rs, now) {
      const st = (rs.status ?? {}) as Obj;
      return [String(rs.spec?.replicas ?? 0), String(st.replicas ?? 0), String(st.readyReplicas ?? 0), created(rs, now)];
    },
    wideRow(rs) {
      return [...containersAndImages(rs.spec?.template), selectorString(rs.spec?.selector)];
    },
  },
  Job: {
    headers: ['STATUS', 'COMPLETIONS', 'DURATION', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    row(job, now) {
      return [jobStatus(job), jobCompletions(job), jobDuration(job, now), created(job, now)];
    },
    wideRow(job) {
      return [...containersAndImages(job.spec?.template), selectorString(job.spec?.selector)];
    },
  },
  Service: {
    headers: ['TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['SELECTOR'],
    row(svc, now) {
      const spec = (svc.spec ?? {}) as Obj;
      return [spec.type || 'ClusterIP', spec.clusterIP || '<none>', externalIP(svc), servicePorts(svc), created(svc, now)];
    },
    wideRow(svc) {
      return [mapSelector(svc.spec?.selector)];
    },
  },
  Node: {
    headers: ['STATUS', 'ROLES', 'AGE', 'VERSION'],
    wide: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    row(node, now) {
      return [nodeStatus(node), nodeRoles(node), created(node, now), none(node.status?.nodeInfo?.kubeletVersion)];
    },
    wideRow(node) {
      const addrs = (node.status?.addresses ?? []) as Obj[];
      const pick = (t: string) => none(addrs.find((a) => a.type === t)?.address);
      const info = (node.status?.nodeInfo ?? {}) as Obj;
      return [pick('InternalIP'), pick('ExternalIP'), none(info.osImage), none(info.kernelVersion), none(info.containerRuntimeVersion)];
    },
  },
  Endpoints: {
    headers: ['ENDPOINTS', 'AGE'],
    row(ep, now) {
      return [formatEndpoints(ep), created(ep, now)];
    },
  },
  Namespace: {
    headers: ['STATUS', 'AGE'],
    row(ns, now) {
      return [ns.status?.phase || 'Active', created(ns, now)];
    },
  },
  Event: {
    noName: true,
    headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    row(ev, now) {
      return [age(eventTime(ev), now), ev.type || 'Normal', ev.reason ?? '', eventObject(ev), String(ev.message ?? '').replace(/\s*\n\s*/g, ' ')];
    },
  },
  ServiceAccount: {
    headers: ['SECRETS', 'AGE'],
    row(sa, now) {
      return [String(((sa.secrets ?? []) as unknown[]).length), created(sa, now)];
    },
  },
  Secret: {
    headers: ['TYPE', 'DATA', 'AGE'],
    row(s, now) {
      const n = Object.keys(s.data ?? {}).length + Object.keys(s.stringData ?? {}).length;
      return [s.type || 'Opaque', String(n), created(s, now)];
    },
  },
  ConfigMap: {
    headers: ['DATA', 'AGE'],
    row(cm, now) {
      return [String(Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length), created(cm, now)];
    },
  },
  Lease: {
    headers: ['HOLDER', 'AGE'],
    row(l, now) {
      return [l.spec?.holderIdentity ?? '', created(l, now)];
    },
  },
  Role: {
    headers: ['CREATED AT'],
    row(r) {
      return [meta(r).creationTimestamp ?? ''];
    },
  },
  ClusterRole: {
    headers: ['CREATED AT'],
    row(r) {
      return [meta(r).creationTimestamp ?? ''];
    },
  },
  RoleBinding: {
    headers: ['ROLE', 'AGE'],
    wide: ['USERS', 'GROUPS', 'SERVICEACCOUNTS'],
    row(b, now) {
      return [`${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, created(b, now)];
    },
    wideRow(b) {
      return [subjects(b, 'User'), subjects(b, 'Group'), subjects(b, 'ServiceAccount')];
    },
  },
  ClusterRoleBinding: {
    headers: ['ROLE', 'AGE'],
    wide: ['USERS', 'GROUPS', 'SERVICEACCOUNTS'],
    row(b, now) {
      return [`${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, created(b, now)];
    },
    wideRow(b) {
      return [subjects(b, 'User'), subjects(b, 'Group'), subjects(b, 'ServiceAccount')];
    },
  },
};

export const DEFAULT_COLUMNS: Columns = {
  headers: ['AGE'],
  row: (o, now) => [created(o, now)],
};

export function columnsFor(kind: string): Columns {
  return COLUMNS[kind] ?? DEFAULT_COLUMNS;
}
