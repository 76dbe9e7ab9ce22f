// The OpenAPI documents of the HTTP API, built from proto/ on first use and kept for the
// life of the process (proto/ does not change while it runs): one OpenAPI 3.0 document per
// /openapi/v3 entry (each group-version of KINDS, plus "api", "apis" and each "apis/<group>"
// for the discovery URLs), their index, and one Swagger 2.0 document of everything.
//
// Each document is identified by a content hash, as kube-openapi does it: the SHA-512 of
// its JSON bytes in upper-case hex. The index links each document with ?hash=<that hash>, so
// a client may cache a linked document forever.
import { createHash } from 'crypto';
import { allRoutes } from './routes';
import type { Route } from './model';
import { openapiV3 } from './v3';
import { swaggerV2 } from './v2';
import type { JsonObject } from './types';

/** A document's JSON bytes and content hash. */
export interface OpenAPIBody {
  json: Buffer;
  hash: string;
}

/** The /openapi/v3 discovery document: each entry's URL, with its hash. */
export interface OpenAPIV3Index {
  paths: Record<string, { serverRelativeURL: string }>;
}

/** SHA-512 of the bytes in upper-case hex: kube-openapi's ETag and ?hash= value. */
export function openapiHash(json: Buffer): string {
  return createHash('sha512').update(json).digest('hex').toUpperCase();
}

function encode(document: JsonObject): OpenAPIBody {
  const json = Buffer.from(JSON.stringify(document));
  return { json, hash: openapiHash(json) };
}

/** Each entry's path as /openapi/v3 names it ("api/v1") -> a URL path made of it. */
function serverRelativeURL(entry: string, hash: string): string {
  return `/openapi/v3/${entry}?hash=${hash}`;
}

let routesByEntry: Map<string, Route[]> | undefined;

/** The routes of every /openapi/v3 entry, sorted by entry and by path. */
function entries(): Map<string, Route[]> {
  if (!routesByEntry) {
    const grouped = new Map<string, Route[]>();
    for (const r of allRoutes()) {
      const list = grouped.get(r.document) ?? [];
      list.push(r);
      grouped.set(r.document, list);
    }
    routesByEntry = new Map(
      [...grouped.keys()].sort().map((entry) => [entry, (grouped.get(entry) as Route[]).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))]),
    );
  }
  return routesByEntry;
}

const v3Documents = new Map<string, OpenAPIBody>();

/** The /openapi/v3 discovery document. Builds every 3.0 document on first call (their hashes are in it). */
export function openapiV3Index(): OpenAPIV3Index {
  const paths: OpenAPIV3Index['paths'] = {};
  for (const entry of entries().keys()) {
    const document = openapiV3Document(entry) as OpenAPIBody;
    paths[entry] = { serverRelativeURL: serverRelativeURL(entry, document.hash) };
  }
  return { paths };
}

/**
 * The OpenAPI 3.0 document of one /openapi/v3 entry ("api/v1", "apis/apps/v1", "api",
 * "apis", "apis/apps"), or undefined when there is no such entry.
 */
export function openapiV3Document(entry: string): OpenAPIBody | undefined {
  const key = entry.replace(/^\/+|\/+$/g, '');
  let document = v3Documents.get(key);
  if (!document) {
    const routes = entries().get(key);
    if (!routes) return undefined;
    document = encode(openapiV3(routes));
    v3Documents.set(key, document);
  }
  return document;
}

let v2Document: OpenAPIBody | undefined;

/** The Swagger 2.0 document of the whole API and its hash. */
export function openapiV2(): OpenAPIBody {
  v2Document ??= encode(swaggerV2([...entries().values()].flat()));
  return v2Document;
}

/** The Swagger 2.0 document of the whole API, as JSON. */
export function openapiV2Document(): Buffer {
  return openapiV2().json;
}

/** The time the documents were built, for Last-Modified (they never change afterwards). */
export const BUILT_AT = new Date();
