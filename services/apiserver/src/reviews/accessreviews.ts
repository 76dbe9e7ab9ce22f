// The access reviews of authorization.k8s.io/v1: may a user do something? Nothing is stored;
// each POST is answered from the apiserver's own authorizer chain, as kube-apiserver's
// pkg/registry/authorization does.
// - SelfSubjectAccessReview: the caller ("kubectl auth can-i VERB RESOURCE", "can-i get /healthz").
// - SubjectAccessReview: the user, groups, uid and extra of spec (cluster-scoped); exactly
//   those groups are used (system:authenticated is not added).
// - LocalSubjectAccessReview: as SubjectAccessReview, for resources in the URL's namespace only.
// Validation (Kubernetes' messages): exactly one of spec.resourceAttributes and
// spec.nonResourceAttributes; a user or groups (not for the self review); metadata empty (the
// local review may name its namespace, which spec.resourceAttributes.namespace must match).
// status: allowed, denied (an authorizer said no outright, e.g. the Node authorizer), reason
// (the deciding authorizer's, without the forbidden message k8ts adds to refusals), and
// evaluationError (authorizer failures, selectors partly ignored).
import type { Attributes, UserInfo } from '../auth/types';
import { badRequest } from '../errors';
import { ErrorList } from '../strategies/validation';
import { evaluateAccess } from './authorizers';
import { BodyReader, type JsonObject, type ReviewKind, apiVersionOf, invalidReview, metadataIsEmpty, reconcileNamespace } from './body';
import type { ReviewContext } from './context';
import { type SelectorAttributes, readSelector, selectorJson, selectorNote, validateSelector } from './selectors';

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';

const kindOf = (kind: string): ReviewKind => ({ group: AUTHORIZATION_GROUP, version: 'v1', kind });
export const SELF_SUBJECT_ACCESS_REVIEW = kindOf('SelfSubjectAccessReview');
export const SUBJECT_ACCESS_REVIEW = kindOf('SubjectAccessReview');
export const LOCAL_SUBJECT_ACCESS_REVIEW = kindOf('LocalSubjectAccessReview');

interface ResourceAttributes {
  namespace: string;
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  name: string;
  fieldSelector?: SelectorAttributes;
  labelSelector?: SelectorAttributes;
}

interface NonResourceAttributes {
  path: string;
  verb: string;
}

/** A review's spec; the subject fields are empty in a self review. */
interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
  user: string;
  groups: string[];
  uid: string;
  extra?: Record<string, string[]>;
}

const RESOURCE_FIELDS = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'] as const;

function readResourceAttributes(reader: BodyReader, spec: JsonObject): ResourceAttributes | undefined {
  const obj = reader.object(spec, 'resourceAttributes', 'spec');
  if (!obj) return undefined;
  const at = 'spec.resourceAttributes';
  const out = Object.fromEntries(RESOURCE_FIELDS.map((f) => [f, reader.string(obj, f, at)])) as Record<(typeof RESOURCE_FIELDS)[number], string>;
  return { ...out, fieldSelector: readSelector(reader, obj, 'fieldSelector', at), labelSelector: readSelector(reader, obj, 'labelSelector', at) };
}

function readNonResourceAttributes(reader: BodyReader, spec: JsonObject): NonResourceAttributes | undefined {
  const obj = reader.object(spec, 'nonResourceAttributes', 'spec');
  if (!obj) return undefined;
  return { path: reader.string(obj, 'path', 'spec.nonResourceAttributes'), verb: reader.string(obj, 'verb', 'spec.nonResourceAttributes') };
}

function readSpec(reader: BodyReader, obj: JsonObject, withSubject: boolean): AccessReviewSpec {
  const spec = reader.object(obj, 'spec', '') ?? {};
  const out: AccessReviewSpec = {
    resourceAttributes: readResourceAttributes(reader, spec),
    nonResourceAttributes: readNonResourceAttributes(reader, spec),
    user: '',
    groups: [],
    uid: '',
  };
  if (!withSubject) return out;
  return {
    ...out,
    user: reader.string(spec, 'user', 'spec'),
    groups: reader.strings(spec, 'groups', 'spec'),
    uid: reader.string(spec, 'uid', 'spec'),
    extra: reader.stringLists(spec, 'extra', 'spec'),
  };
}

