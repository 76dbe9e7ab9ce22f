import type { appsv1, batchv1, corev1 } from '@k8ts/api';
import { nodePortKey, serviceIPKey } from '@k8ts/machinery';
import { makeAllocators, PortRange, ServiceIPRange } from '../src/allocator/ranges';
import { strategyFor } from '../src/strategies';
import { defaultPullPolicy, qosClass } from '../src/strategies/podspec';
import { ErrorList } from '../src/strategies/validation';
import { createErrors, defaulted, errorFields, pod, updateErrors } from './helpers';

const pods = strategyFor('pods');
const services = strategyFor('services');
const deployments = strategyFor('deployments');

describe('pods', () => {
  it('fills Kubernetes defaults', () => {
    const p = defaulted(pods, pod('web', { containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 80 }], livenessProbe: { httpGet: { port: { intVal: 80 } } } }] })) as corev1.Pod;
    expect(p.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30, enableServiceLinks: true });
    const c = p.spec!.containers![0];
    expect(c).toMatchObject({ terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' });
    expect(c.ports![0].protocol).toBe('TCP');
    expect(c.livenessProbe).toMatchObject({ timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, httpGet: { path: '/', scheme: 'HTTP' } });
    expect(p.status).toMatchObject({ phase: 'Pending', qosClass: 'BestEffort' });
  });

  it('derives the pull policy and the QoS class as Kubernetes does', () => {
    expect(defaultPullPolicy('nginx')).toBe('Always');
    expect(defaultPullPolicy('nginx:latest')).toBe('Always');
    expect(defaultPullPolicy('nginx:1.27')).toBe('IfNotPresent');
    expect(defaultPullPolicy('registry:5000/nginx')).toBe('Always');
    expect(defaultPullPolicy('nginx@sha256:abc')).toBe('IfNotPresent');
    const guaranteed = { containers: [{ name: 'a', resources: { limits: { cpu: { value: '1' }, memory: { value: '1Gi' } }, requests: {} } }] } as unknown as corev1.PodSpec;
    const q = defaulted(pods, pod('x', guaranteed as unknown as Record<string, unknown>)) as corev1.Pod;
    expect(qosClass(q.spec!)).toBe('Guaranteed');
    const burstable = { containers: [{ name: 'a', resources: { requests: { cpu: { value: '100m' } }, limits: {} } }] } as unknown as corev1.PodSpec;
    expect(qosClass(burstable)).toBe('Burstable');
  });

  it('reports every bad field with its path', () => {
    const bad = {
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        restartPolicy: 'Sometimes',
        volumes: [{ name: 'data' }, { name: 'data', emptyDir: {} }],
        containers: [
          {
            name: 'app',
            image: 'nginx',
            ports: [{ containerPort: 0 }, { containerPort: 80, name: 'http' }, { containerPort: 81, name: 'http', protocol: 'ICMP' }],
            env: [{ name: '1BAD', value: 'x' }],
            volumeMounts: [{ name: 'nope', mountPath: '/x' }],
            resources: { requests: { cpu: { value: '2' } }, limits: { cpu: { value: '1' } } },
          },
        ],
        tolerations: [{ key: '', operator: 'Equal', value: 'x' }],
      },
    };
    expect(errorFields(pods, bad)).toEqual([
      'spec.volumes[0]',
      'spec.volumes[1].name',
      'spec.containers[0].ports[0].containerPort',
      'spec.containers[0].ports[2].name',
      'spec.containers[0].ports[2].protocol',
      'spec.containers[0].env[0].name',
      'spec.containers[0].resources.requests',
      'spec.containers[0].volumeMounts[0].name',
      'spec.restartPolicy',
      'spec.tolerations[0].operator',
    ]);
    const lines = createErrors(pods, bad);
    expect(lines).toContain('spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1');
    expect(lines).toContain('spec.containers[0].volumeMounts[0].name: Not found: "nope"');
    expect(lines).toContain('spec.volumes[0]: Required value: must specify a volume type');
  });

  it('requires containers', () => {
    expect(createErrors(pods, { metadata: { name: 'x', namespace: 'default' }, spec: {} })).toEqual(['spec.containers: Required value']);
  });

  it('allows only image, activeDeadlineSeconds, tolerations and scheduling gate changes on update', () => {
    const old = defaulted(pods, pod('web', { tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }], schedulingGates: [{ name: 'g' }] })) as corev1.Pod;
    const ok = structuredClone(old);
    ok.spec!.containers![0].image = 'nginx:1.28';
    ok.spec!.tolerations!.push({ key: 'b', operator: 'Exists', effect: 'NoSchedule' });
    ok.spec!.schedulingGates = [];
    expect(updateErrors(pods, ok, old)).toEqual([]);
    const bad = structuredClone(old);
    bad.spec!.restartPolicy = 'Never';
    expect(updateErrors(pods, bad, old)[0]).toMatch(/^spec: Forbidden: pod updates may not change fields other than/);
    const removed = structuredClone(old);
    removed.spec!.tolerations = [];
    expect(updateErrors(pods, removed, old)).toContain('spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds');
    const gate = structuredClone(old);
    gate.spec!.schedulingGates = [{ name: 'g' }, { name: 'new' }];
    expect(updateErrors(pods, gate, old)).toContain('spec.schedulingGates[1]: Forbidden: only deletion is allowed, but found new scheduling gate');
  });

  it('gives unscheduled and finished pods no grace period', () => {
    const p = defaulted(pods, pod()) as corev1.Pod;
    expect(pods.deleteGracePeriod!(p, undefined)).toBe(0);
    p.spec!.nodeName = 'n1';
    expect(pods.deleteGracePeriod!(p, undefined)).toBe(30);
    expect(pods.deleteGracePeriod!(p, 5)).toBe(5);
    p.status!.phase = 'Succeeded';
    expect(pods.deleteGracePeriod!(p, 5)).toBe(0);
  });

  it('exposes the pod field selectors', () => {
    const p = defaulted(pods, pod('web', { nodeName: 'n1' })) as corev1.Pod;
    expect(pods.fields!(p)).toMatchObject({ 'spec.nodeName': 'n1', 'status.phase': 'Pending', 'spec.schedulerName': 'default-scheduler' });
  });
});

