// Restart policies and CrashLoopBackOff with real processes: crashing commands (image node),
// init containers in order, pods that finish, a command that cannot start.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { BACKOFF, condition, containerStatus, echoContainer, eventually, makePod, request, TestNode } from './process-harness';

const node = new TestNode({});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-restart-'));

beforeAll(() => node.start());
afterAll(async () => {
  await node.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const nodeScript = (name: string, script: string, extra: Partial<corev1.Container> = {}): corev1.Container => ({
  name,
  image: 'node',
  args: ['-e', script],
  ...extra,
});

/** Parses "back-off 600ms restarting ..." into ms. */
function backoffMs(message: string): number {
  const m = /^back-off (?:(\d+)m)?(?:([\d.]+)s|(\d+)ms) restarting failed container=/.exec(message);
  if (!m) throw new Error(`not a CrashLoopBackOff message: ${message}`);
  return (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000 + Number(m[3] ?? 0);
}

describe('restartPolicy Always', () => {
  it('restarts a crashing container with growing back-off delays (CrashLoopBackOff)', async () => {
    const pod = node.run(makePod(node, 'crasher', { containers: [nodeScript('crash', 'console.log("crashing"); process.exit(3)')] }));
    const s = await node.waitStatus(
      pod,
      (st) => (containerStatus(st, 'crash')?.restartCount ?? 0) >= 4 && containerStatus(st, 'crash')?.state?.waiting?.reason === 'CrashLoopBackOff',
      'four restarts',
      30_000,
    );
    const cs = containerStatus(s, 'crash')!;
    expect(cs.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(s.phase).toBe('Running');
    expect(condition(s, 'Ready')).toBe('False');

    // Every CrashLoopBackOff the kubelet reported, in order: the delays grow, up to the cap.
    const delays: number[] = [];
    for (const st of node.statuses.history.get(pod.metadata!.uid!)!) {
      const w = containerStatus(st, 'crash')?.state?.waiting;
      if (w?.reason !== 'CrashLoopBackOff') continue;
      const d = backoffMs(w.message!);
      if (delays[delays.length - 1] !== d) delays.push(d);
    }
    expect(delays.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]);
    expect(delays[0]).toBe(BACKOFF.baseMs);
    expect(Math.max(...delays)).toBeLessThanOrEqual(BACKOFF.capMs);

    // The restarts themselves came in order. (Their wall-clock gaps are not compared: the
    // machine is shared and tests never assert timings; the reported delays above are.)
    const starts = node.events.of(pod.metadata!.uid!, 'Started').map((e) => e.time);
    expect(starts.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeGreaterThanOrEqual(starts[i - 1]);
    const backoffEvents = node.events.of(pod.metadata!.uid!, 'BackOff');
    expect(backoffEvents[0].message).toBe(`Back-off restarting failed container crash in pod crasher_default(${pod.metadata!.uid})`);
    expect(backoffEvents[0].type).toBe('Warning');
  });

  it('restarts a container that exits 0 too, and keeps the previous instance as lastState', async () => {
    const pod = node.run(makePod(node, 'echo-exit', { containers: [echoContainer()] }));
    const first = await node.waitStatus(pod, (st) => condition(st, 'Ready') === 'True', 'Ready');
    const ip = first.podIP!;
    await eventually(() => request('POST', `http://${ip}:8080/exit?code=0`).then((r) => r.status === 200), 'the exit request');
    const s = await node.waitStatus(pod, (st) => containerStatus(st, 'web')?.restartCount === 1 && condition(st, 'Ready') === 'True', 'restarted');
    expect(containerStatus(s, 'web')!.lastState?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(s.podIP).toBe(ip);
    await eventually(() => request('GET', `http://${ip}:8080/`).then((r) => r.body === 'echo-exit\n'), 'the new instance');
  });
});

describe('restartPolicy OnFailure and Never', () => {
  it('OnFailure: restarts on failure, finishes Succeeded once it exits 0', async () => {
    const marker = path.join(tmp, 'onfailure-runs');
    // Fails twice, then succeeds.
    const script = `const fs=require('fs');const f=${JSON.stringify(marker)};const n=fs.existsSync(f)?Number(fs.readFileSync(f,'utf8')):0;fs.writeFileSync(f,String(n+1));process.exit(n<2?1:0)`;
    const pod = node.run(makePod(node, 'onfailure', { restartPolicy: 'OnFailure', containers: [nodeScript('job', script)] }));
    const s = await node.waitStatus(pod, (st) => st.phase === 'Succeeded', 'Succeeded', 30_000);
    const cs = containerStatus(s, 'job')!;
    expect(cs.restartCount).toBe(2);
    expect(cs.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(cs.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(condition(s, 'Ready')).toBe('False');
    expect(s.conditions!.find((c) => c.type === 'Ready')!.reason).toBe('PodCompleted');
    expect(s.podIP).toBeTruthy();
    // The sandbox was released: its IP may be handed out again.
    expect(node.runtime.getPodSandbox(pod.metadata!.uid!)!.stopped).toBe(true);
  });

  it('Never: a failed container fails the pod', async () => {
    const pod = node.run(makePod(node, 'never-fail', { restartPolicy: 'Never', containers: [nodeScript('once', 'process.exit(2)')] }));
    const s = await node.waitStatus(pod, (st) => st.phase === 'Failed', 'Failed');
    expect(containerStatus(s, 'once')).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 2, reason: 'Error' } } });
  });

  it('Never: a completed container succeeds the pod', async () => {
    const pod = node.run(makePod(node, 'never-ok', { restartPolicy: 'Never', containers: [nodeScript('once', 'console.log("done")')] }));
    const s = await node.waitStatus(pod, (st) => st.phase === 'Succeeded', 'Succeeded');
    expect(containerStatus(s, 'once')!.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
  });
});

describe('init containers', () => {
  it('run one after another, each to success, before the regular containers', async () => {
    const order = path.join(tmp, 'init-order');
    const append = (what: string) => `require('fs').appendFileSync(${JSON.stringify(order)}, ${JSON.stringify(`${what}\n`)})`;
    const pod = node.run(
      makePod(node, 'with-init', {
        initContainers: [nodeScript('first', `setTimeout(()=>{${append('first')}},300)`), nodeScript('second', append('second'))],
        containers: [nodeScript('main', `${append('main')};setInterval(()=>{},1000)`)],
      }),
    );
    const pending = await node.waitStatus(pod, (st) => !!containerStatus(st, 'first')?.state?.running, 'the first init container running');
    expect(pending.phase).toBe('Pending');
    expect(pending.conditions!.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', message: 'containers with incomplete status: [first second]' });
    expect(containerStatus(pending, 'main')!.state?.waiting?.reason).toBe('PodInitializing');
    const s = await node.waitStatus(pod, (st) => st.phase === 'Running' && condition(st, 'Ready') === 'True', 'Running');
    expect(condition(s, 'Initialized')).toBe('True');
    expect(containerStatus(s, 'second')!.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    await eventually(() => fs.readFileSync(order, 'utf8').includes('main'), 'the main container running');
    expect(fs.readFileSync(order, 'utf8')).toBe('first\nsecond\nmain\n');
  });

  it('a failing init container with restartPolicy Never fails the pod; main never starts', async () => {
    const pod = node.run(
      makePod(node, 'init-fails', {
        restartPolicy: 'Never',
        initContainers: [nodeScript('setup', 'process.exit(5)')],
        containers: [echoContainer()],
      }),
    );
    const s = await node.waitStatus(pod, (st) => st.phase === 'Failed', 'Failed');
    expect(containerStatus(s, 'setup')!.state?.terminated?.exitCode).toBe(5);
    expect(containerStatus(s, 'web')!.state?.waiting?.reason).toBe('PodInitializing');
    expect(node.events.of(pod.metadata!.uid!, 'Started').map((e) => e.fieldPath)).toEqual(['spec.initContainers{setup}']);
  });
});

describe('start errors', () => {
  it('a command that does not exist: StartError 128, then CrashLoopBackOff', async () => {
    const pod = node.run(makePod(node, 'no-binary', { containers: [{ name: 'x', image: 'local/nothing', command: ['k8ts-no-such-binary'] }] }));
    const s = await node.waitStatus(pod, (st) => (containerStatus(st, 'x')?.restartCount ?? 0) >= 2, 'restarts');
    const last = containerStatus(s, 'x')!.lastState?.terminated;
    expect(last).toMatchObject({ exitCode: 128, reason: 'StartError', message: 'exec: "k8ts-no-such-binary": executable file not found in $PATH' });
    const failed = node.events.of(pod.metadata!.uid!, 'Failed').map((e) => e.message);
    expect(failed).toContain('Error: exec: "k8ts-no-such-binary": executable file not found in $PATH');
  });
});
