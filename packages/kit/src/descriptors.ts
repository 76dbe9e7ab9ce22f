// Builds google.protobuf.FileDescriptorProtos for server reflection, one per real .proto file.
//
// Why not proto-loader's descriptors: proto-loader (through protobufjs) merges every file of
// a package into one synthetic "<package>.proto" file, leaves `dependency` empty, writes
// type references relative to the scope, and names map entry messages after the field
// ("Labels" instead of "LabelsEntry"). Reflection clients that link descriptors strictly
// (grpcurl and other protobuf-go based tools, the C++/upb descriptor pools of Python, ...)
// then cannot resolve a field of type google.protobuf.Timestamp or a map field, so
// `grpcurl describe` fails (grpc-node issue #3034). This module walks a protobufjs Root
// that keeps each object's source file and emits what protoc would: real file names,
// imports in `dependency`, fully-qualified type names, XxxEntry map entries, json names and
// proto3 optional fields with their synthetic oneofs.
import * as protobuf from 'protobufjs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const descriptor: { FileDescriptorProto: protobuf.Type } = require('protobufjs/ext/descriptor');

// FieldDescriptorProto.Type and Label values.
const SCALAR_TYPES: Record<string, number> = {
  double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8, string: 9,
  bytes: 12, uint32: 13, sfixed32: 15, sfixed64: 16, sint32: 17, sint64: 18,
};
const TYPE_GROUP = 10;
const TYPE_MESSAGE = 11;
const TYPE_ENUM = 14;
const LABEL_OPTIONAL = 1;
const LABEL_REQUIRED = 2;
const LABEL_REPEATED = 3;

/** The file of each type bundled with protobufjs (google/protobuf/*.proto), which it loads without a file name. */
let bundled: Map<string, string> | undefined;
function bundledFiles(): Map<string, string> {
  if (!bundled) {
    bundled = new Map();
    const common = (protobuf as unknown as { common: Record<string, any> }).common;
    for (const [file, json] of Object.entries(common)) {
      if (!file.endsWith('.proto')) continue;
      const nested = json?.nested?.google?.nested?.protobuf?.nested ?? {};
      for (const name of Object.keys(nested)) bundled.set(`.google.protobuf.${name}`, file);
    }
  }
  return bundled;
}

