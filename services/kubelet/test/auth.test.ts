// How kubelet API calls are authorized: every method as a request on nodes/proxy of the node
// (GetContainerLogs as Kubernetes' /containerLogs), reads as get and anything else as create,
// and the node of a call about a pod is the pod's.
import { GET_CONTAINER_LOGS, kubeletRequestAttributes, podOfRequest } from '../src/agent/auth';

const attributesOf = kubeletRequestAttributes((method, request) => (podOfRequest(method, request)?.name === 'on-node-2' ? 'node-2' : 'node-1'));

test('GetContainerLogs is get nodes/proxy of the pod’s node', () => {
  expect(attributesOf(GET_CONTAINER_LOGS, { namespace: 'default', podName: 'on-node-2', container: 'app' })).toEqual({
    kind: 'resource',
    verb: 'get',
    apiGroup: '',
    apiVersion: 'v1',
    resource: 'nodes',
    subresource: 'proxy',
    name: 'node-2',
    namespace: '',
  });
  expect(attributesOf(GET_CONTAINER_LOGS, { namespace: 'default', podName: 'elsewhere' })).toMatchObject({ verb: 'get', name: 'node-1' });
});

test('the kit’s reads are get nodes/proxy; an unknown method is create', () => {
  expect(attributesOf('/k8ts.system.v1.InfoService/GetInfo', {})).toMatchObject({ verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'node-1' });
  expect(attributesOf('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', undefined)).toMatchObject({ verb: 'get', subresource: 'proxy' });
  expect(attributesOf('/k8ts.kubelet.v1.KubeletService/Exec', {})).toMatchObject({ verb: 'create', subresource: 'proxy' });
});

test('podOfRequest reads only a GetContainerLogs request that names a pod', () => {
  expect(podOfRequest(GET_CONTAINER_LOGS, { namespace: 'ns', podName: 'p' })).toEqual({ namespace: 'ns', name: 'p' });
  expect(podOfRequest(GET_CONTAINER_LOGS, { namespace: '', podName: 'p' })).toBeUndefined();
  expect(podOfRequest(GET_CONTAINER_LOGS, undefined)).toBeUndefined();
  expect(podOfRequest('/k8ts.system.v1.InfoService/GetInfo', { namespace: 'ns', podName: 'p' })).toBeUndefined();
});
