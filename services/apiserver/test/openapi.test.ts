// The OpenAPI documents generated from proto/: their index and hashes, the definitions
// (names, types, formats, descriptions, markers, group-version-kinds) checked against the
// schema module and the .proto comments, the paths and operations kubectl relies on, and the
// Swagger 2.0 rendering of the same.
import { createHash } from 'crypto';
import { KINDS, protoDocRoot } from '@k8ts/api';
import { messageSchema } from '@k8ts/machinery';
import { openapiHash, openapiV2Document, openapiV3Document, openapiV3Index } from '../src/openapi';
import { isRequiredByDescription, reflow } from '../src/openapi/docs';
import { kubeName, protoTypeOf } from '../src/openapi/names';
import type { Schema } from '../src/openapi/types';

type Json = Record<string, any>;

function v3(entry: string): Json {
  const document = openapiV3Document(entry);
  if (!document) throw new Error(`no document ${entry}`);
  return JSON.parse(document.json.toString());
}

const v2 = (): Json => JSON.parse(openapiV2Document().toString());

const groupVersionEntries = [...new Set(KINDS.map((k) => (k.group === '' ? `api/${k.version}` : `apis/${k.group}/${k.version}`)))];

/** Every "$ref" value anywhere in a JSON value. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

/** The definition a property refers to, through a plain $ref (2.0) or allOf (3.0). */
function refOf(property: Schema): string | undefined {
  return property.$ref ?? property.allOf?.[0]?.$ref;
}

const commentOf = (typeName: string, protoName?: string): string => {
  const type = protoDocRoot().lookupType(typeName);
  return reflow((protoName === undefined ? type.comment : type.fields[protoName].comment) ?? '');
};

describe('openapi: the /openapi/v3 index', () => {
  it('links one document per group-version of KINDS, the discovery entries, each with the SHA-512 of its bytes', () => {
    const index = openapiV3Index();
    const groups = [...new Set(KINDS.filter((k) => k.group !== '').map((k) => `apis/${k.group}`))];
    expect(Object.keys(index.paths).sort()).toEqual([...groupVersionEntries, ...groups, 'api', 'apis'].sort());
    for (const [entry, { serverRelativeURL }] of Object.entries(index.paths)) {
      const document = openapiV3Document(entry);
      const hash = createHash('sha512').update(document?.json ?? '').digest('hex').toUpperCase();
      expect(document?.hash).toBe(hash);
      expect(serverRelativeURL).toBe(`/openapi/v3/${entry}?hash=${hash}`);
    }
    expect(openapiHash(Buffer.from('x'))).toBe(createHash('sha512').update('x').digest('hex').toUpperCase());
  });

  it('has no document for an unknown entry, and accepts the entry with slashes around it', () => {
    expect(openapiV3Document('apis/nope/v1')).toBeUndefined();
    expect(openapiV3Document('/api/v1/')?.hash).toBe(openapiV3Document('api/v1')?.hash);
  });
});

