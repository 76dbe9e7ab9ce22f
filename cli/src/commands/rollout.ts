// rollout status|history|undo|restart|pause|resume deployment/NAME.
//
// status follows the Deployment until its rollout is complete, printing kubectl's progress
// lines. history reads the revisions from the Deployment's ReplicaSets (annotation
// deployment.kubernetes.io/revision). undo copies the pod template of the ReplicaSet of the
// chosen revision (default: the one before the current) into the Deployment, which the
// deployment controller then rolls out like any template change: the ReplicaSet whose
// template matches is scaled up again and takes the next revision number.
import { isConflict } from '@k8ts/client';
import type { appsv1 } from '@k8ts/api';
import { jsonEqual } from '../apply/merge';
import { CliError } from '../errors';
import { stripHash } from '../printers/describe';
import { toYaml } from '../printers/output';
import { formatTable } from '../printers/table';
import { parseSingleResource } from '../resources';
import { parseTimeout } from '../session';
import type { Session } from '../session';
import { k8tsCommand } from '../self';

type Obj = Record<string, any>;

export const REVISION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

function deploymentArg(args: string[]): string {
  const { kind, name } = parseSingleResource(args);
  if (kind.kind !== 'Deployment') throw new CliError(`no rollout support for ${kind.resource}: only deployments have rollouts`);
  return name;
}

/** kubectl's rollout status message for a Deployment and whether the rollout is done. */
export function rolloutStatus(d: Obj): { done: boolean; message: string; failed?: string } {
  const name = d.metadata?.name;
  const spec = (d.spec ?? {}) as Obj;
  const st = (d.status ?? {}) as Obj;
  if ((d.metadata?.generation ?? 0) > (st.observedGeneration ?? 0)) {
    return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  }
  const progressing = ((st.conditions ?? []) as Obj[]).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, message: '', failed: `deployment "${name}" exceeded its progress deadline` };
  }
  const want = spec.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const total = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  if (updated < want) {
    return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...` };
  }
  if (total > updated) {
    return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${total - updated} old replicas are pending termination...` };
  }
  if (available < updated) {
    return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...` };
  }
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

export interface RolloutStatusOptions {
  timeout?: string;
  watch?: boolean;
}

export async function rolloutStatusCommand(session: Session, args: string[], opts: RolloutStatusOptions): Promise<void> {
  const name = deploymentArg(args);
  const timeoutMs = parseTimeout(opts.timeout);
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
  let last = '';
  for (;;) {
    const d = (await session.clientset.deployments.get(name, { namespace: session.namespace })) as Obj;
    const s = rolloutStatus(d);
    if (s.failed) throw new CliError(s.failed);
    if (s.message !== last) {
      session.io.out(`${s.message}\n`);
      last = s.message;
    }
    if (s.done || opts.watch === false) return;
    if (Date.now() >= deadline) throw new CliError('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The ReplicaSets a Deployment owns, by revision (ascending). */
export async function revisionsOf(session: Session, d: Obj): Promise<{ revision: number; rs: Obj }[]> {
  const list = await session.clientset.replicaSets.listAll({ namespace: d.metadata?.namespace });
  const uid = d.metadata?.uid;
  return (list.items as Obj[])
    .filter((rs) => ((rs.metadata?.ownerReferences ?? []) as Obj[]).some((r) => r.uid === uid))
    .map((rs) => ({ revision: Number(rs.metadata?.annotations?.[REVISION] ?? 0), rs }))
    .filter((x) => Number.isFinite(x.revision) && x.revision > 0)
    .sort((a, b) => a.revision - b.revision);
}

export async function rolloutHistoryCommand(session: Session, args: string[], opts: { revision?: string }): Promise<void> {
  const name = deploymentArg(args);
  const d = (await session.clientset.deployments.get(name, { namespace: session.namespace })) as Obj;
  const revs = await revisionsOf(session, d);
  if (opts.revision !== undefined && opts.revision !== '0') {
    const want = Number(opts.revision);
    const found = revs.find((r) => r.revision === want);
    if (!found) throw new CliError(`unable to find the specified revision`);
    session.io.out(`deployment.apps/${name} with revision #${want}\n`);
    session.io.out(toYaml({ 'Pod Template': stripHash(found.rs.spec?.template) }));
    return;
  }
  session.io.out(`deployment.apps/${name} \n`);
  if (revs.length === 0) {
    session.io.out('No rollout history found.\n');
    return;
  }
  const rows = revs.map((r) => [String(r.revision), r.rs.metadata?.annotations?.[CHANGE_CAUSE] ?? '<none>']);
  session.io.out(formatTable(['REVISION', 'CHANGE-CAUSE'], rows));
  session.io.out('\n');
}

