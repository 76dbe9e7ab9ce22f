// Defaults and validation of a PodSpec, shared by Pods and by the pod templates of
// ReplicaSets and Deployments, as in Kubernetes' core validation.
import type { corev1, metav1 } from '@k8ts/api';
import { QuantityError, podQOSClass } from '@k8ts/machinery';
import {
  ErrorList,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isIP,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  fieldQuantity,
  validateEnum,
  validateLabels,
  validateLabelSelector,
  validateNonNegative,
  validateResourceList,
} from './validation';

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
export const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] as const;
/** Kubernetes' PreemptionPolicy values, in the order its NotSupported message lists them. */
export const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'] as const;
export const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'] as const;
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export const TOLERATION_OPERATORS = ['Exists', 'Equal'] as const;
export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] as const;
export const DEFAULT_TERMINATION_GRACE_PERIOD = 30;
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

// ---------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------

/** Kubernetes' default pull policy: Always for ':latest' or untagged images, else IfNotPresent. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return lastSegment.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: corev1.Probe | undefined): void {
  if (!p) return;
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  if (p.httpGet) {
    if (!p.httpGet.path) p.httpGet.path = '/';
    if (!p.httpGet.scheme) p.httpGet.scheme = 'HTTP';
  }
}

function defaultContainer(c: corev1.Container): void {
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  if (!c.imagePullPolicy && c.image) c.imagePullPolicy = defaultPullPolicy(c.image);
  for (const p of c.ports ?? []) if (!p.protocol) p.protocol = 'TCP';
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef && !e.valueFrom.fieldRef.apiVersion) e.valueFrom.fieldRef.apiVersion = 'v1';
  }
  // A resource with a limit and no request gets a request equal to the limit.
  if (c.resources?.limits) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(c.resources.limits)) if (!c.resources.requests[k]) c.resources.requests[k] = { ...v };
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

/** Fills the defaults of a PodSpec in place. */
export function defaultPodSpec(spec: corev1.PodSpec): void {
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.schedulerName) spec.schedulerName = DEFAULT_SCHEDULER_NAME;
  if (spec.terminationGracePeriodSeconds === undefined) spec.terminationGracePeriodSeconds = DEFAULT_TERMINATION_GRACE_PERIOD;
  if (!spec.securityContext) spec.securityContext = { supplementalGroups: [], sysctls: [] };
  if (spec.enableServiceLinks === undefined) spec.enableServiceLinks = true;
  // serviceAccount is the deprecated alias of serviceAccountName.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (v.secret && v.secret.defaultMode === undefined) v.secret.defaultMode = 0o644;
    if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = 0o644;
    if (v.downwardAPI && v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = 0o644;
    if (v.projected && v.projected.defaultMode === undefined) v.projected.defaultMode = 0o644;
    if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = '';
  }
  for (const t of spec.tolerations ?? []) if (!t.operator) t.operator = t.key ? 'Equal' : 'Exists';
}

/**
 * The QoS class Kubernetes derives from requests and limits (@k8ts/machinery's podQOSClass, the
 * kubelet's too). A malformed quantity gives Burstable: validation, which runs next, refuses the pod.
 */
