// The HTTP API the documents describe, as a list of routes (model.ts).
//
// Every kind of KINDS gets Kubernetes' URLs: its collection (list/watch, create,
// deletecollection), its objects (read, replace, patch, delete), for namespaced kinds the list
// across namespaces, and the deprecated /watch/ URLs; the subresources come from the kind's
// gRPC service (subresources.ts). Each operation carries Kubernetes' operationId, tag,
// x-kubernetes-action and x-kubernetes-group-version-kind, and its query parameters.
import { KINDS, type KindInfo } from '@k8ts/api';
import {
  accepted,
  ANY_MEDIA,
  capitalize,
  created,
  kindScope,
  LIST_MEDIA,
  NAMESPACE_PARAMETER,
  OBJECT_MEDIA,
  ok,
  operation,
  readReplacePatch,
  route,
  type KindScope,
  type Operation,
  type Route,
} from './model';
import { groupVersionPath, groupVersionPrefix, KUBE, kubeName, operationGroup, operationTag } from './names';
import { DELETE_COLLECTION_PARAMETERS, DELETE_PARAMETERS, LIST_PARAMETERS, WRITE_PARAMETERS } from './parameters';
import { subresourceRoutes } from './subresources';

// Kubernetes serves no deletecollection for namespaces (its namespace storage has none).
const WITHOUT_DELETE_COLLECTION = new Set(['namespaces']);

function collectionRoute(scope: KindScope): Route {
  const { kind, gv, scopeWord } = scope;
  const list = kubeName(kind.listTypeName);
  const operations: Operation[] = [
    operation(scope, {
      method: 'get',
      action: 'list',
      operationId: `list${gv}${scopeWord}${kind.kind}`,
      description: `Lists ${kind.kind} objects or, with watch=true, streams their changes.`,
      parameters: LIST_PARAMETERS,
      responses: [ok(list)],
      responseMediaTypes: LIST_MEDIA,
    }),
    operation(scope, {
      method: 'post',
      action: 'post',
      operationId: `create${gv}${scopeWord}${kind.kind}`,
      description: `Creates a ${kind.kind}.`,
      parameters: WRITE_PARAMETERS,
      requestBody: { definition: scope.definition, mediaTypes: ANY_MEDIA, required: true },
      responses: [ok(scope.definition), created(scope.definition), accepted(scope.definition)],
      responseMediaTypes: OBJECT_MEDIA,
    }),
  ];
  if (!WITHOUT_DELETE_COLLECTION.has(kind.resource)) {
    operations.push(
      operation(scope, {
        method: 'delete',
        action: 'deletecollection',
        operationId: `delete${gv}Collection${scopeWord}${kind.kind}`,
        description: `Deletes every ${kind.kind} the selectors match.`,
        parameters: DELETE_COLLECTION_PARAMETERS,
        requestBody: { definition: KUBE.deleteOptions, mediaTypes: ANY_MEDIA, required: false },
        responses: [ok(KUBE.status)],
        responseMediaTypes: OBJECT_MEDIA,
      }),
    );
  }
  return route(scope, scope.collectionPath, kind.namespaced ? [NAMESPACE_PARAMETER] : [], operations);
}

function itemRoute(scope: KindScope): Route {
  const { kind, gv, scopeWord } = scope;
  const what = `the ${kind.kind} named in the path`;
  const operations = [
    ...readReplacePatch(scope, '', what, scope.definition),
    operation(scope, {
      method: 'delete',
      action: 'delete',
      operationId: `delete${gv}${scopeWord}${kind.kind}`,
      description: `Deletes ${what}.`,
      parameters: DELETE_PARAMETERS,
      requestBody: { definition: KUBE.deleteOptions, mediaTypes: ANY_MEDIA, required: false },
      responses: [ok(KUBE.status), accepted(KUBE.status)],
      responseMediaTypes: OBJECT_MEDIA,
    }),
  ];
  return route(scope, scope.itemPath, scope.itemParameters, operations);
}

/** GET /api/v1/pods: the list across every namespace. */
function allNamespacesRoute(scope: KindScope): Route {
  const { kind, gv } = scope;
  const path = `${groupVersionPrefix(kind.group, kind.version)}/${kind.resource}`;
  const list = operation(scope, {
    method: 'get',
    action: 'list',
    operationId: `list${gv}${kind.kind}ForAllNamespaces`,
    description: `Lists the ${kind.kind} objects of every namespace or, with watch=true, streams their changes.`,
    parameters: LIST_PARAMETERS,
    responses: [ok(kubeName(kind.listTypeName))],
    responseMediaTypes: LIST_MEDIA,
  });
  return route(scope, path, [], [list]);
}

