// Label keys and values as Kubernetes checks them (k8s.io/apimachinery/pkg/util/validation:
// IsQualifiedName, IsValidLabelValue, IsDNS1123Subdomain), with Kubernetes' messages. A label
// key is an optional DNS-subdomain prefix and '/', then a name of at most 63 characters of
// alphanumerics, '-', '_' and '.', starting and ending with an alphanumeric; a value is empty
// or such a name. Each check returns every problem it finds (an empty list when valid).

const NAME_FORMAT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const NAME_RE = new RegExp(`^${NAME_FORMAT}$`);
const NAME_MESSAGE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const NAME_MAX_LENGTH = 63;

const LABEL_VALUE_FORMAT = `(${NAME_FORMAT})?`;
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FORMAT}$`);
const LABEL_VALUE_MESSAGE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const DNS1123_LABEL_FORMAT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FORMAT = `${DNS1123_LABEL_FORMAT}(\\.${DNS1123_LABEL_FORMAT})*`;
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FORMAT}$`);
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;

/** validation.MaxLenError. */
function maxLengthMessage(length: number): string {
  return `must be no more than ${length} characters`;
}

/** validation.RegexError: the message, its examples and the regular expression. */
function regexMessage(message: string, format: string, ...examples: string[]): string {
  const shown = examples.map((e) => `'${e}', `).join(' or ');
  return `${message} (${examples.length > 0 ? `e.g. ${shown}` : ''}regex used for validation is '${format}')`;
}

/** A DNS subdomain (RFC 1123): lowercase labels joined by '.', at most 253 characters. */
export function isDNS1123Subdomain(value: string): string[] {
  const problems: string[] = [];
  if (value.length > DNS1123_SUBDOMAIN_MAX_LENGTH) problems.push(maxLengthMessage(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) problems.push(regexMessage(DNS1123_SUBDOMAIN_MESSAGE, DNS1123_SUBDOMAIN_FORMAT, 'example.com'));
  return problems;
}

/** The problems of the prefix of a qualified name (the part before '/'). */
function prefixProblems(prefix: string): string[] {
  if (prefix === '') return ['prefix part must be non-empty'];
  return isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`);
}

/** The problems of the name of a qualified name (the part after '/', or all of it). */
function namePartProblems(name: string): string[] {
  const problems: string[] = [];
  if (name === '') problems.push('name part must be non-empty');
  else if (name.length > NAME_MAX_LENGTH) problems.push(`name part ${maxLengthMessage(NAME_MAX_LENGTH)}`);
  // Kubernetes also reports the format of an empty name.
  if (!NAME_RE.test(name)) problems.push(`name part ${regexMessage(NAME_MESSAGE, NAME_FORMAT, 'MyName', 'my.name', '123-abc')}`);
  return problems;
}

/** A qualified name (a label or annotation key, a finalizer): [prefix/]name. */
export function isQualifiedName(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [
      `a qualified name ${regexMessage(NAME_MESSAGE, NAME_FORMAT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const name = parts[parts.length - 1];
  return [...(parts.length === 2 ? prefixProblems(parts[0]) : []), ...namePartProblems(name)];
}

/** A label value: empty, or at most 63 alphanumerics, '-', '_' and '.' starting and ending with an alphanumeric. */
export function isValidLabelValue(value: string): string[] {
  const problems: string[] = [];
  if (value.length > NAME_MAX_LENGTH) problems.push(maxLengthMessage(NAME_MAX_LENGTH));
  if (!LABEL_VALUE_RE.test(value)) problems.push(regexMessage(LABEL_VALUE_MESSAGE, LABEL_VALUE_FORMAT, 'MyValue', 'my_value', '12345'));
  return problems;
}
