// Helpers shared by plugins.
import { SUCCESS } from '../framework/status';
import type { Status } from '../framework/status';
import { MAX_NODE_SCORE, PluginArgsError } from '../framework/types';
import type { PluginArgs } from '../framework/types';

/**
 * Kubernetes' DefaultNormalizeScore: scales scores so the highest becomes MAX_NODE_SCORE
 * (integer division); with `reverse`, MAX_NODE_SCORE minus that. All zero: all 0 (or all
 * MAX_NODE_SCORE when reversed).
 */
export function defaultNormalizeScore(scores: number[], reverse: boolean, max = MAX_NODE_SCORE): Status {
  let top = 0;
  for (const s of scores) if (s > top) top = s;
  if (top === 0) {
    if (reverse) scores.fill(max);
    return SUCCESS;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((max * scores[i]) / top);
    if (reverse) s = max - s;
    scores[i] = s;
  }
  return SUCCESS;
}

/** Rejects argument keys a plugin does not know. */
export function checkArgKeys(plugin: string, args: PluginArgs, known: readonly string[]): void {
  for (const k of Object.keys(args)) {
    if (!known.includes(k)) {
      throw new PluginArgsError(
        known.length === 0 ? `${plugin} takes no arguments (got "${k}")` : `unknown argument "${k}" of ${plugin} (known: ${known.join(', ')})`,
      );
    }
  }
}

/** An integer argument within bounds, or its default. */
export function intArg(plugin: string, args: PluginArgs, key: string, dflt: number, min: number, max: number): number {
  const v = args[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new PluginArgsError(`${plugin} argument "${key}" must be an integer between ${min} and ${max} (got ${JSON.stringify(v)})`);
  }
  return v;
}

export interface ResourceSpec {
  name: string;
  weight: number;
}

/** The "resources" argument of the resource scoring plugins: [{name, weight}], default cpu and memory with weight 1. */
export function resourcesArg(plugin: string, args: PluginArgs): ResourceSpec[] {
  const v = args.resources;
  if (v === undefined) {
    return [
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
    ];
  }
  if (!Array.isArray(v) || v.length === 0) throw new PluginArgsError(`${plugin} argument "resources" must be a non-empty list of {name, weight}`);
  const seen = new Set<string>();
  return v.map((r, i) => {
    const o = r as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || o.name === '') {
      throw new PluginArgsError(`${plugin} argument resources[${i}].name must be a resource name such as cpu or memory`);
    }
    if (seen.has(o.name)) throw new PluginArgsError(`${plugin} argument resources[${i}]: resource "${o.name}" is listed twice`);
    seen.add(o.name);
    const weight = o.weight === undefined ? 1 : o.weight;
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 100) {
      throw new PluginArgsError(`${plugin} argument resources[${i}].weight must be an integer between 1 and 100`);
    }
    for (const k of Object.keys(o)) {
      if (k !== 'name' && k !== 'weight') throw new PluginArgsError(`${plugin} argument resources[${i}]: unknown field "${k}" (known: name, weight)`);
    }
    return { name: o.name, weight };
  });
}
