// Impersonation (kubectl --as, --as-group, --as-uid): the Impersonate-User, Impersonate-Group,
// Impersonate-Uid and Impersonate-Extra-<key> headers, as Kubernetes' impersonation filter
// reads them. The caller must be allowed the `impersonate` verb on each thing it claims
// (users, groups, serviceaccounts in their namespace, uids and userextras/<key> in
// authentication.k8s.io); then the request runs as the impersonated user.
import type { UserInfo } from '../auth/types';
import { badRequest } from '../errors';
import type { Security } from '../server/security';
import type { Request } from './respond';

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

function headerValues(req: Request, name: string): string[] {
  const v = req.headers[name];
  if (v === undefined) return [];
  const all = Array.isArray(v) ? v : [v];
  // Several values of one header may also arrive comma-joined (HTTP/1.1 folding).
  return name === 'impersonate-group' ? all.flatMap((x) => x.split(',').map((s) => s.trim())).filter((s) => s !== '') : all;
}

/** The user the request runs as: the caller, or whom it impersonates when it may. */
export async function impersonate(security: Security, req: Request, caller: UserInfo): Promise<UserInfo> {
  const user = headerValues(req, 'impersonate-user')[0];
  const groups = headerValues(req, 'impersonate-group');
  const uid = headerValues(req, 'impersonate-uid')[0];
  const extra: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('impersonate-extra-') || value === undefined) continue;
    const key = decodeURIComponent(name.slice('impersonate-extra-'.length));
    extra[key] = Array.isArray(value) ? value : [value];
  }
  const any = user !== undefined || groups.length > 0 || uid !== undefined || Object.keys(extra).length > 0;
  if (!any) return caller;
  if (user === undefined) throw badRequest('requested impersonation of groups, uid or extra without impersonating a user');
  const check = (resource: string, name: string, apiGroup = '', namespace?: string) =>
    security.authorize(caller, { verb: 'impersonate', apiGroup, resource, name, ...(namespace ? { namespace } : {}) });
  let outGroups = [...groups];
  if (user.startsWith(SERVICE_ACCOUNT_PREFIX)) {
    const [namespace, name] = user.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
    await check('serviceaccounts', name ?? '', '', namespace);
    // A service account is in its groups whether or not they were asked for.
    if (groups.length === 0) outGroups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
  } else {
    await check('users', user);
  }
  for (const g of groups) await check('groups', g);
  if (uid !== undefined) await check('uids', uid, 'authentication.k8s.io');
  for (const [key, values] of Object.entries(extra)) for (const v of values) await check(`userextras/${key}`, v, 'authentication.k8s.io');
  if (user !== 'system:anonymous' && !outGroups.includes('system:authenticated')) outGroups.push('system:authenticated');
  return { name: user, groups: outGroups, ...(uid !== undefined ? { uid } : {}), ...(Object.keys(extra).length > 0 ? { extra } : {}) };
}
