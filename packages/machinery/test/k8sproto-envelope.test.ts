// The envelope of a Kubernetes protobuf body: "k8s\0" then runtime.Unknown {typeMeta (1),
// raw (2), contentEncoding (3), contentType (4)}.
import { K8S_PROTOBUF_MAGIC, K8S_PROTOBUF_MEDIA_TYPE, K8sProtoError, decodeK8sEnvelope, decodeK8sProtoBody } from '@k8ts/machinery';
import { body, bool, bytes, encode, entry, int, newObjectMeta, str, sub } from './k8sproto-helpers';

describe('decodeK8sEnvelope', () => {
  const raw = encode(newObjectMeta(1, 'x'), entry(2, 'a', str(2, '1')));

  it('returns the type it names and the raw object', () => {
    const envelope = decodeK8sEnvelope(body('v1', 'ConfigMap', raw));
    expect(envelope.apiVersion).toBe('v1');
    expect(envelope.kind).toBe('ConfigMap');
    expect(envelope.raw.equals(raw)).toBe(true);
  });

  it('accepts the protobuf content type, no content type, and fields it does not know', () => {
    for (const extra of [[str(4, K8S_PROTOBUF_MEDIA_TYPE)], [], [int(9, 5)]]) {
      expect(decodeK8sEnvelope(body('apps/v1', 'Deployment', raw, extra)).kind).toBe('Deployment');
    }
  });

  it('leaves apiVersion and kind empty when the sender left them out', () => {
    const envelope = decodeK8sEnvelope(Buffer.concat([K8S_PROTOBUF_MAGIC, encode(bytes(2, raw))]));
    expect(envelope).toMatchObject({ apiVersion: '', kind: '' });
    expect(envelope.raw.equals(raw)).toBe(true);
  });

  it('refuses a body without the magic number (JSON sent as protobuf, for example)', () => {
    expect(() => decodeK8sEnvelope(Buffer.from('{"kind":"ConfigMap"}'))).toThrow(/not Kubernetes protobuf: it must start with the bytes 0x6b 0x38 0x73 0x00/);
    expect(() => decodeK8sEnvelope(Buffer.alloc(0))).toThrow(K8sProtoError);
  });

  it('refuses an empty envelope and a malformed one', () => {
    expect(() => decodeK8sEnvelope(Buffer.from(K8S_PROTOBUF_MAGIC))).toThrow('the protobuf body is empty after its magic number');
    const whole = body('v1', 'ConfigMap', raw);
    expect(() => decodeK8sEnvelope(whole.subarray(0, whole.length - 10))).toThrow(/^protobuf envelope( raw)?: /);
    const typeMetaAsVarint = Buffer.concat([K8S_PROTOBUF_MAGIC, encode(int(1, 3))]);
    expect(() => decodeK8sEnvelope(typeMetaAsVarint)).toThrow('protobuf envelope typeMeta: expected length-delimited bytes (wire type 2), got a varint (wire type 0)');
  });

  it('refuses a content encoding or a content type it cannot read', () => {
    expect(() => decodeK8sEnvelope(body('v1', 'ConfigMap', raw, [str(3, 'gzip')]))).toThrow('protobuf envelope contentEncoding: content encoding "gzip" is not supported (only none)');
    expect(() => decodeK8sEnvelope(body('v1', 'ConfigMap', raw, [str(4, 'application/json')]))).toThrow(/content type "application\/json" is not supported/);
  });
});

describe('decodeK8sProtoBody', () => {
  it('puts the envelope apiVersion and kind into a kind', () => {
    const decoded = decodeK8sProtoBody(body('v1', 'ConfigMap', encode(newObjectMeta(1, 'x'), entry(2, 'a', str(2, '1')))), 'k8ts.core.v1.ConfigMap');
    expect(decoded.object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } });
    expect(Object.keys(decoded.object).slice(0, 2)).toEqual(['apiVersion', 'kind']);
  });

  it('puts them into DeleteOptions (which has TypeMeta) but not into a type without those fields', () => {
    const options = decodeK8sProtoBody(body('meta.k8s.io/v1', 'DeleteOptions', encode(int(1, 30), bool(3, false))), 'k8ts.meta.v1.DeleteOptions');
    expect(options.object).toEqual({ apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', gracePeriodSeconds: 30, orphanDependents: false });
    const selector = decodeK8sProtoBody(body('v1', 'LabelSelector', encode(entry(1, 'app', str(2, 'web')))), 'k8ts.meta.v1.LabelSelector');
    expect(selector.object).toEqual({ matchLabels: { app: 'web' } });
    expect(selector).toMatchObject({ apiVersion: 'v1', kind: 'LabelSelector' });
  });

  it('keeps kind and apiVersion that are Kubernetes fields of the message (BoundObjectReference)', () => {
    // BoundObjectReference has kind and apiVersion as real Kubernetes fields (numbers 1 and 2).
    const decoded = decodeK8sProtoBody(body('authentication.k8s.io/v1', 'BoundObjectReference', encode(str(1, 'Pod'), str(3, 'web-1'))), 'k8ts.authentication.v1.BoundObjectReference');
    expect(decoded.object).toEqual({ kind: 'Pod', name: 'web-1' });
  });

  it('reports what it could not decode', () => {
    const decoded = decodeK8sProtoBody(body('v1', 'ConfigMap', encode(sub(1, str(1, 'x'), str(4, '/self')))), 'k8ts.core.v1.ConfigMap');
    expect(decoded.unknownFields).toEqual([{ path: 'metadata', tag: 4, wireType: 2 }]);
  });
});
