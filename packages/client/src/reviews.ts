// The review client: TokenReview (authentication.k8s.io/v1) and SubjectAccessReview
// (authorization.k8s.io/v1) posted to the apiserver's Kubernetes HTTP API as JSON over HTTPS,
// the way a server that delegates authentication and authorization to the apiserver asks
// (Kubernetes' webhook token authenticator and webhook authorizer). The apiserver has no gRPC
// method for them. The client authenticates with the component's own bearer token (read per
// request, so a rotated token file is picked up) or a client certificate, trusts `ca` (else
// the system roots), keeps connections alive, and retries once when a kept-alive connection
// turns out closed. An answer other than 200/201 is a ReviewError naming the review, the HTTP
// status and the apiserver's Status message.
import * as fs from 'fs';
import * as https from 'https';

export const AUTHENTICATION_V1 = 'authentication.k8s.io/v1';
export const AUTHORIZATION_V1 = 'authorization.k8s.io/v1';

/** Kubernetes' authentication/v1 UserInfo, as TokenReview returns it and SubjectAccessReview takes it. */
export interface ReviewUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface TokenReviewResult {
  authenticated: boolean;
  /** The token's user when authenticated. */
  user?: ReviewUser;
  /** The audiences the token is good for, of those asked (or the apiserver's). */
  audiences: string[];
  /** Why the token was refused, when the apiserver said. */
  error?: string;
}

/** spec.resourceAttributes of a SubjectAccessReview. */
export interface ReviewResourceAttributes {
  namespace?: string;
  verb: string;
  group?: string;
  version?: string;
  resource: string;
  subresource?: string;
  name?: string;
}

/** spec.nonResourceAttributes of a SubjectAccessReview. */
export interface ReviewNonResourceAttributes {
  path: string;
  verb: string;
}

/** The spec of a SubjectAccessReview: who, and exactly one of the two kinds of attributes. */
export interface SubjectAccessReviewSpec {
  user: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes?: ReviewResourceAttributes;
  nonResourceAttributes?: ReviewNonResourceAttributes;
}

export interface SubjectAccessReviewResult {
  allowed: boolean;
  /** An authorizer refused outright (no other may allow). */
  denied: boolean;
  reason: string;
  evaluationError: string;
}

/** What asks the apiserver who holds a token. */
export interface TokenReviewer {
  tokenReview(token: string, audiences?: string[]): Promise<TokenReviewResult>;
}

/** What asks the apiserver whether a user may do something. */
export interface AccessReviewer {
  subjectAccessReview(spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewResult>;
}

export interface ReviewClientOptions {
  /** The apiserver's HTTPS API, https://host:port. */
  url: string;
  /** PEM CA bundle (file path or PEM text) of the apiserver's serving certificate; default the system roots. */
  ca?: string;
  /** The name expected in the serving certificate; default the URL's host. */
  serverName?: string;
  /** The component's bearer token, or a function returning the current one (read per request). */
  token?: string | (() => string);
  /** A client certificate and its key (file paths or PEM text), instead of or besides the token. */
  cert?: string;
  key?: string;
  /** Deadline of one review; default 10 s. */
  timeoutMs?: number;
  /** The User-Agent sent. */
  userAgent?: string;
}

/** A review that could not be made or was refused by the apiserver. */
export class ReviewError extends Error {
  constructor(
    /** 'TokenReview' or 'SubjectAccessReview'. */
    readonly review: string,
    /** The HTTP status, when the apiserver answered. */
    readonly status: number | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${review}: ${status !== undefined ? `HTTP ${status}: ` : ''}${reason}`, options);
    this.name = 'ReviewError';
  }
}

type Json = Record<string, unknown>;

function pemText(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.includes('-----BEGIN') ? value : fs.readFileSync(value, 'utf8');
}

const asObject = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const asString = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The user of a TokenReview status, as sent (empty fields left out). */
function reviewUser(v: unknown): ReviewUser | undefined {
  const u = asObject(v);
  if (!asString(u.username)) return undefined;
  const out: ReviewUser = { username: asString(u.username), groups: asStrings(u.groups) };
  if (asString(u.uid)) out.uid = asString(u.uid);
  const extra = asObject(u.extra);
  if (Object.keys(extra).length > 0) out.extra = Object.fromEntries(Object.entries(extra).map(([k, val]) => [k, asStrings(val)]));
  return out;
}

/** The message of a Kubernetes Status body, or the start of whatever else came back. */
function statusMessage(body: string): string {
  try {
    const s = asObject(JSON.parse(body));
    if (asString(s.message)) return asString(s.message);
  } catch {
    // not JSON
  }
  return body.slice(0, 200) || 'no body';
}

/** Errors of a connection the server closed while it was idle in the pool: worth one more try. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

export class ReviewClient implements TokenReviewer, AccessReviewer {
  private readonly base: URL;
  private readonly agent: https.Agent;
  private readonly token: (() => string) | undefined;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(opts: ReviewClientOptions) {
    this.base = new URL(opts.url);
    if (this.base.protocol !== 'https:') throw new Error(`review client: ${JSON.stringify(opts.url)} is not an https:// URL`);
    this.agent = new https.Agent({
      keepAlive: true,
      ca: pemText(opts.ca),
      cert: pemText(opts.cert),
      key: pemText(opts.key),
      servername: opts.serverName,
    });
    const token = opts.token;
    this.token = typeof token === 'string' ? () => token : token;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.userAgent = opts.userAgent ?? 'k8ts-review-client';
  }

