// Which k8ts field each Kubernetes field number stands for, per message, from the schema's
// k8s_tag and k8s_embedded_in options (proto/k8ts/meta/v1/schema.proto). A field Kubernetes
// declares in a struct it embeds (Probe's ProbeHandler at number 1) is found through that
// struct's number: the embedded struct arrives as a nested message whose fields belong to the
// outer JSON object. Plans are built once per message type.
import { type FieldSchema, messageSchema } from '../schema';

/** The k8ts fields of one message by their Kubernetes field numbers. */
export interface MessagePlan {
  typeName: string;
  /** Kubernetes field number -> the k8ts field. */
  fields: ReadonlyMap<number, FieldSchema>;
  /** Field number of an embedded struct -> its fields by their numbers inside it. */
  embedded: ReadonlyMap<number, ReadonlyMap<number, FieldSchema>>;
}

const plans = new Map<string, MessagePlan>();

function addField(into: Map<number, FieldSchema>, tag: number, field: FieldSchema, where: string): void {
  const taken = into.get(tag);
  if (taken) throw new Error(`${where}: k8s_tag ${tag} is given to both ${taken.protoName} and ${field.protoName}`);
  into.set(tag, field);
}

function buildPlan(typeName: string): MessagePlan {
  const fields = new Map<number, FieldSchema>();
  const embedded = new Map<number, Map<number, FieldSchema>>();
  for (const field of messageSchema(typeName).fields) {
    if (field.k8sTag === undefined) continue;
    if (field.k8sEmbeddedIn === undefined) {
      addField(fields, field.k8sTag, field, typeName);
      continue;
    }
    let inner = embedded.get(field.k8sEmbeddedIn);
    if (!inner) embedded.set(field.k8sEmbeddedIn, (inner = new Map()));
    addField(inner, field.k8sTag, field, `${typeName} (embedded struct ${field.k8sEmbeddedIn})`);
  }
  for (const tag of embedded.keys()) {
    const clash = fields.get(tag);
    if (clash) throw new Error(`${typeName}: k8s_tag ${tag} of ${clash.protoName} is also the number of an embedded struct`);
  }
  return { typeName, fields, embedded };
}

/** The plan of a message type ("k8ts.core.v1.Pod"); throws for an unknown type. */
export function messagePlan(typeName: string): MessagePlan {
  const key = typeName.replace(/^\./, '');
  let plan = plans.get(key);
  if (!plan) {
    plan = buildPlan(key);
    plans.set(key, plan);
  }
  return plan;
}
