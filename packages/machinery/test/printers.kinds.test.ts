// Columns of every kind but Pod: definitions (names, types, priorities, formats) as listed in
// Kubernetes' printers.go, and cells worked out by hand from its print functions.
import { KINDS, kindByName } from '@k8ts/api';
import { formatEndpoints, printerColumnsFor } from '@k8ts/machinery';

const NOW = Date.parse('2026-01-10T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace('.000Z', 'Z');
const printer = (name: string) => printerColumnsFor(kindByName(name)!);
const shape = (name: string) => printer(name).columns.map((c) => `${c.name}:${c.type}:${c.priority}${c.format ? `:${c.format}` : ''}`);
const cells = (name: string, obj: Record<string, unknown>) => printer(name).cells(obj, NOW);

describe('column definitions, as Kubernetes registers them', () => {
  test.each([
    ['namespaces', ['Name:string:0:name', 'Status:string:0', 'Age:string:0']],
    ['nodes', ['Name:string:0:name', 'Status:string:0', 'Roles:string:0', 'Age:string:0', 'Version:string:0', 'Internal-IP:string:1', 'External-IP:string:1', 'OS-Image:string:1', 'Kernel-Version:string:1', 'Container-Runtime:string:1']],
    ['services', ['Name:string:0:name', 'Type:string:0', 'Cluster-IP:string:0', 'External-IP:string:0', 'Port(s):string:0', 'Age:string:0', 'Selector:string:1']],
    ['endpoints', ['Name:string:0:name', 'Endpoints:string:0', 'Age:string:0']],
    ['serviceaccounts', ['Name:string:0:name', 'Secrets:string:0', 'Age:string:0']],
    ['secrets', ['Name:string:0:name', 'Type:string:0', 'Data:string:0', 'Age:string:0']],
    ['configmaps', ['Name:string:0:name', 'Data:string:0', 'Age:string:0']],
    ['events', ['Last Seen:string:0', 'Type:string:0', 'Reason:string:0', 'Object:string:0', 'Subobject:string:1', 'Source:string:1', 'Message:string:0', 'First Seen:string:1', 'Count:string:1', 'Name:string:1:name']],
    ['replicasets', ['Name:string:0:name', 'Desired:integer:0', 'Current:integer:0', 'Ready:integer:0', 'Age:string:0', 'Containers:string:1', 'Images:string:1', 'Selector:string:1']],
    ['deployments', ['Name:string:0:name', 'Ready:string:0', 'Up-to-date:string:0', 'Available:string:0', 'Age:string:0', 'Containers:string:1', 'Images:string:1', 'Selector:string:1']],
    ['jobs', ['Name:string:0:name', 'Status:string:0', 'Completions:string:0', 'Duration:string:0', 'Age:string:0', 'Containers:string:1', 'Images:string:1', 'Selector:string:1']],
    ['leases', ['Name:string:0:name', 'Holder:string:0', 'Age:string:0']],
    ['roles', ['Name:string:0:name', 'Created At:date:0']],
    ['clusterroles', ['Name:string:0:name', 'Created At:date:0']],
    ['rolebindings', ['Name:string:0:name', 'Role:string:0', 'Age:string:0', 'Users:string:1', 'Groups:string:1', 'ServiceAccounts:string:1']],
    ['clusterrolebindings', ['Name:string:0:name', 'Role:string:0', 'Age:string:0', 'Users:string:1', 'Groups:string:1', 'ServiceAccounts:string:1']],
  ])('%s', (name, expected) => {
    expect(shape(name)).toEqual(expected);
  });

  test('every kind has a column marked as the name, every column a description', () => {
    for (const kind of KINDS) {
      const columns = printerColumnsFor(kind).columns;
      expect(columns.filter((c) => c.format === 'name')).toHaveLength(1);
      for (const c of columns) expect(c.description).not.toBe('');
    }
  });
});

describe('nodes', () => {
  const node = (over: Record<string, any> = {}) => ({
    metadata: { name: 'node-1', creationTimestamp: ago(90), labels: { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/': 'x', 'kubernetes.io/role': 'edge', ...over.labels } },
    spec: { unschedulable: over.unschedulable },
    status: {
      conditions: over.conditions ?? [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'Hostname', address: 'node-1' },
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'InternalIP', address: '10.0.0.2' },
      ],
      nodeInfo: { kubeletVersion: 'v0.1.0', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: over.runtime ?? '' },
    },
  });
  test('status, roles (an empty role ignored, sorted), age, version and the wide cells', () => {
    expect(cells('nodes', node())).toEqual(['node-1', 'Ready', 'edge,worker', '90s', 'v0.1.0', '10.0.0.1', '<none>', 'Debian GNU/Linux 12', '6.1.0', '<unknown>']);
  });
  test('NotReady for any status but True, Unknown without a Ready condition, cordoned', () => {
    expect(cells('nodes', node({ conditions: [{ type: 'Ready', status: 'Unknown' }] }))[1]).toBe('NotReady');
    expect(cells('nodes', node({ conditions: [{ type: 'MemoryPressure', status: 'False' }], unschedulable: true }))[1]).toBe('Unknown,SchedulingDisabled');
    expect(cells('nodes', node({ labels: { 'node-role.kubernetes.io/worker': undefined, 'kubernetes.io/role': '' } }))[2]).toBe('<none>');
  });
});

describe('services and endpoints', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({ metadata: { name: 'web', creationTimestamp: ago(10) }, spec, status });
  test('a NodePort service with two ports and its selector', () => {
    const s = svc({ type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { tier: 'fe', app: 'web' } });
    expect(cells('services', s)).toEqual(['web', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP,53/UDP', '10s', 'app=web,tier=fe']);
  });
  test('defaults: ClusterIP, TCP; no ports, no selector; external IPs; clusterIPs; headless', () => {
    expect(cells('services', svc({ externalIPs: ['1.2.3.4', '5.6.7.8'], ports: [{ port: 443 }] }))).toEqual(['web', 'ClusterIP', '<none>', '1.2.3.4,5.6.7.8', '443/TCP', '10s', '<none>']);
    expect(cells('services', svc({ clusterIPs: ['10.96.0.7', 'fd00::7'] }))[2]).toBe('10.96.0.7');
    expect(cells('services', svc({ clusterIP: 'None' }))[2]).toBe('None');
  });
  test('load balancers: pending, ingress (sorted, unique, IP before hostname) then external IPs', () => {
    expect(cells('services', svc({ type: 'LoadBalancer' }))[3]).toBe('<pending>');
    const ingress = { loadBalancer: { ingress: [{ ip: '9.9.9.9' }, { hostname: 'lb.example.com' }, { ip: '9.9.9.9' }, { ip: '1.1.1.1', hostname: 'ignored' }] } };
    expect(cells('services', svc({ type: 'LoadBalancer' }, ingress))[3]).toBe('1.1.1.1,9.9.9.9,lb.example.com');
    expect(cells('services', svc({ type: 'LoadBalancer', externalIPs: ['5.5.5.5'] }, ingress))[3]).toBe('1.1.1.1,9.9.9.9,lb.example.com,5.5.5.5');
    expect(cells('services', svc({ type: 'LoadBalancer', externalIPs: ['5.5.5.5'] }))[3]).toBe('5.5.5.5');
  });
  test('an ExternalName service shows its name as the external IP', () => {
    expect(cells('services', svc({ type: 'ExternalName', externalName: 'db.example.com' })).slice(1, 5)).toEqual(['ExternalName', '<none>', 'db.example.com', '<none>']);
  });
  test('endpoints: three shown then how many more; ports multiply; IPv6 in brackets; headless', () => {
    const ep = {
      metadata: { name: 'web', creationTimestamp: ago(30) },
      subsets: [
        { addresses: [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }], ports: [{ port: 80 }, { port: 443 }] },
        { addresses: [{ ip: 'fd00::1' }], ports: [{ port: 8080 }] },
      ],
    };
    // 2 addresses x 2 ports + 1 = 5 endpoints; the first three are 10.1.0.1:80, 10.1.0.2:80, 10.1.0.1:443.
    expect(cells('endpoints', ep)).toEqual(['web', '10.1.0.1:80,10.1.0.2:80,10.1.0.1:443 + 2 more...', '30s']);
    expect(formatEndpoints({ subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 8080 }] }] })).toBe('[fd00::1]:8080');
    expect(formatEndpoints({ subsets: [{ addresses: [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }] }] })).toBe('10.1.0.1,10.1.0.2');
    expect(formatEndpoints({ subsets: [{ notReadyAddresses: [{ ip: '10.1.0.3' }], ports: [{ port: 80 }] }] })).toBe('');
    expect(formatEndpoints({})).toBe('<none>');
  });
});

