// describe: kubectl-like text for one object, with its events. Pods, Deployments,
// ReplicaSets, Jobs, Services, Nodes, Namespaces and Endpoints have their own layouts; other kinds
// show their metadata and then their fields.
import type { KindInfo, corev1, metav1 } from '@k8ts/api';
import { SelectorError, formatEndpoints, formatLabelSelector, formatLabels, nodeStatus, tryLabelSelectorAsSelector } from '@k8ts/machinery';
import { allocatedResourceRows, nodeAllocatable, podResourceRows, quantityText } from './noderesources';
import { toYaml } from './output';
import { age, formatTable, humanDuration } from './table';

type Obj = Record<string, any>;

/** An int-or-string as the decoded message holds it ({ intVal } / { strVal }), as text. */
export function intOrString(v: { intVal?: number; strVal?: string } | number | string | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' || typeof v === 'string') return String(v);
  if (v.strVal !== undefined && v.strVal !== null && v.strVal !== '') return v.strVal;
  return String(v.intVal ?? 0);
}

/** When an event last happened: lastTimestamp, else eventTime, firstTimestamp, creation. */
export function eventTime(ev: Obj): string | undefined {
  return ev.lastTimestamp || ev.eventTime || ev.firstTimestamp || ev.metadata?.creationTimestamp;
}

/** Lines of `Key:  value`, aligned per block of consecutive keys at the same depth. */
export class DescribeWriter {
  private readonly lines: { depth: number; key?: string; value: string }[] = [];

  /** A `Key: value` line; a value with newlines continues under its first line. */
  kv(depth: number, key: string, value: string | number | undefined | null): void {
    this.lines.push({ depth, key, value: value === undefined || value === null || value === '' ? '<none>' : String(value) });
  }

  /** A line as is (indented by depth). */
  line(depth: number, text: string): void {
    this.lines.push({ depth, value: text });
  }

  /** A block of pre-formatted text (a table), indented by depth. */
  block(depth: number, text: string): void {
    for (const l of text.replace(/\n$/, '').split('\n')) this.line(depth, l);
  }

  toString(): string {
    // A key's column is shared by the keys at its depth until a line less deep ends the block.
    const width = new Array<number>(this.lines.length).fill(0);
    const done = new Array<boolean>(this.lines.length).fill(false);
    for (let i = 0; i < this.lines.length; i++) {
      const l = this.lines[i];
      if (l.key === undefined || done[i]) continue;
      const members: number[] = [];
      for (let j = i; j < this.lines.length; j++) {
        const x = this.lines[j];
        if (x.depth < l.depth || (x.depth === l.depth && x.key === undefined)) break;
        if (x.depth === l.depth) members.push(j);
      }
      const w = Math.max(...members.map((j) => (this.lines[j].key as string).length + 1));
      for (const j of members) {
        width[j] = w;
        done[j] = true;
      }
    }
    let out = '';
    this.lines.forEach((x, i) => {
      const indent = '  '.repeat(x.depth);
      if (x.key === undefined) {
        out += `${`${indent}${x.value}`.trimEnd()}\n`;
        return;
      }
      const label = `${x.key}:`.padEnd(width[i] + 2);
      const [first, ...rest] = x.value.split('\n');
      out += `${`${indent}${label}${first}`.trimEnd()}\n`;
      for (const r of rest) out += `${`${indent}${' '.repeat(width[i] + 2)}${r}`.trimEnd()}\n`;
    });
    return out;
  }
}

function mapLines(m: Record<string, string> | undefined, sep = '='): string {
  const entries = Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '<none>';
  return entries.map(([k, v]) => `${k}${sep}${v.length > 200 ? `${v.slice(0, 200)}...` : v.replace(/\n$/, '')}`).join('\n');
}

function annotations(m: Record<string, string> | undefined): string {
  return mapLines(m, ': ');
}

/** `Wed, 25 Nov 2026 15:04:05 +0000`, as kubectl prints times. */
export function describeTime(ts: string | undefined): string {
  if (!ts) return '<unset>';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  return d.toUTCString().replace('GMT', '+0000');
}

