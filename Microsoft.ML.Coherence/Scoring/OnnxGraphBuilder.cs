using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>
/// A small helper over the ONNX protobuf classes: adds nodes and initializers to one graph
/// and hands out unique value names, so that <see cref="OnnxEncoderWriter"/> reads as the
/// forward pass it writes.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private int _next;

    /// <summary>The graph being built.</summary>
    public GraphProto Graph { get; } = new() { Name = "coherence_encoder" };

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string opType, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var output = $"{opType.ToLowerInvariant()}_{_next++}";
        Node(opType, inputs, output, attributes);
        return output;
    }

    /// <summary>Adds a node whose single output has the given name.</summary>
    public void Node(string opType, IEnumerable<string> inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"n{_next++}_{opType}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
    }

    /// <summary>Adds a float initializer of the given shape and returns its name.</summary>
    public string Floats(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        if (BitConverter.IsLittleEndian)
        {
            // ONNX raw data is little-endian; one block copy instead of a repeated field.
            tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        }
        else
        {
            tensor.FloatData.AddRange(values.ToArray());
        }

        Graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds an int64 initializer of the given shape and returns its name.</summary>
    public string Int64s(string name, long[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        Graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds a float scalar initializer and returns its name.</summary>
    public string Scalar(string name, float value) => Floats(name, [value]);

    /// <summary>Adds a 1-D int64 initializer and returns its name.</summary>
    public string Vector(string name, params long[] values) => Int64s(name, values, values.Length);

    /// <summary>An integer attribute.</summary>
    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An integer-list attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>Declares a graph input or output of the given element type and shape (a string is a symbolic dimension).</summary>
    public static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim switch
            {
                string symbol => new TensorShapeProto.Types.Dimension { DimParam = symbol },
                int size => new TensorShapeProto.Types.Dimension { DimValue = size },
                long size => new TensorShapeProto.Types.Dimension { DimValue = size },
                _ => throw new ArgumentException($"Unsupported dimension '{dim}'.", nameof(dims)),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
