// The scheduler's configuration: its flags and their typed form (SchedulerFlags, what start()
// takes), and the configuration file (--config), a subset of Kubernetes'
// KubeSchedulerConfiguration in YAML (or JSON):
//
//   apiVersion: kubescheduler.config.k8s.io/v1     # optional
//   kind: KubeSchedulerConfiguration               # optional
//   percentageOfNodesToScore: 0                    # 0 = adaptive (as Kubernetes), else 1..100
//   podInitialBackoffSeconds: 1
//   podMaxBackoffSeconds: 10
//   podMaxUnschedulableSeconds: 60                 # retry unschedulable pods at least this often
//   profiles:
//     - schedulerName: default-scheduler           # default: --scheduler-name (first profile)
//       plugins:
//         multiPoint:                              # every extension point a plugin implements
//           enabled:  [{name: NodeResourcesBalancedAllocation, weight: 2}]
//           disabled: [{name: NodePorts}]           # or [{name: '*'}]: start from nothing
//         filter:   {enabled: [...], disabled: [...]}
//         score:    {enabled: [{name: ..., weight: 3}], disabled: [...]}
//         preFilter, postFilter, preScore, reserve, bind: the same shape
//       pluginConfig:
//         - name: InterPodAffinity
//           args: {hardPodAffinityWeight: 1}
//
// Every mistake is a ConfigError naming the file and the field.
import * as fs from 'fs';
import { type ApiserverConfig, apiserverFlags } from '@k8ts/client';
import { ConfigError, type FlagSpec } from '@k8ts/kit';
import { parse as parseYaml } from 'yaml';
import { Framework } from './framework/framework';
import type { ProfilePlugins } from './framework/framework';
import { EXTENSION_POINTS, implementsPoint } from './framework/types';
import type { ExtensionPoint, FrameworkHandle, Plugin, PluginArgs } from './framework/types';
import { DEFAULT_SCHEDULER_NAME } from './podinfo';
import { DEFAULT_PLUGINS, registry as defaultRegistry } from './plugins/registry';
import type { Registry } from './plugins/registry';

/** The scheduler's own flags (main.ts adds the kit's serverFlags). */
export const flags: FlagSpec[] = [
  ...apiserverFlags,
  {
    name: 'scheduler-name',
    type: 'string',
    default: DEFAULT_SCHEDULER_NAME,
    description: 'The name pods choose this scheduler by (spec.schedulerName) when --config names no profile.',
  },
  { name: 'config', type: 'file', description: 'A KubeSchedulerConfiguration YAML file: profiles, plugins, weights, backoff (see README).' },
  { name: 'leader-elect', type: 'bool', default: true, description: 'Schedule only while holding the lease, so that of several replicas one schedules.' },
  { name: 'lease-namespace', type: 'string', default: 'kube-system', description: 'The namespace of the leader election Lease.' },
  { name: 'lease-name', type: 'string', default: 'kube-scheduler', description: 'The name of the leader election Lease.' },
  { name: 'lease-duration', type: 'duration', default: '15s', min: 1000, description: 'How long a lease stays valid after its last renewal.' },
  { name: 'renew-deadline', type: 'duration', default: '10s', min: 500, description: 'The leader gives up when it could not renew for this long.' },
  { name: 'retry-period', type: 'duration', default: '2s', min: 100, description: 'How often candidates try to acquire, and the leader renews, the lease.' },
  { name: 'identity', type: 'string', default: '', description: 'This replica\'s leader election identity; default "<hostname>_<uuid>".' },
  { name: 'max-inflight-binds', type: 'int', default: 512, min: 1, description: 'At most this many binds in flight; scheduling waits while it is reached.' },
];

/**
 * The configuration start() takes: the parsed flags (camelCased), as parseConfig returns them
 * for the kit's serverFlags and `flags`. Fields start() has a default for are optional, so
 * that tests can give only what they change. (SchedulerConfig below is the --config file.)
 */
export interface SchedulerFlags extends ApiserverConfig {
  apiserver: string;
  schedulerName?: string;
  config?: string;
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  leaseDuration?: number;
  renewDeadline?: number;
  retryPeriod?: number;
  identity?: string;
  maxInflightBinds?: number;
  // The kit's serverFlags.
  listen?: string;
  metricsListen?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  maxMessageBytes?: number;
  logLevel?: string;
  shutdownTimeout?: number;
}

export interface PluginRef {
  name: string;
  weight?: number;
}

export interface PluginSet {
  enabled: PluginRef[];
  disabled: PluginRef[];
}