export async function rolloutUndoCommand(session: Session, args: string[], opts: { toRevision?: string }): Promise<void> {
  const name = deploymentArg(args);
  const client = session.clientset.deployments;
  for (let attempt = 0; ; attempt++) {
    const d = (await client.get(name, { namespace: session.namespace })) as Obj;
    if (d.spec?.paused) throw new CliError(`you cannot rollback a paused deployment; resume it first with '${k8tsCommand(session.io.env)} rollout resume deployment/${name}' and try again`);
    const revs = await revisionsOf(session, d);
    const toRevision = opts.toRevision === undefined ? 0 : Number(opts.toRevision);
    if (!Number.isInteger(toRevision) || toRevision < 0) throw new CliError(`invalid --to-revision "${opts.toRevision}"`);
    let target: Obj | undefined;
    if (toRevision === 0) {
      if (revs.length < 2) throw new CliError(`no rollout history found for deployment "${name}"`);
      target = revs[revs.length - 2].rs;
    } else {
      target = revs.find((r) => r.revision === toRevision)?.rs;
      if (!target) throw new CliError(`unable to find specified revision ${toRevision} in history`);
    }
    const template = stripHash(target.spec?.template) as Obj;
    if (jsonEqual(JSON.parse(JSON.stringify(stripHash(d.spec?.template) ?? {})), JSON.parse(JSON.stringify(template)))) {
      const current = revs[revs.length - 1]?.revision;
      session.io.out(`deployment.apps/${name} skipped rollback (current template already matches revision ${toRevision || current})\n`);
      return;
    }
    const updated = { ...d, spec: { ...d.spec, template } } as appsv1.Deployment;
    try {
      await client.update(updated);
    } catch (e) {
      if (isConflict(e) && attempt < 5) continue;
      throw e;
    }
    session.io.out(`deployment.apps/${name} rolled back\n`);
    return;
  }
}

/** restart, pause and resume: one small change to the Deployment. */
export async function rolloutChange(session: Session, args: string[], what: 'restart' | 'pause' | 'resume'): Promise<void> {
  const name = deploymentArg(args);
  const client = session.clientset.deployments;
  for (let attempt = 0; ; attempt++) {
    const d = (await client.get(name, { namespace: session.namespace })) as Obj;
    const spec = { ...d.spec } as Obj;
    if (what === 'pause' || what === 'resume') {
      if (Boolean(spec.paused) === (what === 'pause')) {
        session.io.out(`deployment.apps/${name} is already ${what === 'pause' ? 'paused' : 'resumed'}\n`);
        return;
      }
      spec.paused = what === 'pause';
    } else {
      const template = { ...(spec.template ?? {}) } as Obj;
      const md = { ...(template.metadata ?? {}) } as Obj;
      md.annotations = { ...(md.annotations ?? {}), 'kubectl.kubernetes.io/restartedAt': new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
      template.metadata = md;
      spec.template = template;
    }
    try {
      await client.update({ ...d, spec } as appsv1.Deployment);
    } catch (e) {
      if (isConflict(e) && attempt < 5) continue;
      throw e;
    }
    const verb = what === 'restart' ? 'restarted' : what === 'pause' ? 'paused' : 'resumed';
    session.io.out(`deployment.apps/${name} ${verb}\n`);
    return;
  }
}
