// The shapes the OpenAPI builders share: a JSON schema object as OpenAPI 3.0 and Swagger 2.0
// write it (with Kubernetes' x-kubernetes-* extensions), and a group-version-kind.

/** One OpenAPI schema object (the subset Kubernetes' documents use). */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  $ref?: string;
  uniqueItems?: boolean;
  [extension: `x-${string}`]: unknown;
}

/** A Kubernetes group-version-kind; group is '' for the core group. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** A JSON object of any shape (an OpenAPI document or a part of one). */
export type JsonObject = { [key: string]: unknown };
