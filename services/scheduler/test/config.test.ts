import { ConfigError } from '@k8ts/kit';
import { buildFramework, parseSchedulerConfig, resolvePlugins } from '../src/config';
import { SchedulerCache } from '../src/cache/cache';
import type { FrameworkHandle } from '../src/framework/types';
import { FakeBinder } from './helpers';

const handle: FrameworkHandle = { cache: new SchedulerCache(), binder: new FakeBinder(), now: () => 0 };

function build(yaml?: string) {
  const config = parseSchedulerConfig(yaml, { source: 'test.yaml' });
  return buildFramework(config.profiles[0], config, handle, { source: 'test.yaml' });
}

function names(list: { name: string }[]): string[] {
  return list.map((p) => p.name);
}

describe('scheduler configuration', () => {
  it("defaults to Kubernetes' default profile", () => {
    const config = parseSchedulerConfig(undefined, { schedulerName: 'my-scheduler' });
    expect(config).toMatchObject({ percentageOfNodesToScore: 0, podInitialBackoffMs: 1000, podMaxBackoffMs: 10_000 });
    expect(config.profiles.map((p) => p.schedulerName)).toEqual(['my-scheduler']);
    const f = build();
    expect(names(f.points.filter)).toEqual([
      'NodeUnschedulable',
      'NodeName',
      'TaintToleration',
      'NodeAffinity',
      'NodePorts',
      'NodeResourcesFit',
      'PodTopologySpread',
      'InterPodAffinity',
    ]);
    expect(f.points.score.map((s) => [s.plugin.name, s.weight])).toEqual([
      ['TaintToleration', 3],
      ['NodeAffinity', 2],
      ['PodTopologySpread', 2],
      ['InterPodAffinity', 2],
      ['NodeResourcesLeastAllocated', 1],
      ['NodeResourcesBalancedAllocation', 1],
    ]);
    expect(names(f.points.bind)).toEqual(['DefaultBinder']);
    expect(names(f.points.preFilter)).toEqual(['NodeName', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity']);
  });

  it('reads backoff, sampling and weights, enables and disables plugins', () => {
    const yaml = `
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 50
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
podMaxUnschedulableSeconds: 120
profiles:
  - schedulerName: custom
    plugins:
      multiPoint:
        disabled: [{name: NodePorts}]
      score:
        enabled:
          - name: NodeResourcesBalancedAllocation
            weight: 5
        disabled:
          - name: TaintToleration
    pluginConfig:
      - name: InterPodAffinity
        args: {hardPodAffinityWeight: 3}
`;
    const config = parseSchedulerConfig(yaml);
    expect(config).toMatchObject({ percentageOfNodesToScore: 50, podInitialBackoffMs: 2000, podMaxBackoffMs: 20_000, podMaxUnschedulableMs: 120_000 });
    const f = buildFramework(config.profiles[0], config, handle);
    expect(f.profileName).toBe('custom');
    expect(names(f.points.filter)).not.toContain('NodePorts');
    expect(names(f.points.filter)).toContain('TaintToleration');
    const weights = Object.fromEntries(f.points.score.map((s) => [s.plugin.name, s.weight]));
    expect(weights).toEqual({
      NodeResourcesBalancedAllocation: 5,
      NodeAffinity: 2,
      PodTopologySpread: 2,
      InterPodAffinity: 2,
      NodeResourcesLeastAllocated: 1,
    });
    const ipa = f.plugins.find((p) => p.name === 'InterPodAffinity') as unknown as { args: { hardPodAffinityWeight: number } };
    expect(ipa.args.hardPodAffinityWeight).toBe(3);
  });

  it("starts from nothing with disabled '*'", () => {
    const f = build(`
profiles:
  - plugins:
      multiPoint:
        disabled: [{name: '*'}]
        enabled: [{name: NodeResourcesFit}, {name: NodeResourcesLeastAllocated, weight: 4}, {name: DefaultBinder}]
`);
    expect(names(f.points.filter)).toEqual(['NodeResourcesFit']);
    expect(f.points.score.map((s) => [s.plugin.name, s.weight])).toEqual([['NodeResourcesLeastAllocated', 4]]);
    const r = resolvePlugins(parseSchedulerConfig('profiles: [{plugins: {filter: {disabled: [{name: "*"}]}}}]').profiles[0]);
    expect(r.points.filter).toEqual([]);
  });

  it.each([
    ['percentageOfNodesToScore: 150', /test.yaml: percentageOfNodesToScore: must be an integer between 0 and 100 \(got 150\)/],
    ['podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2', /podMaxBackoffSeconds: must be at least podInitialBackoffSeconds/],
    ['colour: blue', /test.yaml: colour: unknown field/],
    ['apiVersion: v2', /apiVersion: must be kubescheduler.config.k8s.io\/v1/],
    ['profiles: []', /profiles: must be a non-empty list/],
    ['profiles: [{schedulerName: a}, {schedulerName: a}]', /profiles\[1\].schedulerName: "a" is used by two profiles/],
    ['profiles: [{}, {}]', /profiles\[1\].schedulerName: must be a non-empty string/],
    [
      'profiles: [{plugins: {score: {enabled: [{name: NodeResourcesMostAllocated}]}}}]',
      /profiles\[0\].plugins.score.enabled\[0\].name: unknown plugin "NodeResourcesMostAllocated" \(known plugins: NodeUnschedulable, /,
    ],
    ['profiles: [{plugins: {score: {enabled: [{name: NodeAffinity, weight: 0}]}}}]', /enabled\[0\].weight: must be an integer between 1 and 100/],
    ['profiles: [{plugins: {filter: {enabled: [{name: NodeAffinity, weight: 3}]}}}]', /weights are only allowed in score and multiPoint/],
    ['profiles: [{plugins: {filter: {enabled: [{name: "*"}]}}}]', /"\*" is only allowed in disabled lists/],
    ['profiles: [{plugins: {sort: {}}}]', /profiles\[0\].plugins.sort: unknown field/],
    ['profiles: [{pluginConfig: [{name: NodeAffinity, args: 3}]}]', /pluginConfig\[0\].args: must be a mapping/],
    ['profiles: [{pluginConfig: [{name: NodeAffinity}, {name: NodeAffinity}]}]', /plugin NodeAffinity is configured twice/],
    ['profiles: [{plugins: {filter: {enabled: [{name: NodeAffinity}, {name: NodeAffinity}]}}}]', /plugin NodeAffinity is listed twice/],
    ['{{ not yaml', /not valid YAML/],
    ['- a list', /must be a mapping/],
  ])('rejects %j', (yaml, message) => {
    expect(() => parseSchedulerConfig(yaml, { source: 'test.yaml' })).toThrow(ConfigError);
    expect(() => parseSchedulerConfig(yaml, { source: 'test.yaml' })).toThrow(message);
  });

  it.each([
    ['profiles: [{plugins: {score: {enabled: [{name: NodePorts}]}}}]', /plugin NodePorts does not implement score/],
    ['profiles: [{pluginConfig: [{name: InterPodAffinity, args: {hardPodAffinityWeight: -1}}]}]', /pluginConfig of InterPodAffinity: .*between 0 and 100/],
    ['profiles: [{pluginConfig: [{name: NodePorts, args: {x: 1}}]}]', /NodePorts takes no arguments/],
    ['profiles: [{plugins: {bind: {disabled: [{name: DefaultBinder}]}}}]', /no bind plugin is enabled/],
    [
      'profiles: [{plugins: {multiPoint: {disabled: [{name: NodePorts}]}}, pluginConfig: [{name: NodePorts}]}]',
      /pluginConfig names NodePorts, which is not enabled/,
    ],
  ])('rejects plugins that do not fit: %j', (yaml, message) => {
    expect(() => build(yaml)).toThrow(message);
  });
});
