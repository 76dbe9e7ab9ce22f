// What every HTTP handler is given: the request and response, the parsed URL, the caller,
// and the apiserver's parts (the same registry, caches and security as the gRPC services).
import type { KindInfo } from '@k8ts/api';
import type { Logger } from 'pino';
import type { UserInfo } from '../auth/types';
import type { AuditSink } from '../audit';
import type { CacheHub } from '../cache/hub';
import type { Registry } from '../registry/registry';
import type { KubeletDialer } from '../server/logs';
import type { Security } from '../server/security';
import type { ResourceRequest, RequestInfo } from './requestinfo';
import type { Format, Request, Response } from './respond';

export interface HttpDeps {
  registry: Registry;
  hub: CacheHub;
  security: Security;
  audit: AuditSink;
  logger: Logger;
  kubelet: KubeletDialer;
  /** How often a watch that asked for bookmarks gets one. */
  bookmarkIntervalMs: number;
  /** Most events queued for a slow watcher before it is closed (the client watches again). */
  maxPendingWatchEvents?: number;
  /** Server-side apply (PATCH application/apply-patch+yaml). */
  applyPatch(ctx: ResourceContext, config: unknown): Promise<void>;
  /** The version /version reports. */
  version: VersionInfo;
  /** Readiness of the apiserver (false while starting and shutting down). */
  ready(): boolean;
  /** The Prometheus text of /metrics. */
  metrics(): Promise<{ contentType: string; body: string }>;
}

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

export interface HttpContext {
  deps: HttpDeps;
  req: Request;
  res: Response;
  query: URLSearchParams;
  info: RequestInfo;
  user: UserInfo;
}

export interface ResourceContext extends HttpContext {
  info: ResourceRequest;
  kind: KindInfo;
  /** The request's namespace ('' for cluster-scoped kinds and all-namespace lists). */
  namespace: string;
  format: Format;
}
