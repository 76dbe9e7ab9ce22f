// PATCH with Content-Type application/apply-patch+yaml: server-side apply. The configuration
// is merged into the live object (or, when there is none, becomes a create) by the field
// manager (../fieldmanager over @k8ts/machinery's apply rules): fields are owned per manager
// in metadata.managedFields, a field another manager owns is a 409 Conflict naming it unless
// ?force=true, and fields this manager stops applying are removed. The result is stored
// through the registry like any write (defaults, admission, validation), under the live
// resourceVersion, retried when another writer came first.
import * as grpc from '@grpc/grpc-js';
import { ApiError } from '../errors';
import { applyPatch, checkPatchOptions } from '../fieldmanager';
import type { ApiObject } from '../strategies/types';
import type { ResourceContext } from './context';
import { objectBytes, sendText } from './respond';
import { forceParam, writer } from './resources';

export async function applyPatchHandler(ctx: ResourceContext, config: unknown): Promise<void> {
  const fieldManager = ctx.query.get('fieldManager') ?? undefined;
  const force = forceParam(ctx);
  checkPatchOptions(true, fieldManager, force);
  const subresource = ctx.info.subresource as '' | 'status' | 'scale';
  const { registry } = ctx.deps;
  const dryRun = ctx.query.getAll('dryRun').length > 0;
  const fixedVersion = typeof (config as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion === 'string';
  for (let attempt = 0; ; attempt++) {
    let live: ApiObject | undefined;
    try {
      live = await registry.get(ctx.kind, ctx.namespace, ctx.info.name);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === grpc.status.NOT_FOUND)) throw err;
      if (subresource !== '') throw err;
    }
    const result = applyPatch(ctx.kind, live, config, {
      ...writer(ctx),
      fieldManager: fieldManager ?? '',
      ...(force !== undefined ? { force } : {}),
      name: ctx.info.name,
      namespace: ctx.namespace,
      subresource,
    });
    try {
      if (result.created) {
        ctx.deps.security.checkEscalation(ctx.user, ctx.kind.resource, result.object);
        const created = await registry.create(ctx.kind, result.object, { dryRun, applied: true });
        return sendText(ctx.res, 201, ctx.format === 'table' ? 'json' : ctx.format, objectBytes(ctx.kind, created));
      }
      if (!result.changed) return sendText(ctx.res, 200, ctx.format === 'table' ? 'json' : ctx.format, objectBytes(ctx.kind, live!));
      if (!fixedVersion) result.object.metadata!.resourceVersion = live?.metadata?.resourceVersion ?? '';
      let out: ApiObject;
      if (subresource === 'status') out = await registry.updateStatus(ctx.kind, result.object, { dryRun, applied: true });
      else {
        ctx.deps.security.checkEscalation(ctx.user, ctx.kind.resource, result.object);
        out = await registry.update(ctx.kind, result.object, { dryRun, applied: true });
      }
      return sendText(ctx.res, 200, ctx.format === 'table' ? 'json' : ctx.format, objectBytes(ctx.kind, out));
    } catch (err) {
      // Another writer between the read and the write: apply again to what is there now.
      const raced = err instanceof ApiError && (err.reason === 'AlreadyExists' || (err.reason === 'Conflict' && err.code === grpc.status.ABORTED && !fixedVersion));
      if (raced && attempt < 10) continue;
      throw err;
    }
  }
}
