// Renders routes (model.ts) as OpenAPI 3.0 documents, as kube-apiserver serves them under
// /openapi/v3/<group-version>: paths with their operations and parameters, and
// components.schemas holding every definition the paths reach (schemas.ts).
import { BEARER_TOKEN, INFO, RESPONSE_DESCRIPTIONS, type Body, type Operation, type PathParameter, type Route } from './model';
import type { QueryParameter } from './parameters';
import { collectDefinitions, OPENAPI_V3 } from './schemas';
import type { JsonObject, Schema } from './types';

/** The OpenAPI 3.0 document of the given routes (those of one /openapi/v3 entry). */
export function openapiV3(routes: readonly Route[]): JsonObject {
  const definitions = new Set<string>();
  const paths: Record<string, JsonObject> = {};
  for (const r of routes) paths[r.path] = pathItem(r, definitions);
  return {
    openapi: '3.0.0',
    info: INFO,
    paths,
    components: { schemas: collectDefinitions(definitions, OPENAPI_V3), securitySchemes: { BearerToken: BEARER_TOKEN } },
    security: [{ BearerToken: [] }],
  };
}

function pathItem(route: Route, definitions: Set<string>): JsonObject {
  const item: JsonObject = {};
  const parameters = [...route.pathParameters.map(pathParameter), ...route.queryParameters.map(queryParameter)];
  if (parameters.length > 0) item.parameters = parameters;
  for (const op of route.operations) item[op.method] = operationObject(op, definitions);
  return item;
}

function pathParameter(p: PathParameter): JsonObject {
  return { description: p.description, in: 'path', name: p.name, required: true, schema: { type: 'string', uniqueItems: true } };
}

function queryParameter(p: QueryParameter): JsonObject {
  return { description: p.description, in: 'query', name: p.name, schema: { type: p.type, uniqueItems: true } };
}

function reference(definition: string, definitions: Set<string>): Schema {
  definitions.add(definition);
  return { $ref: `${OPENAPI_V3.refPrefix}${definition}` };
}

function bodySchema(body: Body, definitions: Set<string>): Schema {
  return 'definition' in body ? reference(body.definition, definitions) : body.inline;
}

/** {mediaType: {schema}} for each media type. */
function content(mediaTypes: readonly string[], schema: Schema): JsonObject {
  return Object.fromEntries(mediaTypes.map((m) => [m, { schema }]));
}

function operationObject(op: Operation, definitions: Set<string>): JsonObject {
  const out: JsonObject = { description: op.description, operationId: op.operationId, tags: [op.tag] };
  if (op.parameters.length > 0) out.parameters = op.parameters.map(queryParameter);
  if (op.requestBody) {
    const body = content(op.requestBody.mediaTypes, reference(op.requestBody.definition, definitions));
    out.requestBody = op.requestBody.required ? { content: body, required: true } : { content: body };
  }
  const responses: JsonObject = {};
  for (const r of op.responses) {
    responses[r.code] = { description: RESPONSE_DESCRIPTIONS[r.code], content: content(op.responseMediaTypes, bodySchema(r.body, definitions)) };
  }
  responses['401'] = { description: 'Unauthorized' };
  out.responses = responses;
  if (op.action) out['x-kubernetes-action'] = op.action;
  if (op.gvk) out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}