/** protoc's json_name: lowerCamelCase of the field name. */
function jsonName(name: string): string {
  return name.replace(/_+([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** protoc's map entry name: CamelCase of the field name + 'Entry' ('match_labels' -> 'MatchLabelsEntry'). */
function mapEntryName(field: string): string {
  const camel = jsonName(field);
  return `${camel.charAt(0).toUpperCase()}${camel.slice(1)}Entry`;
}

interface FileAcc {
  name: string;
  pkg: string;
  syntax: string;
  dependency: Set<string>;
  messageType: any[];
  enumType: any[];
  service: any[];
}

/**
 * Encodes one FileDescriptorProto per source file of `root` (which must be resolved).
 * `fileName` maps a protobufjs object's `filename` (as loaded) to the name clients see,
 * for example 'k8ts/system/v1/system.proto'.
 */
export function buildFileDescriptors(
  root: protobuf.Root,
  fileName: (loaded: string) => string,
  imports: (file: string) => string[] = () => [],
): Buffer[] {
  const files = new Map<string, FileAcc>();
  const fileOf = (obj: protobuf.ReflectionObject): string => {
    let o: protobuf.ReflectionObject | null = obj;
    while (o && !o.filename) o = o.parent;
    if (o?.filename) return fileName(o.filename);
    let top: protobuf.ReflectionObject = obj;
    while (top.parent && !(top.parent instanceof protobuf.Root) && !isPackage(top.parent)) top = top.parent;
    const wkt = bundledFiles().get(top.fullName);
    if (wkt) return wkt;
    throw new Error(`reflection: cannot tell which .proto file defines ${obj.fullName}`);
  };
  const acc = (obj: protobuf.ReflectionObject): FileAcc => {
    const name = fileOf(obj);
    let f = files.get(name);
    if (!f) {
      const edition = (obj as unknown as { _edition?: string })._edition;
      f = {
        name,
        pkg: obj.parent ? obj.parent.fullName.replace(/^\./, '') : '',
        syntax: edition === 'proto2' ? 'proto2' : 'proto3',
        dependency: new Set(),
        messageType: [],
        enumType: [],
        service: [],
      };
      files.set(name, f);
    }
    return f;
  };
  const reference = (from: FileAcc, target: protobuf.ReflectionObject): string => {
    const file = fileOf(target);
    if (file !== from.name) from.dependency.add(file);
    return target.fullName;
  };

  const enumDescriptor = (e: protobuf.Enum) => {
    const d: any = {
      name: e.name,
      value: Object.entries(e.values).map(([name, number]) => ({ name, number })),
    };
    // Enum reserved ranges are inclusive; protobufjs reads 'max' as the field number limit.
    const ranges = reservedRanges(e.reserved).map(([start, end]) => ({ start, end: end === MAX_FIELD ? MAX_ENUM : end }));
    if (ranges.length) d.reservedRange = ranges;
    const names = reservedNames(e.reserved);
    if (names.length) d.reservedName = names;
    if (e.options?.deprecated) d.options = { deprecated: true };
    return d;
  };

  const messageDescriptor = (t: protobuf.Type, file: FileAcc): any => {
    const realOneofs = t.oneofsArray.filter((o) => !isSyntheticOneof(o));
    const syntheticOneofs = t.oneofsArray.filter((o) => isSyntheticOneof(o));
    const oneofIndex = new Map<protobuf.OneOf, number>([...realOneofs, ...syntheticOneofs].map((o, i) => [o, i]));
    const d: any = {
      name: t.name,
      field: [],
      nestedType: [],
      enumType: [],
      oneofDecl: [...realOneofs, ...syntheticOneofs].map((o) => ({ name: o.name })),
    };
    for (const f of t.fieldsArray) {
      const fd: any = {
        name: f.name,
        number: f.id,
        jsonName: (f.options?.json_name as string | undefined) ?? jsonName(f.name),
      };
      if (f instanceof protobuf.MapField) {
        const entry = mapEntryName(f.name);
        const value: any = { name: 'value', number: 2, label: LABEL_OPTIONAL, jsonName: 'value' };
        setType(value, f, file);
        d.nestedType.push({
          name: entry,
          field: [{ name: 'key', number: 1, label: LABEL_OPTIONAL, type: SCALAR_TYPES[f.keyType], jsonName: 'key' }, value],
          options: { mapEntry: true },
        });
        fd.label = LABEL_REPEATED;
        fd.type = TYPE_MESSAGE;
        fd.typeName = `${t.fullName}.${entry}`;
      } else {
        fd.label = f.repeated ? LABEL_REPEATED : f.required && file.syntax === 'proto2' ? LABEL_REQUIRED : LABEL_OPTIONAL;
        setType(fd, f, file);
        if (f.partOf) fd.oneofIndex = oneofIndex.get(f.partOf);
        if (f.options?.proto3_optional) fd.proto3Optional = true;
        if (f.repeated && file.syntax === 'proto2' && f.options?.packed) fd.options = { packed: true };
      }
      if (f.options?.deprecated) fd.options = { ...(fd.options ?? {}), deprecated: true };
      d.field.push(fd);
    }
    for (const n of t.nestedArray) {
      if (n instanceof protobuf.Type) d.nestedType.push(messageDescriptor(n, file));
      else if (n instanceof protobuf.Enum) d.enumType.push(enumDescriptor(n));
    }
    // Message reserved ranges are end-exclusive in descriptors, inclusive in protobufjs.
    const ranges = reservedRanges(t.reserved).map(([start, end]) => ({ start, end: end + 1 }));
    if (ranges.length) d.reservedRange = ranges;
    const names = reservedNames(t.reserved);
    if (names.length) d.reservedName = names;
    if (t.options?.deprecated) d.options = { deprecated: true };
    return d;
  };

  const setType = (fd: any, f: protobuf.Field, file: FileAcc) => {
    const scalar = SCALAR_TYPES[f.type];
    if (scalar !== undefined) {
      fd.type = scalar;
      return;
    }
    const target = f.resolvedType;
    if (!target) throw new Error(`reflection: unresolved type ${f.type} of ${f.fullName}`);
    fd.type = target instanceof protobuf.Enum ? TYPE_ENUM : f.delimited ? TYPE_GROUP : TYPE_MESSAGE;
    fd.typeName = reference(file, target);
  };

  const serviceDescriptor = (s: protobuf.Service, file: FileAcc) => ({
    name: s.name,
    method: s.methodsArray.map((m) => {
      m.resolve();
      const md: any = {
        name: m.name,
        inputType: reference(file, m.resolvedRequestType!),
        outputType: reference(file, m.resolvedResponseType!),
      };
      if (m.requestStream) md.clientStreaming = true;
      if (m.responseStream) md.serverStreaming = true;
      if (m.options?.deprecated) md.options = { deprecated: true };
      return md;
    }),
  });

  const walk = (ns: protobuf.NamespaceBase) => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type) {
        const f = acc(obj);
        f.messageType.push(messageDescriptor(obj, f));
      } else if (obj instanceof protobuf.Enum) {
        acc(obj).enumType.push(enumDescriptor(obj));
      } else if (obj instanceof protobuf.Service) {
        const f = acc(obj);
        f.service.push(serviceDescriptor(obj, f));
      } else if (obj instanceof protobuf.Namespace) {
        walk(obj);
      }
    }
  };
  walk(root);

  // A dependency that defines no message, enum or service (a file of custom options, say)
  // still needs a descriptor, or clients that fetch every dependency fail on it.
  for (const f of [...files.values()]) {
    for (const dep of [...imports(f.name), ...f.dependency]) {
      if (!files.has(dep)) {
        files.set(dep, { name: dep, pkg: '', syntax: 'proto3', dependency: new Set(), messageType: [], enumType: [], service: [] });
      }
    }
  }

  return [...files.values()].map((f) => {
    // The file's own imports in declaration order (protoc keeps unused ones too), then any
    // dependency found through references that the import list did not name.
    const declared = imports(f.name);
    const dependency = [...declared, ...[...f.dependency].filter((d) => !declared.includes(d)).sort()];
    const obj: any = {
      name: f.name,
      dependency,
      messageType: f.messageType,
      enumType: f.enumType,
      service: f.service,
      syntax: f.syntax,
    };
    if (f.pkg) obj.package = f.pkg;
    const message = descriptor.FileDescriptorProto.fromObject(obj);
    return Buffer.from(descriptor.FileDescriptorProto.encode(message).finish());
  });
}

const MAX_FIELD = 536870911;
const MAX_ENUM = 2147483647;

function reservedRanges(reserved: Array<number[] | string> | undefined): Array<[number, number]> {
  return (reserved ?? []).filter((r): r is number[] => Array.isArray(r)).map((r) => [r[0], r[1]]);
}

function reservedNames(reserved: Array<number[] | string> | undefined): string[] {
  return (reserved ?? []).filter((r): r is string => typeof r === 'string');
}

/** The files a .proto source imports, in order (`import "x";`, `import public "x";`, `import weak "x";`). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const m of text.matchAll(/^\s*import\s+(?:public\s+|weak\s+)?["']([^"']+)["']\s*;/gm)) out.push(m[1]);
  return out;
}

/** A namespace that is a package component rather than a message (which is also a namespace). */
function isPackage(o: protobuf.ReflectionObject): boolean {
  return o instanceof protobuf.Namespace && !(o instanceof protobuf.Type) && !(o instanceof protobuf.Service);
}

/** The oneof protobufjs creates for a proto3 `optional` field ('_name', holding just that field). */
function isSyntheticOneof(o: protobuf.OneOf): boolean {
  return o.fieldsArray.length === 1 && !!o.fieldsArray[0].options?.proto3_optional;
}
