// A reader for the Protocol Buffers wire format: just what decoding Kubernetes' protobuf
// request bodies needs. Every read is bounds-checked and every loop consumes input, so a
// malformed or hostile body ends in a WireFormatError, never in a crash or a hang.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

export const WIRE_TYPE_NAMES: readonly string[] = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

export class WireFormatError extends Error {}

export interface Tag {
  field: number;
  wireType: number;
}

/** Nesting of unknown groups skipped at most; far beyond anything a real encoder writes. */
const MAX_GROUP_DEPTH = 100;

export class WireReader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  tag(): Tag {
    const key = this.uint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new WireFormatError('field number 0 is not allowed');
    if (wireType > WIRE_FIXED32) throw new WireFormatError(`invalid wire type ${wireType} for field ${field}`);
    return { field, wireType };
  }

  /** An unsigned varint that must fit in 2^53 (tags, lengths). */
  uint(): number {
    const [lo, hi] = this.varint();
    if (hi > 0x1fffff) throw new WireFormatError('varint is too large');
    return hi * 0x100000000 + lo;
  }

  /** An int32 field: negative values are written as 64-bit two's complement; the low 32 bits carry it. */
  int32(): number {
    return this.varint()[0] | 0;
  }

  /** An int64 field, as a number (exact within ±2^53, as JSON numbers are in practice). */
  int64(): number {
    const [lo, hi] = this.varint();
    return (hi | 0) * 0x100000000 + lo;
  }

  bool(): boolean {
    const [lo, hi] = this.varint();
    return lo !== 0 || hi !== 0;
  }

  /** The payload of a length-delimited field, as a view into the input. */
  bytes(): Uint8Array {
    const length = this.uint();
    if (length > this.end - this.pos) {
      throw new WireFormatError(`length-delimited field of ${length} bytes runs past the end of its message`);
    }
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** Skips the value of a field this reader's caller does not know. */
  skip(tag: Tag): void {
    if (tag.wireType === WIRE_START_GROUP) {
      this.skipGroup(tag.field);
      return;
    }
    if (tag.wireType === WIRE_END_GROUP) throw new WireFormatError(`unexpected end-group for field ${tag.field}`);
    this.skipValue(tag.wireType);
  }

  private skipValue(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
    }
  }

  private skipGroup(field: number): void {
    const open = [field];
    while (open.length > 0) {
      if (this.done) throw new WireFormatError(`group for field ${open[open.length - 1]} is not closed`);
      const inner = this.tag();
      if (inner.wireType === WIRE_START_GROUP) {
        if (open.length >= MAX_GROUP_DEPTH) throw new WireFormatError('groups are nested too deeply');
        open.push(inner.field);
      } else if (inner.wireType === WIRE_END_GROUP) {
        const expected = open.pop();
        if (inner.field !== expected) throw new WireFormatError(`end-group for field ${inner.field} closes the group of field ${expected}`);
      } else {
        this.skipValue(inner.wireType);
      }
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new WireFormatError('fixed-width value runs past the end of its message');
    this.pos += n;
  }

  /** A varint as its low and high 32-bit halves (both unsigned). */
  private varint(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireFormatError('varint runs past the end of its message');
      const b = this.buf[this.pos++];
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new WireFormatError('varint is longer than 10 bytes');
  }
}
