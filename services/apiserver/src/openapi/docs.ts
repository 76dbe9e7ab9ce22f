// Descriptions for the OpenAPI documents, taken from the .proto comments (the Root of
// protoDocRoot(), which keeps them), and the rule that reads "required" from them.
//
// Kubernetes' descriptions are its Go doc comments with the lines of a paragraph joined;
// the .proto comments are reflowed the same way: lines joined with a space, a blank comment
// line starts a new paragraph ("\n\n"), a line starting a list item ("- ", "* ", "1. ")
// starts a new line.
import { protoDocRoot } from '@k8ts/api';
import type * as protobuf from 'protobufjs';

const LIST_ITEM = /^([-*]|\d+[.)])\s/;

/** A .proto comment as one description: paragraph lines joined, paragraphs kept. */
export function reflow(comment: string): string {
  const paragraphs: string[] = [];
  let lines: string[] = [];
  const flush = (): void => {
    if (lines.length > 0) paragraphs.push(lines.join(''));
    lines = [];
  };
  for (const raw of comment.split('\n')) {
    const line = raw.trim();
    if (line === '') flush();
    else if (lines.length === 0) lines.push(line);
    else lines.push(LIST_ITEM.test(line) ? `\n${line}` : ` ${line}`);
  }
  flush();
  return paragraphs.join('\n\n');
}

function described(comment: string | null | undefined): string | undefined {
  if (!comment) return undefined;
  const text = reflow(comment);
  return text === '' ? undefined : text;
}

function lookupDocumented(protoType: string): protobuf.ReflectionObject | null {
  return protoDocRoot().lookup(protoType);
}

/** The comment of a message or enum of the API, reflowed; undefined when it has none. */
export function typeDescription(protoType: string): string | undefined {
  return described(lookupDocumented(protoType)?.comment);
}

/** The comment of a field (by its .proto name), reflowed; undefined when it has none. */
export function fieldDescription(protoType: string, protoName: string): string | undefined {
  const type = lookupDocumented(protoType) as protobuf.Type | null;
  return described(type?.fields?.[protoName]?.comment);
}

// The .proto files mark an always-required field with a sentence "Required." (or
// "Required;" / "Required," continuing with a constraint). "Required for ...", "Required
// when ...", "Required except ..." are conditions the schema cannot express: Kubernetes'
// schema leaves such fields optional too.
const REQUIRED_SENTENCE = /(^|[.;!?]\s+)Required([.;,]|$)/;

/** Whether a field's description says it is always required. */
export function isRequiredByDescription(description: string | undefined): boolean {
  return description !== undefined && REQUIRED_SENTENCE.test(description);
}
