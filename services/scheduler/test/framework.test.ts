import { SchedulerCache } from '../src/cache/cache';
import type { NodeInfo } from '../src/cache/nodeinfo';
import type { CycleState } from '../src/framework/cyclestate';
import { Diagnosis, fitErrorMessage, reasonHistogram } from '../src/framework/diagnosis';
import { Framework } from '../src/framework/framework';
import type { ProfilePlugins } from '../src/framework/framework';
import { SUCCESS, Status } from '../src/framework/status';
import { PreFilterResult } from '../src/framework/types';
import type { FilterPlugin, FrameworkHandle, PreFilterPlugin, ScorePlugin } from '../src/framework/types';
import type { PodInfo } from '../src/podinfo';
import { defaultNormalizeScore } from '../src/plugins/helpers';
import { FakeBinder, cacheWith, frameworkFor, info, node, seeded } from './helpers';

function points(p: Partial<ProfilePlugins>): ProfilePlugins {
  return { preFilter: [], filter: [], postFilter: [], preScore: [], score: [], reserve: [], bind: [], ...p };
}

function handle(cache: SchedulerCache): FrameworkHandle {
  return { cache, binder: new FakeBinder(), now: () => 0 };
}

/** A score plugin that gives each node a fixed raw score. */
function fixedScore(name: string, raw: Record<string, number>, normalize?: boolean): ScorePlugin {
  return {
    name,
    score: (_s: CycleState, _p: PodInfo, n: NodeInfo) => raw[n.name] ?? 0,
    normalizeScore: normalize ? (_s, _p, _n, scores) => defaultNormalizeScore(scores, false) : undefined,
  };
}

