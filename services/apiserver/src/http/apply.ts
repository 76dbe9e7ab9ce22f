// PATCH with application/apply-patch+yaml: server-side apply.
import { notImplemented } from '../errors';
import type { ResourceContext } from './context';

export async function applyPatchHandler(_ctx: ResourceContext, _config: unknown): Promise<void> {
  throw notImplemented('server-side apply is not served yet');
}
