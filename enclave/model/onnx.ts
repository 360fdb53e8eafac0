// A minimal ONNX writer: the few onnx.proto messages our graphs need, encoded by hand as protobuf, byte-stable
// (fields in ascending order, floats as little-endian raw_data), so the same weights always give the same file and
// hash. Also reads back the model's metadata_props, which the runtime checks against this build.

// onnx.proto field numbers (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto), named so each is checkable.
const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  docString: 6,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
} as const;
const OPSET_ID = { domain: 1, version: 2 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 } as const;
const ATTRIBUTE = { name: 1, f: 2, i: 3, type: 20 } as const;
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensorType: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIM = { dimValue: 1, dimParam: 2 } as const;
const STRING_ENTRY = { key: 1, value: 2 } as const;
const DATA_TYPE = { FLOAT: 1, INT64: 7 } as const;

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export const IR_VERSION = 8;
export const OPSET_VERSION = 13;

/** Protobuf message builder: appends fields in the order they are written. */
class Msg {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }

  private varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError('onnx: varint must be a non-negative safe integer');
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    this.key(field, WIRE_VARINT);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, WIRE_I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Msg): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export type Dim = number | string;
export type Attr = { name: string; int?: number; float?: number };
export type Node = { opType: string; inputs: string[]; outputs: string[]; name: string; attrs?: Attr[] };
export type Initializer = { name: string; dims: number[]; float32?: ArrayLike<number>; int64?: number[] };
export type IoSpec = { name: string; dims: Dim[] };
export type GraphSpec = {
  name: string;
  nodes: Node[];
  initializers: Initializer[];
  inputs: IoSpec[];
  outputs: IoSpec[];
  docString: string;
  metadata: Record<string, string>;
};

function tensorMsg(t: Initializer): Msg {
  const m = new Msg();
  for (const d of t.dims) m.int(TENSOR.dims, d);
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.float32) {
    if (t.float32.length !== count)
      throw new RangeError(`onnx: initializer ${t.name} has ${t.float32.length} values for ${count}`);
    m.int(TENSOR.dataType, DATA_TYPE.FLOAT);
    m.string(TENSOR.name, t.name);
    const raw = new Uint8Array(count * 4);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) dv.setFloat32(i * 4, t.float32[i] as number, true);
    m.bytes(TENSOR.rawData, raw);
  } else if (t.int64) {
    if (t.int64.length !== count)
      throw new RangeError(`onnx: initializer ${t.name} has ${t.int64.length} values for ${count}`);
    m.int(TENSOR.dataType, DATA_TYPE.INT64);
    m.string(TENSOR.name, t.name);
    const raw = new Uint8Array(count * 8);
    const dv = new DataView(raw.buffer);
    t.int64.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    m.bytes(TENSOR.rawData, raw);
  } else {
    throw new RangeError(`onnx: initializer ${t.name} has no data`);
  }
  return m;
}

function valueInfo(io: IoSpec): Msg {
  const shape = new Msg();
  for (const d of io.dims) {
    shape.msg(SHAPE.dim, typeof d === 'number' ? new Msg().int(DIM.dimValue, d) : new Msg().string(DIM.dimParam, d));
  }
  const tensorType = new Msg().int(TENSOR_TYPE.elemType, DATA_TYPE.FLOAT).msg(TENSOR_TYPE.shape, shape);
  return new Msg().string(VALUE_INFO.name, io.name).msg(VALUE_INFO.type, new Msg().msg(TYPE.tensorType, tensorType));
}

function nodeMsg(n: Node): Msg {
  const m = new Msg();
  for (const i of n.inputs) m.string(NODE.input, i);
  for (const o of n.outputs) m.string(NODE.output, o);
  m.string(NODE.name, n.name).string(NODE.opType, n.opType);
  for (const a of n.attrs ?? []) {
    const am = new Msg().string(ATTRIBUTE.name, a.name);
    if (a.float !== undefined) am.float(ATTRIBUTE.f, a.float).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.FLOAT);
    else if (a.int !== undefined) am.int(ATTRIBUTE.i, a.int).int(ATTRIBUTE.type, ATTRIBUTE_TYPE.INT);
    else throw new RangeError(`onnx: attribute ${a.name} has no value`);
    m.msg(NODE.attribute, am);
  }
  return m;
}

/** Encodes a complete ModelProto (IR 8, default-domain opset 13). */
export function encodeModel(g: GraphSpec): Uint8Array {
  const graph = new Msg();
  for (const n of g.nodes) graph.msg(GRAPH.node, nodeMsg(n));
  graph.string(GRAPH.name, g.name);
  for (const t of g.initializers) graph.msg(GRAPH.initializer, tensorMsg(t));
  for (const i of g.inputs) graph.msg(GRAPH.input, valueInfo(i));
  for (const o of g.outputs) graph.msg(GRAPH.output, valueInfo(o));
  const model = new Msg()
    .int(MODEL.irVersion, IR_VERSION)
    .string(MODEL.producerName, 'props')
    .string(MODEL.producerVersion, '1')
    .string(MODEL.docString, g.docString)
    .msg(MODEL.graph, graph)
    .msg(MODEL.opsetImport, new Msg().string(OPSET_ID.domain, '').int(OPSET_ID.version, OPSET_VERSION));
  // Sorted keys: the file does not depend on object insertion order.
  for (const k of Object.keys(g.metadata).sort()) {
    model.msg(
      MODEL.metadataProps,
      new Msg().string(STRING_ENTRY.key, k).string(STRING_ENTRY.value, g.metadata[k] as string),
    );
  }
  return model.finish();
}

// ------------------------------------------------------------------ reading metadata back

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new RangeError('protobuf: truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    throw new RangeError('protobuf: varint too long');
  }
  skip(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new RangeError('protobuf: truncated field');
    this.pos += n;
  }
  bytes(): Uint8Array {
    const n = this.varint();
    const start = this.pos;
    this.skip(n);
    return this.buf.subarray(start, start + n);
  }
  skipField(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.skip(8);
    else if (wire === WIRE_LEN) this.skip(this.varint());
    else if (wire === WIRE_I32) this.skip(4);
    else throw new RangeError(`protobuf: unsupported wire type ${wire}`);
  }
}

/** The ModelProto's metadata_props as a map; throws RangeError on a malformed protobuf. */
export function readModelMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder('utf-8', { fatal: true });
  const r = new Reader(bytes);
  while (!r.done) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === MODEL.metadataProps && wire === WIRE_LEN) {
      const e = new Reader(r.bytes());
      let k: string | undefined;
      let v: string | undefined;
      while (!e.done) {
        const ek = e.varint();
        if (Math.floor(ek / 8) === STRING_ENTRY.key && ek % 8 === WIRE_LEN) k = dec.decode(e.bytes());
        else if (Math.floor(ek / 8) === STRING_ENTRY.value && ek % 8 === WIRE_LEN) v = dec.decode(e.bytes());
        else e.skipField(ek % 8);
      }
      if (k !== undefined) out[k] = v ?? '';
    } else {
      r.skipField(wire);
    }
  }
  return out;
}
