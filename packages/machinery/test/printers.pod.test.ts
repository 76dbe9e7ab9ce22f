// Pod columns. Expected cells are worked out by hand from Kubernetes' printPod (see
// packages/machinery/src/printers/pod.ts for the rules), not taken from this code's output.
import { podSummary, printerColumnsFor } from '@k8ts/machinery';
import { kindByName } from '@k8ts/api';

const NOW = Date.parse('2026-01-10T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace('.000Z', 'Z');
const pods = printerColumnsFor(kindByName('pods')!);

type Json = Record<string, any>;

function running(name: string, extra: Json = {}): Json {
  return { name, ready: true, restartCount: 0, state: { running: { startedAt: ago(60) } }, ...extra };
}

function pod(over: { spec?: Json; status?: Json; metadata?: Json } = {}): Json {
  return {
    metadata: { name: 'web-1', namespace: 'default', creationTimestamp: ago(65), ...over.metadata },
    spec: { containers: [{ name: 'web', image: 'k8ts/echo' }], nodeName: 'node-1', ...over.spec },
    status: {
      phase: 'Running',
      podIP: '10.1.0.5',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [running('web')],
      ...over.status,
    },
  };
}

describe('pod columns', () => {
  test('definitions: NAME READY STATUS RESTARTS AGE, then the wide IP NODE NOMINATED NODE READINESS GATES', () => {
    expect(pods.columns.map((c) => [c.name, c.type, c.priority, c.format])).toEqual([
      ['Name', 'string', 0, 'name'],
      ['Ready', 'string', 0, ''],
      ['Status', 'string', 0, ''],
      ['Restarts', 'string', 0, ''],
      ['Age', 'string', 0, ''],
      ['IP', 'string', 1, ''],
      ['Node', 'string', 1, ''],
      ['Nominated Node', 'string', 1, ''],
      ['Readiness Gates', 'string', 1, ''],
    ]);
  });

  test('a running pod, every cell', () => {
    expect(pods.cells(pod(), NOW)).toEqual(['web-1', '1/1', 'Running', '0', '65s', '10.1.0.5', 'node-1', '<none>', '<none>']);
  });

  test('unscheduled: no IP, no node; the nominated node and readiness gates', () => {
    const p = pod({
      spec: { nodeName: undefined, readinessGates: [{ conditionType: 'lb/ready' }, { conditionType: 'x/ok' }] },
      status: {
        phase: 'Pending',
        podIP: undefined,
        nominatedNodeName: 'node-2',
        containerStatuses: [],
        conditions: [
          { type: 'lb/ready', status: 'True' },
          { type: 'x/ok', status: 'False' },
        ],
      },
    });
    expect(pods.cells(p, NOW).slice(5)).toEqual(['<none>', '<none>', 'node-2', '1/2']);
  });

  test('the IP comes from podIPs when podIP is not set', () => {
    const p = pod({ status: { podIP: undefined, podIPs: [{ ip: 'fd00::5' }, { ip: '10.1.0.9' }] } });
    expect(pods.cells(p, NOW)[5]).toBe('fd00::5');
  });

  test('restarts say when the last container terminated', () => {
    const p = pod({
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        containerStatuses: [
          running('a', { restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } } }),
          running('b', { restartCount: 1, lastState: { terminated: { exitCode: 137, finishedAt: ago(45) } } }),
        ],
      },
    });
    // 2 + 1 restarts; the latest termination was 45s ago.
    expect(podSummary(p, NOW)).toEqual({ ready: '2/2', status: 'Running', restarts: '3 (45s ago)' });
    // Without a known termination time only the count shows.
    const q = pod({ status: { containerStatuses: [running('web', { restartCount: 4 })] } });
    expect(podSummary(q, NOW).restarts).toBe('4');
  });

  test('the last container that is waiting or terminated gives the status', () => {
    const p = pod({
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        containerStatuses: [
          { name: 'a', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } },
          { name: 'b', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } },
        ],
      },
    });
    // Walked from the last: b gives ExitCode:2, then a overrides it with CrashLoopBackOff.
    expect(podSummary(p, NOW)).toEqual({ ready: '0/2', status: 'CrashLoopBackOff', restarts: '5' });
    const signal = pod({ status: { containerStatuses: [{ name: 'web', ready: false, state: { terminated: { exitCode: 0, signal: 9 } } }] } });
    expect(podSummary(signal, NOW).status).toBe('Signal:9');
    const exit = pod({ status: { containerStatuses: [{ name: 'web', ready: false, state: { terminated: { exitCode: 3 } } }] } });
    expect(podSummary(exit, NOW).status).toBe('ExitCode:3');
  });

  test('Completed with a container still running is Running when Ready, NotReady otherwise', () => {
    const statuses = [
      { name: 'a', ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      running('b'),
    ];
    const spec = { containers: [{ name: 'a' }, { name: 'b' }] };
    // Walked from the last: b runs (ready 1), then a sets Completed.
    expect(podSummary(pod({ spec, status: { containerStatuses: statuses } }), NOW)).toMatchObject({ ready: '1/2', status: 'Running' });
    expect(podSummary(pod({ spec, status: { containerStatuses: statuses, conditions: [{ type: 'Ready', status: 'False' }] } }), NOW).status).toBe('NotReady');
  });

  test('init containers: progress, waiting and failed ones; restarts count init containers while initializing', () => {
    const spec = { initContainers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] };
    const base = { phase: 'Pending', conditions: [{ type: 'Initialized', status: 'False' }], containerStatuses: [{ name: 'web', ready: false, state: { waiting: { reason: 'PodInitializing' } } }] };
    const initStatuses = (b: Json) => [{ name: 'a', restartCount: 1, state: { terminated: { exitCode: 0 } } }, { name: 'b', ...b }, { name: 'c', restartCount: 7 }];
    expect(podSummary(pod({ spec, status: { ...base, initContainerStatuses: initStatuses({ state: { running: {} } }) } }), NOW)).toEqual({
      ready: '0/1',
      status: 'Init:1/3',
      // a's 1 restart; the walk stops at b, so c's restarts are not counted.
      restarts: '1',
    });
    expect(podSummary(pod({ spec, status: { ...base, initContainerStatuses: initStatuses({ state: { waiting: { reason: 'ImagePullBackOff' } } }) } }), NOW).status).toBe('Init:ImagePullBackOff');
    expect(podSummary(pod({ spec, status: { ...base, initContainerStatuses: initStatuses({ state: { waiting: { reason: 'PodInitializing' } } }) } }), NOW).status).toBe('Init:1/3');
    expect(podSummary(pod({ spec, status: { ...base, initContainerStatuses: initStatuses({ state: { terminated: { exitCode: 1, reason: 'Error' } } }) } }), NOW).status).toBe('Init:Error');
    expect(podSummary(pod({ spec, status: { ...base, initContainerStatuses: initStatuses({ state: { terminated: { exitCode: 4 } } }) } }), NOW).status).toBe('Init:ExitCode:4');
    expect(podSummary(pod({ spec, status: { ...base, initContainerStatuses: initStatuses({ state: { terminated: { exitCode: 143, signal: 15 } } }) } }), NOW).status).toBe('Init:Signal:15');
    // A terminated init container with exit code 0 succeeded, whatever else it reports: c is next.
    expect(podSummary(pod({ spec, status: { ...base, initContainerStatuses: initStatuses({ state: { terminated: { exitCode: 0, signal: 15 } } }) } }), NOW).status).toBe('Init:2/3');
  });

  test('once initialized only the sidecars count among the init containers', () => {
    const p = pod({
      spec: { initContainers: [{ name: 'setup' }, { name: 'proxy', restartPolicy: 'Always' }] },
      status: {
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: 'True' },
        ],
        initContainerStatuses: [
          { name: 'setup', restartCount: 3, state: { terminated: { exitCode: 0, reason: 'Completed' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(10) } } },
          { name: 'proxy', restartCount: 1, started: true, ready: true, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(200) } } },
        ],
        containerStatuses: [running('web', { restartCount: 2 })],
      },
    });
    // READY: the ready sidecar and the ready container, out of 1 container + 1 sidecar.
    // RESTARTS: proxy's 1 + web's 2 (setup's 3 are dropped), last termination: proxy's, 200s ago.
    expect(podSummary(p, NOW)).toEqual({ ready: '2/2', status: 'Running', restarts: '3 (3m20s ago)' });
  });

  test('scheduling gates, deletion and a lost node', () => {
    const gated = pod({ spec: { nodeName: undefined }, status: { phase: 'Pending', containerStatuses: [], conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } });
    expect(podSummary(gated, NOW).status).toBe('SchedulingGated');
    expect(podSummary(pod({ metadata: { deletionTimestamp: ago(1) } }), NOW).status).toBe('Terminating');
    expect(podSummary(pod({ metadata: { deletionTimestamp: ago(1) }, status: { reason: 'NodeLost' } }), NOW).status).toBe('Unknown');
    // A finished pod keeps its status while it is deleted.
    const done = pod({ metadata: { deletionTimestamp: ago(1) }, status: { phase: 'Succeeded', containerStatuses: [{ name: 'web', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } });
    expect(podSummary(done, NOW).status).toBe('Completed');
  });

  test('status.reason replaces the phase (an evicted pod)', () => {
    const evicted = pod({ status: { phase: 'Failed', reason: 'Evicted', containerStatuses: [] } });
    expect(podSummary(evicted, NOW)).toEqual({ ready: '0/1', status: 'Evicted', restarts: '0' });
  });

  test('rows of finished pods carry a Completed condition', () => {
    expect(pods.conditions?.(pod({ status: { phase: 'Succeeded' } }))).toEqual([{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
    expect(pods.conditions?.(pod({ status: { phase: 'Failed' } }))).toEqual([{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
    expect(pods.conditions?.(pod())).toEqual([]);
  });
});