describe('services', () => {
  const alloc = () => makeAllocators(new ServiceIPRange('127.96.0.0/16'), new PortRange(30000, 32767), () => false);
  const svc = (spec: Record<string, unknown>) => ({ metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }], ...spec } });

  it('defaults the type, protocol, target port and policies, and allocates an IP and node ports', () => {
    const s = defaulted(services, svc({ type: 'NodePort' })) as corev1.Service;
    const errs = new ErrorList();
    const picked = services.allocate!(s, undefined, alloc(), errs);
    expect(errs.errors).toEqual([]);
    expect(s.spec).toMatchObject({ type: 'NodePort', sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'] });
    expect(s.spec!.ports![0]).toMatchObject({ protocol: 'TCP', targetPort: { intVal: 80 } });
    expect(s.spec!.clusterIP).toMatch(/^127\.96\./);
    expect(s.spec!.ports![0].nodePort).toBeGreaterThanOrEqual(30000);
    expect([...picked]).toEqual([serviceIPKey(s.spec!.clusterIP!), nodePortKey(s.spec!.ports![0].nodePort!)]);
    expect(services.allocations!(s).map((a) => a.field)).toEqual(['spec.clusterIPs', 'spec.ports[0].nodePort']);
  });

  it('reports values outside the ranges and invalid specs', () => {
    const s = defaulted(services, svc({ type: 'NodePort', clusterIP: '10.0.0.1', ports: [{ port: 80, nodePort: 80 }] })) as corev1.Service;
    const errs = new ErrorList();
    services.allocate!(s, undefined, alloc(), errs);
    expect(errs.errors.map((e) => `${e.field}: ${e.message}`)).toEqual([
      'spec.clusterIPs: Invalid value: ["10.0.0.1"]: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 127.96.0.0/16',
      'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
    expect(errorFields(services, svc({ type: 'ClusterIP', ports: [{ port: 80, nodePort: 30001 }, { port: 0 }] }))).toEqual([
      'spec.ports[0].name',
      'spec.ports[0].nodePort',
      'spec.ports[1].name',
      'spec.ports[1].port',
      'spec.ports[1].targetPort',
    ]);
    expect(errorFields(services, { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName' } })).toEqual(['spec.externalName']);
    expect(errorFields(services, { metadata: { name: 'Web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } })).toEqual(['metadata.name']);
  });

  it('keeps allocated values on update when left out, and forbids changing the cluster IP', () => {
    const old = defaulted(services, svc({ type: 'NodePort' })) as corev1.Service;
    services.allocate!(old, undefined, alloc(), new ErrorList());
    const next = defaulted(services, svc({ type: 'NodePort' })) as corev1.Service;
    const picked = services.allocate!(next, old, alloc(), new ErrorList());
    expect(picked.size).toBe(0);
    expect(next.spec!.clusterIP).toBe(old.spec!.clusterIP);
    expect(next.spec!.ports![0].nodePort).toBe(old.spec!.ports![0].nodePort);
    const moved = structuredClone(next);
    moved.spec!.clusterIP = '127.96.1.1';
    expect(updateErrors(services, moved, old)).toEqual(['spec.clusterIPs[0]: Invalid value: "127.96.1.1": may not change once set']);
  });
});

describe('deployments and replicasets', () => {
  const dep = (spec: Record<string, unknown> = {}) => ({
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } }, ...spec },
  });

  it('defaults replicas, strategy, history and the pod template', () => {
    const d = defaulted(deployments, dep()) as appsv1.Deployment;
    expect(d.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: { strVal: '25%' }, maxSurge: { strVal: '25%' } } },
    });
    expect(d.spec!.template!.spec!.restartPolicy).toBe('Always');
    expect(d.status).toMatchObject({ replicas: 0, observedGeneration: 0 });
  });

  it('requires a selector matching the template labels, Always restarts and a valid strategy', () => {
    const lines = createErrors(
      deployments,
      dep({
        replicas: -1,
        selector: { matchLabels: { app: 'other' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: { intVal: 0 }, maxSurge: { strVal: '0%' } } },
      }),
    );
    expect(lines).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
    ]);
    const never = dep();
    (never.spec.template.spec as Record<string, unknown>).restartPolicy = 'Never';
    expect(createErrors(deployments, never)).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
    expect(createErrors(strategyFor('replicasets'), dep({ selector: {} }))).toContain('spec.selector: Invalid value: {}: empty selector is invalid for replicaset');
  });

  it('makes the selector immutable', () => {
    const old = defaulted(deployments, dep());
    const next = dep({ selector: { matchLabels: { app: 'web', x: 'y' } } });
    (next.spec.template.metadata as { labels: Record<string, string> }).labels = { app: 'web', x: 'y' };
    expect(updateErrors(deployments, next, old)).toEqual(['spec.selector: Invalid value: {"matchLabels":{"app":"web","x":"y"}}: field is immutable']);
  });
});

describe('jobs', () => {
  const jobs = strategyFor('jobs');
  const UID = '5a1f0c9e-7d1b-4c53-9a0e-0f3c2b1d4e5f';
  const job = (spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
    metadata: { name: 'pi', namespace: 'default', uid: UID, ...meta },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } }, ...spec },
  });
  const generated = {
    'batch.kubernetes.io/controller-uid': UID,
    'batch.kubernetes.io/job-name': 'pi',
    'controller-uid': UID,
    'job-name': 'pi',
  };

  it('defaults parallelism, completions, backoffLimit, mode, suspend; generates the selector and pod labels', () => {
    const j = defaulted(jobs, job()) as batchv1.Job;
    expect(j.spec).toMatchObject({ parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, manualSelector: false });
    expect(j.spec!.selector!.matchLabels).toEqual({ 'batch.kubernetes.io/controller-uid': UID });
    expect(j.spec!.template!.metadata!.labels).toEqual(generated);
    // A job without labels of its own takes the template's, as in Kubernetes.
    expect(j.metadata!.labels).toEqual(generated);
    expect(j.spec!.template!.spec!.restartPolicy).toBe('Never');
    expect(j.spec!.template!.spec!.dnsPolicy).toBe('ClusterFirst');
    expect(j.status).toEqual({ conditions: [], active: 0, succeeded: 0, failed: 0, completedIndexes: '' });
    expect(createErrors(jobs, job())).toEqual([]);
  });

  it('keeps a work queue a work queue, and the labels the client set', () => {
    const q = defaulted(jobs, job({ parallelism: 3, template: { metadata: { labels: { app: 'q' } }, spec: { restartPolicy: 'OnFailure', containers: [{ name: 'w', image: 'busybox' }] } } })) as batchv1.Job;
    expect(q.spec!.parallelism).toBe(3);
    expect(q.spec!.completions).toBeUndefined();
    expect(q.spec!.template!.metadata!.labels).toEqual({ app: 'q', ...generated });
    expect(q.metadata!.labels).toEqual({ app: 'q' });
    const c = defaulted(jobs, job({ completions: 5 })) as batchv1.Job;
    expect([c.spec!.completions, c.spec!.parallelism]).toEqual([5, 1]);
    const own = defaulted(jobs, job({}, { labels: { team: 'a' } })) as batchv1.Job;
    expect(own.metadata!.labels).toEqual({ team: 'a' });
  });

  it('takes a manual selector as given', () => {
    const manual = job({ manualSelector: true, selector: { matchLabels: { app: 'm' } }, template: { metadata: { labels: { app: 'm' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'b' }] } } });
    const j = defaulted(jobs, manual) as batchv1.Job;
    expect(j.spec!.selector!.matchLabels).toEqual({ app: 'm' });
    expect(j.spec!.template!.metadata!.labels).toEqual({ app: 'm' });
    expect(createErrors(jobs, manual)).toEqual([]);
    expect(createErrors(jobs, { ...manual, spec: { ...manual.spec, selector: undefined } })).toEqual(['spec.selector: Required value']);
  });

  it('reports every invalid field with its path', () => {
    const bad = job({
      parallelism: -1,
      completions: -2,
      activeDeadlineSeconds: 0,
      backoffLimit: -3,
      ttlSecondsAfterFinished: -4,
      completionMode: 'Sometimes',
      template: { spec: { restartPolicy: 'Always', containers: [{ name: 'pi', image: '' }] } },
    });
    expect(createErrors(jobs, bad)).toEqual([
      'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
      'spec.completions: Invalid value: -2: must be greater than or equal to 0',
      'spec.activeDeadlineSeconds: Invalid value: 0: must be greater than 0',
      'spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0',
      'spec.ttlSecondsAfterFinished: Invalid value: -4: must be greater than or equal to 0',
      'spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"',
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
    // An unset restart policy defaults to Always, which a job refuses.
    const unset = job({ template: { spec: { containers: [{ name: 'pi', image: 'perl' }] } } });
    expect(createErrors(jobs, unset)).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
    expect(createErrors(jobs, job({ completionMode: 'Indexed' }))).toEqual([
      'spec.completionMode: Unsupported value: "Indexed": supported values: "NonIndexed" (Indexed jobs are not supported by k8ts)',
    ]);
    expect(createErrors(jobs, { metadata: { name: 'pi', namespace: 'default', uid: UID } })).toEqual(['spec.template.spec: Required value']);
    expect(errorFields(jobs, job({ template: { spec: { restartPolicy: 'Never', containers: [] } } }))).toEqual(['spec.template.spec.containers']);
  });

  it('checks the generated selector and labels, and that the selector matches the template', () => {
    // Labels naming another job, and a selector that is not the generated one.
    const wrong = job({
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'other' } },
      template: { metadata: { labels: { 'job-name': 'other' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } },
    });
    // The client's label first, then the generated ones it did not set.
    const labels = {
      'job-name': 'other',
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': UID,
      'batch.kubernetes.io/controller-uid': UID,
    };
    expect(createErrors(jobs, wrong)).toEqual([
      `spec.template.metadata.labels[job-name]: Invalid value: ${JSON.stringify(labels)}: must be 'pi'`,
      'spec.selector: Invalid value: {"matchLabels":{"batch.kubernetes.io/controller-uid":"other"}}: `selector` not auto-generated',
      `spec.template.metadata.labels: Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
    ]);
    const manual = job({ manualSelector: true, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'b' }] } } });
    expect(createErrors(jobs, manual)).toEqual(['spec.template.metadata.labels: Invalid value: {"app":"b"}: `selector` does not match template `labels`']);
  });

  it('keeps selector, template, completions and completion mode immutable; parallelism may change', () => {
    const old = defaulted(jobs, job({ completions: 3, parallelism: 1 })) as batchv1.Job;
    const same = structuredClone(old);
    same.spec!.parallelism = 2;
    same.spec!.suspend = true;
    same.spec!.activeDeadlineSeconds = 60;
    expect(updateErrors(jobs, same, old)).toEqual([]);
    const next = structuredClone(old);
    next.spec!.completions = 4;
    next.spec!.template!.spec!.containers![0].image = 'perl:2';
    expect(updateErrors(jobs, next, old)).toEqual([
      'spec.completions: Invalid value: 4: field is immutable',
      expect.stringMatching(/^spec\.template: Invalid value: \{.*"image":"perl:2".*\}: field is immutable$/),
    ]);
    const sel = structuredClone(old);
    sel.spec!.selector = { matchLabels: { ...old.spec!.selector!.matchLabels, 'job-name': 'pi' }, matchExpressions: [] };
    const shown = `{"matchLabels":{"batch.kubernetes.io/controller-uid":"${UID}","job-name":"pi"},"matchExpressions":[]}`;
    expect(updateErrors(jobs, sel, old)).toEqual([
      `spec.selector: Invalid value: ${shown}: \`selector\` not auto-generated`,
      `spec.selector: Invalid value: ${shown}: field is immutable`,
    ]);
  });

  it('status counts are non-negative and conditions unique', () => {
    const old = defaulted(jobs, job()) as batchv1.Job;
    const errs = new ErrorList();
    const next = structuredClone(old);
    next.status = { ...next.status!, active: -1, ready: -2, conditions: [{ type: 'Complete', status: 'True' } as batchv1.JobCondition, { type: 'Complete', status: 'Maybe' } as batchv1.JobCondition] };
    jobs.validateStatusUpdate!(next, old, errs);
    expect(errs.errors.map((e) => `${e.field}: ${e.message}`)).toEqual([
      'status.active: Invalid value: -1: must be greater than or equal to 0',
      'status.ready: Invalid value: -2: must be greater than or equal to 0',
      'status.conditions[1].type: Duplicate value: "Complete"',
      'status.conditions[1].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"',
    ]);
    expect(jobs.fields!({ ...old, status: { ...old.status!, succeeded: 2 } })).toEqual({ 'status.successful': '2' });
  });

  it('status.uncountedTerminatedPods: uids unique, in one list only, not empty', () => {
    const old = defaulted(jobs, job()) as batchv1.Job;
    const statusErrors = (uncounted: batchv1.UncountedTerminatedPods) => {
      const errs = new ErrorList();
      jobs.validateStatusUpdate!({ ...old, status: { ...old.status!, uncountedTerminatedPods: uncounted } }, old, errs);
      return errs.errors.map((e) => `${e.field}: ${e.message}`);
    };
    expect(statusErrors({ succeeded: ['a', 'b'], failed: ['c'] })).toEqual([]);
    expect(statusErrors({})).toEqual([]);
    expect(statusErrors({ succeeded: ['a', 'b', 'a'], failed: ['b', '', 'c'] })).toEqual([
      'status.uncountedTerminatedPods.succeeded[2]: Duplicate value: "a"',
      'status.uncountedTerminatedPods.failed[0]: Duplicate value: "b"',
      'status.uncountedTerminatedPods.failed[1]: Invalid value: "": must not be empty',
    ]);
  });
});

