// Runs one plugin's PreFilter + Filter over nodes, and PreScore + Score + NormalizeScore.
import type { SchedulerCache } from '../../src/cache/cache';
import type { NodeInfo } from '../../src/cache/nodeinfo';
import { CycleState } from '../../src/framework/cyclestate';
import type { Status } from '../../src/framework/status';
import { PreFilterResult } from '../../src/framework/types';
import type { FilterPlugin, FrameworkHandle, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../../src/framework/types';
import type { PodInfo } from '../../src/podinfo';

export function handleFor(cache: SchedulerCache): FrameworkHandle {
  return { cache, now: () => 0 };
}

/** name -> 'ok' or the status's code and message, for each node of the cache. */
export function filterAll(plugin: Plugin, pod: PodInfo, cache: SchedulerCache): Record<string, string> {
  const state = new CycleState();
  const pf = plugin as Partial<PreFilterPlugin>;
  if (pf.preFilter) {
    const r = pf.preFilter(state, pod);
    if (!(r instanceof PreFilterResult) && r.code === 'Skip') {
      // The framework does not call the Filter of a plugin that skipped.
      return Object.fromEntries(cache.nodes().map((n) => [n.name, 'ok']));
    }
    if (!(r instanceof PreFilterResult) && r.code !== 'Success') {
      return Object.fromEntries(cache.nodes().map((n) => [n.name, `prefilter ${r.code}: ${r.message()}`]));
    }
  }
  const out: Record<string, string> = {};
  for (const n of cache.nodes()) {
    const s: Status = (plugin as FilterPlugin).filter(state, pod, n);
    out[n.name] = s.isSuccess() ? 'ok' : `${s.code}: ${s.message()}`;
  }
  return out;
}

/** name -> normalized score over the given nodes (default: all). */
export function scoreAll(plugin: Plugin, pod: PodInfo, cache: SchedulerCache, nodes?: NodeInfo[]): Record<string, number> | 'skip' {
  const state = new CycleState();
  const list = nodes ?? [...cache.nodes()];
  const ps = plugin as Partial<PreScorePlugin>;
  if (ps.preScore) {
    const s = ps.preScore(state, pod, list);
    if (s.code === 'Skip') return 'skip';
    if (!s.isSuccess()) throw new Error(s.toString());
  }
  const sp = plugin as ScorePlugin;
  const scores = list.map((n) => {
    const v = sp.score(state, pod, n);
    if (typeof v !== 'number') throw new Error(v.toString());
    return v;
  });
  if (sp.normalizeScore) {
    const s = sp.normalizeScore(state, pod, list, scores);
    if (!s.isSuccess()) throw new Error(s.toString());
  }
  return Object.fromEntries(list.map((n, i) => [n.name, scores[i]]));
}