describe('openapi: the 3.0 documents', () => {
  it.each(groupVersionEntries)('%s: every $ref resolves to one of its components', (entry) => {
    const document = v3(entry);
    expect(document.openapi).toBe('3.0.0');
    const schemas = document.components.schemas as Record<string, Schema>;
    for (const ref of refsIn(document)) {
      expect(ref.startsWith('#/components/schemas/')).toBe(true);
      expect(schemas[ref.slice('#/components/schemas/'.length)]).toBeDefined();
    }
  });

  it.each(KINDS.map((k) => [k.kind, k] as const))('%s and its list are published with their group-version-kind', (_name, kind) => {
    const schemas = v3(kind.group === '' ? 'api/v1' : `apis/${kind.group}/${kind.version}`).components.schemas as Record<string, Schema>;
    const gvk = { group: kind.group, version: kind.version };
    expect(schemas[kubeName(kind.typeName)]['x-kubernetes-group-version-kind']).toEqual([{ ...gvk, kind: kind.kind }]);
    expect(schemas[kubeName(kind.listTypeName)]['x-kubernetes-group-version-kind']).toEqual([{ ...gvk, kind: `${kind.kind}List` }]);
  });

  it('names types as Kubernetes does, and maps the names back to the k8ts messages', () => {
    expect(kubeName('k8ts.core.v1.Pod')).toBe('io.k8s.api.core.v1.Pod');
    expect(kubeName('k8ts.rbac.v1.ClusterRole')).toBe('io.k8s.api.rbac.v1.ClusterRole');
    expect(kubeName('k8ts.meta.v1.ObjectMeta')).toBe('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(kubeName('k8ts.meta.v1.Quantity')).toBe('io.k8s.apimachinery.pkg.api.resource.Quantity');
    expect(kubeName('k8ts.meta.v1.IntOrString')).toBe('io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    expect(kubeName('google.protobuf.Timestamp')).toBe('io.k8s.apimachinery.pkg.apis.meta.v1.Time');
    expect(kubeName('k8ts.apps.v1.Scale')).toBe('io.k8s.api.autoscaling.v1.Scale');
    for (const t of ['k8ts.core.v1.PodSpec', 'k8ts.meta.v1.ListMeta', 'k8ts.apps.v1.ScaleSpec', 'k8ts.coordination.v1.LeaseSpec']) {
      expect(protoTypeOf(kubeName(t))).toBe(t);
    }
    expect(() => kubeName('google.protobuf.Duration')).toThrow(/not a k8ts API type/);
  });

  it('carries every field of every message with its JSON name and the markers the schema module reads', () => {
    const schemas = v3('api/v1').components.schemas as Record<string, Schema>;
    let checked = 0;
    for (const [name, definition] of Object.entries(schemas)) {
      const protoType = protoTypeOf(name);
      if (!protoType || !definition.properties) continue;
      const message = messageSchema(protoType);
      expect(Object.keys(definition.properties)).toEqual(message.fields.map((f) => f.name));
      for (const field of message.fields) {
        const property = definition.properties[field.name];
        expect([name, field.name, property['x-kubernetes-patch-strategy'], property['x-kubernetes-patch-merge-key']]).toEqual([
          name,
          field.name,
          field.patchStrategy,
          field.patchMergeKey,
        ]);
        expect(property['x-kubernetes-list-type']).toBe(field.listType);
        expect(property['x-kubernetes-list-map-keys']).toEqual(field.listMapKeys);
        const mapTypeAt = field.list ? property.items : property;
        expect(mapTypeAt?.['x-kubernetes-map-type']).toBe(field.mapType);
        expect(property.type === 'array').toBe(field.list);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('gives integers their width, times, int-or-strings, quantities and bytes their Kubernetes forms', () => {
    const schemas = v3('api/v1').components.schemas as Record<string, Schema>;
    const props = (type: string): Record<string, Schema> => schemas[kubeName(type)].properties ?? {};
    expect(props('k8ts.core.v1.ContainerPort').containerPort).toMatchObject({ type: 'integer', format: 'int32' });
    expect(props('k8ts.meta.v1.ObjectMeta').generation).toMatchObject({ type: 'integer', format: 'int64' });
    expect(props('k8ts.core.v1.PodSpec').hostNetwork).toMatchObject({ type: 'boolean' });
    expect(refOf(props('k8ts.meta.v1.ObjectMeta').creationTimestamp)).toBe('#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time');
    expect(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Time']).toMatchObject({ type: 'string', format: 'date-time' });
    expect(refOf(props('k8ts.core.v1.ServicePort').targetPort)).toBe('#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    expect(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({
      format: 'int-or-string',
      'x-kubernetes-int-or-string': true,
      oneOf: [{ type: 'integer' }, { type: 'string' }],
    });
    expect(schemas['io.k8s.apimachinery.pkg.api.resource.Quantity']).toMatchObject({ oneOf: [{ type: 'string' }, { type: 'number' }] });
    expect(props('k8ts.core.v1.ResourceRequirements').limits.additionalProperties).toEqual({ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' });
    expect(props('k8ts.core.v1.Secret').data).toMatchObject({ type: 'object', additionalProperties: { type: 'string', format: 'byte' } });
    expect(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1']).toMatchObject({ type: 'object' });
  });

  it('takes descriptions from the .proto comments, and "required" from their "Required." sentences', () => {
    const schemas = v3('api/v1').components.schemas as Record<string, Schema>;
    const podSpec = schemas['io.k8s.api.core.v1.PodSpec'];
    expect(podSpec.description).toBe(commentOf('k8ts.core.v1.PodSpec'));
    expect(podSpec.properties?.containers.description).toBe(commentOf('k8ts.core.v1.PodSpec', 'containers'));
    expect(schemas['io.k8s.api.core.v1.Pod'].properties?.spec).toEqual({
      allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }],
      description: commentOf('k8ts.core.v1.Pod', 'spec'),
    });
    const container = schemas['io.k8s.api.core.v1.Container'];
    const expected = messageSchema('k8ts.core.v1.Container')
      .fields.filter((f) => isRequiredByDescription(commentOf('k8ts.core.v1.Container', f.protoName)))
      .map((f) => f.name);
    expect(expected).toContain('name');
    expect(container.required).toEqual(expected);
    expect(container.required).not.toContain('image');
  });

  it('lists the operations of a namespaced kind with Kubernetes operationIds, actions and parameters', () => {
    const paths = v3('api/v1').paths as Json;
    const item = paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    expect(Object.keys(item).sort()).toEqual(['delete', 'get', 'parameters', 'patch', 'put']);
    expect(item.parameters.map((p: Json) => `${p.in}:${p.name}`)).toEqual(['path:name', 'path:namespace', 'query:pretty']);
    expect(item.get).toMatchObject({ operationId: 'readCoreV1NamespacedPod', 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind: 'Pod' } });
    expect(item.patch.parameters.map((p: Json) => p.name)).toEqual(['dryRun', 'fieldManager', 'fieldValidation', 'force']);
    expect(Object.keys(item.patch.requestBody.content).sort()).toEqual([
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]);
    const collection = paths['/api/v1/namespaces/{namespace}/pods'];
    expect(collection.get.operationId).toBe('listCoreV1NamespacedPod');
    expect(collection.get.parameters.map((p: Json) => p.name)).toContain('watch');
    expect(collection.delete).toMatchObject({ operationId: 'deleteCoreV1CollectionNamespacedPod', 'x-kubernetes-action': 'deletecollection' });
    expect(paths['/api/v1/pods'].get.operationId).toBe('listCoreV1PodForAllNamespaces');
    expect(paths['/api/v1/watch/namespaces/{namespace}/pods/{name}'].get['x-kubernetes-action']).toBe('watch');
    expect(paths['/api/v1/namespaces/{name}'].get.operationId).toBe('readCoreV1Namespace');
    expect(paths['/api/v1/namespaces'].delete).toBeUndefined();
    expect(paths['/api/v1/'].get.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList',
    );
  });

  it('lists fieldValidation on every PATCH, as kubectl checks before validating on the server', () => {
    for (const entry of groupVersionEntries) {
      for (const [path, item] of Object.entries(v3(entry).paths as Json)) {
        if (!item.patch) continue;
        expect([path, item.patch.parameters.some((p: Json) => p.in === 'query' && p.name === 'fieldValidation')]).toEqual([path, true]);
        expect(item.patch['x-kubernetes-group-version-kind']).toBeDefined();
      }
    }
  });

  it('derives subresources from the gRPC services: status, scale (autoscaling/v1), binding, log, token', () => {
    const core = v3('api/v1');
    expect(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/status'].patch.operationId).toBe('patchCoreV1NamespacedPodStatus');
    expect(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding'].post['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'Binding' });
    const logParameters = core.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'].get.parameters.map((p: Json) => p.name);
    const requestFields = messageSchema('k8ts.core.v1.GetPodLogsRequest').fields.map((f) => f.name).filter((n) => n !== 'name' && n !== 'namespace');
    expect(logParameters).toEqual([...requestFields].sort());
    expect(core.paths['/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token'].post['x-kubernetes-group-version-kind']).toEqual({
      group: 'authentication.k8s.io',
      version: 'v1',
      kind: 'TokenRequest',
    });
    expect(core.paths['/api/v1/namespaces/{namespace}/configmaps/{name}/status']).toBeUndefined();
    const apps = v3('apis/apps/v1');
    const scale = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
    expect(Object.keys(scale).sort()).toEqual(['get', 'parameters', 'patch', 'put']);
    expect(scale.put['x-kubernetes-group-version-kind']).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(apps.components.schemas['io.k8s.api.autoscaling.v1.Scale']['x-kubernetes-group-version-kind']).toEqual([{ group: 'autoscaling', version: 'v1', kind: 'Scale' }]);
  });

  it('publishes Status for core/v1 and DeleteOptions / WatchEvent for every served group-version', () => {
    const schemas = v3('apis/batch/v1').components.schemas as Record<string, Schema>;
    expect(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Status']['x-kubernetes-group-version-kind']).toEqual([{ group: '', version: 'v1', kind: 'Status' }]);
    const groups = (schemas['io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']['x-kubernetes-group-version-kind'] as { group: string }[]).map((g) => g.group);
    expect(groups).toEqual([...new Set(KINDS.map((k) => k.group))].sort());
    expect(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent']['x-kubernetes-group-version-kind']).toHaveLength(groups.length);
  });

  it('documents the discovery URLs in the api, apis and apis/<group> entries', () => {
    expect(v3('api').paths['/api/'].get.operationId).toBe('getCoreAPIVersions');
    expect(v3('apis').paths['/apis/'].get.operationId).toBe('getAPIVersions');
    expect(v3('apis/rbac.authorization.k8s.io').paths['/apis/rbac.authorization.k8s.io/'].get).toMatchObject({
      operationId: 'getRbacAuthorizationAPIGroup',
      tags: ['rbacAuthorization'],
    });
  });
});

describe('openapi: the Swagger 2.0 document', () => {
  it('holds every path and definition of the 3.0 documents, referenced under #/definitions/', () => {
    const document = v2();
    expect(document.swagger).toBe('2.0');
    const entries = Object.keys(openapiV3Index().paths);
    const paths = entries.flatMap((e) => Object.keys(v3(e).paths)).sort();
    expect(Object.keys(document.paths).sort()).toEqual(paths);
    const names = new Set(entries.flatMap((e) => Object.keys(v3(e).components.schemas)));
    expect(Object.keys(document.definitions).sort()).toEqual([...names].sort());
    for (const ref of refsIn(document)) expect(document.definitions[ref.replace('#/definitions/', '')]).toBeDefined();
  });

  it('writes references beside their description and IntOrString / Quantity as strings', () => {
    const definitions = v2().definitions as Record<string, Schema>;
    expect(definitions['io.k8s.api.core.v1.Pod'].properties?.spec).toEqual({
      $ref: '#/definitions/io.k8s.api.core.v1.PodSpec',
      description: commentOf('k8ts.core.v1.Pod', 'spec'),
    });
    expect(definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toMatchObject({ type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true });
    expect(definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'].type).toBe('string');
    expect(definitions['io.k8s.api.core.v1.PodSpec'].properties?.containers['x-kubernetes-patch-merge-key']).toBe('name');
  });

  it('gives PATCH the four patch types in consumes, a body parameter, and unique operationIds', () => {
    const document = v2();
    const patch = document.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch.consumes).toEqual([
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]);
    expect(patch.parameters[0]).toEqual({ in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    expect(patch.parameters.map((p: Json) => p.name)).toContain('fieldValidation');
    const ids = Object.values(document.paths as Json).flatMap((item: Json) =>
      ['get', 'put', 'post', 'patch', 'delete'].filter((m) => item[m]).map((m) => item[m].operationId as string),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('openapi: descriptions from comments', () => {
  it('joins the lines of a paragraph, keeps paragraphs and list items', () => {
    expect(reflow('One line\ncontinues.\n\nA second paragraph:\n- first\n- second')).toBe('One line continues.\n\nA second paragraph:\n- first\n- second');
    expect(reflow('')).toBe('');
  });

  it('reads "Required." as required, conditions as optional', () => {
    expect(isRequiredByDescription('The name. Required.')).toBe(true);
    expect(isRequiredByDescription('The terms, ORed. Required, at least one.')).toBe(true);
    expect(isRequiredByDescription('Selects the pods. Required; cannot be changed.')).toBe(true);
    expect(isRequiredByDescription('The image. Required for the containers of a pod.')).toBe(false);
    expect(isRequiredByDescription('Required when type is "Localhost".')).toBe(false);
    expect(isRequiredByDescription('At least one is required.')).toBe(false);
    expect(isRequiredByDescription(undefined)).toBe(false);
  });
});
