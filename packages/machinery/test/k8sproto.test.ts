// Kubernetes protobuf -> Kubernetes JSON: bodies encoded by hand with Kubernetes' field
// numbers (k8s.io/api generated.proto), as gogo-protobuf writes them (zero-valued non-pointer
// fields included), checked against the JSON Kubernetes would write for the same object, and
// read back by the JSON codec.
import { fromK8sJson } from '@k8ts/api';
import { K8sProtoError, decodeK8sProto, decodeK8sProtoBody, describeUnknownField, k8sProtoToJson } from '@k8ts/machinery';
import { body, bool, bytes, encode, entry, int, intOrInt, intOrStr, newObjectMeta, packed, quantity, str, sub, time } from './k8sproto-helpers';

describe('k8sProtoToJson', () => {
  it('decodes a ConfigMap with data, binary data and labels', () => {
    const raw = encode(
      newObjectMeta(1, 'settings', { app: 'web', tier: 'frontend' }),
      entry(2, 'mode', str(2, 'prod')),
      entry(2, 'empty', str(2, '')),
      entry(3, 'blob', bytes(2, Buffer.from([0, 1, 2, 255]))),
      bool(4, false), // immutable is a pointer: present means set, even to false
    );
    const json = k8sProtoToJson('k8ts.core.v1.ConfigMap', raw);
    expect(json).toEqual({
      metadata: { name: 'settings', labels: { app: 'web', tier: 'frontend' } },
      data: { mode: 'prod', empty: '' },
      binaryData: { blob: 'AAEC/w==' },
      immutable: false,
    });
    const cm = fromK8sJson<{ data: Record<string, string>; binaryData: Record<string, Buffer>; immutable?: boolean }>('k8ts.core.v1.ConfigMap', json);
    expect(cm.data).toEqual({ mode: 'prod', empty: '' });
    expect([...cm.binaryData.blob]).toEqual([0, 1, 2, 255]);
    expect(cm.immutable).toBe(false);
  });

  it('decodes a Deployment: replicas, selector, and a template whose container has ports, resources, env and a probe', () => {
    const container = sub(
      2,
      str(1, 'web'),
      str(2, 'nginx:1.27'),
      str(3, 'nginx'),
      str(4, '-g'),
      str(4, 'daemon off;'),
      str(5, ''),
      sub(6, str(1, 'http'), int(2, 0), int(3, 8080), str(4, 'TCP'), str(5, '')),
      sub(7, str(1, 'MODE'), str(2, 'prod')),
      // env valueFrom.configMapKeyRef: the name is in the embedded LocalObjectReference (1)
      sub(7, str(1, 'DB_HOST'), str(2, ''), sub(3, sub(3, sub(1, str(1, 'db-config')), str(2, 'host')))),
      sub(8, entry(1, 'memory', quantity(2, '128Mi')), entry(2, 'cpu', quantity(2, '250m')), entry(2, 'memory', quantity(2, '64Mi'))),
      // readinessProbe: httpGet is in the embedded ProbeHandler (1)
      sub(11, sub(1, sub(2, str(1, '/healthz'), intOrStr(2, 'http'), str(3, ''), str(4, 'HTTP'))), int(2, 5), int(3, 0)),
      str(13, ''),
      str(14, 'IfNotPresent'),
      bool(16, false),
    );
    const podSpec = sub(2, container, str(3, 'Always'), int(4, 30));
    const raw = encode(
      newObjectMeta(1, 'web', { app: 'web' }),
      sub(2, int(1, 3), sub(2, entry(1, 'app', str(2, 'web'))), sub(3, newObjectMeta(1, '', { app: 'web' }), podSpec), sub(4), int(5, 0)),
      sub(3),
    );
    const json = k8sProtoToJson('k8ts.apps.v1.Deployment', raw);
    expect(json).toEqual({
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'nginx:1.27',
                command: ['nginx'],
                args: ['-g', 'daemon off;'],
                ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
                env: [
                  { name: 'MODE', value: 'prod' },
                  { name: 'DB_HOST', valueFrom: { configMapKeyRef: { name: 'db-config', key: 'host' } } },
                ],
                resources: { limits: { memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi' } },
                readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 5 },
                imagePullPolicy: 'IfNotPresent',
              },
            ],
            restartPolicy: 'Always',
            terminationGracePeriodSeconds: 30,
          },
        },
        strategy: {},
      },
      status: {},
    });
    const deployment = fromK8sJson<{ spec: { replicas?: number; template: { spec: { containers: { ports: { containerPort: number }[] }[] } } } }>('k8ts.apps.v1.Deployment', json);
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0].ports[0].containerPort).toBe(8080);
  });

  it('keeps an optional scalar set to zero and leaves out a plain one', () => {
    // replicas and revisionHistoryLimit are pointers in Kubernetes; minReadySeconds is not.
    const json = k8sProtoToJson('k8ts.apps.v1.Deployment', encode(sub(2, int(1, 0), int(5, 0), int(6, 0))));
    expect(json).toEqual({ spec: { replicas: 0, revisionHistoryLimit: 0 } });
  });

  it('decodes a SelfSubjectAccessReview about a resource and one about a URL', () => {
    const review = (attributes: ReturnType<typeof sub>) => body('authorization.k8s.io/v1', 'SelfSubjectAccessReview', encode(newObjectMeta(1, ''), sub(2, attributes), sub(3)));
    const resource = decodeK8sProtoBody(
      review(sub(1, str(1, 'default'), str(2, 'create'), str(3, 'apps'), str(4, ''), str(5, 'deployments'), str(6, 'scale'), str(7, 'web'))),
      'k8ts.authorization.v1.SelfSubjectAccessReview',
    );
    expect(resource.object).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'default', verb: 'create', group: 'apps', resource: 'deployments', subresource: 'scale', name: 'web' } },
      status: {},
    });
    const url = decodeK8sProtoBody(review(sub(2, str(1, '/healthz'), str(2, 'get'))), 'k8ts.authorization.v1.SelfSubjectAccessReview');
    expect(url.object.spec).toEqual({ nonResourceAttributes: { path: '/healthz', verb: 'get' } });
  });

  it('decodes a SelfSubjectReview, and a user with extra values as bare lists', () => {
    const whoami = decodeK8sProtoBody(body('authentication.k8s.io/v1', 'SelfSubjectReview', encode(newObjectMeta(1, ''), sub(2, sub(1)))), 'k8ts.authentication.v1.SelfSubjectReview');
    expect(whoami.object).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {}, status: { userInfo: {} } });
    const user = sub(1, str(1, 'alice'), str(2, 'u-1'), str(3, 'dev'), str(3, 'system:authenticated'), entry(4, 'scopes', sub(2, str(1, 'read'), str(1, 'write'))), entry(4, 'none', sub(2)));
    const answered = k8sProtoToJson('k8ts.authentication.v1.SelfSubjectReview', encode(sub(2, user)));
    expect(answered).toEqual({ status: { userInfo: { username: 'alice', uid: 'u-1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['read', 'write'], none: [] } } } });
  });

  it('decodes a SubjectAccessReview with extra values', () => {
    const raw = encode(sub(2, sub(2, str(1, '/metrics'), str(2, 'get')), str(3, 'bob'), str(4, 'ops'), entry(5, 'team', sub(2, str(1, 'blue'))), str(6, 'u-2')));
    expect(k8sProtoToJson('k8ts.authorization.v1.SubjectAccessReview', raw)).toEqual({
      spec: { nonResourceAttributes: { path: '/metrics', verb: 'get' }, user: 'bob', groups: ['ops'], extra: { team: ['blue'] }, uid: 'u-2' },
    });
  });

  it('decodes an Eviction with its DeleteOptions and preconditions', () => {
    const raw = encode(newObjectMeta(1, 'web-1'), sub(2, int(1, 0), sub(2, str(1, 'uid-1'), str(2, '42')), str(4, 'Background'), str(5, 'All')));
    expect(k8sProtoToJson('k8ts.policy.v1.Eviction', raw)).toEqual({
      metadata: { name: 'web-1' },
      deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'uid-1', resourceVersion: '42' }, propagationPolicy: 'Background', dryRun: ['All'] },
    });
  });

  describe('Time and MicroTime', () => {
    it('writes RFC 3339 in UTC: whole seconds, microseconds when there are any', () => {
      const raw = encode(sub(2, str(1, 'node-1'), int(2, 40), time(3, 1714979289), time(4, 1714979289, 123456789), int(5, 0)));
      expect(k8sProtoToJson('k8ts.coordination.v1.Lease', raw)).toEqual({
        spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, acquireTime: '2024-05-06T07:08:09Z', renewTime: '2024-05-06T07:08:09.123456Z', leaseTransitions: 0 },
      });
    });

    it('leaves out the zero time (an empty message) and reads a time before 1970', () => {
      const json = k8sProtoToJson('k8ts.meta.v1.ObjectMeta', encode(str(1, 'a'), sub(8), time(9, -86400)));
      expect(json).toEqual({ name: 'a', deletionTimestamp: '1969-12-31T00:00:00Z' });
    });
  });

  describe('IntOrString', () => {
    it('reads the integer or the string its type names', () => {
      const service = encode(sub(2, sub(1, str(1, 'http'), str(2, 'TCP'), int(3, 80), intOrInt(4, 8080)), sub(1, str(1, 'tls'), str(2, 'TCP'), int(3, 443), intOrStr(4, 'https'))));
      expect(k8sProtoToJson('k8ts.core.v1.Service', service)).toEqual({
        spec: {
          ports: [
            { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
            { name: 'tls', protocol: 'TCP', port: 443, targetPort: 'https' },
          ],
        },
      });
    });

    it('keeps a present zero (maxUnavailable: 0 is not "unset")', () => {
      const strategy = sub(4, str(1, 'RollingUpdate'), sub(2, intOrInt(1, 0), intOrStr(2, '25%')));
      expect(k8sProtoToJson('k8ts.apps.v1.DeploymentSpec', encode(strategy))).toEqual({
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      });
    });

    it('refuses a type that is neither integer nor string', () => {
      const bad = encode(sub(2, sub(1, int(3, 80), sub(4, int(1, 7), int(2, 1)))));
      expect(() => k8sProtoToJson('k8ts.core.v1.Service', bad)).toThrow('spec.ports[0].targetPort: IntOrString type 7 is neither 0 (integer) nor 1 (string)');
    });
  });

  it('reads repeated integers packed and one per field alike', () => {
    const unpacked = encode(int(4, 1000), int(4, 2000));
    const packedRun = encode(packed(4, [1000, 2000]));
    for (const raw of [unpacked, packedRun]) {
      expect(k8sProtoToJson('k8ts.core.v1.PodSecurityContext', raw)).toEqual({ supplementalGroups: [1000, 2000] });
    }
  });

  it('reads negative integers (ten-byte varints)', () => {
    expect(k8sProtoToJson('k8ts.core.v1.ContainerStateTerminated', encode(int(1, -1)))).toEqual({ exitCode: -1 });
  });

  it('skips field numbers it does not know, and reports those that hold a value', () => {
    // Container.resizePolicy (23) and ObjectMeta.selfLink (4) exist in Kubernetes, not in k8ts.
    const raw = encode(newObjectMeta(1, 'p'), sub(2, sub(2, str(1, 'app'), sub(23, str(1, 'cpu'), str(2, 'NotRequired')))), sub(1, str(4, '/api/v1/x')));
    const decoded = decodeK8sProto('k8ts.core.v1.Pod', raw);
    expect(decoded.object).toEqual({ metadata: { name: 'p' }, spec: { containers: [{ name: 'app' }] } });
    expect(decoded.unknownFields).toEqual([
      { path: 'spec.containers[0]', tag: 23, wireType: 2 },
      { path: 'metadata', tag: 4, wireType: 2 },
    ]);
    expect(describeUnknownField(decoded.unknownFields[0])).toBe('unknown field number 23 in "spec.containers[0]" (Kubernetes protobuf)');
  });

  it('merges a singular message that occurs twice, as protobuf does', () => {
    const raw = encode(sub(1, str(1, 'a')), sub(1, entry(11, 'k', str(2, 'v'))));
    expect(k8sProtoToJson('k8ts.core.v1.ConfigMap', raw)).toEqual({ metadata: { name: 'a', labels: { k: 'v' } } });
  });

  describe('errors name the field path and the reason', () => {
    it('a wire type the field cannot have', () => {
      const raw = encode(sub(2, str(1, 'three')));
      expect(() => k8sProtoToJson('k8ts.apps.v1.Deployment', raw)).toThrow(new K8sProtoError('spec.replicas', 'expected a varint (wire type 0), got length-delimited bytes (wire type 2)'));
    });

    it('a length that runs past the end', () => {
      const raw = encode(sub(1, str(1, 'name')));
      const truncated = raw.subarray(0, raw.length - 2);
      expect(() => k8sProtoToJson('k8ts.core.v1.ConfigMap', truncated)).toThrow(K8sProtoError);
      expect(() => k8sProtoToJson('k8ts.core.v1.ConfigMap', truncated)).toThrow(/^metadata(\.name)?: /);
    });

    it('data that ends inside a field key or a varint', () => {
      const raw = encode(sub(2, int(1, 300)));
      expect(() => k8sProtoToJson('k8ts.apps.v1.Deployment', raw.subarray(0, raw.length - 1))).toThrow(K8sProtoError);
      expect(() => k8sProtoToJson('k8ts.apps.v1.Deployment', Buffer.from([0x80]))).toThrow(/^malformed protobuf: /);
    });

    it('an integer beyond 2^53, and raw JSON that does not parse', () => {
      expect(() => k8sProtoToJson('k8ts.meta.v1.ObjectMeta', encode(int(7, 2 ** 60)))).toThrow('generation: 1152921504606846976 is out of range (beyond 2^53)');
      const fields = encode(sub(17, str(1, 'kubectl'), sub(7, bytes(1, Buffer.from('{"f:data":')))));
      expect(() => k8sProtoToJson('k8ts.meta.v1.ObjectMeta', fields)).toThrow(/^managedFields\[0\]\.fieldsV1: raw JSON does not parse/);
    });
  });

  it('reads managedFields with their FieldsV1 JSON', () => {
    const raw = encode(sub(17, str(1, 'kubectl'), str(2, 'Apply'), str(3, 'v1'), time(4, 0), str(6, 'FieldsV1'), sub(7, bytes(1, Buffer.from('{"f:data":{"f:a":{}}}'))), str(8, '')));
    expect(k8sProtoToJson('k8ts.meta.v1.ObjectMeta', raw)).toEqual({
      managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '1970-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }],
    });
  });
});
