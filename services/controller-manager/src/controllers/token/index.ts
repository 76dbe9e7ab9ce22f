// The token controller: every service account gets a Secret of type
// kubernetes.io/service-account-token, named <account>-token-<suffix>, annotated with the
// account's name and uid, listed in the account's `secrets`, and holding `token` (issued by
// the apiserver through CreateServiceAccountToken, bound to that Secret), `namespace` and,
// when configured, `ca.crt`. When the account is deleted (or replaced by another of the same
// name) its token Secrets are deleted; the apiserver refuses tokens of deleted accounts and
// of deleted Secrets anyway. A token Secret without a token (created by a user, or left
// half-done) is filled.
//
// Two loops, as in Kubernetes: one keyed by service account (ensure one referenced token
// Secret; delete those of vanished accounts) and one keyed by Secret (fill the token; delete
// Secrets whose account is gone). A token Secret is created only with an update of the
// account adding the reference, guarded by the account's resourceVersion: two concurrent
// attempts cannot both succeed, and the loser deletes its Secret.
import type { corev1 } from '@k8ts/api';
import { type Informer, type WorkQueue, deepCopy, isNotFound, keyOf, objectKey, splitKey } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import type { TokenRequester } from '../../tokenrequest';
import { byCreationOf } from '../../util/sort';
import { randomSuffix } from '../../util/canonical';

export const NAME = 'token';
export const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SERVICE_ACCOUNT_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

export interface TokenOptions {
  /** How tokens are issued (the apiserver's CreateServiceAccountToken). */
  tokens: TokenRequester;
  /** PEM text stored as ca.crt in every token Secret (--root-ca-file); none by default. */
  rootCA?: Buffer;
  /** Workers per loop (--concurrent-serviceaccount-token-syncs). Default 5. */
  workers?: number;
}

type ServiceAccount = corev1.ServiceAccount;
type Secret = corev1.Secret;

function isTokenSecret(s: Secret): boolean {
  return s.type === SERVICE_ACCOUNT_TOKEN_TYPE;
}

function accountOf(s: Secret): { name: string; uid: string } {
  const a = s.metadata?.annotations ?? {};
  return { name: a[SERVICE_ACCOUNT_NAME_ANNOTATION] ?? '', uid: a[SERVICE_ACCOUNT_UID_ANNOTATION] ?? '' };
}

function hasToken(s: Secret): boolean {
  return (s.data?.token?.length ?? 0) > 0 && (s.data?.namespace?.length ?? 0) > 0;
}

export class TokenController extends BaseController {
  readonly accountQueue: WorkQueue;
  readonly secretQueue: WorkQueue;
  private readonly accounts: Informer<ServiceAccount>;
  private readonly secrets: Informer<Secret>;
  private readonly tokens: TokenRequester;
  private readonly rootCA?: Buffer;

  constructor(ctx: ControllerContext, opts: TokenOptions) {
    super(NAME, ctx);
    this.tokens = opts.tokens;
    this.rootCA = opts.rootCA;
    this.accounts = ctx.informers.informerFor('serviceAccounts');
    this.secrets = ctx.informers.informerFor('secrets');
    const workers = opts.workers ?? 5;
    this.accountQueue = this.addLoop(`${NAME}-serviceaccount`, workers, (key) => this.reconcileAccount(key));
    this.secretQueue = this.addLoop(`${NAME}-secret`, workers, (key) => this.reconcileSecret(key));

    this.accounts.addEventHandler({
      onAdd: (sa) => this.accountQueue.add(keyOf(sa)),
      onUpdate: (_o, sa) => this.accountQueue.add(keyOf(sa)),
      onDelete: (sa) => this.accountQueue.add(keyOf(sa)),
    });
    this.secrets.addEventHandler({
      onAdd: (s) => {
        if (isTokenSecret(s)) this.secretQueue.add(keyOf(s));
      },
      onUpdate: (_o, s) => {
        if (isTokenSecret(s)) this.secretQueue.add(keyOf(s));
      },
      onDelete: (s) => {
        if (isTokenSecret(s)) this.accountQueue.add(objectKey(s.metadata?.namespace ?? '', accountOf(s).name));
      },
    });
  }

  /** The cached token Secrets naming the account `name` in `namespace`. */
  private secretsOf(namespace: string, name: string): Secret[] {
    return this.secrets.lister.list({ namespace }).filter((s) => isTokenSecret(s) && accountOf(s).name === name);
  }

