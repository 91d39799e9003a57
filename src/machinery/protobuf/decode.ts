// Decodes request bodies in Kubernetes' protobuf encoding (what client-go and kubectl's typed
// clients send) into the JSON object the same client would have sent as JSON, so everything
// after decoding is shared with the JSON path.
//
// A body is the magic "k8s\0" and a runtime.Unknown message: typeMeta (1: apiVersion, 2: kind),
// raw (2: the object's own message), contentEncoding (3), contentType (4).

import { badRequest } from '../errors.js';
import { WireFormatError, WireReader, WIRE_LEN, WIRE_TYPE_NAMES, WIRE_VARINT, type Tag } from './wire.js';
import { messageSpec, rootMessage, type FieldSpec, type FieldType, type MessageSpec } from './types.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** Unix seconds of Go's zero time.Time (January 1, year 1, UTC), which Kubernetes' JSON shows as null. */
const GO_ZERO_TIME_SECONDS = -62135596800;

/** Nesting of messages at most; the served types nest far less, and the bound keeps the stack safe. */
const MAX_DEPTH = 64;

const utf8 = new TextDecoder('utf-8');

export interface DecodedObject {
  apiVersion: string;
  kind: string;
  /** The object as JSON would carry it, apiVersion and kind included. */
  object: Record<string, unknown>;
}

/** Decodes a protobuf request body; a body that is not one throws a 400 BadRequest StatusError. */
export function decodeKubernetesProtobuf(body: Uint8Array): DecodedObject {
  if (body.length < MAGIC.length || MAGIC.some((b, i) => body[i] !== b)) {
    throw badRequest('the request body is not Kubernetes protobuf: it does not start with the "k8s\\x00" prefix');
  }
  try {
    return decodeUnknown(body.subarray(MAGIC.length));
  } catch (err) {
    if (err instanceof WireFormatError) throw badRequest(`the request body is not valid Kubernetes protobuf: ${err.message}`);
    throw err;
  }
}

function decodeUnknown(bytes: Uint8Array): DecodedObject {
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array(0);
  let contentEncoding = '';
  const r = new WireReader(bytes);
  while (!r.done) {
    const tag = r.tag();
    switch (tag.field) {
      case 1: {
        const typeMeta = new WireReader(expectLen(r, tag, 'runtime.Unknown'));
        while (!typeMeta.done) {
          const t = typeMeta.tag();
          if (t.field === 1) apiVersion = utf8.decode(expectLen(typeMeta, t, 'runtime.TypeMeta'));
          else if (t.field === 2) kind = utf8.decode(expectLen(typeMeta, t, 'runtime.TypeMeta'));
          else typeMeta.skip(t);
        }
        break;
      }
      case 2:
        raw = expectLen(r, tag, 'runtime.Unknown');
        break;
      case 3:
        contentEncoding = utf8.decode(expectLen(r, tag, 'runtime.Unknown'));
        break;
      default:
        r.skip(tag);
    }
  }
  if (contentEncoding !== '') throw badRequest(`unsupported protobuf content encoding "${contentEncoding}"`);
  if (kind === '') throw badRequest("Object 'Kind' is missing in the protobuf request body");
  const spec = rootMessage(apiVersion, kind);
  if (!spec) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}" in berth's protobuf decoder`);
  const object: Record<string, unknown> = { kind, apiVersion };
  decodeMessage(raw, spec, object, 0);
  return { apiVersion, kind, object };
}

