import { describe, expect, it } from 'vitest';
import { encodeModel, readModelMetadata, type GraphSpec } from './onnx.ts';

const spec = (metadata: Record<string, string>): GraphSpec => ({
  name: 'g',
  docString: 'd',
  nodes: [{ name: 'n', opType: 'Sigmoid', inputs: ['x'], outputs: ['y'] }],
  initializers: [{ name: 'w', dims: [2], float32: [1.5, -2] }],
  inputs: [{ name: 'x', dims: ['batch', 2] }],
  outputs: [{ name: 'y', dims: ['batch', 2] }],
  metadata,
});

describe('hand-written ONNX encoder', () => {
  it('is byte-stable regardless of metadata insertion order', () => {
    const a = encodeModel(spec({ a: '1', b: 'ü' }));
    const b = encodeModel(spec({ b: 'ü', a: '1' }));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('round-trips metadata_props', () => {
    expect(readModelMetadata(encodeModel(spec({ 'props.model': 'x', k: 'v'.repeat(300) })))).toEqual({
      'props.model': 'x',
      k: 'v'.repeat(300),
    });
  });

  it('rejects truncated protobuf', () => {
    const bytes = encodeModel(spec({ a: '1' }));
    expect(() => readModelMetadata(bytes.subarray(0, bytes.length - 3))).toThrow(RangeError);
  });

  it('refuses initializers whose data does not match their shape', () => {
    expect(() => encodeModel({ ...spec({}), initializers: [{ name: 'w', dims: [3], float32: [1] }] })).toThrow(
      RangeError,
    );
  });
});
