// Bounded errors: messages quote short prefixes of user values, and every Status sent (gRPC
// trailers, HTTP body) has a hard size bound, whatever the request held.
import * as grpc from '@grpc/grpc-js';
import { metav1 } from '@k8ts/api';
import {
  boundStatus,
  GRPC_STATUS_LIMITS,
  HTTP_STATUS_LIMITS,
  MAX_DETAIL_BYTES,
  MAX_QUOTED_CHARS,
  MAX_RENDERED_CHARS,
  quoteName,
  quoteValue,
  shortText,
} from '../src/errorlimits';
import { type FieldError, invalid, notFound, STATUS_METADATA_KEY, statusOf, toServiceError } from '../src/errors';
import { statusJson } from '../src/http/respond';
import { ErrorList, isDNS1123Subdomain, showValue } from '../src/strategies/validation';

const MiB = 1 << 20;

/** What a response's trailers weigh on the wire: grpc-message percent-encoded, the Status in base64. */
function trailerBytes(err: grpc.ServiceError): number {
  const bin = err.metadata.get(STATUS_METADATA_KEY)[0] as Buffer;
  return encodeURI(err.details).length + Math.ceil(bin.length / 3) * 4;
}

/** The field errors of a metadata.name, as validateObjectMeta reports them. */
function nameErrors(name: string): FieldError[] {
  return new ErrorList().invalidEach('metadata.name', name, isDNS1123Subdomain(name)).errors;
}

describe('quoting user values', () => {
  test('short values are quoted whole, long ones as a prefix and their length', () => {
    expect(quoteValue('web-1')).toBe('"web-1"');
    expect(quoteValue('a'.repeat(MAX_QUOTED_CHARS))).toBe(`"${'a'.repeat(MAX_QUOTED_CHARS)}"`);
    expect(quoteValue('a'.repeat(MiB))).toBe(`"${'a'.repeat(MAX_QUOTED_CHARS)}"... (${MiB} characters)`);
    expect(quoteName('b'.repeat(300))).toBe(`"${'b'.repeat(MAX_QUOTED_CHARS)}"... (300 characters)`);
    expect(quoteName('x"y')).toBe('"x"y"');
  });

  test('a prefix never ends inside a surrogate pair', () => {
    const quoted = quoteValue(`${'a'.repeat(MAX_QUOTED_CHARS - 1)}😀😀`);
    expect(quoted.startsWith(`"${'a'.repeat(MAX_QUOTED_CHARS - 1)}"...`)).toBe(true);
  });

  test('field errors show long strings and large structures cut', () => {
    expect(showValue('x'.repeat(5000))).toBe(`"${'x'.repeat(MAX_QUOTED_CHARS)}"... (5000 characters)`);
    const big = { env: 'v'.repeat(4000) };
    expect(showValue(big)).toBe(shortText(JSON.stringify(big)));
    expect(showValue(big).length).toBeLessThan(MAX_RENDERED_CHARS + 40);
    expect(showValue({ app: 'web' })).toBe('{"app":"web"}');
    expect(showValue(3)).toBe('3');
  });
});

describe('boundStatus', () => {
  test('cuts the message and the names of the details; a valid 253-character name is kept', () => {
    const longName = 'n'.repeat(MiB);
    const s = boundStatus({ message: 'm'.repeat(MiB), details: { name: longName, kind: 'ConfigMap', causes: [] } });
    expect(Buffer.byteLength(s.message!)).toBeLessThanOrEqual(GRPC_STATUS_LIMITS.messageBytes);
    expect(Buffer.byteLength(s.details!.name!)).toBeLessThanOrEqual(MAX_DETAIL_BYTES);
    const valid = 'n'.repeat(253);
    expect(boundStatus({ details: { name: valid } }).details!.name).toBe(valid);
  });

  test('keeps causes in order while they fit, and the encoded Status within the limit', () => {
    const causes = Array.from({ length: 500 }, (_, i) => ({ reason: 'FieldValueInvalid', field: `spec.containers[${i}].image`, message: `Invalid value: "${'i'.repeat(600)}"` }));
    for (const limits of [GRPC_STATUS_LIMITS, HTTP_STATUS_LIMITS]) {
      const s = boundStatus({ status: 'Failure', message: 'x', reason: 'Invalid', code: 422, details: { name: 'web', kind: 'Pod', causes } }, limits);
      const kept = s.details!.causes!;
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(causes.length);
      expect(kept.map((c) => c.field)).toEqual(causes.slice(0, kept.length).map((c) => c.field));
      expect(metav1.Status.encode(s).finish().length).toBeLessThanOrEqual(limits.statusBytes);
    }
  });

  test('a small Status is unchanged', () => {
    const s: metav1.Status = { status: 'Failure', message: 'pods "web" not found', reason: 'NotFound', code: 404, details: { name: 'web', kind: 'pods', causes: [] } };
    expect(boundStatus(s)).toEqual(s);
  });
});

describe('errors of a 1 MiB name', () => {
  const name = 'a'.repeat(MiB);

  test('Invalid: the message quotes a prefix and still says why; the gRPC trailers stay under 8 KiB', () => {
    const err = toServiceError(invalid('ConfigMap', '', name, nameErrors(name)));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain(`ConfigMap "${'a'.repeat(MAX_QUOTED_CHARS)}"... (${MiB} characters) is invalid: metadata.name: Invalid value:`);
    expect(err.details).toContain('must be no more than 253 characters');
    expect(trailerBytes(err)).toBeLessThan(8 * 1024);
    const status = statusOf(err)!;
    expect(status.reason).toBe('Invalid');
    expect(status.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'metadata.name' });
  });

  test('NotFound of a get: bounded too', () => {
    const err = toServiceError(notFound('configmaps', '', name));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe(`configmaps "${'a'.repeat(MAX_QUOTED_CHARS)}"... (${MiB} characters) not found`);
    expect(trailerBytes(err)).toBeLessThan(2 * 1024);
  });

  test('many causes with long non-ASCII values: still under 8 KiB on the wire', () => {
    const causes: FieldError[] = Array.from({ length: 2000 }, (_, i) => ({ field: `metadata.labels[k${i}]`, type: 'FieldValueInvalid', message: `Invalid value: ${showValue('€ '.repeat(3000))}` }));
    const err = toServiceError(invalid('Pod', '', 'ü'.repeat(MiB), causes));
    expect(trailerBytes(err)).toBeLessThan(8 * 1024);
  });

  test('the HTTP Status is bounded as well, and keeps the Kubernetes fields', () => {
    const body = statusJson(invalid('ConfigMap', '', name, nameErrors(name)));
    expect(body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Invalid', code: 422 });
    expect(JSON.stringify(body).length).toBeLessThan(HTTP_STATUS_LIMITS.statusBytes);
    const details = body.details as { name: string; causes: { field: string }[] };
    expect(Buffer.byteLength(details.name)).toBeLessThanOrEqual(MAX_DETAIL_BYTES);
    expect(details.causes.map((c) => c.field)).toEqual(['metadata.name']);
  });
});
