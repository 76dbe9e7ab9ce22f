// The subresources of a kind, read from its gRPC service in proto/ (k8ts.<group>.v1.<Kind>Service):
// the HTTP API serves a subresource because the service has the method behind it.
//
//   Update<Kind>Status         <object>/status    get, put, patch of the kind
//   Get/Update<Kind>Scale      <object>/scale     get / put, patch of the Scale the method takes
//                                                 (Kubernetes' autoscaling/v1 Scale)
//   Bind<Kind>                 <object>/binding   post of the Binding the method takes
//   Get<Kind>Logs              <object>/log       get; the query parameters are the request's
//                                                 fields (container, follow, tailLines, ...)
//   Create<Kind>Token          <object>/token     post of an authentication.k8s.io/v1 TokenRequest
import { protoRoot } from '@k8ts/api';
import { messageSchema, type FieldSchema } from '@k8ts/machinery';
import type * as protobuf from 'protobufjs';
import { fieldDescription } from './docs';
import {
  accepted,
  created,
  ok,
  OBJECT_MEDIA,
  operation,
  readReplacePatch,
  route,
  ANY_MEDIA,
  type KindScope,
  type Operation,
  type Route,
} from './model';
import { gvkOfKubeName, KUBE, kubeName } from './names';
import { WRITE_PARAMETERS, type QueryParameter } from './parameters';

/** The media types of a container log: the text itself. */
const LOG_MEDIA = ['text/plain', 'application/json', 'application/yaml'] as const;

/** The fields of a subresource request that name the object (they are in the URL path). */
const OBJECT_NAME_FIELDS = new Set(['namespace', 'name']);

/** One method of a gRPC service: its request and response messages. */
interface MethodTypes {
  request: string;
  response: string;
}

/** The methods of the kind's gRPC service by name; empty when it has no service. */
function serviceMethods(scope: KindScope): Map<string, MethodTypes> {
  const pkg = scope.kind.typeName.slice(0, scope.kind.typeName.lastIndexOf('.'));
  const service = protoRoot().lookup(`${pkg}.${scope.kind.kind}Service`) as protobuf.Service | null;
  const out = new Map<string, MethodTypes>();
  if (!service || !('methods' in service)) return out;
  for (const method of Object.values(service.methods)) {
    method.resolve();
    const { resolvedRequestType: request, resolvedResponseType: response } = method;
    if (request && response) out.set(method.name, { request: fullName(request), response: fullName(response) });
  }
  return out;
}

function fullName(type: protobuf.Type): string {
  return type.fullName.replace(/^\./, '');
}

/** The one message a request or response carries ("UpdateDeploymentScaleRequest" -> "k8ts.apps.v1.Scale"). */
function carriedMessage(wrapper: string): string {
  const carried = messageSchema(wrapper).fields.find((f) => f.kind === 'message');
  if (!carried?.typeName) throw new Error(`OpenAPI: ${wrapper} carries no message`);
  return carried.typeName;
}

function statusRoute(scope: KindScope): Route {
  const operations = readReplacePatch(scope, 'Status', `the status of the ${scope.kind.kind} named in the path`, scope.definition);
  return route(scope, `${scope.itemPath}/status`, scope.itemParameters, operations);
}

function scaleRoute(scope: KindScope, get: MethodTypes | undefined, update: MethodTypes | undefined): Route {
  const kind = scope.kind.kind;
  const scaleType = update ? carriedMessage(update.request) : carriedMessage((get as MethodTypes).response);
  const definition = kubeName(scaleType);
  const all = readReplacePatch(scope, 'Scale', `the scale of the ${kind} named in the path`, definition, gvkOfKubeName(definition));
  const operations = all.filter((op) => (op.method === 'get' ? get !== undefined : update !== undefined));
  return route(scope, `${scope.itemPath}/scale`, scope.itemParameters, operations);
}

/** A POST of a subresource object (binding, token): created and answered as that object. */
function createRoute(scope: KindScope, subresource: string, word: string, definition: string, description: string): Route {
  const create = operation(scope, {
    method: 'post',
    action: 'post',
    operationId: `create${scope.gv}${scope.scopeWord}${scope.kind.kind}${word}`,
    description,
    gvk: gvkOfKubeName(definition),
    parameters: WRITE_PARAMETERS,
    requestBody: { definition, mediaTypes: ANY_MEDIA, required: true },
    responses: [ok(definition), created(definition), accepted(definition)],
    responseMediaTypes: OBJECT_MEDIA,
  });
  return route(scope, `${scope.itemPath}/${subresource}`, scope.itemParameters, [create]);
}

function queryParameterOf(requestType: string, field: FieldSchema): QueryParameter {
  const type = field.kind === 'integer' ? 'integer' : field.kind === 'boolean' ? 'boolean' : 'string';
  return { name: field.name, type, description: field.description ?? fieldDescription(requestType, field.protoName) ?? '' };
}

function logRoute(scope: KindScope, requestType: string): Route {
  const parameters = messageSchema(requestType)
    .fields.filter((f) => !OBJECT_NAME_FIELDS.has(f.name))
    .map((f) => queryParameterOf(requestType, f))
    .sort((a, b) => a.name.localeCompare(b.name));
  const read: Operation = operation(scope, {
    method: 'get',
    action: 'get',
    operationId: `read${scope.gv}${scope.scopeWord}${scope.kind.kind}Log`,
    description: `Reads the log of a container of the ${scope.kind.kind} named in the path.`,
    parameters,
    responses: [{ code: '200', body: { inline: { type: 'string' } } }],
    responseMediaTypes: LOG_MEDIA,
  });
  return route(scope, `${scope.itemPath}/log`, scope.itemParameters, [read]);
}

/** The subresource routes of a kind, in the order of their paths. */
export function subresourceRoutes(scope: KindScope): Route[] {
  const methods = serviceMethods(scope);
  const kind = scope.kind.kind;
  const routes: Route[] = [];
  const bind = methods.get(`Bind${kind}`);
  if (bind) routes.push(createRoute(scope, 'binding', 'Binding', kubeName(carriedMessage(bind.request)), `Binds the ${kind} named in the path to a node.`));
  const logs = methods.get(`Get${kind}Logs`);
  if (logs) routes.push(logRoute(scope, logs.request));
  const getScale = methods.get(`Get${kind}Scale`);
  const updateScale = methods.get(`Update${kind}Scale`);
  if (getScale || updateScale) routes.push(scaleRoute(scope, getScale, updateScale));
  if (methods.has(`Update${kind}Status`)) routes.push(statusRoute(scope));
  if (methods.has(`Create${kind}Token`)) {
    routes.push(createRoute(scope, 'token', 'Token', KUBE.tokenRequest, `Issues a token that authenticates as the ${kind} named in the path.`));
  }
  return routes;
}
