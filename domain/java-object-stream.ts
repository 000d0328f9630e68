/**
 * A reader of the subset of Java's object serialization stream format that Flink's checkpoint
 * metadata (format version ≥ 4) ends with: one `CheckpointProperties` object written by
 * `ObjectOutputStream.writeObject` (Flink `MetadataV4Serializer`). Pure: bytes in, values out.
 *
 * Grammar followed: Java Object Serialization Specification, chapter 6 "Object Serialization
 * Stream Protocol" (terminal constants `TC_*`, `SC_*` flags, `STREAM_MAGIC` 0xACED, version 5).
 * Supported: plain serializable objects (also with a custom `writeObject`: its field values and
 * then annotations up to `TC_ENDBLOCKDATA`), enums, strings, arrays, null and back-references.
 * Not supported (raise `JavaStreamError`): Externalizable classes, proxy class descriptors,
 * exceptions written into the stream, resets.
 */

/** A decoded Java object: its class name and its serialized fields (all classes of the hierarchy merged). */
export interface JavaObject {
  kind: 'object';
  className: string;
  fields: Record<string, JavaValue>;
}

/** A decoded enum constant. */
export interface JavaEnum {
  kind: 'enum';
  className: string;
  constant: string;
}

/** A decoded array (primitive elements as numbers/bigints/booleans). */
export interface JavaArray {
  kind: 'array';
  className: string;
  elements: JavaValue[];
}

/** What the reader yields for a value in the stream. */
export type JavaValue = JavaObject | JavaEnum | JavaArray | string | number | bigint | boolean | null;

/** The stream is not the subset of Java serialization this reader knows. */
export class JavaStreamError extends Error {
  override readonly name = 'JavaStreamError';
}

const STREAM_MAGIC = 0xaced;
const STREAM_VERSION = 5;
const BASE_HANDLE = 0x7e0000;

const TC_NULL = 0x70;
const TC_REFERENCE = 0x71;
const TC_CLASSDESC = 0x72;
const TC_OBJECT = 0x73;
const TC_STRING = 0x74;
const TC_ARRAY = 0x75;
const TC_CLASS = 0x76;
const TC_BLOCKDATA = 0x77;
const TC_ENDBLOCKDATA = 0x78;
const TC_LONGSTRING = 0x7c;
const TC_PROXYCLASSDESC = 0x7d;
const TC_ENUM = 0x7e;
const TC_BLOCKDATALONG = 0x7a;

const SC_WRITE_METHOD = 0x01;
const SC_SERIALIZABLE = 0x02;
const SC_EXTERNALIZABLE = 0x04;

interface FieldDesc {
  type: string;
  name: string;
}

interface ClassDesc {
  name: string;
  flags: number;
  fields: FieldDesc[];
  superDesc: ClassDesc | null;
}

/** Big-endian cursor over a byte array; every read checks bounds. */
export class ByteCursor {
  private readonly view: DataView;
  pos: number;

