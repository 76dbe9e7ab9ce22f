// X.509 for k8ts clusters: a self-signed certificate authority and the certificates it signs
// (HTTPS serving certificates, client certificates), with ECDSA P-256 keys, which Go (kubectl,
// client-go), Node.js and OpenSSL all accept. Built on @peculiar/x509 over Node's WebCrypto.
//
// The certificates have the shape kubeadm and client-go's cert helpers give them:
// - a CA: subject CN, BasicConstraints CA:TRUE (critical), KeyUsage keyCertSign, cRLSign and
//   digitalSignature (critical), a SubjectKeyIdentifier;
// - a leaf: BasicConstraints CA:FALSE (critical), KeyUsage digitalSignature (critical; an
//   ECDSA key only signs, keyEncipherment is an RSA usage), ExtKeyUsage serverAuth and/or
//   clientAuth, subjectAltName DNS and IP entries, SubjectKeyIdentifier, and an
//   AuthorityKeyIdentifier equal to the CA's SubjectKeyIdentifier.
// kube-apiserver authenticates a client certificate as user = subject CN and groups = every
// subject O value, so `organizations` are the groups of a client certificate.
//
// @peculiar/x509 (and the Reflect metadata polyfill it needs) is loaded on first use: every
// service imports @k8ts/kit, and only those that make certificates should pay for it.
import * as crypto from 'crypto';
import * as net from 'net';
import type * as X509 from '@peculiar/x509';

export type CertificateUsage = 'server' | 'client';

/** A certificate and its private key, both PEM (the key as PKCS#8 "PRIVATE KEY"). */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export interface CreateCAOptions {
  commonName: string;
  /** Validity in days from `now`. */
  days: number;
  /** The time of issue (tests); default now. */
  now?: Date;
}

export interface IssueCertificateOptions {
  /** The signing CA: its certificate and private key (EC P-256/P-384 or RSA). */
  ca: CertificateAndKey;
  commonName: string;
  /** Subject O values: a client certificate's groups in Kubernetes. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usages: CertificateUsage[];
  days: number;
  now?: Date;
}

/** What a certificate says, as the checks in this repository need it. */
export interface CertificateInfo {
  commonName: string;
  organizations: string[];
  issuerCommonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  usages: CertificateUsage[];
}

/** Certificates start this long before their time of issue, for clocks a little behind. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;
const P256_KEY: crypto.webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;

type X509Lib = typeof X509;
type CryptoKey = crypto.webcrypto.CryptoKey;
type CryptoKeyPair = crypto.webcrypto.CryptoKeyPair;
type SigningAlgorithm = crypto.webcrypto.EcdsaParams | crypto.webcrypto.RsaHashedImportParams;
type KeyImportParams = crypto.webcrypto.EcKeyImportParams | crypto.webcrypto.RsaHashedImportParams;

let loaded: X509Lib | undefined;

/** @peculiar/x509, loaded on first use (tsyringe inside it needs the Reflect metadata API first). */
function x509(): X509Lib {
  if (!loaded) {
    require('reflect-metadata');
    loaded = require('@peculiar/x509') as X509Lib;
  }
  return loaded;
}

const webcrypto = crypto.webcrypto;

// ---- validation -----------------------------------------------------------------------

function checkDays(where: string, days: number): void {
  if (!Number.isInteger(days) || days < 1) throw new Error(`${where}: days: must be a positive integer, got ${days}`);
}

function checkCommonName(where: string, commonName: string): void {
  if (typeof commonName !== 'string' || commonName.trim() === '') throw new Error(`${where}: commonName: required`);
}

function checkIssueOptions(o: IssueCertificateOptions): void {
  const where = 'issueCertificate';
  checkCommonName(where, o.commonName);
  checkDays(where, o.days);
  if (!o.ca?.certPem || !o.ca?.keyPem) throw new Error(`${where}: ca: certPem and keyPem are required`);
  if (!Array.isArray(o.usages) || o.usages.length === 0) throw new Error(`${where}: usages: give at least one of server, client`);
  o.usages.forEach((u, i) => {
    if (u !== 'server' && u !== 'client') throw new Error(`${where}: usages[${i}]: must be server or client, got "${u}"`);
  });
  (o.organizations ?? []).forEach((org, i) => {
    if (typeof org !== 'string' || org === '') throw new Error(`${where}: organizations[${i}]: must be a non-empty string`);
  });
  (o.ipAddresses ?? []).forEach((ip, i) => {
    if (net.isIP(ip) === 0) throw new Error(`${where}: ipAddresses[${i}]: "${ip}" is not an IP address`);
  });
  (o.dnsNames ?? []).forEach((name, i) => {
    if (!DNS_NAME.test(name) || name.length > 253) throw new Error(`${where}: dnsNames[${i}]: "${name}" is not a DNS name`);
  });
}

// ---- keys -----------------------------------------------------------------------------

/** A random positive 128-bit serial number as hex, never with a leading zero byte (RFC 5280: at most 20 octets). */
function randomSerial(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function newKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(P256_KEY, true, ['sign', 'verify']);
}

function privateKeyPem(key: CryptoKey): string {
  return crypto.KeyObject.from(key)
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** The WebCrypto parameters to import a private key with and to sign with it. */
function signingParamsOf(key: crypto.KeyObject): { importParams: KeyImportParams; signing: SigningAlgorithm } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && (details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1')) {
    const p384 = details.namedCurve === 'secp384r1';
    return {
      importParams: { name: 'ECDSA', namedCurve: p384 ? 'P-384' : 'P-256' },
      signing: { name: 'ECDSA', hash: p384 ? 'SHA-384' : 'SHA-256' },
    };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importParams: rsa, signing: rsa };
  }
  throw new Error(`issueCertificate: ca.keyPem: unsupported key (${key.asymmetricKeyType} ${details.namedCurve ?? ''}): use EC P-256, P-384 or RSA`);
}