export function qosClass(spec: corev1.PodSpec): string {
  try {
    return podQOSClass({ spec });
  } catch (err) {
    if (err instanceof QuantityError) return 'Burstable';
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

function validateIntOrStringPort(port: metav1.IntOrString | undefined, path: string, errs: ErrorList, names?: Set<string>): void {
  if (!port || (port.intVal === undefined && port.strVal === undefined)) {
    errs.required(path);
    return;
  }
  if (port.strVal !== undefined) {
    const m = isValidPortName(port.strVal);
    if (m.length > 0) errs.invalidEach(path, port.strVal, m);
    else if (names && !names.has(port.strVal)) errs.invalid(path, port.strVal, 'must be the name of a port of the container');
  } else errs.invalidEach(path, port.intVal, isValidPortNum(port.intVal ?? 0));
}

function validateHandler(
  h: { exec?: corev1.ExecAction; httpGet?: corev1.HTTPGetAction; tcpSocket?: corev1.TCPSocketAction; grpc?: corev1.GRPCAction; sleep?: corev1.SleepAction },
  path: string,
  errs: ErrorList,
  portNames: Set<string>,
): void {
  const set = [h.exec && 'exec', h.httpGet && 'httpGet', h.tcpSocket && 'tcpSocket', h.grpc && 'grpc', h.sleep && 'sleep'].filter(Boolean);
  if (set.length === 0) {
    errs.required(path, 'must specify a handler type');
    return;
  }
  if (set.length > 1) errs.forbidden(`${path}.${set[1]}`, 'may not specify more than 1 handler type');
  if (h.exec && (h.exec.command ?? []).length === 0) errs.required(`${path}.exec.command`);
  if (h.httpGet) {
    validateIntOrStringPort(h.httpGet.port, `${path}.httpGet.port`, errs, portNames);
    if (h.httpGet.scheme) validateEnum(h.httpGet.scheme, ['HTTP', 'HTTPS'], `${path}.httpGet.scheme`, errs);
  }
  if (h.tcpSocket) validateIntOrStringPort(h.tcpSocket.port, `${path}.tcpSocket.port`, errs, portNames);
  if (h.grpc) errs.invalidEach(`${path}.grpc.port`, h.grpc.port ?? 0, isValidPortNum(h.grpc.port ?? 0));
  if (h.sleep && (h.sleep.seconds ?? 0) <= 0) errs.invalid(`${path}.sleep.seconds`, h.sleep.seconds ?? 0, 'must be greater than 0');
}

function validateProbe(p: corev1.Probe | undefined, path: string, errs: ErrorList, portNames: Set<string>, kind: 'liveness' | 'readiness' | 'startup'): void {
  if (!p) return;
  validateHandler(p, path, errs, portNames);
  validateNonNegative(p.initialDelaySeconds, `${path}.initialDelaySeconds`, errs);
  validateNonNegative(p.timeoutSeconds, `${path}.timeoutSeconds`, errs);
  validateNonNegative(p.periodSeconds, `${path}.periodSeconds`, errs);
  validateNonNegative(p.successThreshold, `${path}.successThreshold`, errs);
  validateNonNegative(p.failureThreshold, `${path}.failureThreshold`, errs);
  if (kind !== 'readiness' && p.successThreshold !== undefined && p.successThreshold > 1) {
    errs.invalid(`${path}.successThreshold`, p.successThreshold, 'must be 1');
  }
  if (kind === 'readiness' && p.terminationGracePeriodSeconds !== undefined) {
    errs.invalid(`${path}.terminationGracePeriodSeconds`, p.terminationGracePeriodSeconds, 'must not be set for readinessProbes');
  }
}

function validateResources(r: corev1.ResourceRequirements | undefined, path: string, errs: ErrorList): void {
  if (!r) return;
  validateResourceList(r.limits, `${path}.limits`, errs);
  validateResourceList(r.requests, `${path}.requests`, errs);
  for (const [name, req] of Object.entries(r.requests ?? {})) {
    const lim = r.limits?.[name];
    if (!lim) continue;
    const rq = fieldQuantity(req);
    const lq = fieldQuantity(lim);
    if (rq !== undefined && lq !== undefined && rq.cmp(lq) > 0) {
      errs.invalid(`${path}.requests`, rq.toString(), `must be less than or equal to ${name} limit of ${lq.toString()}`);
    }
  }
}

function validateEnv(env: corev1.EnvVar[] | undefined, path: string, errs: ErrorList): void {
  (env ?? []).forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (!e.name) errs.required(`${p}.name`);
    else errs.invalidEach(`${p}.name`, e.name, isEnvVarName(e.name));
    const vf = e.valueFrom;
    if (!vf) return;
    const sources = [vf.fieldRef, vf.resourceFieldRef, vf.configMapKeyRef, vf.secretKeyRef].filter(Boolean).length;
    if (e.value) errs.invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty');
    if (sources === 0) errs.invalid(`${p}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`');
    else if (sources > 1) errs.invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time');
    if (vf.fieldRef && !vf.fieldRef.fieldPath) errs.required(`${p}.valueFrom.fieldRef.fieldPath`);
    if (vf.resourceFieldRef && !vf.resourceFieldRef.resource) errs.required(`${p}.valueFrom.resourceFieldRef.resource`);
    for (const [ref, what] of [
      [vf.configMapKeyRef, 'configMapKeyRef'],
      [vf.secretKeyRef, 'secretKeyRef'],
    ] as const) {
      if (!ref) continue;
      if (!ref.name) errs.required(`${p}.valueFrom.${what}.name`);
      if (!ref.key) errs.required(`${p}.valueFrom.${what}.key`);
      else errs.invalidEach(`${p}.valueFrom.${what}.key`, ref.key, isConfigMapKey(ref.key));
    }
  });
}

interface ContainerContext {
  volumes: Set<string>;
  portNames: Set<string>;
  names: Set<string>;
  requireImage: boolean;
  init: boolean;
}

function validateContainer(c: corev1.Container, path: string, errs: ErrorList, ctx: ContainerContext): void {
  if (!c.name) errs.required(`${path}.name`);
  else {
    errs.invalidEach(`${path}.name`, c.name, isDNS1123Label(c.name));
    if (ctx.names.has(c.name)) errs.duplicate(`${path}.name`, c.name);
    ctx.names.add(c.name);
  }
  if (!c.image && ctx.requireImage) errs.required(`${path}.image`);
  else if (c.image && c.image.trim() !== c.image) errs.invalid(`${path}.image`, c.image, 'must not have leading or trailing whitespace');
  const containerPorts = new Set<string>();
  (c.ports ?? []).forEach((p, i) => {
    const pp = `${path}.ports[${i}]`;
    if (p.name) {
      errs.invalidEach(`${pp}.name`, p.name, isValidPortName(p.name));
      if (ctx.portNames.has(p.name)) errs.duplicate(`${pp}.name`, p.name);
      ctx.portNames.add(p.name);
      containerPorts.add(p.name);
    }
    if (!p.containerPort) errs.required(`${pp}.containerPort`);
    else errs.invalidEach(`${pp}.containerPort`, p.containerPort, isValidPortNum(p.containerPort));
    if (p.hostPort) errs.invalidEach(`${pp}.hostPort`, p.hostPort, isValidPortNum(p.hostPort));
    validateEnum(p.protocol, PROTOCOLS, `${pp}.protocol`, errs);
    if (p.hostIP && !isIP(p.hostIP)) errs.invalid(`${pp}.hostIP`, p.hostIP, 'must be a valid IP address');
  });
  validateEnv(c.env, `${path}.env`, errs);
  (c.envFrom ?? []).forEach((e, i) => {
    const p = `${path}.envFrom[${i}]`;
    const n = [e.configMapRef, e.secretRef].filter(Boolean).length;
    if (n === 0) errs.invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`');
    if (n > 1) errs.invalid(p, '', 'may not have more than one field specified at a time');
    if (e.prefix) errs.invalidEach(`${p}.prefix`, e.prefix, isEnvVarName(e.prefix));
    if (e.configMapRef && !e.configMapRef.name) errs.required(`${p}.configMapRef.name`);
    if (e.secretRef && !e.secretRef.name) errs.required(`${p}.secretRef.name`);
  });
  validateResources(c.resources, `${path}.resources`, errs);
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((m, i) => {
    const p = `${path}.volumeMounts[${i}]`;
    if (!m.name) errs.required(`${p}.name`);
    else if (!ctx.volumes.has(m.name)) errs.add(`${p}.name`, 'FieldValueNotFound', `Not found: ${JSON.stringify(m.name)}`);
    if (!m.mountPath) errs.required(`${p}.mountPath`);
    else {
      if (mountPaths.has(m.mountPath)) errs.invalid(`${p}.mountPath`, m.mountPath, 'must be unique');
      mountPaths.add(m.mountPath);
    }
    if (m.subPath && m.subPathExpr) errs.invalid(`${p}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive');
    if (m.subPath && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..'))) {
      errs.invalid(`${p}.subPath`, m.subPath, "must be a relative path without '..'");
    }
    if (m.mountPropagation !== undefined) validateEnum(m.mountPropagation, ['None', 'HostToContainer', 'Bidirectional'], `${p}.mountPropagation`, errs);
  });
  const names = new Set([...ctx.portNames, ...containerPorts]);
  if (ctx.init && !c.restartPolicy) {
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
      if (c[probe]) errs.forbidden(`${path}.${probe}`, 'may not be set for init containers without restartPolicy=Always');
    }
  } else {
    validateProbe(c.livenessProbe, `${path}.livenessProbe`, errs, names, 'liveness');
    validateProbe(c.readinessProbe, `${path}.readinessProbe`, errs, names, 'readiness');
    validateProbe(c.startupProbe, `${path}.startupProbe`, errs, names, 'startup');
  }
  if (c.lifecycle?.postStart) validateHandler(c.lifecycle.postStart, `${path}.lifecycle.postStart`, errs, names);
  if (c.lifecycle?.preStop) validateHandler(c.lifecycle.preStop, `${path}.lifecycle.preStop`, errs, names);
  if (c.restartPolicy !== undefined) {
    if (!ctx.init) errs.forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers');
    else validateEnum(c.restartPolicy, ['Always'], `${path}.restartPolicy`, errs);
  }
  validateEnum(c.imagePullPolicy, PULL_POLICIES, `${path}.imagePullPolicy`, errs, false);
  validateEnum(c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES, `${path}.terminationMessagePolicy`, errs);
  if (c.tty && !c.stdin) errs.invalid(`${path}.tty`, true, '`stdin` must be true when `tty` is true');
}