/** The deprecated /watch/ URLs, which the server still serves as Kubernetes does. */
function watchRoutes(scope: KindScope): Route[] {
  const { kind, gv, scopeWord } = scope;
  const prefix = groupVersionPrefix(kind.group, kind.version);
  const watchPath = (path: string): string => `${prefix}/watch${path.slice(prefix.length)}`;
  const watchOperation = (action: 'watch' | 'watchlist', operationId: string, description: string): Operation =>
    operation(scope, {
      method: 'get',
      action,
      operationId,
      description,
      parameters: LIST_PARAMETERS,
      responses: [ok(KUBE.watchEvent)],
      responseMediaTypes: LIST_MEDIA,
    });
  const deprecated = 'Deprecated: use a list with watch=true';
  const routes = [
    route(scope, watchPath(scope.collectionPath), kind.namespaced ? [NAMESPACE_PARAMETER] : [], [
      watchOperation('watchlist', `watch${gv}${scopeWord}${kind.kind}List`, `Streams the changes to ${kind.kind} objects. ${deprecated}.`),
    ]),
    route(scope, watchPath(scope.itemPath), scope.itemParameters, [
      watchOperation('watch', `watch${gv}${scopeWord}${kind.kind}`, `Streams the changes to the ${kind.kind} named in the path. ${deprecated} and a metadata.name field selector.`),
    ]),
  ];
  if (kind.namespaced) {
    routes.push(
      route(scope, `${prefix}/watch/${kind.resource}`, [], [
        watchOperation('watchlist', `watch${gv}${kind.kind}ListForAllNamespaces`, `Streams the changes to the ${kind.kind} objects of every namespace. ${deprecated}.`),
      ]),
    );
  }
  return routes;
}

/** Every route of one kind. */
export function kindRoutes(kind: KindInfo): Route[] {
  const scope = kindScope(kind);
  const routes = [collectionRoute(scope), itemRoute(scope)];
  if (kind.namespaced) routes.push(allNamespacesRoute(scope));
  routes.push(...watchRoutes(scope), ...subresourceRoutes(scope));
  return routes;
}

/** A discovery GET (/api/, /apis/, /apis/apps/, /api/v1/): no kind, one definition. */
function discoveryRoute(document: string, path: string, operationId: string, description: string, tag: string, definition: string): Route {
  const get: Operation = { method: 'get', operationId, description, tag, parameters: [], responses: [ok(definition)], responseMediaTypes: OBJECT_MEDIA };
  return { document, path, pathParameters: [], queryParameters: [], operations: [get] };
}

/** The discovery routes: /api/, /apis/, each group's /apis/<group>/ and each group-version's resource list. */
export function discoveryRoutes(): Route[] {
  const routes = [
    discoveryRoute('api', '/api/', 'getCoreAPIVersions', 'Lists the versions of the core API group.', 'core', KUBE.apiVersions),
    discoveryRoute('apis', '/apis/', 'getAPIVersions', 'Lists the API groups and their versions.', 'apis', KUBE.apiGroupList),
  ];
  const groups = new Set<string>();
  const groupVersions = new Set<string>();
  for (const k of KINDS) {
    const gvPath = groupVersionPath(k.group, k.version);
    if (!groupVersions.has(gvPath)) {
      groupVersions.add(gvPath);
      const id = `get${operationGroup(k.group)}${capitalize(k.version)}APIResources`;
      routes.push(discoveryRoute(gvPath, `/${gvPath}/`, id, 'Lists the resources of the group-version.', operationTag(k.group, k.version), KUBE.apiResourceList));
    }
    if (k.group !== '' && !groups.has(k.group)) {
      groups.add(k.group);
      const word = operationGroup(k.group);
      const tag = `${word.charAt(0).toLowerCase()}${word.slice(1)}`;
      routes.push(discoveryRoute(`apis/${k.group}`, `/apis/${k.group}/`, `get${word}APIGroup`, 'Describes the API group.', tag, KUBE.apiGroup));
    }
  }
  return routes;
}

/** Every route of the HTTP API, discovery first, then each kind in KINDS order. */
export function allRoutes(): Route[] {
  return [...discoveryRoutes(), ...KINDS.flatMap(kindRoutes)];
}