/** The CA's private key as a WebCrypto signing key, checked against the CA certificate. */
async function caSigningKey(ca: CertificateAndKey): Promise<{ key: CryptoKey; algorithm: SigningAlgorithm }> {
  let keyObject: crypto.KeyObject;
  try {
    keyObject = crypto.createPrivateKey(ca.keyPem);
  } catch (e) {
    throw new Error(`issueCertificate: ca.keyPem: not a PEM private key (${(e as Error).message})`);
  }
  const certKey = new crypto.X509Certificate(ca.certPem).publicKey.export({ type: 'spki', format: 'der' });
  const ownKey = crypto.createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  if (!certKey.equals(ownKey)) throw new Error('issueCertificate: ca.keyPem: the key does not belong to ca.certPem');
  const { importParams, signing } = signingParamsOf(keyObject);
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  const key = await webcrypto.subtle.importKey('pkcs8', der, importParams, false, ['sign']);
  return { key, algorithm: signing };
}

function parseCaCertificate(certPem: string): X509.X509Certificate {
  const lib = x509();
  let cert: X509.X509Certificate;
  try {
    cert = new lib.X509Certificate(certPem);
  } catch (e) {
    throw new Error(`issueCertificate: ca.certPem: not a PEM certificate (${(e as Error).message})`);
  }
  if (!cert.getExtension(lib.BasicConstraintsExtension)?.ca) throw new Error('issueCertificate: ca.certPem: not a CA certificate (BasicConstraints CA is not true)');
  return cert;
}

// ---- extensions -----------------------------------------------------------------------

function subjectOf(commonName: string, organizations: string[] = []): X509.JsonName {
  // Go's pkix.Name order: O before CN; one RDN per O value.
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

function extendedUsages(usages: CertificateUsage[]): string[] {
  const out: string[] = [];
  if (usages.includes('server')) out.push(SERVER_AUTH);
  if (usages.includes('client')) out.push(CLIENT_AUTH);
  return out;
}

function alternativeNames(dnsNames: string[] = [], ipAddresses: string[] = []): X509.JsonGeneralNames {
  const dns = [...new Set(dnsNames.map((d) => d.toLowerCase()))].map((value) => ({ type: 'dns' as const, value }));
  const ips = [...new Set(ipAddresses)].map((value) => ({ type: 'ip' as const, value }));
  return [...dns, ...ips];
}

async function authorityKeyId(caCert: X509.X509Certificate): Promise<X509.AuthorityKeyIdentifierExtension> {
  const lib = x509();
  const ski = caCert.getExtension(lib.SubjectKeyIdentifierExtension);
  if (ski) return new lib.AuthorityKeyIdentifierExtension(ski.keyId);
  return lib.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, webcrypto);
}