// ---------------------------------------------------------------------------------------
// Validation (pkg/apis/authorization/validation)
// ---------------------------------------------------------------------------------------

const EXACTLY_ONE = 'exactly one of nonResourceAttributes or resourceAttributes must be specified';

function validateUnion(spec: AccessReviewSpec, errs: ErrorList): void {
  const hasResource = spec.resourceAttributes !== undefined;
  const hasNonResource = spec.nonResourceAttributes !== undefined;
  // Kubernetes reports the value of nonResourceAttributes in both cases (null when absent).
  if (hasResource === hasNonResource) errs.invalid('spec', spec.nonResourceAttributes, EXACTLY_ONE);
}

function validateSubject(spec: AccessReviewSpec, errs: ErrorList): void {
  if (spec.user === '' && spec.groups.length === 0) errs.invalid('spec.user', spec.user, 'at least one of user or group must be specified');
}

function validateSelectors(spec: AccessReviewSpec, errs: ErrorList): void {
  const ra = spec.resourceAttributes;
  validateSelector('fieldSelector', ra?.fieldSelector, 'spec.resourceAttributes', errs);
  validateSelector('labelSelector', ra?.labelSelector, 'spec.resourceAttributes', errs);
}

/** The spec of a SubjectAccessReview or LocalSubjectAccessReview, in Kubernetes' order. */
function validateSubjectSpec(spec: AccessReviewSpec, errs: ErrorList): void {
  validateUnion(spec, errs);
  validateSubject(spec, errs);
  validateSelectors(spec, errs);
}

function validateEmptyMetadata(meta: JsonObject | undefined, errs: ErrorList, exceptNamespace = false): void {
  if (metadataIsEmpty(meta, exceptNamespace ? ['namespace'] : [])) return;
  errs.invalid('metadata', meta, exceptNamespace ? 'must be empty except for namespace' : 'must be empty');
}

// ---------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------

/** The request attributes a spec asks about, for this user. */
function attributesOf(user: UserInfo, spec: AccessReviewSpec): Attributes {
  const ra = spec.resourceAttributes;
  if (!ra) {
    const nra = spec.nonResourceAttributes ?? { path: '', verb: '' };
    return { user, verb: nra.verb, apiGroup: '', resource: '', nonResourcePath: nra.path };
  }
  const a: Attributes = { user, verb: ra.verb, apiGroup: ra.group, resource: ra.resource };
  if (ra.subresource) a.subresource = ra.subresource;
  if (ra.namespace) a.namespace = ra.namespace;
  if (ra.name) a.name = ra.name;
  return a;
}

/** The user a SubjectAccessReview names: exactly its fields (no group is added). */
function subjectOf(spec: AccessReviewSpec): UserInfo {
  const u: UserInfo = { name: spec.user, groups: [...spec.groups] };
  if (spec.uid) u.uid = spec.uid;
  if (spec.extra) u.extra = spec.extra;
  return u;
}

async function accessStatus(ctx: ReviewContext, user: UserInfo, spec: AccessReviewSpec): Promise<JsonObject> {
  const ev = await evaluateAccess(ctx.security.authorizer, attributesOf(user, spec));
  const ra = spec.resourceAttributes;
  const notes = [ev.evaluationError, selectorNote('fieldSelector', ra?.fieldSelector), selectorNote('labelSelector', ra?.labelSelector)];
  const evaluationError = notes.filter((n): n is string => !!n).join('; ');
  const status: JsonObject = { allowed: ev.decision === 'allow' };
  if (ev.decision === 'deny') status.denied = true;
  if (ev.reason) status.reason = ev.reason;
  if (evaluationError) status.evaluationError = evaluationError;
  return status;
}

// ---------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------

function resourceAttributesJson(ra: ResourceAttributes): JsonObject {
  const out: JsonObject = {};
  for (const f of RESOURCE_FIELDS) if (ra[f] !== '') out[f] = ra[f];
  if (ra.fieldSelector) out.fieldSelector = selectorJson(ra.fieldSelector);
  if (ra.labelSelector) out.labelSelector = selectorJson(ra.labelSelector);
  return out;
}