describe('workloads', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'log', image: 'busybox' }] } };
  test('deployments: READY ready/desired, UP-TO-DATE, AVAILABLE as numbers, and the wide cells', () => {
    const d = { metadata: { name: 'web', creationTimestamp: ago(300) }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } };
    expect(cells('deployments', d)).toEqual(['web', '2/3', 3, 2, '5m', 'web,log', 'nginx:1.27,busybox', 'app=web']);
    // spec.replicas defaults to 1; an empty selector prints as "" for a deployment.
    expect(cells('deployments', { metadata: { name: 'x', creationTimestamp: ago(5) }, spec: { selector: {} } })).toEqual(['x', '0/1', 0, 0, '5s', '', '', '']);
    expect(cells('deployments', { metadata: { name: 'x' }, spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } } })[7]).toBe('<invalid>');
  });
  test('replica sets: DESIRED CURRENT READY as numbers, and the wide cells', () => {
    const rs = { metadata: { name: 'web-5d8f', creationTimestamp: ago(3600 * 5) }, spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d8f' } }, template }, status: { replicas: 3, readyReplicas: 1 } };
    expect(cells('replicasets', rs)).toEqual(['web-5d8f', 3, 3, 1, '5h', 'web,log', 'nginx:1.27,busybox', 'app=web,pod-template-hash=5d8f']);
    expect(cells('replicasets', { metadata: { name: 'x' }, spec: { replicas: 0 } }).slice(1, 4)).toEqual([0, 0, 0]);
    expect(cells('replicasets', { metadata: { name: 'x' }, spec: {} })[7]).toBe('<none>');
  });
  test('jobs: status precedence, completions, duration', () => {
    const job = (name: string, spec: Record<string, unknown>, status: Record<string, unknown>, meta: Record<string, unknown> = {}) =>
      cells('jobs', { metadata: { name, creationTimestamp: ago(600), ...meta }, spec: { template, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } }, ...spec }, status }).slice(0, 5);
    const cond = (type: string, status = 'True') => ({ type, status });
    expect(job('pi', { completions: 1, parallelism: 1 }, { succeeded: 1, startTime: ago(600), completionTime: ago(570), conditions: [cond('Complete')] })).toEqual(['pi', 'Complete', '1/1', '30s', '10m']);
    expect(job('work', { completions: 5, parallelism: 2 }, { succeeded: 3, startTime: ago(150) })).toEqual(['work', 'Running', '3/5', '2m30s', '10m']);
    expect(job('queue', { parallelism: 3 }, { startTime: ago(60) })).toEqual(['queue', 'Running', '0/1 of 3', '60s', '10m']);
    expect(job('once', {}, {})).toEqual(['once', 'Running', '0/1', '', '10m']);
    expect(job('zero', { completions: 0 }, {})[2]).toBe('0/0');
    // Failed before Terminating before Suspended before FailureTarget before SuccessCriteriaMet.
    expect(job('bad', { completions: 1 }, { conditions: [cond('FailureTarget'), cond('Failed')] }, { deletionTimestamp: ago(1) })[1]).toBe('Failed');
    expect(job('going', { completions: 1 }, { conditions: [cond('Suspended')] }, { deletionTimestamp: ago(1) })[1]).toBe('Terminating');
    expect(job('later', { completions: 2 }, { conditions: [cond('FailureTarget'), cond('Suspended')] })[1]).toBe('Suspended');
    expect(job('failing', { completions: 2 }, { conditions: [cond('SuccessCriteriaMet'), cond('FailureTarget')] })[1]).toBe('FailureTarget');
    expect(job('winning', { completions: 2 }, { conditions: [cond('SuccessCriteriaMet')] })[1]).toBe('SuccessCriteriaMet');
    expect(job('again', { completions: 2 }, { conditions: [cond('Suspended', 'False')] })[1]).toBe('Running');
  });
  test('job wide cells', () => {
    const j = { metadata: { name: 'pi' }, spec: { template, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } } } };
    expect(cells('jobs', j).slice(5)).toEqual(['web,log', 'nginx:1.27,busybox', 'batch.kubernetes.io/controller-uid=u1']);
  });
});

