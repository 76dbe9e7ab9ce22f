// How admin API calls are authorized: as non-resource requests on the method's path, reads as
// get, anything else as create.
import { proxyRequestAttributes } from '../src/auth';

test('ListRules and GetRules are get on their paths', () => {
  expect(proxyRequestAttributes('/k8ts.proxy.v1.ProxyService/ListRules')).toEqual({ kind: 'nonResource', verb: 'get', path: '/k8ts.proxy.v1.ProxyService/ListRules' });
  expect(proxyRequestAttributes('/k8ts.proxy.v1.ProxyService/GetRules')).toMatchObject({ verb: 'get' });
  expect(proxyRequestAttributes('/k8ts.system.v1.InfoService/GetInfo')).toMatchObject({ verb: 'get' });
});

test('a method that is not known to read is create', () => {
  expect(proxyRequestAttributes('/k8ts.proxy.v1.ProxyService/Flush')).toEqual({ kind: 'nonResource', verb: 'create', path: '/k8ts.proxy.v1.ProxyService/Flush' });
});
