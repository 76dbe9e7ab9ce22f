// Commands about workloads: scale, logs, wait.
import type { KindInfo } from '@k8ts/api';
import { isConflict, isNotFound, labelSelectorAsSelector, parseLabelSelector, selectorFromSet } from '@k8ts/client';
import type { KubeObject } from '@k8ts/client';
import { CliError } from '../errors';
import { parseResourceArgs, parseSingleResource, resourceLabel, kindLabel } from '../resources';
import { parseTimeout } from '../session';
import type { Session } from '../session';
import { k8tsCommand } from '../self';

type Obj = Record<string, any>;

// ---- scale ----

export interface ScaleOptions {
  replicas?: string;
  currentReplicas?: string;
}

export async function scaleCommand(session: Session, args: string[], opts: ScaleOptions): Promise<void> {
  if (opts.replicas === undefined) throw new CliError('required flag(s) "replicas" not set');
  const replicas = Number(opts.replicas);
  if (!Number.isInteger(replicas) || replicas < 0) throw new CliError(`invalid --replicas "${opts.replicas}": must be a non-negative integer`);
  const sels = args.length === 1 || (args.length === 2 && !args[0].includes('/')) ? [parseSingleResource(args)] : parseResourceArgs(args).flatMap((s) => s.names.map((name) => ({ kind: s.kind, name })));
  for (const { kind, name } of sels) {
    if (kind.kind !== 'Deployment' && kind.kind !== 'ReplicaSet') throw new CliError(`cannot scale ${resourceLabel(kind)}: only deployments and replicasets can be scaled`);
    const client = kind.kind === 'Deployment' ? session.clientset.deployments : session.clientset.replicaSets;
    for (let attempt = 0; ; attempt++) {
      const scale = await client.getScale(name, { namespace: session.namespace });
      if (opts.currentReplicas !== undefined && Number(opts.currentReplicas) !== (scale.spec?.replicas ?? 0)) {
        throw new CliError(`Expected replicas to be ${opts.currentReplicas}, was ${scale.spec?.replicas ?? 0}`);
      }
      try {
        await client.updateScale({ ...scale, spec: { ...scale.spec, replicas } });
        break;
      } catch (e) {
        if (isConflict(e) && attempt < 5 && opts.currentReplicas === undefined) continue;
        throw e;
      }
    }
    session.io.out(`${kindLabel(kind)}/${name} scaled\n`);
  }
}

// ---- logs ----

export interface LogsOptions {
  container?: string;
  follow?: boolean;
  tail?: string;
  previous?: boolean;
  timestamps?: boolean;
  since?: string;
  selector?: string;
  allContainers?: boolean;
  prefix?: boolean;
}

/** The pod a `logs` argument names: a pod, or the first pod of a deployment/replicaset/service. */
async function podFor(session: Session, arg: string): Promise<Obj> {
  const cs = session.clientset;
  const ns = session.namespace;
  if (!arg.includes('/')) return (await cs.pods.get(arg, { namespace: ns })) as Obj;
  const { kind, name } = parseSingleResource([arg]);
  if (kind.kind === 'Pod') return (await cs.pods.get(name, { namespace: ns })) as Obj;
  let selector: string;
  if (kind.kind === 'Deployment' || kind.kind === 'ReplicaSet') {
    const owner = (await cs.forKind(kind).get(name, { namespace: ns })) as Obj;
    selector = labelSelectorAsSelector(owner.spec?.selector).toString();
  } else if (kind.kind === 'Service') {
    const svc = (await cs.services.get(name, { namespace: ns })) as Obj;
    selector = selectorFromSet(svc.spec?.selector).toString();
  } else {
    throw new CliError(`cannot get logs of ${kindLabel(kind)}/${name}`);
  }
  const pods = (await cs.pods.listAll({ namespace: ns, labelSelector: selector })).items as Obj[];
  const running = pods.filter((p) => p.status?.phase === 'Running').sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  const pod = running[0] ?? pods[0];
  if (!pod) throw new CliError(`no pods found for ${kindLabel(kind)}/${name}`);
  return pod;
}

export async function logsCommand(session: Session, args: string[], opts: LogsOptions): Promise<void> {
  if (args.length === 0 && !opts.selector) throw new CliError(`expected POD or TYPE/NAME; see "${k8tsCommand(session.io.env)} logs -h"`);
  if (args.length > 2) throw new CliError('expected POD [CONTAINER]');
  let pods: Obj[];
  if (opts.selector) {
    pods = (await session.clientset.pods.listAll({ namespace: session.namespace, labelSelector: opts.selector })).items as Obj[];
    if (pods.length === 0) {
      session.io.err(`No resources found in ${session.namespace} namespace.\n`);
      return;
    }
  } else {
    pods = [await podFor(session, args[0])];
  }
  const container = opts.container ?? args[1];
  const tailLines = opts.tail === undefined || opts.tail === '-1' ? undefined : Number(opts.tail);
  if (tailLines !== undefined && (!Number.isInteger(tailLines) || tailLines < 0)) throw new CliError(`invalid --tail "${opts.tail}"`);
  const sinceSeconds = opts.since ? Math.ceil(parseTimeout(opts.since) / 1000) : undefined;
  const streams: Promise<void>[] = [];
  for (const pod of pods) {
    const all = ((pod.spec?.containers ?? []) as Obj[]).map((c) => String(c.name));
    let names: string[];
    if (opts.allContainers) names = all;
    else if (container) {
      if (!all.includes(container) && !((pod.spec?.initContainers ?? []) as Obj[]).some((c) => c.name === container)) {
        throw new CliError(`container ${container} is not valid for pod ${pod.metadata?.name}`);
      }
      names = [container];
    } else if (all.length === 1) names = all;
    else throw new CliError(`a container name must be specified for pod ${pod.metadata?.name}, choose one of: [${all.join(' ')}]`);
    const prefix = opts.prefix || pods.length > 1 || names.length > 1;
    for (const c of names) {
      const stream = session.clientset.pods.logs(String(pod.metadata?.name), {
        namespace: session.namespace,
        container: c,
        follow: Boolean(opts.follow),
        tailLines,
        previous: Boolean(opts.previous),
        timestamps: Boolean(opts.timestamps),
        sinceSeconds,
      });
      const tag = `[pod/${pod.metadata?.name}/${c}] `;
      const run = async () => {
        let partial = '';
        for await (const chunk of stream) {
          if (!prefix) {
            session.io.out(chunk.toString('utf8'));
            continue;
          }
          const text = partial + chunk.toString('utf8');
          const lines = text.split('\n');
          partial = lines.pop() ?? '';
          for (const l of lines) session.io.out(`${tag}${l}\n`);
        }
        if (partial) session.io.out(`${tag}${partial}\n`);
      };
      // Several streams of one pod run one after the other unless following.
      if (opts.follow) streams.push(run());
      else await run();
    }
  }
  await Promise.all(streams);
}

