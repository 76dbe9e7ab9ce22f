import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseBool, run } from '../src/cli';
import { cascadePolicy, gracePeriodOf } from '../src/commands/delete';
import { rolloutStatus } from '../src/commands/rollout';
import { parseWaitFor } from '../src/commands/workloads';
import { bufferIO } from '../src/io';
import { kindLabel, parseResourceArgs, parseSingleResource, resolveKind, resourceLabel } from '../src/resources';
import { parseTimeout } from '../src/session';

describe('resource arguments', () => {
  const names = (args: string[]) => parseResourceArgs(args).map((s) => `${s.kind.kind}:${s.names.join(',')}`);
  test('kinds by any name kubectl accepts', () => {
    for (const n of ['pods', 'pod', 'po', 'Pod', 'pods.v1']) expect(resolveKind(n).kind).toBe('Pod');
    for (const n of ['deployments', 'deploy', 'deployment.apps', 'deployments.apps']) expect(resolveKind(n).kind).toBe('Deployment');
    expect(resolveKind('svc').kind).toBe('Service');
    expect(resolveKind('ep').kind).toBe('Endpoints');
    expect(() => resolveKind('potatoes')).toThrow('the server doesn\'t have a resource type "potatoes"');
    expect(() => resolveKind('deployments.batch')).toThrow(/doesn't have a resource type "deployments.batch"/);
    expect(kindLabel(resolveKind('deploy'))).toBe('deployment.apps');
    expect(resourceLabel(resolveKind('rs'))).toBe('replicasets.apps');
    expect(kindLabel(resolveKind('jobs.batch'))).toBe('job.batch');
    expect(resolveKind('job').resource).toBe('jobs');
    expect(() => resolveKind('jobs.apps')).toThrow(/doesn't have a resource type "jobs.apps"/);
  });
  test('TYPE, TYPE,TYPE, TYPE NAME..., TYPE/NAME...', () => {
    expect(names(['pods'])).toEqual(['Pod:']);
    expect(names(['pods,svc'])).toEqual(['Pod:', 'Service:']);
    expect(names(['pod', 'a', 'b'])).toEqual(['Pod:a,b']);
    expect(names(['pod/a', 'svc/b', 'po/c'])).toEqual(['Pod:a,c', 'Service:b']);
    expect(names(['all'])).toEqual(['Pod:', 'Service:', 'Deployment:', 'ReplicaSet:', 'Job:']);
    expect(() => parseResourceArgs(['pods', 'pod/a'])).toThrow(/no need to specify a resource type as a separate argument/);
    expect(() => parseResourceArgs(['pods,svc', 'a'])).toThrow(/only one resource type/);
    expect(() => parseResourceArgs([])).toThrow(/you must specify the type of resource/);
  });
  test('one resource', () => {
    expect(parseSingleResource(['deployment/web'])).toMatchObject({ name: 'web', kind: { kind: 'Deployment' } });
    expect(parseSingleResource(['deploy', 'web'])).toMatchObject({ name: 'web' });
    expect(() => parseSingleResource(['web'])).toThrow(/TYPE\/NAME/);
  });
});

describe('flag values', () => {
  test('booleans, durations, grace periods, cascade', () => {
    expect(parseBool(undefined)).toBe(true);
    expect(parseBool('false')).toBe(false);
    expect(() => parseBool('maybe')).toThrow(/invalid boolean/);
    expect(parseTimeout('30s')).toBe(30_000);
    expect(parseTimeout('1m30s')).toBe(90_000);
    expect(parseTimeout('500ms')).toBe(500);
    expect(parseTimeout('2')).toBe(2000);
    expect(parseTimeout(undefined)).toBe(0);
    expect(() => parseTimeout('5 minutes')).toThrow(/invalid duration/);
    expect(gracePeriodOf({})).toBeUndefined();
    expect(gracePeriodOf({ gracePeriod: '5' })).toBe(5);
    expect(gracePeriodOf({ gracePeriod: '0' })).toBe(1);
    expect(gracePeriodOf({ gracePeriod: '0', force: true })).toBe(0);
    expect(gracePeriodOf({ now: true })).toBe(1);
    expect(cascadePolicy('foreground')).toBe('Foreground');
    expect(cascadePolicy('orphan')).toBe('Orphan');
    expect(cascadePolicy(undefined)).toBe('Background');
    expect(() => cascadePolicy('sideways')).toThrow(/invalid cascade value/);
  });
  test('wait --for', () => {
    expect(parseWaitFor('delete')).toEqual({ kind: 'delete' });
    expect(parseWaitFor('condition=Ready')).toEqual({ kind: 'condition', type: 'Ready', value: 'True' });
    expect(parseWaitFor('condition=Available=false')).toEqual({ kind: 'condition', type: 'Available', value: 'false' });
    expect(parseWaitFor('jsonpath={.status.phase}=Running')).toEqual({ kind: 'jsonpath', path: ['status', 'phase'], value: 'Running' });
    expect(() => parseWaitFor('ready')).toThrow(/unrecognized condition/);
  });
});

describe('rollout status messages', () => {
  const d = (spec: object, status: object, generation = 2) => ({ metadata: { name: 'web', generation }, spec, status: { observedGeneration: 2, ...status } });
  test('each stage as kubectl words it', () => {
    expect(rolloutStatus(d({ replicas: 3 }, { observedGeneration: 1 })).message).toBe('Waiting for deployment spec update to be observed...');
    expect(rolloutStatus(d({ replicas: 3 }, { updatedReplicas: 1, replicas: 4 })).message).toBe(
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    );
    expect(rolloutStatus(d({ replicas: 3 }, { updatedReplicas: 3, replicas: 4 })).message).toBe(
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    );
    expect(rolloutStatus(d({ replicas: 3 }, { updatedReplicas: 3, replicas: 3, availableReplicas: 2 })).message).toBe(
      'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
    );
    expect(rolloutStatus(d({ replicas: 3 }, { updatedReplicas: 3, replicas: 3, availableReplicas: 3 }))).toEqual({
      done: true,
      message: 'deployment "web" successfully rolled out',
    });
    expect(rolloutStatus(d({ replicas: 3 }, { conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }] })).failed).toBe(
      'deployment "web" exceeded its progress deadline',
    );
  });
});

