// Field manager names: the ones kubectl sends, the ones the server makes up, and Kubernetes'
// rules for a request that names none (the User-Agent's product) or a bad one.
//
// kubectl (1.32) names its writes: `apply --server-side` "kubectl" (an Apply entry), client-side
// `apply` "kubectl-client-side-apply", `create` "kubectl-create", `edit` "kubectl-edit",
// `replace` "kubectl-replace", `patch` "kubectl-patch", `label` "kubectl-label", `annotate`
// "kubectl-annotate", `rollout` "kubectl-rollout", `set` "kubectl-set", `expose`
// "kubectl-expose", `run` "kubectl-run", `taint` "kubectl-taint", `autoscale`
// "kubectl-autoscale"; commands without a --field-manager flag (scale, ...) fall back to the
// User-Agent, "kubectl".

export const KUBECTL_MANAGERS = {
  serverSideApply: 'kubectl',
  clientSideApply: 'kubectl-client-side-apply',
  create: 'kubectl-create',
  edit: 'kubectl-edit',
  replace: 'kubectl-replace',
  patch: 'kubectl-patch',
  label: 'kubectl-label',
  annotate: 'kubectl-annotate',
  rollout: 'kubectl-rollout',
  set: 'kubectl-set',
  expose: 'kubectl-expose',
  run: 'kubectl-run',
  taint: 'kubectl-taint',
  autoscale: 'kubectl-autoscale',
} as const;

/**
 * The only applier whose applies upgrade client-side-applied objects: its conflicts with fields
 * the last-applied-configuration annotation still describes are forgiven, and it keeps that
 * annotation current (Kubernetes' lastAppliedManager / lastAppliedUpdater).
 */
export const LAST_APPLIED_MANAGER = 'kubectl';

/** kubectl's client-side apply record of the last applied configuration. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The Update manager Kubernetes records for the fields an object had before its first apply. */
export const BEFORE_FIRST_APPLY_MANAGER = 'before-first-apply';

/** The manager of a write that names none and sends no User-Agent. */
export const UNKNOWN_MANAGER = 'unknown';

/** Kubernetes' limit on a field manager name. */
export const FIELD_MANAGER_MAX_LENGTH = 128;

function isPrintable(ch: string): boolean {
  // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
  return ch === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch);
}

/**
 * The manager of a request: ?fieldManager= when given, else the User-Agent up to its first
 * "/" ("kubectl/v1.32.0 (linux/amd64) ..." -> "kubectl"), without unprintable characters and
 * cut at 128 bytes.
 */
export function fieldManagerFor(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  let out = '';
  for (const ch of (userAgent ?? '').split('/')[0]) {
    if (!isPrintable(ch)) continue;
    if (Buffer.byteLength(out + ch, 'utf8') > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
  }
  return out;
}

/** Problems with a fieldManager parameter (Kubernetes' ValidateFieldManager): length, unprintable characters. */
export function validateFieldManager(name: string): string[] {
  const problems: string[] = [];
  if (Buffer.byteLength(name, 'utf8') > FIELD_MANAGER_MAX_LENGTH) problems.push(`may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes`);
  let i = 0;
  for (const ch of name) {
    if (!isPrintable(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      problems.push(`invalid character U+${code} (at position ${i})`);
    }
    i += Buffer.byteLength(ch, 'utf8');
  }
  return problems;
}
