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
    const finalizers = fieldOf('k8ts.meta.v1.ObjectMeta', 'finalizers')!;
    expect(finalizers.listType).toBeUndefined();
    expect(fieldOf('k8ts.core.v1.PodSpec', 'noSuchField')).toBeUndefined();
    expect(() => messageSchema('k8ts.core.v1.NoSuchType')).toThrow();
  });
});