  /**
   * @param bytes the input
   * @param start first byte to read
   * @param onError builds the error raised when a read would pass the end
   */
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    private readonly onError: (message: string) => Error,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, what: string): number {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw this.onError(`truncated: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what = 'byte'): number {
    return this.view.getUint8(this.need(1, what));
  }
  i8(what = 'byte'): number {
    return this.view.getInt8(this.need(1, what));
  }
  u16(what = 'short'): number {
    return this.view.getUint16(this.need(2, what));
  }
  i16(what = 'short'): number {
    return this.view.getInt16(this.need(2, what));
  }
  i32(what = 'int'): number {
    return this.view.getInt32(this.need(4, what));
  }
  i64(what = 'long'): bigint {
    return this.view.getBigInt64(this.need(8, what));
  }
  f32(what = 'float'): number {
    return this.view.getFloat32(this.need(4, what));
  }
  f64(what = 'double'): number {
    return this.view.getFloat64(this.need(8, what));
  }
  /** A Java `long` that must fit a JS number exactly (sizes, offsets, ids). */
  safeLong(what = 'long'): number {
    const v = this.i64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw this.onError(`${what} ${v} at offset ${this.pos - 8} does not fit a safe integer`);
    }
    return Number(v);
  }
  take(n: number, what = 'bytes'): Uint8Array {
    const at = this.need(n, what);
    return this.bytes.subarray(at, at + n);
  }
  /** `DataOutput.writeUTF`: unsigned 16-bit length, then modified UTF-8. */
  utf(what = 'string'): string {
    const len = this.u16(`${what} length`);
    return decodeModifiedUtf8(this.take(len, what), (m) => this.onError(`${what}: ${m}`));
  }
}

/**
 * Decodes Java's "modified UTF-8" (`java.io.DataInput` docs): 1–3 byte sequences only, NUL as
 * 0xC0 0x80, characters outside the BMP as two 3-byte surrogates.
 */
export function decodeModifiedUtf8(bytes: Uint8Array, onError: (message: string) => Error): string {
  const units: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const a = bytes[i]!;
    if (a < 0x80) {
      units.push(a);
      i += 1;
    } else if ((a & 0xe0) === 0xc0 && i + 1 < bytes.length && (bytes[i + 1]! & 0xc0) === 0x80) {
      units.push(((a & 0x1f) << 6) | (bytes[i + 1]! & 0x3f));
      i += 2;
    } else if (
      (a & 0xf0) === 0xe0 && i + 2 < bytes.length &&
      (bytes[i + 1]! & 0xc0) === 0x80 && (bytes[i + 2]! & 0xc0) === 0x80
    ) {
      units.push(((a & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f));
      i += 3;
    } else {
      throw onError(`malformed modified UTF-8 byte 0x${a.toString(16)} at ${i}`);
    }
  }
  let out = '';
  for (let i = 0; i < units.length; i += 8192) out += String.fromCharCode(...units.slice(i, i + 8192));
  return out;
}

/**
 * Reads one object written by `ObjectOutputStream.writeObject` from `bytes[start..]`.
 * @returns the value and the offset after it
 * @throws JavaStreamError when the stream is malformed, truncated or uses what this reader does not support
 */
export function readJavaObject(bytes: Uint8Array, start: number): { value: JavaValue; end: number } {
  const c = new ByteCursor(bytes, start, (m) => new JavaStreamError(`Java serialization stream: ${m}`));
  const magic = c.u16('stream magic');
  const version = c.u16('stream version');
  if (magic !== STREAM_MAGIC || version !== STREAM_VERSION) {
    throw new JavaStreamError(
      `Java serialization stream: expected magic 0xaced version 5 at offset ${start}, got 0x${magic.toString(16)} version ${version}`,
    );
  }
  const handles: unknown[] = [];
  const fail = (m: string): JavaStreamError => new JavaStreamError(`Java serialization stream at offset ${c.pos}: ${m}`);
  const newHandle = (v: unknown): number => handles.push(v) - 1;
  const deref = (): unknown => {
    const h = c.i32('handle') - BASE_HANDLE;
    if (h < 0 || h >= handles.length) throw fail(`reference to unknown handle ${h + BASE_HANDLE}`);
    return handles[h];
  };

  const readClassDesc = (): ClassDesc | null => {
    const tc = c.u8('class descriptor tag');
    if (tc === TC_NULL) return null;
    if (tc === TC_REFERENCE) {
      const d = deref();
      if (!d || typeof d !== 'object' || !('fields' in d)) throw fail('reference is not a class descriptor');
      return d as ClassDesc;
    }
    if (tc === TC_PROXYCLASSDESC) throw fail('proxy class descriptors are not supported');
    if (tc !== TC_CLASSDESC) throw fail(`expected a class descriptor, got tag 0x${tc.toString(16)}`);
    const name = c.utf('class name');
    c.i64('serialVersionUID');
    const desc: ClassDesc = { name, flags: 0, fields: [], superDesc: null };
    newHandle(desc);
    desc.flags = c.u8('class flags');
    const n = c.i16('field count');
    for (let i = 0; i < n; i++) {
      const type = String.fromCharCode(c.u8('field type'));
      const fieldName = c.utf('field name');
      if (type === 'L' || type === '[') {
        const sig = readContent();
        if (typeof sig !== 'string') throw fail(`field ${fieldName}: class name is not a string`);
      } else if (!'BCDFIJSZ'.includes(type)) {
        throw fail(`field ${fieldName}: unknown type code ${JSON.stringify(type)}`);
      }
      desc.fields.push({ type, name: fieldName });
    }
    skipAnnotations();
    desc.superDesc = readClassDesc();
    return desc;
  };

  const skipAnnotations = (): void => {
    for (;;) {
      const tc = c.u8('annotation tag');
      if (tc === TC_ENDBLOCKDATA) return;
      if (tc === TC_BLOCKDATA) c.take(c.u8('block length'), 'block data');
      else if (tc === TC_BLOCKDATALONG) c.take(c.i32('block length'), 'block data');
      else {
        c.pos -= 1;
        readContent();
      }
    }
  };

  const readPrimitive = (type: string): JavaValue => {
    switch (type) {
      case 'B': return c.i8();
      case 'C': return String.fromCharCode(c.u16('char'));
      case 'D': return c.f64();
      case 'F': return c.f32();
      case 'I': return c.i32();
      case 'J': return c.i64();
      case 'S': return c.i16();
      case 'Z': return c.u8('boolean') !== 0;
      default: throw fail(`unknown primitive type ${type}`);
    }
  };

  const readContent = (): JavaValue => {
    const tc = c.u8('content tag');
    switch (tc) {
      case TC_NULL:
        return null;
      case TC_REFERENCE:
        return deref() as JavaValue;
      case TC_STRING: {
        const s = c.utf('string');
        newHandle(s);
        return s;
      }
      case TC_LONGSTRING: {
        const len = c.i64('long string length');
        const s = decodeModifiedUtf8(c.take(Number(len), 'long string'), fail);
        newHandle(s);
        return s;
      }
      case TC_ENUM: {
        const desc = readClassDesc();
        const value: JavaEnum = { kind: 'enum', className: desc?.name ?? '?', constant: '' };
        newHandle(value);
        const constant = readContent();
        if (typeof constant !== 'string') throw fail('enum constant name is not a string');
        value.constant = constant;
        return value;
      }
      case TC_CLASS: {
        const desc = readClassDesc();
        const value = { kind: 'object', className: 'java.lang.Class', fields: { name: desc?.name ?? null } } as JavaObject;
        newHandle(value);
        return value;
      }
      case TC_ARRAY: {
        const desc = readClassDesc();
        const name = desc?.name ?? '?';
        const value: JavaArray = { kind: 'array', className: name, elements: [] };
        newHandle(value);
        const size = c.i32('array size');
        const elementType = name.charAt(1);
        for (let i = 0; i < size; i++) {
          value.elements.push(elementType === 'L' || elementType === '[' ? readContent() : readPrimitive(elementType));
        }
        return value;
      }
      case TC_OBJECT: {
        const desc = readClassDesc();
        if (!desc) throw fail('object without a class descriptor');
        const value: JavaObject = { kind: 'object', className: desc.name, fields: {} };
        newHandle(value);
        const chain: ClassDesc[] = [];
        for (let d: ClassDesc | null = desc; d; d = d.superDesc) chain.unshift(d);
        for (const d of chain) {
          if (d.flags & SC_EXTERNALIZABLE) throw fail(`${d.name} is Externalizable, which is not supported`);
          if (!(d.flags & SC_SERIALIZABLE)) continue;
          for (const f of d.fields) {
            value.fields[f.name] = f.type === 'L' || f.type === '[' ? readContent() : readPrimitive(f.type);
          }
          if (d.flags & SC_WRITE_METHOD) skipAnnotations();
        }
        return value;
      }
      default:
        throw fail(`unsupported content tag 0x${tc.toString(16)}`);
    }
  };

  const value = readContent();
  return { value, end: c.pos };
}