function metaHeader(w: DescribeWriter, obj: Obj, kind: KindInfo): void {
  const md = (obj.metadata ?? {}) as Obj;
  w.kv(0, 'Name', md.name);
  if (kind.namespaced) w.kv(0, 'Namespace', md.namespace);
}

function probeText(p: Obj | undefined): string | undefined {
  if (!p) return undefined;
  let how = '';
  if (p.httpGet) {
    const port = intOrString(p.httpGet.port);
    how = `http-get ${(p.httpGet.scheme || 'HTTP').toLowerCase()}://${p.httpGet.host ?? ''}:${port}${p.httpGet.path ?? '/'}`;
  } else if (p.tcpSocket) how = `tcp-socket :${intOrString(p.tcpSocket.port)}`;
  else if (p.exec) how = `exec [${((p.exec.command ?? []) as string[]).join(' ')}]`;
  else if (p.grpc) how = `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ''}`.trimEnd();
  return `${how} delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
}

function stateLines(w: DescribeWriter, depth: number, label: string, st: Obj | undefined): void {
  if (!st || (!st.running && !st.waiting && !st.terminated)) {
    w.kv(depth, label, 'Waiting');
    return;
  }
  if (st.running) {
    w.kv(depth, label, 'Running');
    w.kv(depth + 1, 'Started', describeTime(st.running.startedAt));
  } else if (st.waiting) {
    w.kv(depth, label, 'Waiting');
    if (st.waiting.reason) w.kv(depth + 1, 'Reason', st.waiting.reason);
    if (st.waiting.message) w.kv(depth + 1, 'Message', st.waiting.message);
  } else if (st.terminated) {
    const t = st.terminated;
    w.kv(depth, label, 'Terminated');
    if (t.reason) w.kv(depth + 1, 'Reason', t.reason);
    if (t.message) w.kv(depth + 1, 'Message', t.message);
    w.kv(depth + 1, 'Exit Code', String(t.exitCode ?? 0));
    if (t.signal) w.kv(depth + 1, 'Signal', String(t.signal));
    w.kv(depth + 1, 'Started', describeTime(t.startedAt));
    w.kv(depth + 1, 'Finished', describeTime(t.finishedAt));
  }
}

function containerLines(w: DescribeWriter, depth: number, containers: Obj[], statuses: Obj[] | undefined): void {
  for (const c of containers) {
    w.line(depth, `${c.name}:`);
    const cs = statuses?.find((s) => s.name === c.name);
    const d = depth + 1;
    if (statuses) w.kv(d, 'Container ID', cs?.containerID ?? '');
    w.kv(d, 'Image', c.image);
    if (statuses) w.kv(d, 'Image ID', cs?.imageID ?? '');
    const ports = (c.ports ?? []) as Obj[];
    if (ports.length <= 1) {
      w.kv(d, 'Port', ports[0] ? `${ports[0].containerPort}/${ports[0].protocol || 'TCP'}` : '<none>');
      w.kv(d, 'Host Port', ports[0] ? `${ports[0].hostPort ?? 0}/${ports[0].protocol || 'TCP'}` : '<none>');
    } else {
      w.kv(d, 'Ports', ports.map((p) => `${p.containerPort}/${p.protocol || 'TCP'}`).join(', '));
      w.kv(d, 'Host Ports', ports.map((p) => `${p.hostPort ?? 0}/${p.protocol || 'TCP'}`).join(', '));
    }
    if ((c.command ?? []).length > 0) w.kv(d, 'Command', (c.command as string[]).join('\n'));
    if ((c.args ?? []).length > 0) w.kv(d, 'Args', (c.args as string[]).join('\n'));
    if (statuses) {
      if (cs?.state && (cs.state.running || cs.state.waiting || cs.state.terminated)) stateLines(w, d, 'State', cs.state);
      else w.kv(d, 'State', 'Waiting');
      const last = cs?.lastState;
      if (last && (last.running || last.waiting || last.terminated)) stateLines(w, d, 'Last State', last);
      w.kv(d, 'Ready', cs?.ready ? 'True' : 'False');
      w.kv(d, 'Restart Count', String(cs?.restartCount ?? 0));
    }
    const limits = c.resources?.limits as Record<string, { value?: string }> | undefined;
    const requests = c.resources?.requests as Record<string, { value?: string }> | undefined;
    if (limits && Object.keys(limits).length > 0) {
      w.line(d, 'Limits:');
      for (const [k, v] of Object.entries(limits)) w.kv(d + 1, k, quantityText(v));
    }
    if (requests && Object.keys(requests).length > 0) {
      w.line(d, 'Requests:');
      for (const [k, v] of Object.entries(requests)) w.kv(d + 1, k, quantityText(v));
    }
    const live = probeText(c.livenessProbe);
    if (live) w.kv(d, 'Liveness', live);
    const ready = probeText(c.readinessProbe);
    if (ready) w.kv(d, 'Readiness', ready);
    const startup = probeText(c.startupProbe);
    if (startup) w.kv(d, 'Startup', startup);
    const env = (c.env ?? []) as Obj[];
    if (env.length === 0) w.kv(d, 'Environment', '<none>');
    else {
      w.line(d, 'Environment:');
      for (const e of env) {
        let v = e.value ?? '';
        if (e.valueFrom?.fieldRef) v = `(${e.valueFrom.fieldRef.apiVersion ?? 'v1'}:${e.valueFrom.fieldRef.fieldPath})`;
        else if (e.valueFrom?.secretKeyRef) v = `<set to the key '${e.valueFrom.secretKeyRef.key}' in secret '${e.valueFrom.secretKeyRef.name}'>`;
        else if (e.valueFrom?.configMapKeyRef) v = `<set to the key '${e.valueFrom.configMapKeyRef.key}' of config map '${e.valueFrom.configMapKeyRef.name}'>`;
        w.kv(d + 1, e.name, v === '' ? ' ' : v);
      }
    }
  }
}

function conditionsTable(conds: Obj[], withReason: boolean): string {
  const headers = withReason ? ['Type', 'Status', 'Reason'] : ['Type', 'Status'];
  const rows = conds.map((c) => (withReason ? [c.type ?? '', c.status ?? '', c.reason ?? ''] : [c.type ?? '', c.status ?? '']));
  return formatTable(headers, [headers.map((h) => '-'.repeat(h.length)), ...rows]);
}

function tolerations(tols: Obj[] | undefined): string {
  if (!tols || tols.length === 0) return '<none>';
  return tols
    .map((t) => {
      let s = t.key ?? '';
      if (t.value) s += `=${t.value}`;
      if (t.effect) s += `:${t.effect}`;
      if (t.operator === 'Exists' && !t.value) s += ' op=Exists';
      if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
      return s || 'op=Exists';
    })
    .join('\n');
}

function controlledBy(obj: Obj): string | undefined {
  const ref = ((obj.metadata?.ownerReferences ?? []) as Obj[]).find((r) => r.controller);
  return ref ? `${ref.kind}/${ref.name}` : undefined;
}

function templateLines(w: DescribeWriter, depth: number, template: Obj | undefined): void {
  w.line(depth, 'Pod Template:');
  w.kv(depth + 1, 'Labels', mapLines(template?.metadata?.labels));
  const ann = template?.metadata?.annotations as Record<string, string> | undefined;
  if (ann && Object.keys(ann).length > 0) w.kv(depth + 1, 'Annotations', annotations(ann));
  if (template?.spec?.serviceAccountName) w.kv(depth + 1, 'Service Account', template.spec.serviceAccountName);
  w.line(depth + 1, 'Containers:');
  containerLines(w, depth + 2, (template?.spec?.containers ?? []) as Obj[], undefined);
  w.kv(depth + 1, 'Volumes', ((template?.spec?.volumes ?? []) as Obj[]).map((v) => v.name).join('\n'));
}

function describePod(w: DescribeWriter, pod: Obj, kind: KindInfo): void {
  const md = (pod.metadata ?? {}) as Obj;
  const spec = (pod.spec ?? {}) as Obj;
  const st = (pod.status ?? {}) as Obj;
  metaHeader(w, pod, kind);
  w.kv(0, 'Priority', String(spec.priority ?? 0));
  w.kv(0, 'Service Account', spec.serviceAccountName ?? 'default');
  w.kv(0, 'Node', spec.nodeName ? `${spec.nodeName}/${st.hostIP ?? ''}` : '<none>');
  w.kv(0, 'Start Time', st.startTime ? describeTime(st.startTime) : '<none>');
  w.kv(0, 'Labels', mapLines(md.labels));
  w.kv(0, 'Annotations', annotations(md.annotations));
  if (md.deletionTimestamp) {
    w.kv(0, 'Status', `Terminating (lasts ${age(md.deletionTimestamp)})`);
    w.kv(0, 'Termination Grace Period', `${md.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30}s`);
  } else {
    w.kv(0, 'Status', st.phase ?? 'Pending');
  }
  if (st.reason) w.kv(0, 'Reason', st.reason);
  if (st.message) w.kv(0, 'Message', st.message);
  w.kv(0, 'IP', st.podIP ?? '');
  const ips = (st.podIPs ?? []) as Obj[];
  if (ips.length === 0) w.kv(0, 'IPs', '<none>');
  else {
    w.line(0, 'IPs:');
    for (const ip of ips) w.kv(1, 'IP', ip.ip);
  }
  const owner = controlledBy(pod);
  if (owner) w.kv(0, 'Controlled By', owner);
  const inits = (spec.initContainers ?? []) as Obj[];
  if (inits.length > 0) {
    w.line(0, 'Init Containers:');
    containerLines(w, 1, inits, (st.initContainerStatuses ?? []) as Obj[]);
  }
  w.line(0, 'Containers:');
  containerLines(w, 1, (spec.containers ?? []) as Obj[], (st.containerStatuses ?? []) as Obj[]);
  const conds = (st.conditions ?? []) as Obj[];
  if (conds.length > 0) {
    w.line(0, 'Conditions:');
    w.block(1, conditionsTable(conds, false));
  }
  w.kv(0, 'Volumes', ((spec.volumes ?? []) as Obj[]).map((v) => v.name).join('\n'));
  w.kv(0, 'QoS Class', st.qosClass ?? '');
  w.kv(0, 'Node-Selectors', mapLines(spec.nodeSelector));
  w.kv(0, 'Tolerations', tolerations(spec.tolerations));
}

function describeDeployment(w: DescribeWriter, d: Obj, kind: KindInfo, related: Related): void {
  const md = (d.metadata ?? {}) as Obj;
  const spec = (d.spec ?? {}) as Obj;
  const st = (d.status ?? {}) as Obj;
  metaHeader(w, d, kind);
  w.kv(0, 'CreationTimestamp', describeTime(md.creationTimestamp));
  w.kv(0, 'Labels', mapLines(md.labels));
  w.kv(0, 'Annotations', annotations(md.annotations));
  w.kv(0, 'Selector', selectorLine(spec.selector));
  w.kv(
    0,
    'Replicas',
    `${spec.replicas ?? 0} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable`,
  );
  const type = spec.strategy?.type || 'RollingUpdate';
  w.kv(0, 'StrategyType', type);
  w.kv(0, 'MinReadySeconds', String(spec.minReadySeconds ?? 0));
  if (type === 'RollingUpdate') {
    const ru = spec.strategy?.rollingUpdate ?? {};
    w.kv(0, 'RollingUpdateStrategy', `${intOrString(ru.maxUnavailable) || '25%'} max unavailable, ${intOrString(ru.maxSurge) || '25%'} max surge`);
  }
  templateLines(w, 0, spec.template);
  const conds = (st.conditions ?? []) as Obj[];
  if (conds.length > 0) {
    w.line(0, 'Conditions:');
    w.block(1, conditionsTable(conds, true));
  }
  const rss = related.replicaSets ?? [];
  const template = JSON.stringify(stripHash(spec.template));
  const current = rss.find((rs) => JSON.stringify(stripHash(rs.spec?.template)) === template);
  const old = rss.filter((rs) => rs !== current && (rs.spec?.replicas ?? 0) + (rs.status?.replicas ?? 0) > 0);
  const rsText = (rs: Obj) => `${rs.metadata?.name} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 0} replicas created)`;
  w.kv(0, 'OldReplicaSets', old.length > 0 ? old.map(rsText).join(', ') : '<none>');
  w.kv(0, 'NewReplicaSet', current ? rsText(current) : '<none>');
}

function describeJob(w: DescribeWriter, job: Obj, kind: KindInfo): void {
  const md = (job.metadata ?? {}) as Obj;
  const spec = (job.spec ?? {}) as Obj;
  const st = (job.status ?? {}) as Obj;
  const set = (v: unknown) => v !== undefined && v !== null;
  metaHeader(w, job, kind);
  w.kv(0, 'Selector', selectorLine(spec.selector));
  w.kv(0, 'Labels', mapLines(md.labels));
  w.kv(0, 'Annotations', annotations(md.annotations));
  const owner = controlledBy(job);
  if (owner) w.kv(0, 'Controlled By', owner);
  if (set(spec.parallelism)) w.kv(0, 'Parallelism', String(spec.parallelism));
  w.kv(0, 'Completions', set(spec.completions) ? String(spec.completions) : '<unset>');
  if (set(spec.completionMode)) w.kv(0, 'Completion Mode', String(spec.completionMode));
  if (set(spec.suspend)) w.kv(0, 'Suspend', String(spec.suspend));
  if (set(spec.backoffLimit)) w.kv(0, 'Backoff Limit', String(spec.backoffLimit));
  if (set(spec.ttlSecondsAfterFinished)) w.kv(0, 'TTL Seconds After Finished', String(spec.ttlSecondsAfterFinished));
  if (st.startTime) w.kv(0, 'Start Time', describeTime(st.startTime));
  if (st.completionTime) w.kv(0, 'Completed At', describeTime(st.completionTime));
  if (st.startTime && st.completionTime) w.kv(0, 'Duration', humanDuration(Date.parse(st.completionTime) - Date.parse(st.startTime)));
  if (set(spec.activeDeadlineSeconds)) w.kv(0, 'Active Deadline Seconds', `${spec.activeDeadlineSeconds}s`);
  const counts = `${st.succeeded ?? 0} Succeeded / ${st.failed ?? 0} Failed`;
  w.kv(0, 'Pods Statuses', set(st.ready) ? `${st.active ?? 0} Active (${st.ready} Ready) / ${counts}` : `${st.active ?? 0} Active / ${counts}`);
  templateLines(w, 0, spec.template);
}

export function stripHash(template: Obj | undefined): Obj | undefined {
  if (!template) return template;
  const copy = JSON.parse(JSON.stringify(template)) as Obj;
  if (copy.metadata?.labels) delete copy.metadata.labels['pod-template-hash'];
  return copy;
}

/** The Selector line of a Deployment or Job, as kubectl writes it: the selector's text, or why it does not convert. */
function selectorLine(sel: metav1.LabelSelector | undefined): string {
  const selector = tryLabelSelectorAsSelector(sel);
  return selector instanceof SelectorError ? `Failed to get selector: ${selector.message}` : selector.toString();
}

function describeReplicaSet(w: DescribeWriter, rs: Obj, kind: KindInfo, related: Related): void {
  const md = (rs.metadata ?? {}) as Obj;
  metaHeader(w, rs, kind);
  w.kv(0, 'Selector', formatLabelSelector(rs.spec?.selector));
  w.kv(0, 'Labels', mapLines(md.labels));
  w.kv(0, 'Annotations', annotations(md.annotations));
  const owner = controlledBy(rs);
  if (owner) w.kv(0, 'Controlled By', owner);
  w.kv(0, 'Replicas', `${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 0} desired`);
  const pods = related.pods ?? [];
  const count = (phase: string) => pods.filter((p) => p.status?.phase === phase).length;
  w.kv(0, 'Pods Status', `${count('Running')} Running / ${count('Pending')} Waiting / ${count('Succeeded')} Succeeded / ${count('Failed')} Failed`);
  templateLines(w, 0, rs.spec?.template);
}

function describeService(w: DescribeWriter, svc: Obj, kind: KindInfo, related: Related): void {
  const md = (svc.metadata ?? {}) as Obj;
  const spec = (svc.spec ?? {}) as Obj;
  metaHeader(w, svc, kind);
  w.kv(0, 'Labels', mapLines(md.labels));
  w.kv(0, 'Annotations', annotations(md.annotations));
  w.kv(0, 'Selector', formatLabels(spec.selector));
  w.kv(0, 'Type', spec.type || 'ClusterIP');
  w.kv(0, 'IP', spec.clusterIP ?? '');
  w.kv(0, 'IPs', ((spec.clusterIPs ?? []) as string[]).join(',') || spec.clusterIP);
  for (const p of (spec.ports ?? []) as Obj[]) {
    w.kv(0, 'Port', `${p.name || '<unset>'}  ${p.port}/${p.protocol || 'TCP'}`);
    w.kv(0, 'TargetPort', `${intOrString(p.targetPort) || p.port}/${p.protocol || 'TCP'}`);
    if (p.nodePort) w.kv(0, 'NodePort', `${p.name || '<unset>'}  ${p.nodePort}/${p.protocol || 'TCP'}`);
  }
  w.kv(0, 'Endpoints', related.endpoints ? formatEndpoints(related.endpoints, 1000) : '<none>');
  w.kv(0, 'Session Affinity', spec.sessionAffinity || 'None');
}

function describeNode(w: DescribeWriter, node: Obj, kind: KindInfo, related: Related): void {
  const md = (node.metadata ?? {}) as Obj;
  const spec = (node.spec ?? {}) as Obj;
  const st = (node.status ?? {}) as Obj;
  metaHeader(w, node, kind);
  const roles = Object.keys((md.labels ?? {}) as Obj)
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  w.kv(0, 'Roles', roles.join(',') || '<none>');
  w.kv(0, 'Status', nodeStatus(node));
  w.kv(0, 'Labels', mapLines(md.labels));
  w.kv(0, 'Annotations', annotations(md.annotations));
  w.kv(0, 'CreationTimestamp', describeTime(md.creationTimestamp));
  const taints = ((spec.taints ?? []) as Obj[]).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
  w.kv(0, 'Taints', taints.join('\n') || '<none>');
  w.kv(0, 'Unschedulable', spec.unschedulable ? 'true' : 'false');
  if (related.lease) {
    w.line(0, 'Lease:');
    w.kv(1, 'HolderIdentity', related.lease.spec?.holderIdentity ?? '<unset>');
    w.kv(1, 'RenewTime', describeTime(related.lease.spec?.renewTime));
  }
  const conds = (st.conditions ?? []) as Obj[];
  w.line(0, 'Conditions:');
  const headers = ['Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message'];
  w.block(
    1,
    formatTable(headers, [
      headers.map((h) => '-'.repeat(h.length)),
      ...conds.map((c) => [c.type ?? '', c.status ?? '', describeTime(c.lastHeartbeatTime), describeTime(c.lastTransitionTime), c.reason ?? '', c.message ?? '']),
    ]),
  );
  w.line(0, 'Addresses:');
  for (const a of (st.addresses ?? []) as Obj[]) w.kv(1, a.type, a.address);
  for (const [label, res] of [
    ['Capacity', st.capacity],
    ['Allocatable', st.allocatable],
  ] as const) {
    w.line(0, `${label}:`);
    for (const [k, v] of Object.entries((res ?? {}) as Record<string, { value?: string }>)) w.kv(1, k, quantityText(v));
  }
  const info = (st.nodeInfo ?? {}) as Obj;
  w.line(0, 'System Info:');
  w.kv(1, 'Machine ID', info.machineID ?? '');
  w.kv(1, 'Kernel Version', info.kernelVersion ?? '');
  w.kv(1, 'OS Image', info.osImage ?? '');
  w.kv(1, 'Operating System', info.operatingSystem ?? '');
  w.kv(1, 'Architecture', info.architecture ?? '');
  w.kv(1, 'Container Runtime Version', info.containerRuntimeVersion ?? '');
  w.kv(1, 'Kubelet Version', info.kubeletVersion ?? '');
  w.kv(0, 'PodCIDR', spec.podCIDR ?? '');
  w.kv(0, 'PodCIDRs', ((spec.podCIDRs ?? []) as string[]).join(',') || spec.podCIDR);
  const pods = (related.pods ?? []).filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  w.line(0, `Non-terminated Pods:          (${pods.length} in total)`);
  const allocatable = nodeAllocatable(node as corev1.Node);
  const resources = podResourceRows(pods as corev1.Pod[], allocatable);
  const ph = ['Namespace', 'Name', 'CPU Requests', 'CPU Limits', 'Memory Requests', 'Memory Limits', 'Age'];
  w.block(1, formatTable(ph, [ph.map((h) => '-'.repeat(h.length)), ...pods.map((p, i) => [...resources[i], age(p.metadata?.creationTimestamp)])]));
  w.line(0, 'Allocated resources:');
  w.line(1, '(Total limits may be over 100 percent, i.e., overcommitted.)');
  const ah = ['Resource', 'Requests', 'Limits'];
  w.block(1, formatTable(ah, [ah.map((h) => '-'.repeat(h.length)), ...allocatedResourceRows(pods as corev1.Pod[], allocatable)]));
}

function describeNamespace(w: DescribeWriter, ns: Obj, kind: KindInfo): void {
  const md = (ns.metadata ?? {}) as Obj;
  metaHeader(w, ns, kind);
  w.kv(0, 'Labels', mapLines(md.labels));
  w.kv(0, 'Annotations', annotations(md.annotations));
  w.kv(0, 'Status', ns.status?.phase ?? 'Active');
}

function describeGeneric(w: DescribeWriter, obj: Obj, kind: KindInfo, json: Obj): void {
  const md = (obj.metadata ?? {}) as Obj;
  metaHeader(w, obj, kind);
  w.kv(0, 'Labels', mapLines(md.labels));
  w.kv(0, 'Annotations', annotations(md.annotations));
  w.kv(0, 'API Version', kind.apiVersion);
  w.kv(0, 'Kind', kind.kind);
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = json;
  if (kind.kind === 'Secret' && rest.data) {
    w.line(0, 'Data');
    w.line(0, '====');
    for (const [k, v] of Object.entries(rest.data as Record<string, string>)) w.line(0, `${k}:  ${Buffer.from(v, 'base64').length} bytes`);
    delete rest.data;
  }
  if (kind.kind === 'Endpoints') {
    w.kv(0, 'Subsets', formatEndpoints(obj, 1000));
    return;
  }
  const text = Object.keys(rest).length > 0 ? toYaml(rest) : '';
  if (text) w.block(0, text);
}

/** Objects that some layouts show besides the object itself. */
export interface Related {
  replicaSets?: Obj[];
  pods?: Obj[];
  endpoints?: Obj;
  lease?: Obj;
}

function eventsBlock(w: DescribeWriter, events: Obj[] | undefined, now: number): void {
  if (events === undefined) return;
  if (events.length === 0) {
    w.kv(0, 'Events', '<none>');
    return;
  }
  w.line(0, 'Events:');
  const headers = ['Type', 'Reason', 'Age', 'From', 'Message'];
  const rows = events.map((e) => {
    const last = eventTime(e);
    let when = age(last, now);
    const count = Number(e.count ?? 1);
    if (count > 1 && e.firstTimestamp) when = `${when} (x${count} over ${age(e.firstTimestamp, now)})`;
    const from = e.source?.component ?? e.reportingComponent ?? '';
    return [e.type ?? 'Normal', e.reason ?? '', when, from, String(e.message ?? '').trim()];
  });
  w.block(1, formatTable(headers, [headers.map((h) => '-'.repeat(h.length)), ...rows]));
}

/** The text of `describe` for one object. */
export function describeObject(kind: KindInfo, obj: Obj, json: Obj, related: Related, events: Obj[] | undefined, now = Date.now()): string {
  const w = new DescribeWriter();
  switch (kind.kind) {
    case 'Pod':
      describePod(w, obj, kind);
      break;
    case 'Deployment':
      describeDeployment(w, obj, kind, related);
      break;
    case 'ReplicaSet':
      describeReplicaSet(w, obj, kind, related);
      break;
    case 'Job':
      describeJob(w, obj, kind);
      break;
    case 'Service':
      describeService(w, obj, kind, related);
      break;
    case 'Node':
      describeNode(w, obj, kind, related);
      break;
    case 'Namespace':
      describeNamespace(w, obj, kind);
      break;
    default:
      describeGeneric(w, obj, kind, json);
  }
  eventsBlock(w, events, now);
  return w.toString();
}

