// The empty object of a kind, as Kubernetes' field manager compares a create against: the Go
// zero value of the kind's type in its JSON form. Go always writes struct fields that are not
// pointers ({}), and lists declared without omitempty (null), so the zero Deployment is
// {metadata: {}, spec: {template: {metadata: {}, spec: {containers: null}}, strategy: {}},
// status: {}}. What the zero object holds decides which containers a create adds as a whole:
// a created Deployment's entry has f:labels with "." (a map absent from the zero object) but
// f:spec, f:template and f:containers without (present in it). Only containers that are walked
// field by field matter here; atomic values and scalars are owned the same either way.
import type { JsonObject } from './json';
import type { TypeResolver } from './types';

type Zero = 'struct' | 'null';

/** Top-level fields of every kind that are Go value structs. */
const OBJECT_FIELDS: Readonly<Record<string, Zero>> = { metadata: 'struct', spec: 'struct', status: 'struct' };

/** Fields, by message type, that a Go zero value holds (value structs, non-omitempty lists). */
const ZERO_FIELDS: Readonly<Record<string, Readonly<Record<string, Zero>>>> = {
  'k8ts.core.v1.PodTemplateSpec': { metadata: 'struct', spec: 'struct' },
  'k8ts.core.v1.PodSpec': { containers: 'null' },
  'k8ts.apps.v1.DeploymentSpec': { template: 'struct', strategy: 'struct' },
  'k8ts.apps.v1.ReplicaSetSpec': { template: 'struct' },
  'k8ts.batch.v1.JobSpec': { template: 'struct' },
  'k8ts.core.v1.ServiceStatus': { loadBalancer: 'struct' },
  'k8ts.core.v1.Event': { source: 'struct' },
  'k8ts.core.v1.NodeStatus': { daemonEndpoints: 'struct', nodeInfo: 'struct' },
  'k8ts.core.v1.NodeDaemonEndpoints': { kubeletEndpoint: 'struct' },
};

function zeroOf(types: TypeResolver, typeName: string, fields: Readonly<Record<string, Zero>>): JsonObject {
  const out: JsonObject = {};
  const struct = { kind: 'struct', typeName, atomic: false } as const;
  for (const [name, zero] of Object.entries(fields)) {
    const ref = types.field(struct, name);
    if (!ref) continue; // the schema has no such field: nothing to mirror
    if (zero === 'null') out[name] = null;
    else if (ref.kind === 'struct' && !ref.atomic) out[name] = zeroOf(types, ref.typeName, ZERO_FIELDS[ref.typeName] ?? {});
  }
  return out;
}

/** The zero object of a kind's type ("k8ts.apps.v1.Deployment"). */
export function zeroObject(types: TypeResolver, typeName: string): JsonObject {
  return zeroOf(types, typeName, { ...OBJECT_FIELDS, ...(ZERO_FIELDS[typeName] ?? {}) });
}
