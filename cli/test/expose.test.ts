import { fromK8sJson } from '@k8ts/api';
import { type ExposeSource, exposeService } from '../src/commands/expose';

const deployment: ExposeSource = {
  what: 'deployment',
  name: 'web',
  namespace: 'default',
  labels: { app: 'web', tier: 'fe' },
  selector: { app: 'web' },
  ports: [{ port: 8080, protocol: 'TCP' }],
};

describe('expose', () => {
  test("a deployment's selector, labels and container port", () => {
    expect(exposeService(deployment, {})).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'fe' } },
      spec: { type: 'ClusterIP', selector: { app: 'web' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] },
    });
  });

  test('--port, --target-port (number or name), --name, --type, --session-affinity', () => {
    const svc = exposeService(deployment, { port: '80', targetPort: '8080', name: 'web-lb', type: 'NodePort', sessionAffinity: 'ClientIP' }) as any;
    expect(svc.metadata.name).toBe('web-lb');
    expect(svc.spec).toEqual({ type: 'NodePort', selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] });
    expect((exposeService(deployment, { port: '80', targetPort: 'http' }) as any).spec.ports).toEqual([{ port: 80, targetPort: 'http', protocol: 'TCP' }]);
    // What it builds is a valid Service for the codec.
    expect(() => fromK8sJson('k8ts.core.v1.Service', svc)).not.toThrow();
  });

  test('several container ports: each becomes a named Service port', () => {
    const svc = exposeService({ ...deployment, ports: [{ port: 8080, name: 'http' }, { port: 9090, protocol: 'UDP' }] }, {}) as any;
    expect(svc.spec.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' },
      { name: 'port-2', port: 9090, targetPort: 9090, protocol: 'UDP' },
    ]);
  });

  test('--selector and --labels replace what comes from the object', () => {
    const svc = exposeService(deployment, { selector: 'app=web,track=canary', labels: 'team=a' }) as any;
    expect(svc.spec.selector).toEqual({ app: 'web', track: 'canary' });
    expect(svc.metadata.labels).toEqual({ team: 'a' });
  });

  test('clear errors: no port, no plain selector, bad flags', () => {
    expect(() => exposeService({ ...deployment, ports: [] }, {})).toThrow(/couldn't find port via --port flag or introspection: the deployment "web" declares no container port/);
    expect(() => exposeService({ ...deployment, selector: undefined }, { port: '80' })).toThrow(/has no plain label selector; give one with --selector/);
    expect(() => exposeService(deployment, { port: '0' })).toThrow(/invalid --port "0": must be a port number between 1 and 65535/);
    expect(() => exposeService(deployment, { type: 'ExternalName' })).toThrow(/invalid --type "ExternalName"/);
    expect(() => exposeService(deployment, { protocol: 'ICMP' })).toThrow(/invalid --protocol "ICMP"/);
    expect(() => exposeService(deployment, { selector: 'app in (a,b)' })).toThrow(/invalid --selector/);
    expect(() => exposeService(deployment, { sessionAffinity: 'Sticky' })).toThrow(/invalid --session-affinity "Sticky"/);
  });
});