export type PluginSetName = 'multiPoint' | ExtensionPoint;

export interface ProfileSpec {
  schedulerName: string;
  plugins: Partial<Record<PluginSetName, PluginSet>>;
  pluginConfig: Map<string, PluginArgs>;
}

export interface SchedulerConfig {
  percentageOfNodesToScore: number;
  podInitialBackoffMs: number;
  podMaxBackoffMs: number;
  podMaxUnschedulableMs: number;
  profiles: ProfileSpec[];
}

const TOP_FIELDS = [
  'apiVersion',
  'kind',
  'percentageOfNodesToScore',
  'podInitialBackoffSeconds',
  'podMaxBackoffSeconds',
  'podMaxUnschedulableSeconds',
  'profiles',
];
const PROFILE_FIELDS = ['schedulerName', 'plugins', 'pluginConfig'];
const SET_NAMES: readonly PluginSetName[] = ['multiPoint', ...EXTENSION_POINTS];

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Checker {
  constructor(
    private readonly source: string,
    readonly registry: Registry,
  ) {}

  fail(path: string, msg: string): never {
    throw new ConfigError(`${this.source}: ${path ? `${path}: ` : ''}${msg}`);
  }

  fields(path: string, o: Obj, known: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) this.fail(path ? `${path}.${k}` : k, `unknown field (known: ${known.join(', ')})`);
    }
  }

  int(path: string, v: unknown, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `must be an integer between ${min} and ${max} (got ${JSON.stringify(v)})`);
    }
    return v;
  }

  pluginName(path: string, v: unknown, allowStar: boolean): string {
    if (typeof v !== 'string' || v === '') this.fail(path, 'must be a plugin name');
    if (v === '*') {
      if (!allowStar) this.fail(path, '"*" is only allowed in disabled lists');
      return v;
    }
    if (!(v in this.registry)) this.fail(path, `unknown plugin "${v}" (known plugins: ${Object.keys(this.registry).join(', ')})`);
    return v;
  }

  refs(path: string, v: unknown, disabled: boolean, weights: boolean): PluginRef[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(path, 'must be a list of {name, weight}');
    const seen = new Set<string>();
    return v.map((item, i) => {
      const p = `${path}[${i}]`;
      if (!isObj(item)) this.fail(p, 'must be an object {name, weight}');
      this.fields(p, item, disabled ? ['name'] : ['name', 'weight']);
      const name = this.pluginName(`${p}.name`, item.name, disabled);
      if (seen.has(name)) this.fail(`${p}.name`, `plugin ${name} is listed twice`);
      seen.add(name);
      const ref: PluginRef = { name };
      if (item.weight !== undefined && item.weight !== null) {
        if (!weights) this.fail(`${p}.weight`, 'weights are only allowed in score and multiPoint');
        ref.weight = this.int(`${p}.weight`, item.weight, 1, 100);
      }
      return ref;
    });
  }
}

/**
 * Reads the configuration. `text` undefined (no --config): Kubernetes' default profile under
 * `schedulerName`. Throws ConfigError.
 */
