import { KINDS } from '@k8ts/api';
import { classify, objectField, serviceDefinition } from '../src/server/resources';

describe('binding the generated services', () => {
  it('has a generic handler for every RPC of every kind', () => {
    const seen = new Set<string>();
    for (const k of KINDS) {
      const def = serviceDefinition(k);
      for (const m of Object.values(def)) {
        const method = m.path.slice(m.path.lastIndexOf('/') + 1);
        seen.add(classify(method, k.kind));
      }
    }
    expect([...seen].sort()).toEqual(['bind', 'create', 'delete', 'get', 'getScale', 'list', 'logs', 'token', 'update', 'updateScale', 'updateStatus', 'watch']);
  });

  it('classifies by name, List and Watch first (Endpoints is its own plural)', () => {
    expect(classify('ListEndpoints', 'Endpoints')).toBe('list');
    expect(classify('GetEndpoints', 'Endpoints')).toBe('get');
    expect(classify('GetPodLogs', 'Pod')).toBe('logs');
    expect(classify('UpdateDeploymentScale', 'Deployment')).toBe('updateScale');
    expect(classify('UpdatePodStatus', 'Pod')).toBe('updateStatus');
    expect(() => classify('PatchPod', 'Pod')).toThrow(/no generic handler/);
    expect(objectField(KINDS.find((k) => k.kind === 'ClusterRoleBinding')!)).toBe('clusterRoleBinding');
  });
});