// ---- wait ----

export interface WaitOptions {
  for?: string;
  timeout?: string;
  selector?: string;
  all?: boolean;
  allNamespaces?: boolean;
}

interface Condition {
  /** 'delete', or a condition type / jsonpath. */
  kind: 'delete' | 'condition' | 'jsonpath';
  type?: string;
  value?: string;
  path?: string[];
}

export function parseWaitFor(value: string | undefined): Condition {
  if (!value) throw new CliError('--for must be specified: delete, condition=TYPE[=VALUE] or jsonpath={.path}=VALUE');
  if (value === 'delete') return { kind: 'delete' };
  let m = /^condition=([^=]+)(?:=(.*))?$/.exec(value);
  if (m) return { kind: 'condition', type: m[1], value: m[2] ?? 'True' };
  m = /^jsonpath=\{?\.?([^}=]*)\}?=(.*)$/.exec(value);
  if (m) return { kind: 'jsonpath', path: m[1].split('.').filter(Boolean), value: m[2] };
  throw new CliError(`unrecognized condition: "${value}"`);
}

function conditionMet(obj: Obj, c: Condition): boolean {
  if (c.kind === 'condition') {
    const cond = ((obj.status?.conditions ?? []) as Obj[]).find((x) => String(x.type).toLowerCase() === String(c.type).toLowerCase());
    return Boolean(cond) && String(cond?.status).toLowerCase() === String(c.value).toLowerCase();
  }
  if (c.kind === 'jsonpath') {
    const v = (c.path ?? []).reduce<unknown>((acc, k) => (acc && typeof acc === 'object' ? (acc as Obj)[k] : undefined), obj);
    return String(v) === c.value;
  }
  return false;
}

export async function waitCommand(session: Session, args: string[], opts: WaitOptions): Promise<void> {
  const cond = parseWaitFor(opts.for);
  const timeoutMs = opts.timeout === undefined ? 30_000 : parseTimeout(opts.timeout);
  const deadline = Date.now() + timeoutMs;
  const sels = parseResourceArgs(args);
  const targets: { kind: KindInfo; name: string; namespace?: string; uid?: string }[] = [];
  for (const sel of sels) {
    const ns = sel.kind.namespaced ? session.namespace : undefined;
    if (sel.names.length > 0) {
      for (const name of sel.names) targets.push({ kind: sel.kind, name, namespace: ns });
      continue;
    }
    if (!opts.all && !opts.selector) throw new CliError('resource(s) were provided, but no name was specified');
    if (opts.selector) parseLabelSelector(opts.selector);
    const list = await session.clientset.forKind(sel.kind).listAll({
      namespace: sel.kind.namespaced && !opts.allNamespaces ? session.namespace : '',
      labelSelector: opts.selector,
    });
    if (list.items.length === 0) throw new CliError('no matching resources found');
    for (const o of list.items) targets.push({ kind: sel.kind, name: o.metadata?.name ?? '', namespace: o.metadata?.namespace || ns, uid: o.metadata?.uid });
  }
  for (const t of targets) {
    const client = session.clientset.forKind(t.kind);
    for (;;) {
      let obj: KubeObject | undefined;
      try {
        obj = await client.get(t.name, { namespace: t.namespace });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        obj = undefined;
      }
      if (cond.kind === 'delete') {
        if (!obj || (t.uid && obj.metadata?.uid !== t.uid)) {
          session.io.out(`${kindLabel(t.kind)}/${t.name} condition met\n`);
          break;
        }
      } else if (obj && conditionMet(obj as Obj, cond)) {
        session.io.out(`${kindLabel(t.kind)}/${t.name} condition met\n`);
        break;
      } else if (!obj && timeoutMs === 0) {
        throw new CliError(`${resourceLabel(t.kind)} "${t.name}" not found`);
      }
      if (Date.now() >= deadline) {
        if (!obj && cond.kind !== 'delete') throw new CliError(`timed out waiting for the condition on ${resourceLabel(t.kind)}/${t.name} (it does not exist)`);
        throw new CliError(`timed out waiting for the condition on ${resourceLabel(t.kind)}/${t.name}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
