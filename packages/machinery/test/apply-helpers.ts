// Shared fixtures of the server-side apply tests: a schema whose markers are fixed here (so the
// tests do not depend on which fields proto/ marks today), and a Deployment.
import { API_SCHEMA, type FieldSchema, type MessageSchema, type SchemaSource } from '@k8ts/machinery';

type Markers = Pick<FieldSchema, 'listType' | 'listMapKeys' | 'mapType' | 'patchStrategy' | 'patchMergeKey'>;

/** The markers these tests rely on, as Kubernetes declares them. */
const MARKERS: Record<string, Record<string, Markers>> = {
  'k8ts.core.v1.PodSpec': { containers: { listType: 'map', listMapKeys: ['name'] }, tolerations: { listType: 'atomic' } },
  'k8ts.core.v1.Container': { ports: { listType: 'map', listMapKeys: ['containerPort', 'protocol'] }, args: { listType: 'atomic' }, env: { listType: 'map', listMapKeys: ['name'] } },
  'k8ts.meta.v1.ObjectMeta': { finalizers: { listType: 'set' }, ownerReferences: { listType: 'map', listMapKeys: ['uid'], mapType: 'atomic' } },
  'k8ts.apps.v1.DeploymentSpec': { selector: { mapType: 'atomic' } },
};

function withMarkers(schema: MessageSchema): MessageSchema {
  const overrides = MARKERS[schema.typeName];
  if (!overrides) return schema;
  const fields = schema.fields.map((f) => {
    const m = overrides[f.name];
    if (!m) return f;
    const { listType: _l, listMapKeys: _k, mapType: _m, patchStrategy: _s, patchMergeKey: _p, ...rest } = f;
    return { ...rest, ...m };
  });
  return { ...schema, fields, byName: new Map(fields.map((f) => [f.name, f])) };
}

/** The API schema with the markers above, whatever proto/ says. */
export const TEST_SCHEMA: SchemaSource = { message: (typeName) => withMarkers(API_SCHEMA.message(typeName)) };

export const DEPLOYMENT = 'k8ts.apps.v1.Deployment';

export function deployment(spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Record<string, any> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', ...meta },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } },
      ...spec,
    },
  };
}