/** The spec as the response echoes it, empty fields left out. */
function specJson(spec: AccessReviewSpec): JsonObject {
  const out: JsonObject = {};
  if (spec.resourceAttributes) out.resourceAttributes = resourceAttributesJson(spec.resourceAttributes);
  if (spec.nonResourceAttributes) {
    const { path, verb } = spec.nonResourceAttributes;
    out.nonResourceAttributes = { ...(path ? { path } : {}), ...(verb ? { verb } : {}) };
  }
  if (spec.user) out.user = spec.user;
  if (spec.groups.length > 0) out.groups = [...spec.groups];
  if (spec.extra && Object.keys(spec.extra).length > 0) out.extra = spec.extra;
  if (spec.uid) out.uid = spec.uid;
  return out;
}

function response(kind: ReviewKind, metadata: JsonObject, spec: AccessReviewSpec, status: JsonObject): Record<string, unknown> {
  return { apiVersion: apiVersionOf(kind), kind: kind.kind, metadata, spec: specJson(spec), status };
}

// ---------------------------------------------------------------------------------------
// The three reviews
// ---------------------------------------------------------------------------------------

/** POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews: may the caller do this? */
export async function createSelfSubjectAccessReview(ctx: ReviewContext): Promise<Record<string, unknown>> {
  const reader = new BodyReader(SELF_SUBJECT_ACCESS_REVIEW);
  const obj = reader.body(ctx.body);
  reconcileNamespace(obj, reader, '');
  const spec = readSpec(reader, obj, false);
  const errs = new ErrorList();
  validateUnion(spec, errs);
  validateSelectors(spec, errs);
  validateEmptyMetadata(reader.object(obj, 'metadata', ''), errs);
  if (errs.length > 0) throw invalidReview(AUTHORIZATION_GROUP, errs.errors);
  return response(SELF_SUBJECT_ACCESS_REVIEW, {}, spec, await accessStatus(ctx, ctx.user, spec));
}

/** POST /apis/authorization.k8s.io/v1/subjectaccessreviews: may this user (spec.user, spec.groups) do this? */
export async function createSubjectAccessReview(ctx: ReviewContext): Promise<Record<string, unknown>> {
  const reader = new BodyReader(SUBJECT_ACCESS_REVIEW);
  const obj = reader.body(ctx.body);
  reconcileNamespace(obj, reader, '');
  const spec = readSpec(reader, obj, true);
  const errs = new ErrorList();
  validateSubjectSpec(spec, errs);
  validateEmptyMetadata(reader.object(obj, 'metadata', ''), errs);
  if (errs.length > 0) throw invalidReview(AUTHORIZATION_GROUP, errs.errors);
  return response(SUBJECT_ACCESS_REVIEW, {}, spec, await accessStatus(ctx, subjectOf(spec), spec));
}

/** POST /apis/authorization.k8s.io/v1/namespaces/NS/localsubjectaccessreviews: the same, within NS. */
export async function createLocalSubjectAccessReview(ctx: ReviewContext): Promise<Record<string, unknown>> {
  const reader = new BodyReader(LOCAL_SUBJECT_ACCESS_REVIEW);
  const obj = reader.body(ctx.body);
  const requestNamespace = ctx.namespace ?? '';
  reconcileNamespace(obj, reader, requestNamespace);
  const spec = readSpec(reader, obj, true);
  const meta = reader.object(obj, 'metadata', '');
  const namespace = meta ? reader.string(meta, 'namespace', 'metadata') : '';
  const errs = new ErrorList();
  validateSubjectSpec(spec, errs);
  validateEmptyMetadata(meta, errs, true);
  if (spec.resourceAttributes && spec.resourceAttributes.namespace !== namespace) {
    errs.invalid('spec.resourceAttributes.namespace', spec.resourceAttributes.namespace, 'must match metadata.namespace');
  }
  if (spec.nonResourceAttributes) errs.invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'disallowed on this kind of request');
  if (errs.length > 0) throw invalidReview(AUTHORIZATION_GROUP, errs.errors);
  if (requestNamespace === '') throw badRequest(`namespace is required on this type: ${requestNamespace}`);
  if (requestNamespace !== namespace) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${requestNamespace}`);
  return response(LOCAL_SUBJECT_ACCESS_REVIEW, { namespace }, spec, await accessStatus(ctx, subjectOf(spec), spec));
}
