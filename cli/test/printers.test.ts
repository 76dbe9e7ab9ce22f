import { kindByName } from '@k8ts/api';
import { DescribeWriter, describeObject } from '../src/printers/describe';
import { jsonPath, objectName, parseOutput, printTable, tableParts } from '../src/printers/output';
import { age, formatTable, humanDuration } from '../src/printers/table';
import { cellText, renderTable } from '../src/printers/tablerows';

const NOW = Date.parse('2026-01-10T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
const kind = (n: string) => kindByName(n)!;

describe('formatTable', () => {
  test('pads columns by three spaces and leaves the last column unpadded', () => {
    expect(formatTable(['NAME', 'READY'], [['web-1', '1/1'], ['a', '0/1']])).toBe('NAME    READY\nweb-1   1/1\na       0/1\n');
  });
  test('no headers, no rows', () => {
    expect(formatTable(['A'], [], { noHeaders: true })).toBe('');
    expect(formatTable(['A', 'B'], [['x', 'y']], { noHeaders: true })).toBe('x   y\n');
  });
});

describe('humanDuration (Kubernetes HumanDuration)', () => {
  test.each([
    [0, '0s'],
    [59, '59s'],
    [119, '119s'],
    [120, '2m'],
    [125, '2m5s'],
    [599, '9m59s'],
    [600, '10m'],
    [179 * 60, '179m'],
    [3 * 3600, '3h'],
    [7 * 3600 + 59 * 60, '7h59m'],
    [47 * 3600, '47h'],
    [48 * 3600, '2d'],
    [7 * 86400 + 23 * 3600, '7d23h'],
    [729 * 86400, '729d'],
    [3 * 365 * 86400, '3y'],
  ])('%ds is %s', (s, text) => {
    expect(humanDuration(s * 1000)).toBe(text);
  });
  test('clock skew and bad input', () => {
    expect(humanDuration(-500)).toBe('0s');
    expect(humanDuration(-5000)).toBe('<invalid>');
    expect(age(undefined, NOW)).toBe('<unknown>');
    expect(age('garbage', NOW)).toBe('<unknown>');
    expect(age(ago(30), NOW)).toBe('30s');
  });
});

function pod(over: Record<string, any> = {}): Record<string, any> {
  return {
    metadata: { name: 'web-1', namespace: 'default', creationTimestamp: ago(65) },
    spec: { containers: [{ name: 'web', image: 'k8ts/echo' }], nodeName: 'node-1' },
    status: {
      phase: 'Running',
      podIP: '127.244.1.2',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: { startedAt: ago(60) } } }],
    },
    ...over,
  };
}

describe('pods', () => {
  // The cells themselves are computed (and tested) in @k8ts/machinery; here the decoded
  // objects go through the Kubernetes JSON codec and the Table renderer.
  test('statuses as the table shows them', () => {
    const crashing = pod({ metadata: { name: 'crash', creationTimestamp: ago(65) } });
    crashing.status.containerStatuses[0] = {
      name: 'web',
      ready: false,
      restartCount: 3,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 137, finishedAt: ago(45) } },
    };
    const gone = pod({ metadata: { name: 'gone', creationTimestamp: ago(65), deletionTimestamp: ago(1) } });
    expect(printTable(kind('pods'), [crashing, gone], { now: NOW })).toBe(
      [
        'NAME    READY   STATUS             RESTARTS      AGE',
        'crash   0/1     CrashLoopBackOff   3 (45s ago)   65s',
        'gone    1/1     Terminating        0             65s',
        '',
      ].join('\n'),
    );
  });
  test('table and wide table', () => {
    expect(printTable(kind('pods'), [pod()], { now: NOW })).toBe('NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   0          65s\n');
    const wide = printTable(kind('pods'), [pod()], { now: NOW, wide: true });
    expect(wide.split('\n')[0]).toBe('NAME    READY   STATUS    RESTARTS   AGE   IP            NODE     NOMINATED NODE   READINESS GATES');
    expect(wide.split('\n')[1]).toBe('web-1   1/1     Running   0          65s   127.244.1.2   node-1   <none>           <none>');
  });
  test('all namespaces, kind prefixes, labels', () => {
    const p = pod();
    p.metadata.labels = { app: 'web', tier: 'fe' };
    const { headers, rows } = tableParts(kind('po'), [p], { now: NOW, withNamespace: true, withKind: true, showLabels: true });
    expect(headers).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'LABELS']);
    expect(rows[0]).toEqual(['default', 'pod/web-1', '1/1', 'Running', '0', '65s', 'app=web,tier=fe']);
  });
});

