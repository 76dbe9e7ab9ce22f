// Label and field selectors, kept once (Kubernetes' k8s.io/apimachinery/pkg/labels, /fields,
// /selection and the LabelSelector helpers of pkg/apis/meta/v1): parsing their string forms,
// matching, printing, metav1.LabelSelector conversion, and the label key and value checks.
export { SelectorError } from './errors';
export { isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './names';
export { NO_LABELS, SelectorOperator, newRequirement, parseInt64, requirementString } from './requirement';
export type { LabelRequirement, Labels } from './requirement';
export { everything, formatLabels, nothing, selectorFromRequirements, selectorFromSet, validatedSelectorFromSet } from './labels';
export type { LabelSelector } from './labels';
export { parseLabelSelector, parseToRequirements, toLabelSelector } from './parse';
export {
  formatLabelSelector,
  labelSelectorAsSelector,
  parseToLabelSelector,
  setAsLabelSelector,
  tryLabelSelectorAsSelector,
} from './labelselector';
export { escapeFieldValue, fieldSelectorFromSet, fieldValue, parseFieldSelector, unescapeFieldValue } from './fields';
export type { FieldRequirement, FieldSelector, Fields } from './fields';