async function leafExtensions(o: IssueCertificateOptions, caCert: X509.X509Certificate, publicKey: CryptoKey): Promise<X509.Extension[]> {
  const lib = x509();
  const extensions: X509.Extension[] = [
    new lib.BasicConstraintsExtension(false, undefined, true),
    new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
    new lib.ExtendedKeyUsageExtension(extendedUsages(o.usages)),
    await lib.SubjectKeyIdentifierExtension.create(publicKey, false, webcrypto),
    await authorityKeyId(caCert),
  ];
  const names = alternativeNames(o.dnsNames, o.ipAddresses);
  if (names.length > 0) extensions.push(new lib.SubjectAlternativeNameExtension(names));
  return extensions;
}

function validity(now: Date | undefined, days: number): { notBefore: Date; notAfter: Date } {
  const t = (now ?? new Date()).getTime();
  return { notBefore: new Date(t - CLOCK_SKEW_MS), notAfter: new Date(t + days * DAY_MS) };
}

// ---- the API --------------------------------------------------------------------------

/** A new self-signed CA with a fresh P-256 key. */
export async function createCA(o: CreateCAOptions): Promise<CertificateAndKey> {
  checkCommonName('createCA', o.commonName);
  checkDays('createCA', o.days);
  const lib = x509();
  const keys = await newKeyPair();
  const usages = lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign | lib.KeyUsageFlags.digitalSignature;
  const cert = await lib.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: subjectOf(o.commonName),
      ...validity(o.now, o.days),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new lib.BasicConstraintsExtension(true, undefined, true),
        new lib.KeyUsagesExtension(usages, true),
        await lib.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString('pem'), keyPem: privateKeyPem(keys.privateKey) };
}

/** A certificate with a fresh P-256 key, signed by `ca`. */
export async function issueCertificate(o: IssueCertificateOptions): Promise<CertificateAndKey> {
  checkIssueOptions(o);
  const lib = x509();
  const caCert = parseCaCertificate(o.ca.certPem);
  const signer = await caSigningKey(o.ca);
  const keys = await newKeyPair();
  const cert = await lib.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: subjectOf(o.commonName, o.organizations),
      issuer: caCert.subjectName,
      ...validity(o.now, o.days),
      publicKey: keys.publicKey,
      signingKey: signer.key,
      signingAlgorithm: signer.algorithm,
      extensions: await leafExtensions(o, caCert, keys.publicKey),
    },
    webcrypto,
  );
  return { certPem: cert.toString('pem'), keyPem: privateKeyPem(keys.privateKey) };
}

/** Reads a PEM certificate: subject, issuer, SANs, validity, CA flag and TLS usages. */
export function certificateInfo(certPem: string): CertificateInfo {
  const lib = x509();
  const cert = new lib.X509Certificate(certPem);
  const san = cert.getExtension(lib.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  const eku = cert.getExtension(lib.ExtendedKeyUsageExtension)?.usages ?? [];
  const usages: CertificateUsage[] = [];
  if (eku.includes(SERVER_AUTH)) usages.push('server');
  if (eku.includes(CLIENT_AUTH)) usages.push('client');
  return {
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    organizations: cert.subjectName.getField('O'),
    issuerCommonName: cert.issuerName.getField('CN')[0] ?? '',
    dnsNames: san.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: san.filter((n) => n.type === 'ip').map((n) => n.value),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCA: cert.getExtension(lib.BasicConstraintsExtension)?.ca ?? false,
    usages,
  };
}

/** Whether `certPem` was signed by the CA `caCertPem` (signature and issuer name). */
export function isIssuedBy(certPem: string, caCertPem: string): boolean {
  try {
    const cert = new crypto.X509Certificate(certPem);
    const ca = new crypto.X509Certificate(caCertPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}
