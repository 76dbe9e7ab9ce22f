// Client-side helpers for talking to k8ts servers.
import * as fs from 'fs';
import * as grpc from '@grpc/grpc-js';

function pem(value: string | undefined): Buffer | null {
  if (!value) return null;
  return value.includes('-----BEGIN') ? Buffer.from(value) : fs.readFileSync(value);
}

/**
 * Channel credentials for a k8ts server. Without `tls`: plaintext. With `tls`: TLS, trusting
 * `ca` (default: the system roots), presenting `cert`/`key` as the client certificate when
 * given (mutual TLS). Each value is a PEM file path or the PEM text itself.
 */
export function clientCredentials(tls?: { ca?: string; cert?: string; key?: string }): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if (!!tls.cert !== !!tls.key) throw new Error('clientCredentials: cert and key must be given together');
  return grpc.credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
}
