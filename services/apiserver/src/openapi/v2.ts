// Renders routes (model.ts) as one Swagger 2.0 document, as kube-apiserver serves it at
// /openapi/v2: every path, and definitions holding every definition the paths reach
// (schemas.ts), with the same names and x-kubernetes-* extensions as the 3.0 documents.
import { ANY_MEDIA, BEARER_TOKEN, INFO, RESPONSE_DESCRIPTIONS, type Body, type Operation, type PathParameter, type Route } from './model';
import type { QueryParameter } from './parameters';
import { collectDefinitions, SWAGGER_V2 } from './schemas';
import type { JsonObject, Schema } from './types';

/** The Swagger 2.0 document of the given routes (all of them). */
export function swaggerV2(routes: readonly Route[]): JsonObject {
  const definitions = new Set<string>();
  const paths: Record<string, JsonObject> = {};
  for (const r of routes) paths[r.path] = pathItem(r, definitions);
  return {
    swagger: '2.0',
    info: INFO,
    paths,
    definitions: collectDefinitions(definitions, SWAGGER_V2),
    securityDefinitions: { BearerToken: BEARER_TOKEN },
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
  return { description: p.description, in: 'path', name: p.name, required: true, type: 'string', uniqueItems: true };
}

function queryParameter(p: QueryParameter): JsonObject {
  return { description: p.description, in: 'query', name: p.name, type: p.type, uniqueItems: true };
}

function reference(definition: string, definitions: Set<string>): Schema {
  definitions.add(definition);
  return { $ref: `${SWAGGER_V2.refPrefix}${definition}` };
}

function bodySchema(body: Body, definitions: Set<string>): Schema {
  return 'definition' in body ? reference(body.definition, definitions) : body.inline;
}

function operationObject(op: Operation, definitions: Set<string>): JsonObject {
  const parameters: JsonObject[] = [];
  if (op.requestBody) {
    parameters.push({ in: 'body', name: 'body', required: op.requestBody.required, schema: reference(op.requestBody.definition, definitions) });
  }
  parameters.push(...op.parameters.map(queryParameter));
  const responses: JsonObject = {};
  for (const r of op.responses) responses[r.code] = { description: RESPONSE_DESCRIPTIONS[r.code], schema: bodySchema(r.body, definitions) };
  responses['401'] = { description: 'Unauthorized' };
  const out: JsonObject = {
    consumes: op.requestBody ? [...op.requestBody.mediaTypes] : [...ANY_MEDIA],
    description: op.description,
    operationId: op.operationId,
    produces: [...op.responseMediaTypes],
    responses,
    schemes: ['https'],
    tags: [op.tag],
  };
  if (parameters.length > 0) out.parameters = parameters;
  if (op.action) out['x-kubernetes-action'] = op.action;
  if (op.gvk) out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}
