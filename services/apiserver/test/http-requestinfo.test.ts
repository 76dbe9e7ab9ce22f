import { requestInfo } from '../src/http/requestinfo';
import { duplicateFields, negotiateOk } from './http-helpers';

const q = (s = '') => new URLSearchParams(s);

describe('requestInfo (Kubernetes RequestInfoFactory rules)', () => {
  it('reads namespaced, cluster-scoped and subresource paths with their verbs', () => {
    expect(requestInfo('GET', '/api/v1/namespaces/default/pods/web-1', q())).toMatchObject({ isResource: true, verb: 'get', group: '', version: 'v1', namespace: 'default', resource: 'pods', name: 'web-1', subresource: '' });
    expect(requestInfo('GET', '/api/v1/namespaces/default/pods', q())).toMatchObject({ verb: 'list', namespace: 'default', resource: 'pods', name: '' });
    expect(requestInfo('GET', '/api/v1/pods', q('watch=true'))).toMatchObject({ verb: 'watch', namespace: '', resource: 'pods' });
    expect(requestInfo('GET', '/api/v1/watch/namespaces/ns/pods', q())).toMatchObject({ verb: 'watch', namespace: 'ns', resource: 'pods' });
    expect(requestInfo('PUT', '/apis/apps/v1/namespaces/ns/deployments/web/scale', q())).toMatchObject({ verb: 'update', group: 'apps', resource: 'deployments', name: 'web', subresource: 'scale' });
    expect(requestInfo('PATCH', '/api/v1/nodes/n1/status', q())).toMatchObject({ verb: 'patch', namespace: '', resource: 'nodes', name: 'n1', subresource: 'status' });
    expect(requestInfo('DELETE', '/api/v1/namespaces/ns/configmaps', q())).toMatchObject({ verb: 'deletecollection', resource: 'configmaps' });
    expect(requestInfo('POST', '/api/v1/namespaces/ns/pods/p/eviction', q())).toMatchObject({ verb: 'create', subresource: 'eviction' });
  });

  it('reads /api/v1/namespaces/{name}[/status|/finalize] as the Namespace itself', () => {
    expect(requestInfo('GET', '/api/v1/namespaces/kube-system', q())).toMatchObject({ resource: 'namespaces', name: 'kube-system' });
    expect(requestInfo('PUT', '/api/v1/namespaces/kube-system/finalize', q())).toMatchObject({ resource: 'namespaces', name: 'kube-system', subresource: 'finalize' });
    expect(requestInfo('GET', '/api/v1/namespaces', q())).toMatchObject({ verb: 'list', resource: 'namespaces', namespace: '' });
  });

  it('treats discovery, OpenAPI and health paths as non-resource requests', () => {
    for (const p of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/version', '/healthz', '/openapi/v3']) {
      expect(requestInfo('GET', p, q())).toEqual({ isResource: false, verb: 'get', path: p });
    }
  });
});

describe('request bodies', () => {
  it('finds duplicate keys with their paths, at any depth and in lists', () => {
    expect(duplicateFields('{"a":1,"b":{"c":1,"c":2},"a":3}')).toEqual(['b.c', 'a']);
    expect(duplicateFields('{"items":[{"x":1},{"x":1,"x":2}],"s":"{\\"q\\":1,\\"q\\":2}"}')).toEqual(['items[1].x']);
    expect(duplicateFields('{"a":{"k":1},"b":{"k":1}}')).toEqual([]);
  });

  it('negotiates Tables, JSON and YAML in the client order, and refuses protobuf alone', () => {
    expect(negotiateOk('application/json;as=Table;v=v1;g=meta.k8s.io,application/json', true)).toBe('table');
    expect(negotiateOk('application/json;as=Table;v=v1;g=meta.k8s.io,application/json', false)).toBe('json');
    expect(negotiateOk('application/vnd.kubernetes.protobuf,application/json', true)).toBe('json');
    expect(negotiateOk('application/yaml', true)).toBe('yaml');
    expect(negotiateOk(undefined, true)).toBe('json');
    expect(negotiateOk('application/vnd.kubernetes.protobuf', true)).toBe(406);
  });
});