describe('events', () => {
  const ev = (over: Record<string, unknown>) => ({
    metadata: { name: 'web-1.17a1', namespace: 'default', creationTimestamp: ago(600) },
    type: 'Warning',
    reason: 'Unhealthy',
    message: '  Liveness probe failed: HTTP probe failed with statuscode: 500\n',
    involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
    source: { component: 'kubelet', host: 'node-1' },
    ...over,
  });
  test('all cells, in the order of the column definitions', () => {
    expect(cells('events', ev({ count: 3, firstTimestamp: ago(50), lastTimestamp: ago(5) }))).toEqual([
      '5s',
      'Warning',
      'Unhealthy',
      'pod/web-1',
      'spec.containers{web}',
      'kubelet, node-1',
      'Liveness probe failed: HTTP probe failed with statuscode: 500',
      '50s',
      3,
      'web-1.17a1',
    ]);
  });
  test('times: eventTime when firstTimestamp is unset, FIRST SEEN when lastTimestamp is; a series; count at least 1', () => {
    const c = cells('events', ev({ eventTime: '2026-01-10T11:59:40.123456Z' }));
    expect([c[0], c[7], c[8]]).toEqual(['19s', '19s', 1]);
    const s = cells('events', ev({ firstTimestamp: ago(120), lastTimestamp: ago(100), count: 2, series: { count: 7, lastObservedTime: ago(3) } }));
    expect([c[0], s[0], s[7], s[8]]).toEqual(['19s', '3s', '2m', 7]);
    expect(cells('events', ev({}))[0]).toBe('<unknown>');
  });
  test('source falls back to the reporting component and instance; an object without a name', () => {
    const c = cells('events', ev({ source: {}, reportingComponent: 'default-scheduler', reportingInstance: '', involvedObject: { kind: 'Node' } }));
    expect([c[3], c[5]]).toEqual(['node', 'default-scheduler']);
    expect(cells('events', ev({ source: { component: 'kubelet' }, reportingInstance: 'node-2' }))[5]).toBe('kubelet, node-2');
  });
});