function validateMode(mode: number | undefined, path: string, errs: ErrorList): void {
  if (mode !== undefined && (mode < 0 || mode > 0o777)) {
    errs.invalid(path, mode, 'must be a number between 0 and 0777 (octal), both inclusive');
  }
}

function validateKeyToPath(items: corev1.KeyToPath[] | undefined, path: string, errs: ErrorList): void {
  (items ?? []).forEach((it, i) => {
    const p = `${path}[${i}]`;
    if (!it.key) errs.required(`${p}.key`);
    if (!it.path) errs.required(`${p}.path`);
    else if (it.path.startsWith('/') || it.path.split('/').includes('..')) {
      errs.invalid(`${p}.path`, it.path, "must be a relative path without '..'");
    }
    validateMode(it.mode, `${p}.mode`, errs);
  });
}

function validateVolumes(volumes: corev1.Volume[] | undefined, path: string, errs: ErrorList): Set<string> {
  const names = new Set<string>();
  (volumes ?? []).forEach((v, i) => {
    const p = `${path}[${i}]`;
    if (!v.name) errs.required(`${p}.name`);
    else {
      errs.invalidEach(`${p}.name`, v.name, isDNS1123Label(v.name));
      if (names.has(v.name)) errs.duplicate(`${p}.name`, v.name);
      names.add(v.name);
    }
    const sources = (['hostPath', 'emptyDir', 'secret', 'configMap', 'downwardAPI', 'projected'] as const).filter((s) => v[s]);
    if (sources.length === 0) errs.required(p, 'must specify a volume type');
    else if (sources.length > 1) errs.forbidden(`${p}.${sources[1]}`, 'may not specify more than 1 volume type');
    if (v.hostPath) {
      if (!v.hostPath.path) errs.required(`${p}.hostPath.path`);
      const types = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
      if (v.hostPath.type !== undefined && !types.includes(v.hostPath.type)) errs.notSupported(`${p}.hostPath.type`, v.hostPath.type, types);
    }
    if (v.emptyDir?.medium && !['Memory', 'HugePages'].includes(v.emptyDir.medium)) {
      errs.notSupported(`${p}.emptyDir.medium`, v.emptyDir.medium, ['', 'Memory', 'HugePages']);
    }
    if (v.secret) {
      if (!v.secret.secretName) errs.required(`${p}.secret.secretName`);
      validateMode(v.secret.defaultMode, `${p}.secret.defaultMode`, errs);
      validateKeyToPath(v.secret.items, `${p}.secret.items`, errs);
    }
    if (v.configMap) {
      if (!v.configMap.name) errs.required(`${p}.configMap.name`);
      validateMode(v.configMap.defaultMode, `${p}.configMap.defaultMode`, errs);
      validateKeyToPath(v.configMap.items, `${p}.configMap.items`, errs);
    }
    if (v.downwardAPI) validateMode(v.downwardAPI.defaultMode, `${p}.downwardAPI.defaultMode`, errs);
    if (v.projected) {
      validateMode(v.projected.defaultMode, `${p}.projected.defaultMode`, errs);
      (v.projected.sources ?? []).forEach((s, j) => {
        const sp = `${p}.projected.sources[${j}]`;
        const n = [s.secret, s.configMap, s.downwardAPI, s.serviceAccountToken].filter(Boolean).length;
        if (n !== 1) errs.forbidden(sp, 'must specify exactly 1 projection type');
        if (s.serviceAccountToken) {
          if (!s.serviceAccountToken.path) errs.required(`${sp}.serviceAccountToken.path`);
          const exp = s.serviceAccountToken.expirationSeconds;
          if (exp !== undefined && exp < 600) errs.invalid(`${sp}.serviceAccountToken.expirationSeconds`, exp, 'may not specify a duration less than 10 minutes');
        }
      });
    }
  });
  return names;
}

