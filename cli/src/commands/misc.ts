// create namespace|serviceaccount|token|deployment, version, cluster-info, api-resources and
// config view|get-contexts|use-context|set-context.
import * as grpc from '@grpc/grpc-js';
import { KINDS, corev1, fromK8sJson, systemv1 } from '@k8ts/api';
import type { appsv1 } from '@k8ts/api';
import { toApiError } from '@k8ts/client';
import { formatConfig, loadConfig, saveConfig, configPath, upsertContext } from '../config';
import { CliError } from '../errors';
import { formatTable } from '../printers/table';
import { parseTimeout } from '../session';
import type { Session } from '../session';
import { VERSION } from '../version';
import { k8tsCommand } from '../self';

// ---- create <kind> NAME ----

export async function createNamespace(session: Session, name: string): Promise<void> {
  await session.clientset.namespaces.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as corev1.Namespace);
  session.io.out(`namespace/${name} created\n`);
}

export async function createServiceAccount(session: Session, name: string): Promise<void> {
  await session.clientset.serviceAccounts.create({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace: session.namespace },
  } as corev1.ServiceAccount);
  session.io.out(`serviceaccount/${name} created\n`);
}

export async function createDeployment(session: Session, name: string, opts: { image?: string[]; replicas?: string; port?: string }): Promise<void> {
  const images = opts.image ?? [];
  if (images.length === 0) throw new CliError('required flag(s) "image" not set');
  const replicas = opts.replicas === undefined ? 1 : Number(opts.replicas);
  const labels = { app: name };
  const containers = images.map((image, i) => {
    const base = image.split('/').pop()?.split(/[:@]/)[0] ?? `c${i}`;
    const c: Record<string, unknown> = { name: images.length === 1 ? base : `${base}-${i}`, image };
    if (opts.port) c.ports = [{ containerPort: Number(opts.port), protocol: 'TCP' }];
    return c;
  });
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: session.namespace, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers } } },
  };
  await session.clientset.deployments.create(fromK8sJson<appsv1.Deployment>('k8ts.apps.v1.Deployment', d));
  session.io.out(`deployment.apps/${name} created\n`);
}

/** kubectl create token: a token of a service account, from the apiserver's token subresource. */
export async function createToken(session: Session, name: string, opts: { duration?: string; audience?: string[] }): Promise<void> {
  const cs = session.clientset;
  const client = new corev1.ServiceAccountServiceClient(session.connection.server, grpc.credentials.createInsecure(), {
    channelOverride: cs.channel,
  });
  const md = new grpc.Metadata();
  if (session.connection.token) md.set('authorization', `Bearer ${session.connection.token}`);
  const seconds = opts.duration ? Math.round(parseTimeout(opts.duration) / 1000) : undefined;
  const request: corev1.CreateServiceAccountTokenRequest = {
    namespace: session.namespace,
    name,
    audiences: opts.audience ?? [],
    expirationSeconds: seconds || undefined,
  } as corev1.CreateServiceAccountTokenRequest;
  const res = await new Promise<corev1.CreateServiceAccountTokenResponse>((resolve, reject) => {
    client.createServiceAccountToken(request, md, { deadline: new Date(Date.now() + 30_000) }, (err, r) => (err ? reject(toApiError(err)) : resolve(r)));
  });
  session.io.out(`${res.token}\n`);
}

// ---- version, cluster-info, api-resources ----

async function serverInfo(session: Session): Promise<systemv1.GetInfoResponse> {
  const cs = session.clientset;
  const client = new systemv1.InfoServiceClient(session.connection.server, grpc.credentials.createInsecure(), { channelOverride: cs.channel });
  const md = new grpc.Metadata();
  if (session.connection.token) md.set('authorization', `Bearer ${session.connection.token}`);
  return new Promise((resolve, reject) => {
    client.getInfo({}, md, { deadline: new Date(Date.now() + 10_000) }, (err, r) => (err ? reject(toApiError(err)) : resolve(r)));
  });
}