describe('FailedScheduling message', () => {
  // Kubernetes sorts the "<count> <reason>" strings as strings (sort.Strings), so with 3 nodes
  // short of cpu and 2 tainted ones the taint comes first ('2' < '3'); the example
  // "3 Insufficient cpu, 2 node(s) had untolerated taint ..." shows the same counts.
  it('counts reasons per node and sorts them as Kubernetes does', () => {
    const d = new Diagnosis();
    const cpu = Status.unschedulable('NodeResourcesFit', 'Insufficient cpu');
    const taint = Status.unresolvable('TaintToleration', 'node(s) had untolerated taint {dedicated: gpu}');
    d.nodeToStatus.set('n1', cpu);
    d.nodeToStatus.set('n2', taint);
    d.nodeToStatus.set('n3', cpu);
    d.nodeToStatus.set('n4', taint);
    d.nodeToStatus.set('n5', cpu);
    expect(fitErrorMessage(5, d)).toBe('0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu.');
    d.nodeToStatus.delete('n5');
    d.nodeToStatus.delete('n3');
    d.nodeToStatus.set('n3', Status.unschedulable('NodePorts', "node(s) didn't have free ports for the requested pod ports"));
    expect(fitErrorMessage(5, d)).toBe(
      "0/5 nodes are available: 1 Insufficient cpu, 1 node(s) didn't have free ports for the requested pod ports, 2 node(s) had untolerated taint {dedicated: gpu}.",
    );
  });

  it('counts each of several reasons of a node, sorting "10 ..." before "2 ..." as strings', () => {
    const d = new Diagnosis();
    for (let i = 0; i < 10; i++) d.nodeToStatus.set(`a${i}`, Status.unschedulable('NodeResourcesFit', 'Insufficient memory'));
    d.nodeToStatus.set('b', Status.unschedulable('NodeResourcesFit', 'Insufficient cpu', 'Insufficient memory'));
    d.nodeToStatus.set('c', Status.unschedulable('NodeResourcesFit', 'Insufficient cpu'));
    expect(reasonHistogram(d)).toEqual(['11 Insufficient memory', '2 Insufficient cpu']);
  });

  it('uses the PreFilter message alone when PreFilter rejected the pod', () => {
    const d = new Diagnosis();
    d.preFilterMsg = 'pod affinity terms conflict';
    d.nodeToStatus.set('n1', Status.unschedulable('X', 'ignored'));
    expect(fitErrorMessage(3, d)).toBe('0/3 nodes are available: pod affinity terms conflict.');
  });

  it('is produced by a real scheduling attempt', () => {
    const cache = cacheWith([
      node('small-1', { cpu: '1' }),
      node('small-2', { cpu: '1' }),
      node('small-3', { cpu: '1' }),
      node('gpu-1', { cpu: '1', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      node('gpu-2', { cpu: '8', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
    ]);
    const f = frameworkFor(cache);
    const r = f.schedulePod(info('big', { cpu: '2' }));
    expect(r.kind).toBe('unschedulable');
    if (r.kind !== 'unschedulable') return;
    expect(r.error.message).toBe('0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu.');
    expect([...r.error.diagnosis.unschedulablePlugins].sort()).toEqual(['NodeResourcesFit', 'TaintToleration']);
  });

  it('says so when there are no nodes', () => {
    const r = frameworkFor(new SchedulerCache()).schedulePod(info('p'));
    expect(r.kind === 'unschedulable' && r.error.message).toBe('no nodes available to schedule pods');
  });
});

describe('framework', () => {
  it('sums normalized scores times weights and picks the best node', () => {
    const cache = cacheWith([node('a'), node('b'), node('c')]);
    const f = new Framework(
      'test',
      handle(cache),
      points({
        score: [
          { plugin: fixedScore('Raw', { a: 10, b: 50, c: 30 }), weight: 1 },
          { plugin: fixedScore('Normalized', { a: 2, b: 1, c: 4 }, true), weight: 3 },
        ],
      }),
      { percentageOfNodesToScore: 100 },
    );
    f.recordScores = true;
    const r = f.schedulePod(info('p'));
    // a: 10 + 3*50 = 160; b: 50 + 3*25 = 125; c: 30 + 3*100 = 330
    expect(r.kind === 'scheduled' && r.nodeName).toBe('c');
    expect(Object.fromEntries(f.lastScores.map((s) => [s.name, s.total]))).toEqual({ a: 160, b: 125, c: 330 });
    expect(f.lastScores.find((s) => s.name === 'b')!.byPlugin).toEqual({ Raw: 50, Normalized: 25 });
  });

  it('breaks ties between equally good nodes at random', () => {
    const cache = cacheWith(['a', 'b', 'c', 'd'].map((n) => node(n)));
    const rnd = seeded(7);
    const f = new Framework('test', handle(cache), points({ score: [{ plugin: fixedScore('Flat', { a: 1, b: 5, c: 5, d: 5 }), weight: 1 }] }), {
      random: rnd,
    });
    const chosen = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const r = f.schedulePod(info(`p${i}`));
      if (r.kind === 'scheduled') chosen.set(r.nodeName, (chosen.get(r.nodeName) ?? 0) + 1);
    }
    expect(chosen.has('a')).toBe(false);
    for (const n of ['b', 'c', 'd']) expect(chosen.get(n)).toBeGreaterThan(60);
  });

  it('rejects scores outside 0..100 after normalization', () => {
    const cache = cacheWith([node('a'), node('b')]);
    const f = new Framework('test', handle(cache), points({ score: [{ plugin: fixedScore('Bad', { a: 500 }), weight: 1 }] }));
    const r = f.schedulePod(info('p'));
    expect(r.kind).toBe('error');
    expect(r.kind === 'error' && r.status.message()).toMatch(/invalid score 500/);
  });

  it('turns a plugin that throws into an Error status', () => {
    const cache = cacheWith([node('a'), node('b')]);
    const boom: FilterPlugin = {
      name: 'Boom',
      filter: () => {
        throw new Error('kaput');
      },
    };
    const r = new Framework('test', handle(cache), points({ filter: [boom] })).schedulePod(info('p'));
    expect(r.kind).toBe('error');
    expect(r.kind === 'error' && r.status.message()).toBe('running Filter plugin "Boom": plugin Boom threw: kaput');
  });

  it('skips the Filter of a plugin whose PreFilter returned Skip, and narrows nodes with a PreFilterResult', () => {
    const cache = cacheWith(['a', 'b', 'c'].map((n) => node(n)));
    const calls: string[] = [];
    const skipper: PreFilterPlugin & FilterPlugin = {
      name: 'Skipper',
      preFilter: () => Status.skip(),
      filter: () => {
        calls.push('filter');
        return SUCCESS;
      },
    };
    const narrower: PreFilterPlugin & FilterPlugin = {
      name: 'Narrower',
      preFilter: () => new PreFilterResult(new Set(['b', 'zzz'])),
      filter: (_s, _p, n) => {
        calls.push(n.name);
        return SUCCESS;
      },
    };
    const r = new Framework('test', handle(cache), points({ preFilter: [skipper, narrower], filter: [skipper, narrower] })).schedulePod(info('p'));
    expect(r.kind === 'scheduled' && r.nodeName).toBe('b');
    expect(calls).toEqual(['b']);
  });

  it('reports nodes left out by PreFilter in the message', () => {
    const cache = cacheWith(['a', 'b', 'c'].map((n) => node(n, { cpu: '1' })));
    const f = frameworkFor(cache);
    const r = f.schedulePod(
      info('p', {
        cpu: '2',
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }],
            },
          },
        },
      }),
    );
    expect(r.kind === 'unschedulable' && r.error.message).toBe(
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    );
  });

  it('looks for a share of the nodes only, as Kubernetes', () => {
    const f = new Framework('t', handle(new SchedulerCache()), points({}));
    expect(f.numFeasibleNodesToFind(50)).toBe(50);
    expect(f.numFeasibleNodesToFind(100)).toBe(100);
    expect(f.numFeasibleNodesToFind(1000)).toBe(420);
    expect(f.numFeasibleNodesToFind(5000)).toBe(500);
    expect(f.numFeasibleNodesToFind(6000)).toBe(300);
    const fixed = new Framework('t', handle(new SchedulerCache()), points({}), { percentageOfNodesToScore: 20 });
    expect(fixed.numFeasibleNodesToFind(1000)).toBe(200);
    expect(fixed.numFeasibleNodesToFind(300)).toBe(100);
  });

  it('spreads the filter work round-robin over the nodes', () => {
    const cache = cacheWith(Array.from({ length: 200 }, (_, i) => node(`n${i}`)));
    const seen: string[] = [];
    const spy: FilterPlugin = {
      name: 'Spy',
      filter: (_s, _p, n) => {
        seen.push(n.name);
        return SUCCESS;
      },
    };
    const f = new Framework('t', handle(cache), points({ filter: [spy] }), { percentageOfNodesToScore: 50 });
    f.schedulePod(info('p1'));
    f.schedulePod(info('p2'));
    expect(seen.length).toBe(200);
    expect(new Set(seen).size).toBe(200);
  });

  it('runs Reserve, and Unreserve in reverse order when one fails', () => {
    const cache = cacheWith([node('a')]);
    const log: string[] = [];
    const reserve = (name: string, ok: boolean) => ({
      name,
      reserve: () => {
        log.push(`reserve ${name}`);
        return ok ? SUCCESS : Status.error(name, 'no');
      },
      unreserve: () => void log.push(`unreserve ${name}`),
    });
    const f = new Framework('t', handle(cache), points({ reserve: [reserve('A', true), reserve('B', false)] }));
    const r = f.schedulePod(info('p'));
    if (r.kind !== 'scheduled') throw new Error('not scheduled');
    const s = f.runReserve(r.state, info('p'), 'a');
    expect(s.code).toBe('Error');
    expect(s.plugin).toBe('B');
    expect(log).toEqual(['reserve A', 'reserve B', 'unreserve B', 'unreserve A']);
  });

  it('binds through the first bind plugin that does not skip', async () => {
    const cache = cacheWith([node('a')]);
    const skip = { name: 'Skip', bind: async () => Status.skip() };
    const binder = new FakeBinder();
    const f = frameworkFor(cache, undefined, { binder });
    const withSkip = new Framework('t', handle(cache), points({ bind: [skip, ...f.points.bind] }));
    const p = info('p');
    const r = withSkip.schedulePod(p);
    if (r.kind !== 'scheduled') throw new Error('not scheduled');
    expect((await withSkip.runBind(r.state, p, 'a')).isSuccess()).toBe(true);
    expect(binder.bound).toEqual([['default/p', 'a']]);
    binder.fail = () => new Error('boom');
    const s = await withSkip.runBind(r.state, p, 'a');
    expect(s.code).toBe('Error');
    expect(s.plugin).toBe('DefaultBinder');
    expect(s.message()).toBe('boom');
  });

  it('gives a pod with a malformed spec an Error status', () => {
    const cache = cacheWith([node('a')]);
    const r = frameworkFor(cache).schedulePod(info('p', { cpu: 'lots' }));
    expect(r.kind).toBe('error');
    expect(r.kind === 'error' && r.status.message()).toMatch(/^pod default\/p: spec\.containers\[0\]\.resources\.requests\[cpu\]: quantities must match the regular expression/);
  });
});