function validateTolerations(tols: corev1.Toleration[] | undefined, path: string, errs: ErrorList): void {
  (tols ?? []).forEach((t, i) => {
    const p = `${path}[${i}]`;
    if (t.key) errs.invalidEach(`${p}.key`, t.key, isQualifiedName(t.key));
    if (!t.key && t.operator !== 'Exists') {
      errs.invalid(`${p}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"');
    }
    if (t.operator) validateEnum(t.operator, TOLERATION_OPERATORS, `${p}.operator`, errs);
    if (t.operator === 'Exists' && t.value) errs.invalid(`${p}.operator`, t.value, 'value must be empty when `operator` is \'Exists\'');
    if (t.operator === 'Equal' && t.value) errs.invalidEach(`${p}.value`, t.value, isValidLabelValue(t.value));
    if (t.effect) validateEnum(t.effect, TAINT_EFFECTS, `${p}.effect`, errs);
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      errs.invalid(`${p}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
  });
}

function validateNodeSelectorTerm(term: corev1.NodeSelectorTerm, path: string, errs: ErrorList): void {
  for (const [list, what] of [
    [term.matchExpressions, 'matchExpressions'],
    [term.matchFields, 'matchFields'],
  ] as const) {
    (list ?? []).forEach((r, i) => {
      const p = `${path}.${what}[${i}]`;
      if (what === 'matchExpressions') errs.invalidEach(`${p}.key`, r.key, isQualifiedName(r.key ?? ''));
      else if (r.key !== 'metadata.name') errs.invalid(`${p}.key`, r.key ?? '', 'not a valid field selector key');
      validateEnum(r.operator, SELECTOR_OPERATORS, `${p}.operator`, errs);
      const n = (r.values ?? []).length;
      if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) errs.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'");
      if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) errs.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      if ((r.operator === 'Gt' || r.operator === 'Lt') && (n !== 1 || !/^-?\d+$/.test(r.values?.[0] ?? ''))) {
        errs.required(`${p}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'");
      }
    });
  }
}

function validateAffinity(a: corev1.Affinity | undefined, path: string, errs: ErrorList): void {
  if (!a) return;
  const na = a.nodeAffinity;
  if (na?.requiredDuringSchedulingIgnoredDuringExecution) {
    const terms = na.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms ?? [];
    const p = `${path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`;
    if (terms.length === 0) errs.required(p, 'must have at least one node selector term');
    terms.forEach((t, i) => {
      validateNodeSelectorTerm(t, `${p}[${i}]`, errs);
    });
  }
  (na?.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
    const p = `${path}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
    if (!t.weight || t.weight < 1 || t.weight > 100) errs.invalid(`${p}.weight`, t.weight ?? 0, 'must be in the range 1-100');
    if (t.preference) validateNodeSelectorTerm(t.preference, `${p}.preference`, errs);
  });
  for (const [aff, what] of [
    [a.podAffinity, 'podAffinity'],
    [a.podAntiAffinity, 'podAntiAffinity'],
  ] as const) {
    if (!aff) continue;
    const term = (t: corev1.PodAffinityTerm, p: string) => {
      if (!t.topologyKey) errs.required(`${p}.topologyKey`, 'can not be empty');
      else errs.invalidEach(`${p}.topologyKey`, t.topologyKey, isQualifiedName(t.topologyKey));
      validateLabelSelector(t.labelSelector, `${p}.labelSelector`, errs);
      validateLabelSelector(t.namespaceSelector, `${p}.namespaceSelector`, errs);
    };
    (aff.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      term(t, `${path}.${what}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`);
    });
    (aff.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      const p = `${path}.${what}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      if (!t.weight || t.weight < 1 || t.weight > 100) errs.invalid(`${p}.weight`, t.weight ?? 0, 'must be in the range 1-100');
      if (t.podAffinityTerm) term(t.podAffinityTerm, `${p}.podAffinityTerm`);
      else errs.required(`${p}.podAffinityTerm`);
    });
  }
}

/** Validates a PodSpec; requireImage is false for controller templates. */
export function validatePodSpec(spec: corev1.PodSpec | undefined, path: string, errs: ErrorList, opts: { requireImage: boolean }): void {
  if (!spec) {
    errs.required(path);
    return;
  }
  const volumes = validateVolumes(spec.volumes, `${path}.volumes`, errs);
  const ctx: ContainerContext = { volumes, portNames: new Set(), names: new Set(), requireImage: opts.requireImage, init: true };
  (spec.initContainers ?? []).forEach((c, i) => {
    validateContainer(c, `${path}.initContainers[${i}]`, errs, ctx);
  });
  ctx.init = false;
  if ((spec.containers ?? []).length === 0) errs.required(`${path}.containers`);
  (spec.containers ?? []).forEach((c, i) => {
    validateContainer(c, `${path}.containers[${i}]`, errs, ctx);
  });
  validateEnum(spec.restartPolicy, RESTART_POLICIES, `${path}.restartPolicy`, errs);
  validateEnum(spec.dnsPolicy, DNS_POLICIES, `${path}.dnsPolicy`, errs);
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig) errs.required(`${path}.dnsConfig`, "must provide `dnsConfig` when `dnsPolicy` is None");
  if (spec.terminationGracePeriodSeconds !== undefined) validateNonNegative(spec.terminationGracePeriodSeconds, `${path}.terminationGracePeriodSeconds`, errs);
  if (spec.activeDeadlineSeconds !== undefined && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > 2147483647)) {
    errs.invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive');
  }
  validateLabels(spec.nodeSelector, `${path}.nodeSelector`, errs);
  if (spec.serviceAccountName) errs.invalidEach(`${path}.serviceAccountName`, spec.serviceAccountName, isDNS1123Subdomain(spec.serviceAccountName));
  if (spec.nodeName) errs.invalidEach(`${path}.nodeName`, spec.nodeName, isDNS1123Subdomain(spec.nodeName));
  if (spec.hostname) errs.invalidEach(`${path}.hostname`, spec.hostname, isDNS1123Label(spec.hostname));
  if (spec.subdomain) errs.invalidEach(`${path}.subdomain`, spec.subdomain, isDNS1123Label(spec.subdomain));
  if (spec.schedulerName) errs.invalidEach(`${path}.schedulerName`, spec.schedulerName, isDNS1123Subdomain(spec.schedulerName));
  if (spec.priorityClassName) errs.invalidEach(`${path}.priorityClassName`, spec.priorityClassName, isDNS1123Subdomain(spec.priorityClassName));
  // Checked whenever it is set (Kubernetes' ValidatePreemptionPolicy): "" is Required, an unknown value NotSupported.
  if (spec.preemptionPolicy !== undefined) validateEnum(spec.preemptionPolicy, PREEMPTION_POLICIES, `${path}.preemptionPolicy`, errs);
  validateTolerations(spec.tolerations, `${path}.tolerations`, errs);
  validateAffinity(spec.affinity, `${path}.affinity`, errs);
  (spec.hostAliases ?? []).forEach((h, i) => {
    if (!isIP(h.ip ?? '')) errs.invalid(`${path}.hostAliases[${i}].ip`, h.ip ?? '', 'must be valid IP address');
  });
  (spec.imagePullSecrets ?? []).forEach((s, i) => {
    if (!s.name) errs.required(`${path}.imagePullSecrets[${i}].name`);
  });
  (spec.topologySpreadConstraints ?? []).forEach((c, i) => {
    const p = `${path}.topologySpreadConstraints[${i}]`;
    if (!c.maxSkew || c.maxSkew < 1) errs.invalid(`${p}.maxSkew`, c.maxSkew ?? 0, 'must be greater than zero');
    if (!c.topologyKey) errs.required(`${p}.topologyKey`, 'can not be empty');
    validateEnum(c.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway'], `${p}.whenUnsatisfiable`, errs);
    validateLabelSelector(c.labelSelector, `${p}.labelSelector`, errs);
  });
  (spec.readinessGates ?? []).forEach((g, i) => {
    errs.invalidEach(`${path}.readinessGates[${i}].conditionType`, g.conditionType, isQualifiedName(g.conditionType ?? ''));
  });
  const gates = new Set<string>();
  (spec.schedulingGates ?? []).forEach((g, i) => {
    const p = `${path}.schedulingGates[${i}].name`;
    errs.invalidEach(p, g.name, isQualifiedName(g.name ?? ''));
    if (gates.has(g.name ?? '')) errs.duplicate(p, g.name);
    gates.add(g.name ?? '');
  });
  if (spec.os) validateEnum(spec.os.name, ['linux', 'windows'], `${path}.os.name`, errs);
  if (spec.hostNetwork) {
    [...(spec.initContainers ?? []), ...(spec.containers ?? [])].forEach((c) => {
      (c.ports ?? []).forEach((p) => {
        if (p.hostPort && p.hostPort !== p.containerPort) {
          errs.invalid(`${path}.containers[*].ports[*].hostPort`, p.hostPort, 'must match `containerPort` when `hostNetwork` is true');
        }
      });
    });
  }
}

/** Validates a PodTemplateSpec (ReplicaSet, Deployment): labels, and a spec whose images may be empty. */
export function validatePodTemplate(t: corev1.PodTemplateSpec | undefined, path: string, errs: ErrorList): void {
  if (!t) {
    errs.required(path);
    return;
  }
  validateLabels(t.metadata?.labels, `${path}.metadata.labels`, errs);
  validatePodSpec(t.spec, `${path}.spec`, errs, { requireImage: false });
}