  /** Who holds `token` (for `audiences`, else the apiserver's own). */
  async tokenReview(token: string, audiences?: string[]): Promise<TokenReviewResult> {
    const spec: Json = { token };
    if (audiences && audiences.length > 0) spec.audiences = audiences;
    const answer = await this.create('TokenReview', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: AUTHENTICATION_V1, kind: 'TokenReview', spec });
    const status = asObject(answer.status);
    const result: TokenReviewResult = { authenticated: status.authenticated === true, audiences: asStrings(status.audiences) };
    const user = reviewUser(status.user);
    if (result.authenticated && user) result.user = user;
    if (asString(status.error)) result.error = asString(status.error);
    return result;
  }

  /** Whether spec.user (exactly with spec.groups) may do what the attributes say. */
  async subjectAccessReview(spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewResult> {
    const answer = await this.create('SubjectAccessReview', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: AUTHORIZATION_V1,
      kind: 'SubjectAccessReview',
      spec,
    });
    const status = asObject(answer.status);
    return {
      allowed: status.allowed === true,
      denied: status.denied === true,
      reason: asString(status.reason),
      evaluationError: asString(status.evaluationError),
    };
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /** POSTs a review; retries once on a connection that was closed while idle. */
  private async create(review: string, path: string, body: Json): Promise<Json> {
    try {
      return await this.post(review, path, body);
    } catch (err) {
      const code = ((err as ReviewError).cause as NodeJS.ErrnoException | undefined)?.code;
      if (!code || !STALE_CONNECTION.has(code)) throw err;
      return this.post(review, path, body);
    }
  }

  private post(review: string, path: string, body: Json): Promise<Json> {
    const payload = Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Content-Length': payload.length,
      'User-Agent': this.userAgent,
    };
    const token = this.token?.();
    if (token) headers.Authorization = `Bearer ${token}`;
    const url = new URL(path, this.base);
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: 'POST', agent: this.agent, headers, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new ReviewError(review, undefined, err.message, { cause: err })));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status !== 200 && status !== 201) {
            reject(new ReviewError(review, status, statusMessage(text)));
            return;
          }
          try {
            resolve(asObject(JSON.parse(text)));
          } catch (err) {
            reject(new ReviewError(review, status, `the answer is not JSON: ${(err as Error).message}`));
          }
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(new ReviewError(review, undefined, `${url.origin}: ${err.message}`, { cause: err })));
      req.end(payload);
    });
  }
}