/** Decodes one message into target; a message field seen twice merges, as protobuf decoders do. */
function decodeMessage(bytes: Uint8Array, spec: MessageSpec, target: Record<string, unknown>, depth: number): void {
  if (depth > MAX_DEPTH) throw new WireFormatError('messages are nested too deeply');
  const r = new WireReader(bytes);
  while (!r.done) {
    const tag = r.tag();
    const field = spec.fields.get(tag.field);
    if (!field) {
      // A field newer than these tables: Kubernetes drops unknown protobuf fields too.
      r.skip(tag);
      continue;
    }
    if (field.map) {
      const [key, value] = decodeMapEntry(expectLen(r, tag, spec.name), field, spec.name, depth);
      let map = target[field.json] as Record<string, unknown> | undefined;
      if (map === undefined) setOwn(target, field.json, (map = {}));
      setOwn(map, key, value);
    } else if (field.repeated) {
      const values: unknown[] = [];
      if (tag.wireType === WIRE_LEN && isVarintKind(field.type)) {
        // A packed repeated scalar: one length-delimited run of varints.
        const packed = new WireReader(r.bytes());
        while (!packed.done) values.push(readVarintValue(packed, field.type));
      } else {
        values.push(readValue(r, tag, field.type, spec.name, depth));
      }
      const list = target[field.json] as unknown[] | undefined;
      if (list) for (const value of values) list.push(value);
      else if (values.length > 0) setOwn(target, field.json, values);
    } else if (field.type.kind === 'message') {
      // An inlined message's fields land in this object, as Go's ",inline" JSON shows them.
      const existing = field.inline ? target : target[field.json];
      const into = isPlainObject(existing) ? existing : {};
      decodeMessage(expectLen(r, tag, spec.name), messageSpec(field.type.message), into, depth + 1);
      if (!field.inline) setOwn(target, field.json, into);
    } else {
      const value = readValue(r, tag, field.type, spec.name, depth);
      if (field.omitZero && (value === '' || value === 0 || value === false)) delete target[field.json];
      else setOwn(target, field.json, value);
    }
  }
}

function decodeMapEntry(bytes: Uint8Array, field: FieldSpec, message: string, depth: number): [string, unknown] {
  const where = `${message} field ${field.number} entry`;
  let key = '';
  let value: unknown;
  const r = new WireReader(bytes);
  while (!r.done) {
    const tag = r.tag();
    if (tag.field === 1) key = utf8.decode(expectLen(r, tag, where));
    else if (tag.field === 2) value = readValue(r, tag, field.type, where, depth);
    else r.skip(tag);
  }
  // An entry without a value holds the zero value of the map's value type.
  return [key, value === undefined ? zeroValue(field.type) : value];
}

/** Reads one value of a non-inline field (a whole message when the type is one). */
function readValue(r: WireReader, tag: Tag, type: FieldType, message: string, depth: number): unknown {
  switch (type.kind) {
    case 'int32':
    case 'int64':
    case 'bool':
      if (tag.wireType !== WIRE_VARINT) throw wrongWireType(tag, WIRE_VARINT, message);
      return readVarintValue(r, type);
    case 'string':
      return utf8.decode(expectLen(r, tag, message));
    case 'bytes':
      return base64(expectLen(r, tag, message));
    case 'time':
      return decodeTime(expectLen(r, tag, message), false);
    case 'microtime':
      return decodeTime(expectLen(r, tag, message), true);
    case 'quantity':
      return decodeQuantity(expectLen(r, tag, message));
    case 'intOrString':
      return decodeIntOrString(expectLen(r, tag, message));
    case 'json':
      return decodeRawJSON(expectLen(r, tag, message));
    case 'message': {
      const object: Record<string, unknown> = {};
      decodeMessage(expectLen(r, tag, message), messageSpec(type.message), object, depth + 1);
      return object;
    }
  }
}

function isVarintKind(type: FieldType): boolean {
  return type.kind === 'int32' || type.kind === 'int64' || type.kind === 'bool';
}

function readVarintValue(r: WireReader, type: FieldType): number | boolean {
  if (type.kind === 'int32') return r.int32();
  if (type.kind === 'int64') return r.int64();
  return r.bool();
}

function zeroValue(type: FieldType): unknown {
  switch (type.kind) {
    case 'string':
    case 'bytes':
      return '';
    case 'int32':
    case 'int64':
    case 'intOrString':
      return 0;
    case 'bool':
      return false;
    case 'quantity':
      return '0';
    case 'time':
    case 'microtime':
    case 'json':
      return null;
    case 'message':
      return {};
  }
}

