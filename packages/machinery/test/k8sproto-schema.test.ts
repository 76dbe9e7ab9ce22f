// Every field of proto/ whose message mirrors a Kubernetes type carries its number in
// Kubernetes' protobuf encoding (k8s_tag), read by the schema as k8sTag. Spot checks of the
// numbers against Kubernetes' generated.proto, and a sweep that no field was forgotten.
import { protoRoot } from '@k8ts/api';
import { fieldOf, messageSchema } from '@k8ts/machinery';
import * as protobuf from 'protobufjs';

/** The packages whose messages mirror Kubernetes types. */
const MIRRORED = ['meta', 'core', 'apps', 'batch', 'coordination', 'rbac', 'authorization', 'authentication', 'policy'];

function mirroredMessages(): string[] {
  const out: string[] = [];
  const walk = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type) out.push(o.fullName.slice(1));
      if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) walk(o);
    }
  };
  for (const pkg of MIRRORED) walk(protoRoot().lookup(`k8ts.${pkg}.v1`) as protobuf.Namespace);
  // services.proto (generated request/response messages) mirrors nothing.
  return out.filter((t) => !/(Request|Response)$/.test(t) || t.endsWith('.TokenRequest'));
}

describe('k8s_tag', () => {
  it('is on every field except the TypeMeta that Kubernetes carries in the envelope', () => {
    const messages = mirroredMessages();
    expect(messages).toContain('k8ts.core.v1.PodSpec');
    expect(messages).toContain('k8ts.authorization.v1.SelfSubjectAccessReview');
    const untagged: string[] = [];
    for (const typeName of messages) {
      for (const f of messageSchema(typeName).fields) {
        if (f.k8sTag === undefined && f.name !== 'apiVersion' && f.name !== 'kind') untagged.push(`${typeName}.${f.protoName}`);
      }
    }
    expect(untagged).toEqual([]);
  });

  it('is unique within a message and within each struct it embeds', () => {
    const duplicates: string[] = [];
    for (const typeName of mirroredMessages()) {
      const seen = new Set<string>();
      for (const f of messageSchema(typeName).fields) {
        if (f.k8sTag === undefined) continue;
        const slot = f.k8sEmbeddedIn === undefined ? `${f.k8sTag}` : `${f.k8sEmbeddedIn}.${f.k8sTag}`;
        if (seen.has(slot)) duplicates.push(`${typeName}.${f.protoName} (${slot})`);
        seen.add(slot);
      }
    }
    expect(duplicates).toEqual([]);
  });

  it("carries Kubernetes' numbers, not k8ts' own", () => {
    expect(fieldOf('k8ts.core.v1.Pod', 'metadata')?.k8sTag).toBe(1);
    expect(fieldOf('k8ts.core.v1.Pod', 'spec')?.k8sTag).toBe(2);
    expect(fieldOf('k8ts.core.v1.Pod', 'status')?.k8sTag).toBe(3);
    expect(fieldOf('k8ts.core.v1.Pod', 'apiVersion')?.k8sTag).toBeUndefined();
    expect(fieldOf('k8ts.meta.v1.ObjectMeta', 'uid')?.k8sTag).toBe(5);
    expect(fieldOf('k8ts.meta.v1.ObjectMeta', 'managedFields')?.k8sTag).toBe(17);
    expect(fieldOf('k8ts.core.v1.PodSpec', 'initContainers')?.k8sTag).toBe(20);
    expect(fieldOf('k8ts.core.v1.Container', 'envFrom')?.k8sTag).toBe(19);
    expect(fieldOf('k8ts.apps.v1.DeploymentSpec', 'progressDeadlineSeconds')?.k8sTag).toBe(9);
    expect(fieldOf('k8ts.apps.v1.ScaleStatus', 'selector')?.k8sTag).toBe(2);
    expect(fieldOf('k8ts.meta.v1.IntOrString', 'strVal')?.k8sTag).toBe(3);
    expect(fieldOf('k8ts.authorization.v1.SubjectAccessReviewStatus', 'denied')?.k8sTag).toBe(4);
    expect(fieldOf('k8ts.authentication.v1.TokenRequestSpec', 'expirationSeconds')?.k8sTag).toBe(4);
    expect(fieldOf('k8ts.policy.v1.Eviction', 'deleteOptions')?.k8sTag).toBe(2);
    expect(fieldOf('k8ts.meta.v1.DeleteOptions', 'dryRun')?.k8sTag).toBe(5);
  });

  it('places the fields of embedded Go structs through k8s_embedded_in', () => {
    expect(fieldOf('k8ts.core.v1.Probe', 'exec')).toMatchObject({ k8sTag: 1, k8sEmbeddedIn: 1 });
    expect(fieldOf('k8ts.core.v1.Probe', 'grpc')).toMatchObject({ k8sTag: 4, k8sEmbeddedIn: 1 });
    expect(fieldOf('k8ts.core.v1.Probe', 'initialDelaySeconds')).toMatchObject({ k8sTag: 2 });
    expect(fieldOf('k8ts.core.v1.Probe', 'initialDelaySeconds')?.k8sEmbeddedIn).toBeUndefined();
    expect(fieldOf('k8ts.core.v1.Volume', 'configMap')).toMatchObject({ k8sTag: 19, k8sEmbeddedIn: 2 });
    expect(fieldOf('k8ts.core.v1.SecretKeySelector', 'name')).toMatchObject({ k8sTag: 1, k8sEmbeddedIn: 1 });
  });
});