describe('other kinds', () => {
  test('deployments', () => {
    const d = {
      metadata: { name: 'web', creationTimestamp: ago(300) },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'echo', image: 'k8ts/echo' }] } } },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(printTable(kind('deploy'), [d], { now: NOW })).toBe('NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/3     3            2           5m\n');
    expect(tableParts(kind('deploy'), [d], { now: NOW, wide: true }).rows[0].slice(5)).toEqual(['echo', 'k8ts/echo', 'app=web']);
    expect(objectName(kind('deploy'), d)).toBe('deployment.apps/web');
  });
  test('jobs: status, completions, duration and the wide columns, as kubectl 1.28+', () => {
    const job = (name: string, spec: Record<string, unknown>, status: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      metadata: { name, creationTimestamp: ago(600), ...extra },
      spec: {
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } },
        template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }] } },
        ...spec,
      },
      status,
    });
    const done = job('pi', { completions: 1, parallelism: 1 }, {
      succeeded: 1,
      startTime: ago(600),
      completionTime: ago(570),
      conditions: [{ type: 'Complete', status: 'True' }],
    });
    const running = job('work', { completions: 5, parallelism: 2 }, { active: 2, succeeded: 3, startTime: ago(150), conditions: [] });
    const queue = job('queue', { parallelism: 3 }, { active: 3, startTime: ago(60) });
    const single = job('once', { parallelism: 1 }, {});
    const failed = job('bad', { completions: 1, parallelism: 1 }, {
      failed: 7,
      startTime: ago(100),
      conditions: [
        { type: 'FailureTarget', status: 'True' },
        { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' },
      ],
    });
    const suspended = job('later', { completions: 2, parallelism: 1, suspend: true }, { conditions: [{ type: 'Suspended', status: 'True' }] });
    const resumed = job('again', { completions: 2, parallelism: 1 }, { startTime: ago(10), conditions: [{ type: 'Suspended', status: 'False' }] });
    const terminating = job('going', { completions: 1, parallelism: 1 }, { startTime: ago(10) }, { deletionTimestamp: ago(1) });
    expect(printTable(kind('jobs'), [done, running, queue, single, failed, suspended, resumed, terminating], { now: NOW })).toBe(
      [
        'NAME    STATUS        COMPLETIONS   DURATION   AGE',
        'pi      Complete      1/1           30s        10m',
        'work    Running       3/5           2m30s      10m',
        'queue   Running       0/1 of 3      60s        10m',
        'once    Running       0/1                      10m',
        'bad     Failed        0/1           100s       10m',
        'later   Suspended     0/2                      10m',
        'again   Running       0/2           10s        10m',
        'going   Terminating   0/1           10s        10m',
        '',
      ].join('\n'),
    );
    const wide = tableParts(kind('job'), [done], { now: NOW, wide: true });
    expect(wide.headers).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    expect(wide.rows[0]).toEqual(['pi', 'Complete', '1/1', '30s', '10m', 'pi', 'perl:5.34', 'batch.kubernetes.io/controller-uid=u1']);
    expect(objectName(kind('jobs'), done)).toBe('job.batch/pi');
  });
  test('services', () => {
    const svc = {
      metadata: { name: 'web', creationTimestamp: ago(10) },
      spec: { type: 'NodePort', clusterIP: '127.96.0.10', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] },
    };
    expect(tableParts(kind('svc'), [svc], { now: NOW }).rows[0]).toEqual(['web', 'NodePort', '127.96.0.10', '<none>', '80:30080/TCP,53/UDP', '10s']);
    expect(tableParts(kind('svc'), [svc], { now: NOW, wide: true }).headers).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']);
  });
  test('nodes', () => {
    const n = {
      metadata: { name: 'node-1', creationTimestamp: ago(90), labels: { 'node-role.kubernetes.io/worker': '' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'False' }], nodeInfo: { kubeletVersion: 'v0.1.0' } },
    };
    expect(tableParts(kind('nodes'), [n], { now: NOW }).rows[0]).toEqual(['node-1', 'NotReady,SchedulingDisabled', 'worker', '90s', 'v0.1.0']);
    // Wide: no addresses, and the node info that is not reported is <unknown>, as in kubectl.
    expect(tableParts(kind('nodes'), [n], { now: NOW, wide: true }).rows[0].slice(5)).toEqual(['<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });
  test('endpoints are abbreviated after three', () => {
    const ep = { metadata: { name: 'web', creationTimestamp: ago(20) }, subsets: [{ addresses: [{ ip: 'a' }, { ip: 'b' }, { ip: 'c' }, { ip: 'd' }], ports: [{ port: 8080 }] }] };
    expect(tableParts(kind('ep'), [ep, { metadata: { name: 'none', creationTimestamp: ago(20) } }], { now: NOW }).rows).toEqual([
      ['web', 'a:8080,b:8080,c:8080 + 1 more...', '20s'],
      ['none', '<none>', '20s'],
    ]);
  });
  test('events', () => {
    const ev = { type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe failed', lastTimestamp: ago(5), involvedObject: { kind: 'Pod', name: 'web-1' } };
    const parts = tableParts(kind('events'), [ev], { now: NOW });
    expect(parts.headers).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(parts.rows[0]).toEqual(['5s', 'Warning', 'Unhealthy', 'pod/web-1', 'Liveness probe failed']);
  });
});

describe('tables from the server-side printer columns', () => {
  test('events: five columns by default, ten with -o wide; a message is cut at its first line break', () => {
    const ev = {
      metadata: { name: 'web-1.17a1', namespace: 'default', creationTimestamp: ago(60) },
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container\nsecond line',
      involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' },
      source: { component: 'kubelet', host: 'node-1' },
      count: 4,
      firstTimestamp: ago(50),
      lastTimestamp: ago(5),
    };
    expect(printTable(kind('events'), [ev], { now: NOW })).toBe(
      ['LAST SEEN   TYPE      REASON    OBJECT      MESSAGE', '5s          Warning   BackOff   pod/web-1   Back-off restarting failed container...', ''].join('\n'),
    );
    const wide = tableParts(kind('events'), [ev], { now: NOW, wide: true });
    expect(wide.headers).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']);
    expect(wide.rows[0]).toEqual(['5s', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{web}', 'kubelet, node-1', 'Back-off restarting failed container...', '50s', '4', 'web-1.17a1']);
  });
  test('roles print their creation time as the server sends it (a date column)', () => {
    const role = { metadata: { name: 'reader', namespace: 'default', creationTimestamp: '2026-01-10T11:00:00Z' }, rules: [] };
    expect(printTable(kind('roles'), [role], { now: NOW })).toBe('NAME     CREATED AT\nreader   2026-01-10T11:00:00Z\n');
  });
  test('several kinds: names carry the kind, on the name column only', () => {
    const cm = { metadata: { name: 'cfg', namespace: 'default', creationTimestamp: ago(9) }, data: { a: '1' } };
    const secret = { metadata: { name: 'tls', namespace: 'default', creationTimestamp: ago(9) }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from('x'), 'tls.key': Buffer.from('y') } };
    expect(tableParts(kind('cm'), [cm], { now: NOW, withKind: true }).rows[0]).toEqual(['configmap/cfg', '1', '9s']);
    expect(tableParts(kind('secrets'), [secret], { now: NOW, withKind: true }).rows[0]).toEqual(['secret/tls', 'kubernetes.io/tls', '2', '9s']);
    const rb = { metadata: { name: 'view', namespace: 'default', creationTimestamp: ago(9) }, roleRef: { kind: 'Role', name: 'reader' } };
    expect(tableParts(kind('rolebindings'), [rb], { now: NOW, withKind: true }).rows[0][0]).toBe('rolebinding.rbac.authorization.k8s.io/view');
  });
  test('labels are sorted; objects without labels show <none>; cluster-scoped kinds have no NAMESPACE', () => {
    const ns = { metadata: { name: 'prod', creationTimestamp: ago(9), labels: { z: '1', a: '2' } }, status: { phase: 'Active' } };
    const bare = { metadata: { name: 'dev', creationTimestamp: ago(9) }, status: { phase: 'Active' } };
    const parts = tableParts(kind('ns'), [ns, bare], { now: NOW, withNamespace: true, showLabels: true });
    expect(parts.headers).toEqual(['NAME', 'STATUS', 'AGE', 'LABELS']);
    expect(parts.rows).toEqual([
      ['prod', 'Active', '9s', 'a=2,z=1'],
      ['dev', 'Active', '9s', '<none>'],
    ]);
  });
  test('renderTable: hidden wide columns, cells as kubectl prints them', () => {
    const table = {
      columnDefinitions: [
        { name: 'Name', type: 'string' as const, format: 'name', description: '', priority: 0 },
        { name: 'Count', type: 'integer' as const, format: '', description: '', priority: 0 },
        { name: 'Ok', type: 'boolean' as const, format: '', description: '', priority: 0 },
        { name: 'Extra', type: 'string' as const, format: '', description: '', priority: 1 },
      ],
      rows: [{ cells: ['a', 3, true, 'x'], object: { metadata: { namespace: 'ns1' } } }, { cells: ['b', null, false, 'y\rz'] }],
    };
    expect(renderTable(table)).toEqual({ headers: ['NAME', 'COUNT', 'OK'], rows: [['a', '3', 'true'], ['b', '', 'false']] });
    expect(renderTable(table, { wide: true, withNamespace: true, kindPrefix: 'thing' })).toEqual({
      headers: ['NAMESPACE', 'NAME', 'COUNT', 'OK', 'EXTRA'],
      rows: [
        ['ns1', 'thing/a', '3', 'true', 'x'],
        ['', 'thing/b', '', 'false', 'y...'],
      ],
    });
    expect(cellText('line\fbreak')).toBe('line...');
  });
});

describe('output formats', () => {
  test('parseOutput', () => {
    expect(parseOutput(undefined)).toEqual({ format: 'table' });
    expect(parseOutput('wide').format).toBe('wide');
    expect(parseOutput('jsonpath={.a}')).toEqual({ format: 'jsonpath', template: '{.a}' });
    expect(() => parseOutput('xml')).toThrow(/unable to match a printer/);
  });
  test('jsonpath', () => {
    const data = {
      items: [
        { metadata: { name: 'a' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
        { metadata: { name: 'b' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      ],
    };
    expect(jsonPath('{.items[*].metadata.name}', data)).toBe('a b');
    expect(jsonPath('{.items[0].metadata.name}', data)).toBe('a');
    expect(jsonPath('{.items[-1].metadata.name}', data)).toBe('b');
    expect(jsonPath('name={.items[1].metadata.name}\\n', data)).toBe('name=b\n');
    expect(jsonPath('{.items[1].status.conditions[?(@.type=="Ready")].status}', data)).toBe('False');
    expect(jsonPath("'{.items[0].metadata}'", data)).toBe('{"name":"a"}');
    expect(jsonPath('{.missing.field}', data)).toBe('');
  });
});

describe('describe', () => {
  test('the writer aligns keys per block and continues multi-line values', () => {
    const w = new DescribeWriter();
    w.kv(0, 'Name', 'web');
    w.kv(0, 'Labels', 'a=b\nc=d');
    w.line(0, 'Containers:');
    w.kv(1, 'Image', 'k8ts/echo');
    w.kv(1, 'Restart Count', 2);
    w.kv(0, 'Events', undefined);
    expect(w.toString()).toBe(
      ['Name:    web', 'Labels:  a=b', '         c=d', 'Containers:', '  Image:          k8ts/echo', '  Restart Count:  2', 'Events:  <none>', ''].join('\n'),
    );
  });
  test('a pod with its restarts and events', () => {
    const p = pod();
    p.spec.containers[0].livenessProbe = { httpGet: { path: '/healthz', port: { intVal: 8080 } }, periodSeconds: 1, failureThreshold: 2 };
    p.status.containerStatuses[0].restartCount = 1;
    p.status.containerStatuses[0].lastState = { terminated: { exitCode: 137, reason: 'Error', startedAt: ago(50), finishedAt: ago(40) } };
    const events = [
      { type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe failed: HTTP probe failed with statuscode: 500', count: 3, firstTimestamp: ago(50), lastTimestamp: ago(41), source: { component: 'kubelet' } },
      { type: 'Normal', reason: 'Killing', message: 'Container web failed liveness probe, will be restarted', lastTimestamp: ago(40), source: { component: 'kubelet' } },
    ];
    const text = describeObject(kind('pod'), p, {}, {}, events, NOW);
    expect(text).toContain('Restart Count:  1');
    expect(text).toContain('Liveness:       http-get http://:8080/healthz delay=0s timeout=1s period=1s #success=1 #failure=2');
    expect(text).toContain('Last State:     Terminated');
    expect(text).toMatch(/Warning\s+Unhealthy\s+41s \(x3 over 50s\)\s+kubelet\s+Liveness probe failed/);
    expect(text).toMatch(/Normal\s+Killing\s+40s\s+kubelet/);
  });
  test('a job: parallelism, completions, times, pod statuses, template and events', () => {
    const uid = '5a1f0c9e-0000-4000-8000-000000000001';
    const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' };
    const job = {
      metadata: { name: 'pi', namespace: 'default', labels },
      spec: {
        parallelism: 1,
        completions: 1,
        backoffLimit: 4,
        completionMode: 'NonIndexed',
        suspend: false,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
        template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34', command: ['perl', '-le', 'print 1'] }] } },
      },
      status: { succeeded: 1, active: 0, failed: 0, ready: 0, startTime: '2026-01-10T11:50:00Z', completionTime: '2026-01-10T11:50:45Z', conditions: [{ type: 'Complete', status: 'True' }] },
    };
    const events = [{ type: 'Normal', reason: 'SuccessfulCreate', message: 'Created pod: pi-x7k2p', lastTimestamp: ago(600), source: { component: 'job-controller' } }];
    const text = describeObject(kind('job'), job, {}, {}, events, NOW);
    const lines = text.split('\n');
    expect(lines.slice(0, 4)).toEqual(['Name:             pi', 'Namespace:        default', `Selector:         batch.kubernetes.io/controller-uid=${uid}`, `Labels:           batch.kubernetes.io/controller-uid=${uid}`]);
    expect(lines).toEqual(
      expect.arrayContaining([
        'Parallelism:      1',
        'Completions:      1',
        'Completion Mode:  NonIndexed',
        'Suspend:          false',
        'Backoff Limit:    4',
        'Start Time:       Sat, 10 Jan 2026 11:50:00 +0000',
        'Completed At:     Sat, 10 Jan 2026 11:50:45 +0000',
        'Duration:         45s',
        'Pods Statuses:    0 Active (0 Ready) / 1 Succeeded / 0 Failed',
        'Pod Template:',
      ]),
    );
    expect(text).toMatch(/Normal\s+SuccessfulCreate\s+10m\s+job-controller\s+Created pod: pi-x7k2p/);
    // A work queue that has not started: completions unset, no times, no ready count.
    const queue = { ...job, spec: { ...job.spec, completions: undefined, parallelism: 3 }, status: { active: 3 } };
    const q = describeObject(kind('job'), queue, {}, {}, undefined, NOW);
    expect(q).toContain('Completions:      <unset>');
    expect(q).toContain('Pods Statuses:    3 Active / 0 Succeeded / 0 Failed');
    expect(q).not.toContain('Start Time');
    expect(q).not.toContain('Duration');
  });
  test('selectors as kubectl prints them: an Exists requirement as its bare key, a Service selector as sorted pairs', () => {
    const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Exists', values: [] }, { key: 'env', operator: 'NotIn', values: ['b', 'a'] }] };
    const selectorLine = (text: string) => text.split('\n').find((l) => l.startsWith('Selector:'))?.replace(/\s+/g, ' ');
    const deploy = { metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1, selector } };
    expect(selectorLine(describeObject(kind('deployment'), deploy, {}, {}, undefined, NOW))).toBe('Selector: app=web,env notin (a,b),tier');
    expect(selectorLine(describeObject(kind('replicaset'), deploy, {}, {}, undefined, NOW))).toBe('Selector: app=web,env notin (a,b),tier');
    const bad = { ...deploy, spec: { selector: { matchExpressions: [{ key: 'tier', operator: 'Near' }] } } };
    expect(selectorLine(describeObject(kind('replicaset'), bad, {}, {}, undefined, NOW))).toBe('Selector: <error>');
    expect(selectorLine(describeObject(kind('deployment'), bad, {}, {}, undefined, NOW))).toBe('Selector: Failed to get selector: "Near" is not a valid label selector operator');
    const svc = { metadata: { name: 'web', namespace: 'default' }, spec: { selector: { tier: 'fe', app: 'web' }, ports: [] } };
    expect(selectorLine(describeObject(kind('service'), svc, {}, {}, undefined, NOW))).toBe('Selector: app=web,tier=fe');
    expect(selectorLine(describeObject(kind('service'), { ...svc, spec: {} }, {}, {}, undefined, NOW))).toBe('Selector: <none>');
  });
});