export function parseSchedulerConfig(
  text: string | undefined,
  opts: { source?: string; schedulerName?: string; registry?: Registry } = {},
): SchedulerConfig {
  const source = opts.source ?? 'scheduler config';
  const defaultName = opts.schedulerName || DEFAULT_SCHEDULER_NAME;
  const c: Checker = new Checker(source, opts.registry ?? defaultRegistry);
  const config: SchedulerConfig = {
    percentageOfNodesToScore: 0,
    podInitialBackoffMs: 1000,
    podMaxBackoffMs: 10_000,
    podMaxUnschedulableMs: 60_000,
    profiles: [{ schedulerName: defaultName, plugins: {}, pluginConfig: new Map() }],
  };
  if (text === undefined || text.trim() === '') return config;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    c.fail('', `not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return config;
  if (!isObj(doc)) c.fail('', 'must be a mapping (KubeSchedulerConfiguration)');
  c.fields('', doc, TOP_FIELDS);
  if (doc.apiVersion !== undefined && doc.apiVersion !== 'kubescheduler.config.k8s.io/v1') {
    c.fail('apiVersion', `must be kubescheduler.config.k8s.io/v1 (got ${JSON.stringify(doc.apiVersion)})`);
  }
  if (doc.kind !== undefined && doc.kind !== 'KubeSchedulerConfiguration') {
    c.fail('kind', `must be KubeSchedulerConfiguration (got ${JSON.stringify(doc.kind)})`);
  }
  if (doc.percentageOfNodesToScore !== undefined) config.percentageOfNodesToScore = c.int('percentageOfNodesToScore', doc.percentageOfNodesToScore, 0, 100);
  if (doc.podInitialBackoffSeconds !== undefined) config.podInitialBackoffMs = 1000 * c.int('podInitialBackoffSeconds', doc.podInitialBackoffSeconds, 1, 3600);
  if (doc.podMaxBackoffSeconds !== undefined) config.podMaxBackoffMs = 1000 * c.int('podMaxBackoffSeconds', doc.podMaxBackoffSeconds, 1, 3600);
  if (config.podMaxBackoffMs < config.podInitialBackoffMs) {
    c.fail('podMaxBackoffSeconds', `must be at least podInitialBackoffSeconds (${config.podInitialBackoffMs / 1000})`);
  }
  if (doc.podMaxUnschedulableSeconds !== undefined) {
    config.podMaxUnschedulableMs = 1000 * c.int('podMaxUnschedulableSeconds', doc.podMaxUnschedulableSeconds, 1, 86400);
  }
  if (doc.profiles !== undefined) {
    if (!Array.isArray(doc.profiles) || doc.profiles.length === 0) c.fail('profiles', 'must be a non-empty list of profiles');
    const names = new Set<string>();
    config.profiles = doc.profiles.map((p, i) => {
      const path = `profiles[${i}]`;
      if (!isObj(p)) c.fail(path, 'must be a mapping with schedulerName, plugins, pluginConfig');
      c.fields(path, p, PROFILE_FIELDS);
      let name = p.schedulerName;
      if (name === undefined && i === 0) name = defaultName;
      if (typeof name !== 'string' || name === '') c.fail(`${path}.schedulerName`, 'must be a non-empty string (only the first profile may omit it)');
      if (names.has(name)) c.fail(`${path}.schedulerName`, `"${name}" is used by two profiles`);
      names.add(name);
      return parseProfile(c, path, name, p);
    });
  }
  return config;
}

function parseProfile(c: Checker, path: string, schedulerName: string, p: Obj): ProfileSpec {
  const plugins: Partial<Record<PluginSetName, PluginSet>> = {};
  if (p.plugins !== undefined && p.plugins !== null) {
    if (!isObj(p.plugins)) c.fail(`${path}.plugins`, `must be a mapping of ${SET_NAMES.join(', ')}`);
    c.fields(`${path}.plugins`, p.plugins, SET_NAMES);
    for (const set of SET_NAMES) {
      const v = p.plugins[set];
      if (v === undefined || v === null) continue;
      const sp = `${path}.plugins.${set}`;
      if (!isObj(v)) c.fail(sp, 'must be a mapping with enabled and disabled lists');
      c.fields(sp, v, ['enabled', 'disabled']);
      const weights = set === 'score' || set === 'multiPoint';
      plugins[set] = { enabled: c.refs(`${sp}.enabled`, v.enabled, false, weights), disabled: c.refs(`${sp}.disabled`, v.disabled, true, false) };
    }
  }
  const pluginConfig = new Map<string, PluginArgs>();
  if (p.pluginConfig !== undefined && p.pluginConfig !== null) {
    if (!Array.isArray(p.pluginConfig)) c.fail(`${path}.pluginConfig`, 'must be a list of {name, args}');
    p.pluginConfig.forEach((pc, i) => {
      const pp = `${path}.pluginConfig[${i}]`;
      if (!isObj(pc)) c.fail(pp, 'must be a mapping {name, args}');
      c.fields(pp, pc, ['name', 'args']);
      const name = c.pluginName(`${pp}.name`, pc.name, false);
      if (pluginConfig.has(name)) c.fail(`${pp}.name`, `plugin ${name} is configured twice`);
      const args = pc.args ?? {};
      if (!isObj(args)) c.fail(`${pp}.args`, 'must be a mapping');
      pluginConfig.set(name, args);
    });
  }
  return { schedulerName, plugins, pluginConfig };
}

/** Reads and parses the --config file (undefined or '' for the defaults). */
export function loadSchedulerConfig(file: string | undefined, schedulerName: string): SchedulerConfig {
  if (!file) return parseSchedulerConfig(undefined, { schedulerName });
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read --config ${JSON.stringify(file)}: ${(err as Error).message}`, { flag: 'config', value: file });
  }
  return parseSchedulerConfig(text, { source: file, schedulerName });
}

