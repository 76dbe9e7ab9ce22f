// describe TYPE [NAME...]: the object in kubectl's words, and the events about it (found with
// the field selector involvedObject.name/namespace/kind).
import type { KindInfo } from '@k8ts/api';
import { isInvalid, isNotFound } from '@k8ts/client';
import type { KubeObject } from '@k8ts/client';
import { AlreadyReported, formatError } from '../errors';
import { describeObject } from '../printers/describe';
import type { Related } from '../printers/describe';
import { toJson } from '../printers/output';
import { parseResourceArgs } from '../resources';
import type { Session } from '../session';

type Obj = Record<string, any>;

export interface DescribeOptions {
  selector?: string;
  allNamespaces?: boolean;
  showEvents?: boolean;
}

/** The events about an object, oldest first. */
export async function eventsFor(session: Session, kind: KindInfo, obj: KubeObject): Promise<Obj[]> {
  const name = obj.metadata?.name ?? '';
  const namespace = kind.namespaced ? (obj.metadata?.namespace ?? '') : '';
  const fields = [`involvedObject.name=${name}`, `involvedObject.kind=${kind.kind}`];
  if (namespace) fields.push(`involvedObject.namespace=${namespace}`);
  let items: Obj[];
  try {
    items = (await session.clientset.events.listAll({ namespace, fieldSelector: fields.join(',') })).items as Obj[];
  } catch (e) {
    // A server that does not index these fields: filter here.
    if (!isInvalid(e)) throw e;
    items = (await session.clientset.events.listAll({ namespace })).items as Obj[];
  }
  const uid = obj.metadata?.uid;
  items = items.filter((ev) => {
    const io = (ev.involvedObject ?? {}) as Obj;
    if (io.name !== name || io.kind !== kind.kind) return false;
    if (namespace && io.namespace && io.namespace !== namespace) return false;
    return !uid || !io.uid || io.uid === uid;
  });
  const t = (e: Obj) => Date.parse(e.lastTimestamp || e.eventTime || e.firstTimestamp || e.metadata?.creationTimestamp || '') || 0;
  const rv = (e: Obj) => Number(e.metadata?.resourceVersion ?? 0);
  return items.sort((a, b) => t(a) - t(b) || rv(a) - rv(b));
}

async function relatedOf(session: Session, kind: KindInfo, obj: Obj): Promise<Related> {
  const cs = session.clientset;
  const ns = obj.metadata?.namespace ?? '';
  const uid = obj.metadata?.uid;
  const owned = (o: Obj) => ((o.metadata?.ownerReferences ?? []) as Obj[]).some((r) => r.uid === uid);
  try {
    switch (kind.kind) {
      case 'Deployment':
        return { replicaSets: ((await cs.replicaSets.listAll({ namespace: ns })).items as Obj[]).filter(owned) };
      case 'ReplicaSet':
        return { pods: ((await cs.pods.listAll({ namespace: ns })).items as Obj[]).filter(owned) };
      case 'Service':
        try {
          return { endpoints: (await cs.endpoints.get(obj.metadata?.name, { namespace: ns })) as Obj };
        } catch (e) {
          if (isNotFound(e)) return {};
          throw e;
        }
      case 'Node': {
        const pods = (await cs.pods.listAll({ fieldSelector: `spec.nodeName=${obj.metadata?.name}` })).items as Obj[];
        let lease: Obj | undefined;
        try {
          lease = (await cs.leases.get(obj.metadata?.name, { namespace: 'kube-node-lease' })) as Obj;
        } catch {
          lease = undefined;
        }
        return { pods, lease };
      }
      default:
        return {};
    }
  } catch {
    // What could not be read is left out; the object itself is still described.
    return {};
  }
}

export async function describeCommand(session: Session, args: string[], opts: DescribeOptions): Promise<void> {
  const selections = parseResourceArgs(args);
  const errors: string[] = [];
  const texts: string[] = [];
  for (const sel of selections) {
    const client = session.clientset.forKind(sel.kind);
    let objs: KubeObject[] = [];
    if (sel.names.length > 0) {
      for (const name of sel.names) {
        try {
          objs.push(await client.get(name, { namespace: sel.kind.namespaced ? session.namespace : undefined }));
        } catch (e) {
          if (!isNotFound(e)) throw e;
          errors.push(formatError(e, { server: session.serverForErrors() }));
        }
      }
    } else {
      const ns = sel.kind.namespaced && !opts.allNamespaces ? session.namespace : '';
      objs = (await client.listAll({ namespace: ns, labelSelector: opts.selector })).items;
      objs.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    }
    for (const obj of objs) {
      const related = await relatedOf(session, sel.kind, obj as Obj);
      const events = opts.showEvents === false ? undefined : await eventsFor(session, sel.kind, obj);
      texts.push(describeObject(sel.kind, obj as Obj, toJson(sel.kind, obj), related, events));
    }
  }
  if (texts.length > 0) session.io.out(texts.join('\n\n'));
  else if (errors.length === 0) session.io.err(`No resources found in ${session.namespace} namespace.\n`);
  for (const e of errors) session.io.err(e);
  if (errors.length > 0) throw new AlreadyReported();
}