describe('run', () => {
  test('help exits 0', async () => {
    const io = bufferIO();
    expect(await run(['--help'], io)).toBe(0);
    expect(io.stdout()).toMatch(/Usage: k8ts/);
    expect(io.stdout()).toMatch(/apply/);
  });
  test('an unknown resource type', async () => {
    const io = bufferIO({ HOME: os.tmpdir() });
    expect(await run(['get', 'potatoes', '--server', '127.0.0.1:1'], io)).toBe(1);
    expect(io.stderr()).toBe('error: the server doesn\'t have a resource type "potatoes"\n');
  });
  test('unknown commands and flags', async () => {
    const io = bufferIO();
    expect(await run(['gte', 'pods'], io)).toBe(1);
    expect(io.stderr()).toMatch(/unknown command 'gte'/);
    const io2 = bufferIO();
    expect(await run(['get', 'pods', '--frobnicate'], io2)).toBe(1);
    expect(io2.stderr()).toMatch(/unknown option '--frobnicate'/);
  });
  test('scale needs --replicas; apply needs -f', async () => {
    const io = bufferIO({ HOME: os.tmpdir() });
    expect(await run(['scale', 'deployment/web', '--server', 'x:1'], io)).toBe(1);
    expect(io.stderr()).toBe('error: required flag(s) "replicas" not set\n');
    const io2 = bufferIO();
    expect(await run(['apply'], io2)).toBe(1);
    expect(io2.stderr()).toMatch(/required option '-f, --filename <file>' not specified/);
  });
  test('no config and no --server explains how to get a cluster', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-home-'));
    const io = bufferIO({ HOME: home });
    expect(await run(['get', 'pods'], io)).toBe(1);
    // No k8ts on PATH: the hint names this checkout's launcher, so that it runs as printed.
    const launcher = path.resolve(__dirname, '..', 'bin', 'k8ts');
    expect(io.stderr()).toMatch(/^error: no server to talk to \(no config file at .*\): start a local cluster with "/);
    expect(io.stderr()).toContain(`start a local cluster with "${launcher} up"`);
    const onPath = bufferIO({ HOME: home, PATH: path.dirname(launcher) });
    expect(await run(['get', 'pods'], onPath)).toBe(1);
    expect(onPath.stderr()).toContain('start a local cluster with "k8ts up"');
    fs.rmSync(home, { recursive: true });
  });
  test('global flags work after the command; connection errors name the server', async () => {
    const io = bufferIO({ HOME: os.tmpdir() });
    expect(await run(['get', 'pods', '-n', 'x', '--server', '127.0.0.1:1', '--request-timeout', '3s'], io)).toBe(1);
    expect(io.stderr()).toBe('The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n');
  });
  test('a missing manifest file', async () => {
    const io = bufferIO({ HOME: os.tmpdir() });
    expect(await run(['apply', '-f', '/nonexistent/x.yaml', '--server', '127.0.0.1:1'], io)).toBe(1);
    expect(io.stderr()).toBe('error: the path "/nonexistent/x.yaml" does not exist\n');
  });
});