describe('the kinds with a count or a field', () => {
  test('namespaces, service accounts, secrets, config maps, leases', () => {
    expect(cells('namespaces', { metadata: { name: 'prod', creationTimestamp: ago(7200) }, status: { phase: 'Terminating' } })).toEqual(['prod', 'Terminating', '120m']);
    expect(cells('serviceaccounts', { metadata: { name: 'default', creationTimestamp: ago(9) }, secrets: [{ name: 'a' }, { name: 'b' }] })).toEqual(['default', 2, '9s']);
    expect(cells('serviceaccounts', { metadata: { name: 'default', creationTimestamp: ago(9) } })[1]).toBe(0);
    // stringData merges into data: "b" counts once.
    expect(cells('secrets', { metadata: { name: 's', creationTimestamp: ago(9) }, type: 'kubernetes.io/tls', data: { a: 'eA==', b: 'eQ==' }, stringData: { b: 'y', c: 'z' } })).toEqual(['s', 'kubernetes.io/tls', 3, '9s']);
    expect(cells('secrets', { metadata: { name: 's' } }).slice(1, 3)).toEqual(['Opaque', 0]);
    expect(cells('configmaps', { metadata: { name: 'cfg', creationTimestamp: ago(9) }, data: { a: '1' }, binaryData: { b: 'AA==' } })).toEqual(['cfg', 2, '9s']);
    expect(cells('leases', { metadata: { name: 'node-1', creationTimestamp: ago(9) }, spec: { holderIdentity: 'node-1' } })).toEqual(['node-1', 'node-1', '9s']);
    expect(cells('leases', { metadata: { name: 'free' }, spec: {} })).toEqual(['free', '', '<unknown>']);
  });
});

describe('rbac', () => {
  test('bindings: Kind/name of the role, and users, groups, service accounts with -o wide', () => {
    const b = {
      metadata: { name: 'read', creationTimestamp: ago(40) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'ServiceAccount', name: 'ci', namespace: 'build' },
        { kind: 'Group', name: 'devs' },
        { kind: 'User', name: 'bob' },
      ],
    };
    expect(cells('rolebindings', b)).toEqual(['read', 'ClusterRole/view', '40s', 'alice, bob', 'devs', 'build/ci']);
    expect(cells('clusterrolebindings', { metadata: { name: 'x' }, roleRef: { kind: 'ClusterRole', name: 'edit' } }).slice(1)).toEqual(['ClusterRole/edit', '<unknown>', '', '', '']);
  });
  test('roles and cluster roles: the creation time in RFC 3339, UTC', () => {
    expect(cells('roles', { metadata: { name: 'reader', creationTimestamp: '2026-01-10T13:00:00+01:00' } })).toEqual(['reader', '2026-01-10T12:00:00Z']);
    expect(cells('clusterroles', { metadata: { name: 'admin', creationTimestamp: '2025-12-01T08:30:00Z' } })).toEqual(['admin', '2025-12-01T08:30:00Z']);
  });
});
