// serveOpenAPI: kube-apiserver's answers for /openapi/v2 and /openapi/v3 — content
// negotiation (JSON only; protobuf refused with 406), the ?hash= contract (immutable caching,
// 301 for a stale hash), ETag and conditional requests, gzip, HEAD.
import { gunzipSync } from 'zlib';
import { openapiV2Document, openapiV3Document, openapiV3Index, serveOpenAPI, type OpenAPIResponse } from '../src/openapi';
import { acceptsJson, parseAccept } from '../src/openapi/serve';

const V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const V3_PROTOBUF = 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf';

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): OpenAPIResponse {
  const response = serveOpenAPI({ method, url, headers });
  if (!response) throw new Error(`${url} not served`);
  return response;
}

const appsV1 = (): { json: Buffer; hash: string } => openapiV3Document('apis/apps/v1') as { json: Buffer; hash: string };

describe('serveOpenAPI', () => {
  it('leaves other paths to the caller', () => {
    expect(serveOpenAPI({ method: 'GET', url: '/api/v1', headers: {} })).toBeUndefined();
    expect(serveOpenAPI({ method: 'GET', url: '/openapi/v22', headers: {} })).toBeUndefined();
  });

  it('serves the index as JSON whatever the Accept, with an ETag', () => {
    const response = get('/openapi/v3', { accept: V3_PROTOBUF });
    expect(response.status).toBe(200);
    expect(response.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(response.body.toString())).toEqual(openapiV3Index());
    expect(response.headers.ETag).toMatch(/^"[0-9A-F]{128}"$/);
    expect(get('/openapi/v3', { 'if-none-match': response.headers.ETag }).status).toBe(304);
  });

  it('serves a group-version document with its hash as ETag', () => {
    const response = get('/openapi/v3/apis/apps/v1', { accept: 'application/json' });
    expect(response.status).toBe(200);
    expect(response.body.equals(appsV1().json)).toBe(true);
    expect(response.headers.ETag).toBe(`"${appsV1().hash}"`);
    expect(response.headers.Vary).toBe('Accept');
    expect(response.headers['Cache-Control']).toBeUndefined();
    expect(response.headers['Content-Length']).toBe(String(response.body.length));
  });

  it('lets the URL with the current hash be cached for good, and redirects a stale hash', () => {
    const current = get(`/openapi/v3/apis/apps/v1?hash=${appsV1().hash}`, { accept: 'application/json' });
    expect(current.status).toBe(200);
    expect(current.headers['Cache-Control']).toBe('public, immutable');
    const expires = Date.parse(current.headers.Expires);
    expect(expires - Date.now()).toBeGreaterThan(364 * 24 * 3600 * 1000);
    const stale = get('/openapi/v3/apis/apps/v1?hash=0123', { accept: 'application/json' });
    expect(stale.status).toBe(301);
    expect(stale.headers.Location).toBe(`/openapi/v3/apis/apps/v1?hash=${appsV1().hash}`);
  });

  it('answers 304 to a matching If-None-Match (also weak or in a list) and If-Modified-Since', () => {
    const etag = `"${appsV1().hash}"`;
    expect(get('/openapi/v3/apis/apps/v1', { 'if-none-match': etag }).status).toBe(304);
    expect(get('/openapi/v3/apis/apps/v1', { 'if-none-match': `"x", W/${etag}` }).status).toBe(304);
    expect(get('/openapi/v3/apis/apps/v1', { 'if-none-match': '"x"' }).status).toBe(200);
    const lastModified = get('/openapi/v3/apis/apps/v1').headers['Last-Modified'];
    expect(get('/openapi/v3/apis/apps/v1', { 'if-modified-since': lastModified }).status).toBe(304);
    expect(get('/openapi/v3/apis/apps/v1', { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' }).status).toBe(200);
  });

  it('refuses protobuf with 406, for v2 (what client-go asks) and v3', () => {
    const v2 = get('/openapi/v2', { accept: V2_PROTOBUF });
    expect(v2.status).toBe(406);
    expect(JSON.parse(v2.body.toString())).toMatchObject({ kind: 'Status', reason: 'NotAcceptable', code: 406 });
    expect(get('/openapi/v3/api/v1', { accept: V3_PROTOBUF }).status).toBe(406);
  });

  it('serves the Swagger 2.0 JSON to a client that accepts JSON (or anything)', () => {
    for (const accept of [undefined, '*/*', 'application/json', `${V2_PROTOBUF}, application/json;q=0.5`]) {
      const response = get('/openapi/v2', accept === undefined ? {} : { accept });
      expect([accept, response.status]).toEqual([accept, 200]);
      expect(response.body.equals(openapiV2Document())).toBe(true);
    }
  });

  it('gzips for a client that accepts it, and sends no body to HEAD', () => {
    const zipped = get('/openapi/v3/apis/apps/v1', { 'accept-encoding': 'gzip' });
    expect(zipped.headers['Content-Encoding']).toBe('gzip');
    expect(zipped.headers.Vary).toBe('Accept, Accept-Encoding');
    expect(gunzipSync(zipped.body).equals(appsV1().json)).toBe(true);
    expect(zipped.body.length).toBeLessThan(appsV1().json.length);
    const head = get('/openapi/v3/apis/apps/v1', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['Content-Length']).toBe(String(appsV1().json.length));
  });

  it('answers 404 for an unknown entry and 405 for methods other than GET and HEAD', () => {
    expect(get('/openapi/v3/apis/nope/v1').status).toBe(404);
    const post = get('/openapi/v2', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.Allow).toBe('GET, HEAD');
  });

  it('orders Accept clauses by q, then specific before wildcard', () => {
    expect(parseAccept('*/*;q=0.1, text/plain;q=0.5, application/json').map((c) => `${c.type}/${c.subtype}`)).toEqual(['application/json', 'text/plain', '*/*']);
    expect(parseAccept('*/*, application/*, text/html').map((c) => `${c.type}/${c.subtype}`)).toEqual(['text/html', 'application/*', '*/*']);
    expect(acceptsJson('application/json;q=0')).toBe(false);
    expect(acceptsJson('application/*')).toBe(true);
    expect(acceptsJson(V2_PROTOBUF)).toBe(false);
  });
});
