import type { corev1 } from '@k8ts/api';
import { builtinEnv, EnvError, expandVars, resolveEnv, staticEnvSource } from '../src/runtime/env';

const ctx = { podIP: '127.244.1.7', hostIP: '127.10.0.1', nodeName: 'node-1', nodeAllocatable: { cpuMilli: 4000, memoryBytes: 8 * 2 ** 30 } };
const pod: corev1.Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { team: 'blue' } },
  spec: { nodeName: 'node-1', serviceAccountName: 'builder', containers: [] },
};
const source = staticEnvSource({ 'shop/cfg': { MODE: 'fast', 'not valid': 'x' } }, { 'shop/sec': { TOKEN: 't0k' } });

async function envOf(c: Partial<corev1.Container>, p: corev1.Pod = pod) {
  const container: corev1.Container = { name: 'main', ...c };
  return resolveEnv({ ...p, spec: { ...p.spec, containers: [container] } }, container, ctx, source);
}

describe('environment', () => {
  it('expands $(VAR) references, $$ escapes, and leaves unknown ones', () => {
    const env = { A: 'x', B: 'y' };
    expect(expandVars('$(A)-$(B)', env)).toBe('x-y');
    expect(expandVars('$$(A)', env)).toBe('$(A)');
    expect(expandVars('$(C) $A $', env)).toBe('$(C) $A $');
    expect(expandVars('$(A', env)).toBe('$(A');
  });

  it('gives every container the K8TS_* variables, PORT and HOSTNAME', () => {
    const env = builtinEnv(pod, { name: 'main', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics-x', containerPort: 9090 }] }, ctx);
    expect(env).toMatchObject({
      K8TS_POD_IP: '127.244.1.7',
      K8TS_POD_NAME: 'web-1',
      K8TS_POD_NAMESPACE: 'shop',
      K8TS_POD_UID: 'u-1',
      K8TS_NODE_NAME: 'node-1',
      K8TS_HOST_IP: '127.10.0.1',
      K8TS_PORT_HTTP: '8080',
      K8TS_PORT_METRICS_X: '9090',
      K8TS_PORTS: '8080,9090',
      PORT: '8080',
      HOSTNAME: 'web-1',
    });
    expect(builtinEnv(pod, { name: 'main' }, ctx).PORT).toBeUndefined();
  });

  it('resolves the downward API field paths', async () => {
    const ref = (fieldPath: string) => ({ name: fieldPath.replace(/\W/g, '_').toUpperCase(), valueFrom: { fieldRef: { fieldPath } } });
    const paths = ['metadata.name', 'metadata.namespace', 'metadata.uid', "metadata.labels['app']", "metadata.annotations['team']", 'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'status.hostIP'];
    const env = await envOf({ env: paths.map(ref) });
    expect(paths.map((p) => env[p.replace(/\W/g, '_').toUpperCase()])).toEqual(['web-1', 'shop', 'u-1', 'web', 'blue', 'node-1', 'builder', '127.244.1.7', '127.10.0.1']);
    await expect(envOf({ env: [ref('spec.bogus')] })).rejects.toThrow(EnvError);
  });

  it('resolves resource fields with divisors, defaulting limits to node allocatable', async () => {
    const env = await envOf({
      resources: { limits: { cpu: { value: '1500m' }, memory: { value: '256Mi' } }, requests: { cpu: { value: '250m' } } },
      env: [
        { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: { value: '1m' } } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: { value: '1Mi' } } } },
        { name: 'MEM_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.memory' } } },
      ],
    });
    expect(env).toMatchObject({ CPU_LIMIT: '2', CPU_REQ_M: '250', MEM_MI: '256', MEM_REQ: '0' });
    const unlimited = await envOf({ env: [{ name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }] });
    expect(unlimited.CPU).toBe('4');
  });

  it('reads ConfigMaps and Secrets through the EnvSource; env wins over envFrom', async () => {
    const env = await envOf({
      envFrom: [{ configMapRef: { name: 'cfg' } }, { secretRef: { name: 'sec' }, prefix: 'S_' }],
      env: [
        { name: 'MODE', value: 'slow' },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'sec', key: 'TOKEN' } } },
        { name: 'M2', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'nope', key: 'x', optional: true } } },
        { name: 'URL', value: 'http://$(K8TS_POD_IP):$(PORT_X)/$(MODE)' },
      ],
    });
    expect(env).toMatchObject({ MODE: 'slow', S_TOKEN: 't0k', TOKEN: 't0k', M2: 'fast', URL: 'http://127.244.1.7:$(PORT_X)/slow' });
    expect(env).not.toHaveProperty('OPT');
    expect(env).not.toHaveProperty('not valid');
  });

  it('fails with Kubernetes messages for missing ConfigMaps, Secrets and keys', async () => {
    await expect(envOf({ envFrom: [{ configMapRef: { name: 'gone' } }] })).rejects.toThrow('configmap "gone" not found');
    await expect(envOf({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }] })).rejects.toThrow('secret "gone" not found');
    await expect(envOf({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] })).rejects.toThrow(
      "couldn't find key k in ConfigMap shop/cfg",
    );
    await expect(envOf({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } }] })).rejects.toThrow("couldn't find key k in Secret shop/sec");
    expect(await envOf({ envFrom: [{ secretRef: { name: 'gone', optional: true } }] })).toHaveProperty('K8TS_POD_NAME', 'web-1');
  });
});
