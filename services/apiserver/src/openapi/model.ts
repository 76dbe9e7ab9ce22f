// The model of the HTTP API the documents describe: routes (a URL path and its operations),
// independent of the OpenAPI version that renders them (v3.ts, v2.ts), and the builders the
// kind routes (routes.ts) and subresource routes (subresources.ts) share.
import type { KindInfo } from '@k8ts/api';
import { groupVersionPath, groupVersionPrefix, KUBE, kubeName, operationGroup, operationTag } from './names';
import { PATCH_PARAMETERS, PRETTY, WRITE_PARAMETERS, type QueryParameter } from './parameters';
import type { GroupVersionKind, Schema } from './types';

export type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';
/** x-kubernetes-action: what the operation does to the resource. */
export type Action = 'get' | 'list' | 'watch' | 'watchlist' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection';

/** What a request or response body holds: a definition (Kubernetes name) or an inline schema. */
export type Body = { definition: string } | { inline: Schema };

export interface Response {
  code: '200' | '201' | '202';
  body: Body;
}

export interface Operation {
  method: Method;
  action?: Action;
  operationId: string;
  description: string;
  tag: string;
  gvk?: GroupVersionKind;
  parameters: QueryParameter[];
  requestBody?: { definition: string; mediaTypes: readonly string[]; required: boolean };
  responses: Response[];
  /** The media types every response of the operation may come in. */
  responseMediaTypes: readonly string[];
}

export interface PathParameter {
  name: 'name' | 'namespace';
  description: string;
}

export interface Route {
  /** The /openapi/v3 document the route belongs to: "api/v1", "apis/apps/v1", "api", "apis", "apis/apps". */
  document: string;
  path: string;
  pathParameters: PathParameter[];
  /** Query parameters every operation of the path takes. */
  queryParameters: QueryParameter[];
  operations: Operation[];
}

/** What the server answers in: JSON and YAML (the HTTP layer negotiates between them). */
export const OBJECT_MEDIA = ['application/json', 'application/yaml'] as const;
/** A collection GET answers a list, or with watch=true a stream of watch events. */
export const LIST_MEDIA = ['application/json', 'application/json;stream=watch', 'application/yaml'] as const;
export const ANY_MEDIA = ['*/*'] as const;
/** The four patch types: JSON patch, merge patch, strategic merge patch, server-side apply. */
export const PATCH_MEDIA = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;

/** The shape of a kind's URLs: its prefix, operationId words and identity. */
export interface KindScope {
  kind: KindInfo;
  document: string;
  gvk: GroupVersionKind;
  tag: string;
  /** "AppsV1" in operationIds. */
  gv: string;
  /** "Namespaced" for namespaced kinds, "" otherwise. */
  scopeWord: string;
  /** "/apis/apps/v1/namespaces/{namespace}/deployments" or "/api/v1/nodes". */
  collectionPath: string;
  itemPath: string;
  itemParameters: PathParameter[];
  /** The kind's definition name, "io.k8s.api.apps.v1.Deployment". */
  definition: string;
}

export const NAMESPACE_PARAMETER: PathParameter = { name: 'namespace', description: 'The namespace of the objects.' };

export function kindScope(kind: KindInfo): KindScope {
  const prefix = groupVersionPrefix(kind.group, kind.version);
  const namespaceSegment = kind.namespaced ? '/namespaces/{namespace}' : '';
  const collectionPath = `${prefix}${namespaceSegment}/${kind.resource}`;
  const nameParameter: PathParameter = { name: 'name', description: `The name of the ${kind.kind}.` };
  return {
    kind,
    document: groupVersionPath(kind.group, kind.version),
    gvk: { group: kind.group, version: kind.version, kind: kind.kind },
    tag: operationTag(kind.group, kind.version),
    gv: `${operationGroup(kind.group)}${capitalize(kind.version)}`,
    scopeWord: kind.namespaced ? 'Namespaced' : '',
    collectionPath,
    itemPath: `${collectionPath}/{name}`,
    itemParameters: kind.namespaced ? [nameParameter, NAMESPACE_PARAMETER] : [nameParameter],
    definition: kubeName(kind.typeName),
  };
}

export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** A route of a kind's document, with `pretty` on every operation as Kubernetes has it. */
export function route(scope: KindScope, path: string, pathParameters: PathParameter[], operations: Operation[]): Route {
  return { document: scope.document, path, pathParameters, queryParameters: [PRETTY], operations };
}

/** An operation on the kind's objects, with its tag and group-version-kind. */
export function operation(scope: KindScope, fields: Omit<Operation, 'tag' | 'gvk'> & { gvk?: GroupVersionKind }): Operation {
  return { tag: scope.tag, gvk: scope.gvk, ...fields };
}

export const ok = (definition: string): Response => ({ code: '200', body: { definition } });
export const created = (definition: string): Response => ({ code: '201', body: { definition } });
export const accepted = (definition: string): Response => ({ code: '202', body: { definition } });

/** Read, replace and patch of an object or of a subresource holding `definition`. */
export function readReplacePatch(scope: KindScope, word: string, what: string, definition: string, gvk?: GroupVersionKind): Operation[] {
  const id = `${scope.gv}${scope.scopeWord}${scope.kind.kind}${word}`;
  const base = { responseMediaTypes: OBJECT_MEDIA, ...(gvk ? { gvk } : {}) };
  return [
    operation(scope, { ...base, method: 'get', action: 'get', operationId: `read${id}`, description: `Reads ${what}.`, parameters: [], responses: [ok(definition)] }),
    operation(scope, {
      ...base,
      method: 'put',
      action: 'put',
      operationId: `replace${id}`,
      description: `Replaces ${what}.`,
      parameters: WRITE_PARAMETERS,
      requestBody: { definition, mediaTypes: ANY_MEDIA, required: true },
      responses: [ok(definition), created(definition)],
    }),
    operation(scope, {
      ...base,
      method: 'patch',
      action: 'patch',
      operationId: `patch${id}`,
      description: `Patches ${what} (JSON patch, merge patch, strategic merge patch or server-side apply).`,
      parameters: PATCH_PARAMETERS,
      requestBody: { definition: KUBE.patch, mediaTypes: PATCH_MEDIA, required: true },
      responses: [ok(definition), created(definition)],
    }),
  ];
}

/** The info block of every document. */
export const INFO = { title: 'Kubernetes', version: 'unversioned' } as const;

/** The one security scheme: a bearer token in the Authorization header. */
export const BEARER_TOKEN = { type: 'apiKey', in: 'header', name: 'authorization', description: 'A bearer token: "Authorization: Bearer <token>".' } as const;

/** The reason phrase of each response code the documents use. */
export const RESPONSE_DESCRIPTIONS: Readonly<Record<Response['code'], string>> = { '200': 'OK', '201': 'Created', '202': 'Accepted' };
