// Strategic merge patch as Kubernetes' apiserver applies it, driven by the schema's patch
// markers. Expected results follow Kubernetes' rules (strategicpatch/patch.go, the
// strategic-merge-patch and preserve-order design documents, the kubectl patch task).
import { applyStrategicMergePatch, PatchError } from '@k8ts/machinery';

const POD = 'k8ts.core.v1.Pod';

type Obj = Record<string, any>;

function pod(): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, finalizers: ['a.example.com/x', 'b.example.com/y'] },
    spec: {
      containers: [
        { name: 'app', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80, protocol: 'TCP' }] },
        { name: 'sidecar', image: 'busybox', args: ['sleep', '3600'] },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
      tolerations: [{ key: 'k1', operator: 'Exists' }],
      nodeSelector: { zone: 'a' },
    },
  };
}

function names(list: Obj[]): string[] {
  return list.map((e) => e.name);
}

function patchError(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PatchError) return err;
    throw err;
  }
  throw new Error('expected a PatchError');
}

describe('applyStrategicMergePatch', () => {
  it('merges containers by name, keeping what the patch does not mention, and leaves its arguments alone', () => {
    const doc = pod();
    const patch = { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } };
    const before = JSON.stringify({ doc, patch });
    const out = applyStrategicMergePatch(POD, doc, patch) as Obj;
    expect(out.spec.containers).toEqual([{ ...pod().spec.containers[0], image: 'nginx:1.27' }, pod().spec.containers[1]]);
    expect(JSON.stringify({ doc, patch })).toBe(before);
  });

  it('puts a container the live list lacks before the others (no $setElementOrder), as kubectl patch shows', () => {
    const out = applyStrategicMergePatch(POD, pod(), { spec: { containers: [{ name: 'log', image: 'fluentd' }] } }) as Obj;
    expect(names(out.spec.containers)).toEqual(['log', 'app', 'sidecar']);
  });

  it('deletes an env entry with $patch: delete and adds another', () => {
    const out = applyStrategicMergePatch(POD, pod(), {
      spec: { containers: [{ name: 'app', env: [{ name: 'A', $patch: 'delete' }, { name: 'C', value: '3' }] }] },
    }) as Obj;
    expect(out.spec.containers[0].env).toEqual([
      { name: 'C', value: '3' },
      { name: 'B', value: '2' },
    ]);
  });

  it('deletes a container with $patch: delete and replaces a merging list with $patch: replace', () => {
    const deleted = applyStrategicMergePatch(POD, pod(), { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } }) as Obj;
    expect(names(deleted.spec.containers)).toEqual(['app']);
    const replaced = applyStrategicMergePatch(POD, pod(), { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } }) as Obj;
    expect(replaced.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('merges container ports by containerPort alone (the patch merge key), not by containerPort and protocol', () => {
    const udp = applyStrategicMergePatch(POD, pod(), { spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, protocol: 'UDP' }] }] } }) as Obj;
    expect(udp.spec.containers[0].ports).toEqual([{ containerPort: 80, protocol: 'UDP' }]);
    const added = applyStrategicMergePatch(POD, pod(), { spec: { containers: [{ name: 'app', ports: [{ containerPort: 443, protocol: 'TCP' }] }] } }) as Obj;
    expect(added.spec.containers[0].ports).toEqual([
      { containerPort: 443, protocol: 'TCP' },
      { containerPort: 80, protocol: 'TCP' },
    ]);
  });

  it('merges service ports by port (their list-map keys are port and protocol)', () => {
    const svc = { spec: { ports: [{ name: 'dns', port: 53, protocol: 'TCP', targetPort: 5353 }, { name: 'http', port: 80 }] } };
    const out = applyStrategicMergePatch('k8ts.core.v1.Service', svc, { spec: { ports: [{ port: 53, protocol: 'UDP', name: 'dns-udp' }] } }) as Obj;
    expect(out.spec.ports).toEqual([
      { name: 'dns-udp', port: 53, protocol: 'UDP', targetPort: 5353 },
      { name: 'http', port: 80 },
    ]);
  });

  it('replaces a list without a patch strategy (tolerations) whole', () => {
    const out = applyStrategicMergePatch(POD, pod(), { spec: { tolerations: [{ key: 'k2', operator: 'Equal', value: 'v' }] } }) as Obj;
    expect(out.spec.tolerations).toEqual([{ key: 'k2', operator: 'Equal', value: 'v' }]);
  });

  it('merges finalizers as a set: new ones come in the patch order before those only the server has', () => {
    const out = applyStrategicMergePatch(POD, pod(), { metadata: { finalizers: ['c.example.com/z', 'a.example.com/x'] } }) as Obj;
    expect(out.metadata.finalizers).toEqual(['c.example.com/z', 'a.example.com/x', 'b.example.com/y']);
  });

  it('removes finalizers with $deleteFromPrimitiveList, and never adds one that is absent', () => {
    const out = applyStrategicMergePatch(POD, pod(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example.com/x', 'z.example.com/none'] } }) as Obj;
    expect(out.metadata.finalizers).toEqual(['b.example.com/y']);
    const none = applyStrategicMergePatch(POD, { metadata: {} }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }) as Obj;
    expect(none.metadata).toEqual({});
  });

  it('orders a merged list by $setElementOrder, interleaving elements only the server has by their live order', () => {
    const live = { spec: { containers: ['a', 'b', 'x', 'c', 'd'].map((name) => ({ name })) } };
    live.spec.containers[0] = { name: 'a', other: 'kept' } as { name: string };
    const out = applyStrategicMergePatch(POD, live, {
      spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }, { name: 'd' }, { name: 'c' }] },
    }) as Obj;
    expect(out.spec.containers).toEqual([{ name: 'b' }, { name: 'a', other: 'kept' }, { name: 'x' }, { name: 'd' }, { name: 'c' }]);
    expect(out.spec['$setElementOrder/containers']).toBeUndefined();
  });

  it('adds elements at the places $setElementOrder gives them', () => {
    const live = { spec: { containers: [{ name: 'a', other: 'kept' }, { name: 'b' }] } };
    const out = applyStrategicMergePatch(POD, live, {
      spec: {
        '$setElementOrder/containers': [{ name: 'd' }, { name: 'a' }, { name: 'b' }, { name: 'c' }],
        containers: [
          { name: 'd', image: 'd' },
          { name: 'c', image: 'c' },
        ],
      },
    }) as Obj;
    expect(out.spec.containers).toEqual([{ name: 'd', image: 'd' }, { name: 'a', other: 'kept' }, { name: 'b' }, { name: 'c', image: 'c' }]);
  });

  it('orders a primitive list by $setElementOrder', () => {
    const out = applyStrategicMergePatch(POD, pod(), { metadata: { '$setElementOrder/finalizers': ['b.example.com/y', 'a.example.com/x'] } }) as Obj;
    expect(out.metadata.finalizers).toEqual(['b.example.com/y', 'a.example.com/x']);
  });

  it('clears the keys $retainKeys does not name (a volume changing its source; a Deployment strategy)', () => {
    const out = applyStrategicMergePatch(POD, pod(), { spec: { volumes: [{ name: 'data', hostPath: { path: '/srv' }, $retainKeys: ['name', 'hostPath'] }] } }) as Obj;
    expect(out.spec.volumes).toEqual([{ name: 'data', hostPath: { path: '/srv' } }]);
    const deployment = { spec: { replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } } };
    const recreate = applyStrategicMergePatch('k8ts.apps.v1.Deployment', deployment, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }) as Obj;
    expect(recreate.spec).toEqual({ replicas: 2, strategy: { type: 'Recreate' } });
  });

  it('merges maps key by key and deletes keys set to null', () => {
    const out = applyStrategicMergePatch(POD, pod(), { metadata: { labels: { tier: null, env: 'prod' }, finalizers: null } }) as Obj;
    expect(out.metadata).toEqual({ name: 'web', labels: { app: 'web', env: 'prod' } });
  });

  it('replaces an object with $patch: replace and empties it with $patch: delete', () => {
    const replaced = applyStrategicMergePatch(POD, pod(), { spec: { nodeSelector: { $patch: 'replace', disk: 'ssd' } } }) as Obj;
    expect(replaced.spec.nodeSelector).toEqual({ disk: 'ssd' });
    const emptied = applyStrategicMergePatch(POD, pod(), { spec: { nodeSelector: { $patch: 'delete' } } }) as Obj;
    expect(emptied.spec.nodeSelector).toEqual({});
  });

  it('drops nulls and directives from values that have nothing to merge into', () => {
    const out = applyStrategicMergePatch(POD, { spec: {} }, { spec: { securityContext: { runAsUser: 1000, runAsGroup: null }, nodeSelector: { $patch: 'delete' } } }) as Obj;
    expect(out.spec).toEqual({ securityContext: { runAsUser: 1000 } });
  });

  it('merges fields the schema does not know as a JSON merge patch would', () => {
    const doc = { spec: { extra: { list: [1, 2], map: { a: 1, b: 2 } } } };
    const out = applyStrategicMergePatch(POD, doc, { spec: { extra: { list: [3], map: { b: null, c: 3 } } } }) as Obj;
    expect(out.spec.extra).toEqual({ list: [3], map: { a: 1, c: 3 } });
  });

  it('empties the object with a top-level $patch: delete, and treats a null patch as empty', () => {
    expect(applyStrategicMergePatch(POD, pod(), { $patch: 'delete' })).toEqual({});
    expect(applyStrategicMergePatch(POD, pod(), null)).toEqual(pod());
  });

  describe('errors', () => {
    it('refuses a merging-list element without its merge key (500, as Kubernetes answers)', () => {
      const err = patchError(() => applyStrategicMergePatch(POD, pod(), { spec: { containers: [{ image: 'x' }] } }));
      expect(err.message).toBe('map: map[image:x] does not contain declared merge key: name');
      expect(err.code).toBe(500);
      expect(err.reason).toBe('Unknown');
      expect(err.field).toBe('spec.containers');
    });

    it('refuses an unknown $patch directive', () => {
      const err = patchError(() => applyStrategicMergePatch(POD, pod(), { spec: { nodeSelector: { $patch: 'frob', a: 'b' } } }));
      expect(err.message).toBe('unknown patch type: frob in map: map[$patch:frob a:b]');
      expect(err.field).toBe('spec.nodeSelector');
    });

    it('refuses $patch: merge inside a list', () => {
      const err = patchError(() => applyStrategicMergePatch(POD, pod(), { spec: { containers: [{ $patch: 'merge' }] } }));
      expect(err.message).toBe('merging lists cannot yet be specified in the patch');
    });

    it('refuses a $setElementOrder list that does not hold the patch elements in their order', () => {
      const err = patchError(() =>
        applyStrategicMergePatch(POD, pod(), {
          spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }], containers: [{ name: 'sidecar', image: 'x' }, { name: 'app', image: 'y' }] },
        }),
      );
      expect(err.message).toContain("doesn't match $setElementOrder list");
      expect(err.code).toBe(500);
    });

    it('answers 400 for malformed directives', () => {
      expect(patchError(() => applyStrategicMergePatch(POD, pod(), { metadata: { $setElementOrder: ['a'] } })).message).toBe('invalid patch format of setElementOrder list');
      expect(patchError(() => applyStrategicMergePatch(POD, pod(), { metadata: { $deleteFromPrimitiveListX: ['a'] } })).code).toBe(400);
      const retain = patchError(() => applyStrategicMergePatch(POD, pod(), { spec: { volumes: [{ name: 'data', hostPath: { path: '/x' }, $retainKeys: ['name'] }] } }));
      expect(retain.message).toBe('invalid patch format of retainKeys');
      expect(retain.code).toBe(400);
    });

    it('answers 422 for a list of lists', () => {
      const err = patchError(() => applyStrategicMergePatch(POD, { metadata: { finalizers: [] } }, { metadata: { finalizers: [['a']] } }));
      expect(err.message).toBe('lists of lists are not supported');
      expect(err.code).toBe(422);
    });

    it('answers 400 for a patch that is not an object', () => {
      const err = patchError(() => applyStrategicMergePatch(POD, pod(), [{ op: 'add' }]));
      expect(err.message).toBe('json: cannot unmarshal array into Go value of type map[string]interface {}');
      expect(err.code).toBe(400);
    });
  });
});
