// JSON patch (RFC 6902) as Kubernetes' apiserver applies it (evanphx/json-patch v4): the
// results and error messages kubectl patch --type=json shows.
import { applyJsonPatch, PatchError } from '@k8ts/machinery';

function pod() {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web', 'app.kubernetes.io/name': 'web' } },
    spec: { containers: [{ name: 'app', image: 'nginx:1.25', args: ['a', 'b'] }] },
  };
}

/** The PatchError a call throws, or fails the test. */
function patchError(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PatchError) return err;
    throw err;
  }
  throw new Error('expected a PatchError');
}

describe('applyJsonPatch', () => {
  it('adds, replaces and removes values, leaving its arguments as they were', () => {
    const doc = pod();
    const ops = [
      { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.27' },
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'remove', path: '/metadata/labels/app' },
      { op: 'add', path: '/spec/containers/0/args/1', value: 'inserted' },
      { op: 'add', path: '/spec/containers/0/args/-', value: 'last' },
    ];
    const before = JSON.stringify({ doc, ops });
    const out = applyJsonPatch(doc, ops) as ReturnType<typeof pod>;
    expect(out.spec.containers[0]).toEqual({ name: 'app', image: 'nginx:1.27', args: ['a', 'inserted', 'b', 'last'] });
    expect(out.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'web', tier: 'front' });
    expect(JSON.stringify({ doc, ops })).toBe(before);
  });

  it('decodes ~1 and ~0 in path segments', () => {
    const out = applyJsonPatch(pod(), [{ op: 'replace', path: '/metadata/labels/app.kubernetes.io~1name', value: 'site' }]) as ReturnType<typeof pod>;
    expect(out.metadata.labels['app.kubernetes.io/name']).toBe('site');
    const tilde = applyJsonPatch({ a: {} }, [{ op: 'add', path: '/a/x~0y', value: 1 }]);
    expect(tilde).toEqual({ a: { 'x~y': 1 } });
  });

  it('moves and copies values, and copies them deeply', () => {
    const out = applyJsonPatch(pod(), [
      { op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' },
      { op: 'replace', path: '/spec/containers/1/name', value: 'copy' },
      { op: 'move', from: '/metadata/labels/app', path: '/metadata/annotations' },
    ]) as { spec: { containers: { name: string }[] }; metadata: Record<string, unknown> };
    expect(out.spec.containers.map((c) => c.name)).toEqual(['app', 'copy']);
    expect(out.metadata.annotations).toBe('web');
    expect(out.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'web' });
  });

  it('counts negative indices from the end, as evanphx v4 does', () => {
    const out = applyJsonPatch({ l: [1, 2, 3] }, [
      { op: 'remove', path: '/l/-1' },
      { op: 'add', path: '/l/-1', value: 9 },
    ]);
    // remove -1 drops 3; add at -1 of a two-element list inserts at the end.
    expect(out).toEqual({ l: [1, 2, 9] });
  });

  it('passes a test that matches, treating a missing key as null', () => {
    const ops = [
      { op: 'test', path: '/spec/containers/0/image', value: 'nginx:1.25' },
      { op: 'test', path: '/metadata/labels', value: { 'app.kubernetes.io/name': 'web', app: 'web' } },
      { op: 'test', path: '/metadata/namespace', value: null },
      { op: 'replace', path: '/metadata/name', value: 'web-2' },
    ];
    expect((applyJsonPatch(pod(), ops) as ReturnType<typeof pod>).metadata.name).toBe('web-2');
  });

  it('replaces a missing object key by adding it, as Kubernetes does (unlike RFC 6902)', () => {
    const out = applyJsonPatch(pod(), [{ op: 'replace', path: '/metadata/namespace', value: 'prod' }]) as { metadata: { namespace: string } };
    expect(out.metadata.namespace).toBe('prod');
  });

  it('copies null from a missing object key', () => {
    expect(applyJsonPatch({ a: {} }, [{ op: 'copy', from: '/a/missing', path: '/b' }])).toEqual({ a: {}, b: null });
  });

  it('replaces the whole document at the empty path', () => {
    expect(applyJsonPatch(pod(), [{ op: 'replace', path: '', value: { kind: 'Pod' } }])).toEqual({ kind: 'Pod' });
  });

  it.each([
    [{ op: 'add', path: '/spec/foo/bar', value: 1 }, 'add operation does not apply: doc is missing path: "/spec/foo/bar": missing value'],
    [{ op: 'remove', path: '/metadata/labels/nope' }, "error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value"],
    [{ op: 'remove', path: '/spec/containers/3' }, "error in remove for path: '/spec/containers/3': Unable to access invalid index: 3: invalid index referenced"],
    [{ op: 'add', path: '/spec/containers/5', value: {} }, "error in add for path: '/spec/containers/5': Unable to access invalid index: 5: invalid index referenced"],
    [{ op: 'replace', path: '/spec/containers/1', value: {} }, 'replace operation does not apply: doc is missing key: /spec/containers/1: missing value'],
    [{ op: 'replace', path: '/spec/nope/x', value: 1 }, 'replace operation does not apply: doc is missing path: /spec/nope/x: missing value'],
    [{ op: 'test', path: '/metadata/name', value: 'other' }, 'testing value /metadata/name failed: test failed'],
    [{ op: 'test', path: '/metadata/name' }, 'testing value /metadata/name failed: test failed'],
    [{ op: 'test', path: '/nope/x', value: 1 }, 'test operation does not apply: is missing path: /nope/x: missing value'],
    [{ op: 'move', from: '/metadata/nope', path: '/x' }, "error in move for path: 'nope': Unable to remove nonexistent key: nope: missing value"],
    [{ op: 'move', from: '/nope/a', path: '/x' }, 'move operation does not apply: doc is missing from path: /nope/a: missing value'],
    [{ op: 'copy', from: '/metadata/name', path: '/nope/x' }, 'copy operation does not apply: doc is missing destination path: /nope/x: missing value'],
    [{ op: 'add', value: 1 }, 'add operation failed to decode path: missing value'],
    [{ op: 'frobnicate', path: '/a' }, 'Unexpected kind: frobnicate'],
    [{ path: '/a' }, 'Unexpected kind: unknown'],
  ])('refuses %j with a 422 worded as Kubernetes does', (op, message) => {
    const err = patchError(() => applyJsonPatch(pod(), [op]));
    expect(err.message).toBe(message);
    expect(err.code).toBe(422);
    expect(err.reason).toBe('Invalid');
  });

  it('applies nothing when a later operation fails', () => {
    const doc = pod();
    patchError(() => applyJsonPatch(doc, [{ op: 'replace', path: '/metadata/name', value: 'x' }, { op: 'test', path: '/metadata/name', value: 'web' }]));
    expect(doc.metadata.name).toBe('web');
  });

  it('answers 400 when the patch is not an array of operations', () => {
    const notArray = patchError(() => applyJsonPatch(pod(), { op: 'add' }));
    expect(notArray.code).toBe(400);
    expect(notArray.message).toBe('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    expect(patchError(() => applyJsonPatch(pod(), ['add'])).message).toBe('json: cannot unmarshal string into Go value of type jsonpatch.Operation');
  });
});