/**
 * meta/v1 Time and MicroTime: {1: seconds, 2: nanos} as RFC 3339 in UTC, whole seconds for Time
 * and microseconds for MicroTime; Go's zero time (an empty message) is null.
 */
function decodeTime(bytes: Uint8Array, micro: boolean): string | null {
  if (bytes.length === 0) return null;
  let seconds = 0;
  let nanos = 0;
  const r = new WireReader(bytes);
  while (!r.done) {
    const tag = r.tag();
    if (tag.field === 1 || tag.field === 2) {
      if (tag.wireType !== WIRE_VARINT) throw wrongWireType(tag, WIRE_VARINT, 'meta.v1.Time');
      if (tag.field === 1) seconds = r.int64();
      else nanos = r.int32();
    } else r.skip(tag);
  }
  // Go's time.Unix carries nanoseconds outside [0, 1e9) into the seconds.
  seconds += Math.floor(nanos / 1e9);
  nanos = ((nanos % 1e9) + 1e9) % 1e9;
  if (seconds === GO_ZERO_TIME_SECONDS && nanos === 0) return null;
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new WireFormatError(`time ${seconds}s is out of range`);
  const year = date.getUTCFullYear();
  const yyyy = year < 0 ? `-${String(-year).padStart(4, '0')}` : String(year).padStart(4, '0');
  const two = (n: number) => String(n).padStart(2, '0');
  let text = `${yyyy}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}T${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  if (micro) text += `.${String(Math.floor(nanos / 1000)).padStart(6, '0')}`;
  return `${text}Z`;
}

/** resource.Quantity: {1: string}; the zero Quantity is "0". */
function decodeQuantity(bytes: Uint8Array): string {
  let text = '0';
  const r = new WireReader(bytes);
  while (!r.done) {
    const tag = r.tag();
    if (tag.field === 1) text = utf8.decode(expectLen(r, tag, 'resource.Quantity'));
    else r.skip(tag);
  }
  return text;
}

/** intstr.IntOrString: {1: type (0 int, 1 string), 2: intVal, 3: strVal} as a number or a string. */
function decodeIntOrString(bytes: Uint8Array): number | string {
  let type = 0;
  let intVal = 0;
  let strVal = '';
  const r = new WireReader(bytes);
  while (!r.done) {
    const tag = r.tag();
    if (tag.field === 1 || tag.field === 2) {
      if (tag.wireType !== WIRE_VARINT) throw wrongWireType(tag, WIRE_VARINT, 'intstr.IntOrString');
      if (tag.field === 1) type = r.int64();
      else intVal = r.int32();
    } else if (tag.field === 3) strVal = utf8.decode(expectLen(r, tag, 'intstr.IntOrString'));
    else r.skip(tag);
  }
  if (type === 0) return intVal;
  if (type === 1) return strVal;
  throw new WireFormatError(`IntOrString has an invalid type ${type}`);
}

/** runtime.RawExtension and meta/v1 FieldsV1: {1: raw}, raw bytes holding JSON; none is null. */
function decodeRawJSON(bytes: Uint8Array): unknown {
  let raw: Uint8Array = new Uint8Array(0);
  const r = new WireReader(bytes);
  while (!r.done) {
    const tag = r.tag();
    if (tag.field === 1) raw = expectLen(r, tag, 'runtime.RawExtension');
    else r.skip(tag);
  }
  if (raw.length === 0) return null;
  try {
    return JSON.parse(utf8.decode(raw));
  } catch {
    throw new WireFormatError('an embedded raw object is not JSON');
  }
}

function expectLen(r: WireReader, tag: Tag, message: string): Uint8Array {
  if (tag.wireType !== WIRE_LEN) throw wrongWireType(tag, WIRE_LEN, message);
  return r.bytes();
}

function wrongWireType(tag: Tag, expected: number, message: string): WireFormatError {
  return new WireFormatError(
    `field ${tag.field} of ${message} has wire type ${WIRE_TYPE_NAMES[tag.wireType]}, expected ${WIRE_TYPE_NAMES[expected]}`,
  );
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets an own property, even for keys such as "__proto__" that come from the wire as map keys. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