  private async deleteSecret(s: Secret): Promise<void> {
    try {
      await this.ctx.clientset.secrets.delete(s.metadata?.name ?? '', { namespace: s.metadata?.namespace, preconditions: { uid: s.metadata?.uid } });
      this.logger.debug({ secret: keyOf(s) }, 'token: deleted token secret of a deleted account');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  // ---- per service account ---------------------------------------------------------------

  async reconcileAccount(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cs = this.ctx.clientset;
    const sa = this.accounts.lister.get(name, namespace);
    const secrets = this.secretsOf(namespace, name);
    if (!sa) {
      for (const s of secrets) await this.deleteSecret(s);
      return;
    }
    if (sa.metadata?.deletionTimestamp) return;
    const uid = sa.metadata?.uid ?? '';
    // Token Secrets of an earlier account of the same name.
    for (const s of secrets) if (accountOf(s).uid && accountOf(s).uid !== uid) await this.deleteSecret(s);
    const mine = secrets.filter((s) => !accountOf(s).uid || accountOf(s).uid === uid).sort(byCreationOf);

    let live: ServiceAccount;
    try {
      live = await cs.serviceAccounts.get(name, { namespace });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (live.metadata?.uid !== uid) return;
    const refs = live.secrets ?? [];
    // References to token Secrets of this account that no longer exist.
    const dangling = new Set<string>();
    for (const ref of refs) {
      const refName = ref.name ?? '';
      if (!refName.startsWith(`${name}-token-`) || this.secrets.lister.get(refName, namespace)) continue;
      try {
        await cs.secrets.get(refName, { namespace });
      } catch (err) {
        if (isNotFound(err)) dangling.add(refName);
        else throw err;
      }
    }
    const kept = refs.filter((r) => !dangling.has(r.name ?? ''));

    if (mine.length > 0) {
      const chosen = mine.find((s) => kept.some((r) => r.name === s.metadata?.name)) ?? mine[0];
      const referenced = kept.some((r) => r.name === chosen.metadata?.name);
      if (referenced && dangling.size === 0) return;
      const copy = deepCopy(live);
      copy.secrets = referenced ? kept : [...kept, { name: chosen.metadata?.name ?? '' }];
      await cs.serviceAccounts.update(copy);
      return;
    }

    // No token Secret yet: create one, then claim it in the account (guarded by its version).
    const secretName = `${name}-token-${randomSuffix(5)}`;
    const created = await cs.secrets.create({
      apiVersion: 'v1',
      kind: 'Secret',
      type: SERVICE_ACCOUNT_TOKEN_TYPE,
      metadata: {
        name: secretName,
        namespace,
        annotations: { [SERVICE_ACCOUNT_NAME_ANNOTATION]: name, [SERVICE_ACCOUNT_UID_ANNOTATION]: uid },
      },
    });
    try {
      const copy = deepCopy(live);
      copy.secrets = [...kept, { name: secretName }];
      await cs.serviceAccounts.update(copy);
    } catch (err) {
      await this.deleteSecret(created).catch(() => undefined);
      throw err;
    }
    this.logger.debug({ account: key, secret: secretName }, 'token: created token secret');
    // The Secret loop fills in the token (one worker per Secret: one token per Secret).
    this.secretQueue.add(keyOf(created));
  }

  // ---- per secret ------------------------------------------------------------------------

  async reconcileSecret(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const secret = this.secrets.lister.get(name, namespace);
    if (!secret || !isTokenSecret(secret) || secret.metadata?.deletionTimestamp) return;
    const account = accountOf(secret);
    let sa = this.accounts.lister.get(account.name, namespace);
    if (!sa || (account.uid && sa.metadata?.uid !== account.uid)) {
      // The cache may not know a just-created account yet: ask the apiserver before deleting.
      let live: ServiceAccount | undefined;
      try {
        live = await this.ctx.clientset.serviceAccounts.get(account.name, { namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      if (!live || (account.uid && live.metadata?.uid !== account.uid)) {
        await this.deleteSecret(secret);
        return;
      }
      sa = live;
    }
    if (hasToken(secret) && account.uid) return;
    // Read the Secret afresh: a token is issued only for a Secret that really has none.
    let live: Secret;
    try {
      live = await this.ctx.clientset.secrets.get(name, { namespace });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (live.metadata?.uid !== secret.metadata?.uid || (hasToken(live) && accountOf(live).uid)) return;
    await this.fillToken(live, sa);
  }

  /** Issues a token bound to the Secret and stores it (with namespace, ca.crt and the account uid). */
  private async fillToken(secret: Secret, sa: ServiceAccount): Promise<void> {
    const namespace = secret.metadata?.namespace ?? '';
    const account = sa.metadata?.name ?? '';
    const token = hasToken(secret)
      ? undefined
      : await this.tokens.createToken(namespace, account, {
          kind: 'Secret',
          apiVersion: 'v1',
          namespace,
          name: secret.metadata?.name ?? '',
          uid: secret.metadata?.uid ?? '',
        });
    const copy = deepCopy(secret);
    copy.metadata = {
      ...copy.metadata,
      annotations: { ...copy.metadata?.annotations, [SERVICE_ACCOUNT_NAME_ANNOTATION]: account, [SERVICE_ACCOUNT_UID_ANNOTATION]: sa.metadata?.uid ?? '' },
    };
    const data: Record<string, Buffer> = { ...copy.data };
    if (token) data.token = Buffer.from(token);
    data.namespace = Buffer.from(namespace);
    if (this.rootCA) data['ca.crt'] = Buffer.from(this.rootCA);
    copy.data = data;
    try {
      await this.ctx.clientset.secrets.update(copy);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}
