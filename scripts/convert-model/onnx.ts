/**
 * The slice of the ONNX protobuf schema the converter writes, encoded with protobufjs.
 * Field numbers follow onnx/onnx.proto (IR version 7, opset 13); only the messages and fields a
 * plain inference graph needs are declared, so unknown-field handling never comes into play.
 */
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; }
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  optional AttributeType type = 20;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string domain = 7;
}
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
`;

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

export interface Attribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  ints?: number[];
}

export interface NodeDef {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute?: Attribute[];
}

export interface TensorDef {
  name: string;
  dataType: number;
  dims: number[];
  rawData: Uint8Array;
}

/** A dimension is a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;

export interface ValueInfoDef {
  name: string;
  elemType: number;
  shape: Dim[];
}

export interface ModelDef {
  producerName: string;
  producerVersion: string;
  docString: string;
  opset: number;
  graphName: string;
  nodes: NodeDef[];
  initializers: TensorDef[];
  inputs: ValueInfoDef[];
  outputs: ValueInfoDef[];
  metadata: Record<string, string>;
}

export const attr = {
  int: (name: string, i: number): Attribute => ({ name, type: AttrType.INT, i }),
  ints: (name: string, ints: number[]): Attribute => ({ name, type: AttrType.INTS, ints }),
  float: (name: string, f: number): Attribute => ({ name, type: AttrType.FLOAT, f }),
  string: (name: string, s: string): Attribute => ({
    name,
    type: AttrType.STRING,
    s: new TextEncoder().encode(s),
  }),
};

function valueInfo(v: ValueInfoDef): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: {
          dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

/**
 * Serialises a model. protobufjs writes fields in declaration order and the inputs here carry
 * no maps or timestamps, so equal definitions give byte-identical files.
 */
export function encodeModel(m: ModelDef): Uint8Array {
  const root = protobuf.parse(SCHEMA, { keepCase: false }).root;
  const ModelProto = root.lookupType('onnx.ModelProto');
  const payload = {
    irVersion: 7,
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    docString: m.docString,
    opsetImport: [{ domain: '', version: m.opset }],
    metadataProps: Object.keys(m.metadata)
      .sort()
      .map((key) => ({ key, value: m.metadata[key] })),
    graph: {
      name: m.graphName,
      node: m.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        input: n.input,
        output: n.output,
        attribute: n.attribute ?? [],
      })),
      initializer: m.initializers.map((t) => ({
        name: t.name,
        dataType: t.dataType,
        dims: t.dims,
        rawData: t.rawData,
      })),
      input: m.inputs.map(valueInfo),
      output: m.outputs.map(valueInfo),
    },
  };
  const err = ModelProto.verify(payload);
  if (err) throw new Error(`ONNX model does not match the schema: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(payload)).finish();
}
