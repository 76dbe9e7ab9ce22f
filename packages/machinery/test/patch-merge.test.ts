// JSON merge patch (RFC 7386) as Kubernetes' apiserver applies it (evanphx/json-patch v4).
import { applyMergePatch, PatchError } from '@k8ts/machinery';

describe('applyMergePatch', () => {
  // The examples of RFC 7386, Appendix A (the two whose patch is not an object or array
  // are below: Kubernetes refuses them).
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('merges %j with %j into %j', (doc, patch, result) => {
    expect(applyMergePatch(doc, patch)).toEqual(result);
  });

  it('merges nested objects, deletes with null and replaces lists whole (containers are not merged)', () => {
    const deployment = {
      metadata: { name: 'web', labels: { app: 'web', tier: 'front' } },
      spec: {
        replicas: 2,
        template: { spec: { containers: [{ name: 'app', image: 'nginx:1.25' }, { name: 'sidecar', image: 'busybox' }] } },
      },
    };
    const before = JSON.stringify(deployment);
    const out = applyMergePatch(deployment, {
      metadata: { labels: { tier: null, env: 'prod' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    });
    expect(out).toEqual({
      metadata: { name: 'web', labels: { app: 'web', env: 'prod' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    });
    expect(JSON.stringify(deployment)).toBe(before);
  });

  it('drops nulls inside a value that has nothing to merge into', () => {
    expect(applyMergePatch({ spec: {} }, { spec: { selector: { app: 'web', tier: null } }, status: { phase: null } })).toEqual({
      spec: { selector: { app: 'web' } },
      status: {},
    });
  });

  it.each([null, 'bar', 42, true])('answers 400 "Invalid JSON Patch" for the patch %j', (patch) => {
    let err: unknown;
    try {
      applyMergePatch({ a: 'foo' }, patch);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect((err as PatchError).message).toBe('Invalid JSON Patch');
    expect((err as PatchError).code).toBe(400);
  });
});