/** A plugin at an extension point: explicit when named for that point, else from multiPoint. */
export interface ResolvedRef {
  name: string;
  weight?: number;
  explicit: boolean;
}

/**
 * The plugins of each extension point of a profile, with score weights, by Kubernetes' merge
 * rules: multiPoint (the defaults, minus its disabled, plus its enabled) expands into every
 * extension point the plugin implements; a point's own enabled plugins come first, its
 * disabled ones (or '*') are removed.
 */
export function resolvePlugins(profile: ProfileSpec): { points: Record<ExtensionPoint, ResolvedRef[]>; names: string[] } {
  const mp = profile.plugins.multiPoint;
  const mpDisabled = new Set((mp?.disabled ?? []).map((r) => r.name));
  const effective: PluginRef[] = mpDisabled.has('*') ? [] : DEFAULT_PLUGINS.filter((d) => !mpDisabled.has(d.name)).map((d) => ({ ...d }));
  for (const e of mp?.enabled ?? []) {
    const existing = effective.find((x) => x.name === e.name);
    if (existing) existing.weight = e.weight ?? existing.weight;
    else effective.push({ ...e });
  }
  const points = {} as Record<ExtensionPoint, ResolvedRef[]>;
  const names = new Set(effective.map((e) => e.name));
  for (const point of EXTENSION_POINTS) {
    const set = profile.plugins[point];
    const disabled = new Set((set?.disabled ?? []).map((r) => r.name));
    const explicit = set?.enabled ?? [];
    for (const e of explicit) names.add(e.name);
    const fromMulti = disabled.has('*') ? [] : effective.filter((e) => !disabled.has(e.name) && !explicit.some((x) => x.name === e.name));
    points[point] = [
      ...explicit.map((e) => ({ name: e.name, weight: e.weight ?? effective.find((x) => x.name === e.name)?.weight, explicit: true })),
      ...fromMulti.map((e) => ({ name: e.name, weight: e.weight, explicit: false })),
    ];
  }
  return { points, names: [...names] };
}

/** Instantiates a profile's plugins and its framework. Throws ConfigError. */
export function buildFramework(
  profile: ProfileSpec,
  config: Pick<SchedulerConfig, 'percentageOfNodesToScore'>,
  handle: FrameworkHandle,
  opts: { registry?: Registry; random?: () => number; source?: string; index?: number } = {},
): Framework {
  const registry = opts.registry ?? defaultRegistry;
  const where = `${opts.source ?? 'scheduler config'}: profiles[${opts.index ?? 0}] (${profile.schedulerName})`;
  const { points, names } = resolvePlugins(profile);
  const instances = new Map<string, Plugin>();
  for (const name of names) {
    const factory = registry[name];
    if (!factory) throw new ConfigError(`${where}: unknown plugin "${name}"`);
    try {
      instances.set(name, factory(profile.pluginConfig.get(name) ?? {}, handle));
    } catch (err) {
      throw new ConfigError(`${where}: pluginConfig of ${name}: ${(err as Error).message}`, { cause: err });
    }
  }
  for (const name of profile.pluginConfig.keys()) {
    if (!instances.has(name)) throw new ConfigError(`${where}: pluginConfig names ${name}, which is not enabled`);
  }
  // A plugin named for a point must implement it; plugins from multiPoint go where they fit.
  const pick = <T extends Plugin>(point: ExtensionPoint): { plugin: T; weight: number }[] => {
    const out: { plugin: T; weight: number }[] = [];
    for (const ref of points[point]) {
      const pl = instances.get(ref.name)!;
      if (!implementsPoint(pl, point)) {
        if (!ref.explicit) continue;
        throw new ConfigError(`${where}: plugins.${point}.enabled: plugin ${ref.name} does not implement ${point}`);
      }
      out.push({ plugin: pl as T, weight: ref.weight ?? 1 });
    }
    return out;
  };
  const only = <T extends Plugin>(point: ExtensionPoint): T[] => pick<T>(point).map((x) => x.plugin);
  const plugins: ProfilePlugins = {
    preFilter: only('preFilter'),
    filter: only('filter'),
    postFilter: only('postFilter'),
    preScore: only('preScore'),
    score: pick('score'),
    reserve: only('reserve'),
    bind: only('bind'),
  };
  if (plugins.bind.length === 0) throw new ConfigError(`${where}: no bind plugin is enabled (enable DefaultBinder)`);
  return new Framework(profile.schedulerName, handle, plugins, {
    percentageOfNodesToScore: config.percentageOfNodesToScore,
    random: opts.random,
  });
}