describe('other kinds', () => {
  it('namespaces get the kubernetes finalizer, phase Active and their name label', () => {
    const ns = defaulted(strategyFor('namespaces'), { metadata: { name: 'team' } }) as corev1.Namespace;
    expect(ns.spec!.finalizers).toEqual(['kubernetes']);
    expect(ns.status!.phase).toBe('Active');
    expect(ns.metadata!.labels).toEqual({ 'kubernetes.io/metadata.name': 'team' });
    expect(errorFields(strategyFor('namespaces'), { metadata: { name: 'a.b' } })).toEqual(['metadata.name']);
  });

  it('secrets merge stringData, default to Opaque, need their typed keys, and keep their type', () => {
    const secrets = strategyFor('secrets');
    const s = defaulted(secrets, { metadata: { name: 's', namespace: 'default' }, stringData: { a: 'b' } }) as corev1.Secret;
    expect(s.type).toBe('Opaque');
    expect(Buffer.from(s.data!.a).toString()).toBe('b');
    expect(s.stringData).toEqual({});
    expect(createErrors(secrets, { metadata: { name: 's', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from('x') } })).toEqual(['data[tls.key]: Required value']);
    expect(updateErrors(secrets, { ...s, type: 'other' }, s)).toEqual(['type: Invalid value: "other": field is immutable']);
    const frozen = { ...s, immutable: true };
    expect(updateErrors(secrets, { ...frozen, data: { a: Buffer.from('c') } }, frozen)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
  });

  it('config maps check keys and duplicates between data and binaryData', () => {
    expect(createErrors(strategyFor('configmaps'), { metadata: { name: 'c', namespace: 'default' }, data: { 'a b': 'x', k: 'v' }, binaryData: { k: Buffer.from('v') } })).toEqual([
      `data: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      'data: Invalid value: "k": duplicate of key present in binaryData',
    ]);
  });

  it('events must be about an object in their own namespace', () => {
    expect(createErrors(strategyFor('events'), { metadata: { name: 'e', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' }, type: 'Odd' })).toEqual([
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
      'type: Unsupported value: "Odd": supported values: "Normal", "Warning"',
    ]);
  });

  it('RBAC objects check rules, subjects and an immutable roleRef', () => {
    expect(createErrors(strategyFor('roles'), { metadata: { name: 'r', namespace: 'default' }, rules: [{ verbs: [], apiGroups: [], resources: ['pods'] }] })).toEqual([
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
    ]);
    const crb = strategyFor('clusterrolebindings');
    expect(createErrors(crb, { metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] })).toEqual([
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      'subjects[0].namespace: Required value',
    ]);
    const rb = strategyFor('rolebindings');
    const old = defaulted(rb, { metadata: { name: 'b', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'u' }] as { kind: string; name: string; apiGroup?: string }[] });
    expect(old.subjects[0].apiGroup).toBe('rbac.authorization.k8s.io');
    expect(updateErrors(rb, { ...old, roleRef: { ...old.roleRef, name: 'other' } }, old)[0]).toMatch(/^roleRef: Invalid value: .*: cannot change roleRef$/);
  });

  it('nodes keep their pod CIDRs and check taints', () => {
    const nodes = strategyFor('nodes');
    const old = defaulted(nodes, { metadata: { name: 'n1' }, spec: { podCIDR: '127.244.1.0/24' } }) as corev1.Node;
    expect(old.spec!.podCIDRs).toEqual(['127.244.1.0/24']);
    expect(updateErrors(nodes, { ...old, spec: { ...old.spec, podCIDR: '127.244.2.0/24', podCIDRs: ['127.244.2.0/24'] } }, old)).toEqual([
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ]);
    const tainted = defaulted(nodes, { metadata: { name: 'n1' }, spec: { taints: [{ key: 'k', effect: 'NoExecute' }, { key: 'k', effect: 'NoExecute' }, { key: 'x', effect: 'Sometimes' }] } }) as corev1.Node;
    expect(tainted.spec!.taints![0].timeAdded).toBeTruthy();
    expect(errorFields(nodes, tainted)).toEqual(['spec.taints[1]', 'spec.taints[2].effect']);
  });
});