export async function versionCommand(session: Session, opts: { client?: boolean; output?: string }): Promise<void> {
  const clientVersion = { gitVersion: `v${VERSION}`, platform: `${process.platform}/${process.arch}`, nodeVersion: process.version };
  if (opts.client) {
    if (opts.output === 'json') session.io.out(`${JSON.stringify({ clientVersion }, null, 2)}\n`);
    else session.io.out(`Client Version: v${VERSION}\n`);
    return;
  }
  let info: systemv1.GetInfoResponse;
  try {
    info = await serverInfo(session);
  } catch (e) {
    session.io.out(`Client Version: v${VERSION}\n`);
    throw e;
  }
  if (opts.output === 'json') {
    session.io.out(`${JSON.stringify({ clientVersion, serverVersion: { gitVersion: `v${info.version}`, gitCommit: info.gitCommit, component: info.component } }, null, 2)}\n`);
    return;
  }
  session.io.out(`Client Version: v${VERSION}\nServer Version: v${info.version ?? 'unknown'}\n`);
}

export async function clusterInfoCommand(session: Session): Promise<void> {
  const server = session.connection.server;
  // One cheap authenticated call proves the control plane answers.
  await session.clientset.namespaces.list({ limit: 1 });
  let extra = '';
  try {
    const info = await serverInfo(session);
    extra = ` (apiserver v${info.version}, up ${Math.round(info.uptimeSeconds ?? 0)}s)`;
  } catch {
    extra = '';
  }
  session.io.out(`k8ts control plane is running at ${server}${extra}\n`);
  const endpoints = await session.clientset.nodes.list();
  session.io.out(`Nodes: ${endpoints.items.length}\n`);
  const k8ts = k8tsCommand(session.io.env);
  session.io.out(`\nTo further debug and diagnose cluster problems, use '${k8ts} status' (local clusters) and '${k8ts} describe nodes'.\n`);
}

export function apiResourcesCommand(session: Session): void {
  const rows = KINDS.map((k) => [k.resource, k.shortNames.join(','), k.apiVersion, String(k.namespaced), k.kind]);
  session.io.out(formatTable(['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND'], rows));
}

// ---- config ----

export function configView(session: Session, opts: { raw?: boolean }): void {
  const file = configPath(session.flags.config, session.io.env);
  const cfg = loadConfig(file);
  if (!opts.raw) cfg.contexts = cfg.contexts.map((c) => (c.token ? { ...c, token: 'REDACTED' } : c));
  session.io.out(formatConfig(cfg));
}

export function configGetContexts(session: Session): void {
  const file = configPath(session.flags.config, session.io.env);
  const cfg = loadConfig(file);
  const rows = cfg.contexts.map((c) => [c.name === cfg['current-context'] ? '*' : '', c.name, c.server ?? '', c.namespace ?? '']);
  session.io.out(formatTable(['CURRENT', 'NAME', 'SERVER', 'NAMESPACE'], rows));
}

export function configCurrentContext(session: Session): void {
  const file = configPath(session.flags.config, session.io.env);
  const cfg = loadConfig(file);
  if (!cfg['current-context']) throw new CliError('current-context is not set');
  session.io.out(`${cfg['current-context']}\n`);
}

export function configUseContext(session: Session, name: string): void {
  const file = configPath(session.flags.config, session.io.env);
  const cfg = loadConfig(file);
  if (!cfg.contexts.some((c) => c.name === name)) throw new CliError(`no context exists with the name: "${name}"`);
  saveConfig(file, { ...cfg, 'current-context': name });
  session.io.out(`Switched to context "${name}".\n`);
}

export function configSetContext(session: Session, name: string | undefined, opts: { current?: boolean; namespace?: string; server?: string; token?: string }): void {
  const file = configPath(session.flags.config, session.io.env);
  const cfg = loadConfig(file);
  const target = opts.current ? cfg['current-context'] : name;
  if (!target) throw new CliError('you must specify a context name or --current');
  const existing = cfg.contexts.find((c) => c.name === target) ?? { name: target };
  const ctx = { ...existing };
  if (opts.namespace !== undefined) ctx.namespace = opts.namespace;
  if (opts.server !== undefined) ctx.server = opts.server;
  if (opts.token !== undefined) ctx.token = opts.token;
  saveConfig(file, upsertContext(cfg, ctx, false));
  session.io.out(`Context "${target}" ${cfg.contexts.some((c) => c.name === target) ? 'modified' : 'created'}.\n`);
}
