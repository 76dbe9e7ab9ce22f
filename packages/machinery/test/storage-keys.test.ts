import { KINDS } from '@k8ts/api';
import {
  MASTER_LEASES_PREFIX,
  NODE_PORT_PREFIX,
  SERVICE_IP_PREFIX,
  STORAGE_PREFIX,
  isAllocationKey,
  masterLeaseKey,
  nodePortKey,
  objectKey,
  parseObjectKey,
  resourcePrefix,
  serviceIPKey,
} from '@k8ts/machinery';

const kind = (resource: string) => {
  const k = KINDS.find((x) => x.resource === resource);
  if (!k) throw new Error(`no kind ${resource}`);
  return k;
};
const PODS = kind('pods');
const NODES = kind('nodes');

describe('storage keys', () => {
  it('puts namespaced objects under /kubernetes.io/<resource>/<namespace>/<name>', () => {
    expect(objectKey(PODS, 'default', 'web-1')).toBe('/kubernetes.io/pods/default/web-1');
    expect(objectKey(kind('deployments'), 'prod', 'api')).toBe('/kubernetes.io/deployments/prod/api');
  });

  it('puts cluster-scoped objects under /kubernetes.io/<resource>/<name>, ignoring a namespace', () => {
    expect(objectKey(NODES, '', 'n1')).toBe('/kubernetes.io/nodes/n1');
    expect(objectKey(NODES, 'default', 'n1')).toBe('/kubernetes.io/nodes/n1');
    expect(objectKey(kind('namespaces'), '', 'kube-system')).toBe('/kubernetes.io/namespaces/kube-system');
  });

  it('lists a resource, or one namespace of it, under a prefix ending in "/"', () => {
    expect(resourcePrefix(PODS)).toBe('/kubernetes.io/pods/');
    expect(resourcePrefix(PODS, '')).toBe('/kubernetes.io/pods/');
    expect(resourcePrefix(PODS, 'default')).toBe('/kubernetes.io/pods/default/');
    expect(resourcePrefix(NODES, 'default')).toBe('/kubernetes.io/nodes/');
  });

  it('keeps each object inside its list prefix, and one namespace out of a namespace that extends its name', () => {
    for (const k of KINDS) {
      const key = objectKey(k, 'ns', 'x');
      expect(key.startsWith(resourcePrefix(k, 'ns'))).toBe(true);
      expect(key.startsWith(resourcePrefix(k))).toBe(true);
      expect(key.startsWith(STORAGE_PREFIX)).toBe(true);
    }
    expect(objectKey(PODS, 'ab', 'x').startsWith(resourcePrefix(PODS, 'a'))).toBe(false);
  });

  it('reads back what objectKey wrote, for every kind', () => {
    for (const k of KINDS) {
      const parts = parseObjectKey(objectKey(k, 'team-a', 'obj.1'));
      expect(parts).toEqual(k.namespaced ? { resource: k.resource, namespace: 'team-a', name: 'obj.1' } : { resource: k.resource, name: 'obj.1' });
    }
  });

  it('reads no object from keys that are not objects', () => {
    for (const key of [
      '/registry/pods/default/web',
      '/kubernetes.io/',
      '/kubernetes.io/pods',
      '/kubernetes.io/pods/',
      '/kubernetes.io/pods/default/',
      '/kubernetes.io/pods//web',
      '/kubernetes.io/pods/default/web/extra',
      serviceIPKey('10.96.0.1'),
      nodePortKey(30080),
      masterLeaseKey('192.168.1.10', 6443),
    ]) {
      expect({ key, parts: parseObjectKey(key) }).toEqual({ key, parts: undefined });
    }
  });

  it('records allocations under ranges/ and apiserver leases under masterleases/', () => {
    expect(serviceIPKey('10.96.0.10')).toBe('/kubernetes.io/ranges/serviceips/10.96.0.10');
    expect(nodePortKey(30080)).toBe('/kubernetes.io/ranges/servicenodeports/30080');
    expect(masterLeaseKey('192.168.1.10', 6443)).toBe('/kubernetes.io/masterleases/192.168.1.10:6443');
    expect([SERVICE_IP_PREFIX, NODE_PORT_PREFIX, MASTER_LEASES_PREFIX].every((p) => p.startsWith(STORAGE_PREFIX) && p.endsWith('/'))).toBe(true);
  });

  it('tells allocation keys from the rest', () => {
    expect(isAllocationKey(serviceIPKey('10.96.0.10'))).toBe(true);
    expect(isAllocationKey(nodePortKey(30080))).toBe(true);
    expect(isAllocationKey(masterLeaseKey('10.0.0.1', 6443))).toBe(false);
    expect(isAllocationKey(objectKey(kind('services'), 'default', 'web'))).toBe(false);
  });
});
