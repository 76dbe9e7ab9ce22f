// The OpenAPI documents of the Kubernetes HTTP API (what kubectl explain, kubectl's
// server-side field validation check and kubectl apply's strategic merge patches read),
// generated at run time from proto/ through the schema module; see README.md.
export { openapiV3Index, openapiV3Document, openapiV2Document, openapiHash } from './documents';
export type { OpenAPIBody, OpenAPIV3Index } from './documents';
export { serveOpenAPI } from './serve';
export type { OpenAPIRequest, OpenAPIResponse } from './serve';
