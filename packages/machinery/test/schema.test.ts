import { effectiveListType, fieldOf, messageSchema } from '@k8ts/machinery';

describe('schema', () => {
  it('reads the Kubernetes markers of a field from its proto options', () => {
    const containers = fieldOf('k8ts.core.v1.PodSpec', 'containers');
    expect(containers).toMatchObject({
      name: 'containers',
      protoName: 'containers',
      kind: 'message',
      typeName: 'k8ts.core.v1.Container',
      list: true,
      map: false,
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    });
    expect(effectiveListType(containers!)).toBe('map');
  });

  it('names fields by their JSON names and knows the special JSON forms', () => {
    const meta = messageSchema('k8ts.meta.v1.ObjectMeta');
    expect(meta.byName.get('labels')).toMatchObject({ map: true, list: false, kind: 'string' });
    expect(meta.byName.get('creationTimestamp')).toMatchObject({ kind: 'timestamp', list: false });
    expect(fieldOf('k8ts.core.v1.NodeSpec', 'podCIDRs')).toMatchObject({ protoName: 'pod_cidrs', kind: 'string', list: true });
    expect(fieldOf('k8ts.core.v1.ServicePort', 'targetPort')?.kind).toBe('intOrString');
    expect(fieldOf('k8ts.core.v1.ServicePort', 'port')?.kind).toBe('integer');
  });

  it('treats an unmarked list as atomic and an unknown field as absent', () => {
    const items = fieldOf('k8ts.core.v1.PodList', 'items')!;
    expect(items.listType).toBeUndefined();
    expect(effectiveListType(items)).toBe('atomic');
    expect(fieldOf('k8ts.core.v1.PodSpec', 'noSuchField')).toBeUndefined();
    expect(() => messageSchema('k8ts.core.v1.NoSuchType')).toThrow();
  });

  // Spot checks of the markers copied from Kubernetes' Go types (k8s.io/api, apimachinery).
  describe('markers of Kubernetes types', () => {
    it('merges metadata lists: owner references by uid, finalizers as a set', () => {
      expect(fieldOf('k8ts.meta.v1.ObjectMeta', 'ownerReferences')).toMatchObject({
        patchStrategy: 'merge',
        patchMergeKey: 'uid',
        listType: 'map',
        listMapKeys: ['uid'],
        mapType: 'atomic',
      });
      const finalizers = fieldOf('k8ts.meta.v1.ObjectMeta', 'finalizers')!;
      expect(finalizers).toMatchObject({ patchStrategy: 'merge', listType: 'set' });
      expect(finalizers.patchMergeKey).toBeUndefined();
      expect(effectiveListType(finalizers)).toBe('set');
      expect(fieldOf('k8ts.meta.v1.ObjectMeta', 'managedFields')?.listType).toBe('atomic');
    });

    it('keys container ports and service ports by two fields, while the patch merge key is one', () => {
      expect(fieldOf('k8ts.core.v1.Container', 'ports')).toMatchObject({ patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] });
      expect(fieldOf('k8ts.core.v1.ServiceSpec', 'ports')).toMatchObject({ patchMergeKey: 'port', listType: 'map', listMapKeys: ['port', 'protocol'] });
    });

    it('marks the pod spec lists as Kubernetes does', () => {
      expect(fieldOf('k8ts.core.v1.PodSpec', 'volumes')).toMatchObject({ patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' });
      expect(fieldOf('k8ts.core.v1.PodSpec', 'initContainers')).toMatchObject({ patchStrategy: 'merge', patchMergeKey: 'name' });
      expect(fieldOf('k8ts.core.v1.Container', 'env')).toMatchObject({ patchStrategy: 'merge', patchMergeKey: 'name', listMapKeys: ['name'] });
      expect(fieldOf('k8ts.core.v1.Container', 'volumeMounts')).toMatchObject({ patchMergeKey: 'mountPath', listMapKeys: ['mountPath'] });
      const tolerations = fieldOf('k8ts.core.v1.PodSpec', 'tolerations')!;
      expect(tolerations.listType).toBe('atomic');
      expect(tolerations.patchStrategy).toBeUndefined();
      expect(fieldOf('k8ts.core.v1.PodSpec', 'topologySpreadConstraints')).toMatchObject({ patchMergeKey: 'topologyKey', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] });
      expect(fieldOf('k8ts.core.v1.PodSpec', 'nodeSelector')?.mapType).toBe('atomic');
      // A pod's host IPs merge by ip in a strategic merge patch but are atomic for apply.
      expect(fieldOf('k8ts.core.v1.PodStatus', 'hostIPs')).toMatchObject({ patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'atomic' });
    });

    it('merges conditions by type, keeps node taints atomic, and marks atomic structs on their fields', () => {
      for (const [type, field] of [
        ['k8ts.core.v1.PodStatus', 'conditions'],
        ['k8ts.core.v1.NodeStatus', 'conditions'],
        ['k8ts.apps.v1.DeploymentStatus', 'conditions'],
      ]) {
        expect(fieldOf(type, field)).toMatchObject({ patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] });
      }
      expect(fieldOf('k8ts.core.v1.NodeSpec', 'taints')?.listType).toBe('atomic');
      expect(fieldOf('k8ts.apps.v1.DeploymentSpec', 'strategy')?.patchStrategy).toBe('retainKeys');
      expect(fieldOf('k8ts.apps.v1.DeploymentSpec', 'selector')?.mapType).toBe('atomic');
      expect(fieldOf('k8ts.rbac.v1.RoleBinding', 'roleRef')?.mapType).toBe('atomic');
      expect(fieldOf('k8ts.batch.v1.UncountedTerminatedPods', 'succeeded')?.listType).toBe('set');
    });
  });
});
