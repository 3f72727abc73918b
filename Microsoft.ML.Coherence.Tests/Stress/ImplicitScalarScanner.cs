using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Microsoft.ML.Coherence.Tests.Stress;

/// <summary>
/// Finds calls that make TorchSharp create a Scalar nobody keeps alive. It reads IL, not source: a method of
/// TorchSharp "creates an implicit Scalar" when its body converts a number to a Scalar implicitly
/// (<c>Scalar.op_Implicit</c>) or calls a TorchSharp method that does (found by a fixed point over TorchSharp's
/// own call graph: <c>Tensor.add(Tensor)</c> calls <c>add(Tensor, 1)</c>, the <c>+</c> operator calls
/// <c>add(Tensor)</c>). A call site in the scanned assembly is reported when it converts a number implicitly
/// itself or calls such a method; a virtual <c>forward</c> of a TorchSharp module type the assembly uses is
/// reported when that type's override creates one.
/// </summary>
internal static class ImplicitScalarScanner
{
    private const string ScalarType = "TorchSharp.Scalar";

    public static IReadOnlyList<string> Scan(string assemblyPath, string torchSharpPath)
    {
        using var torch = new PEReader(File.OpenRead(torchSharpPath));
        var torchMetadata = torch.GetMetadataReader();
        var creating = CreatingMethods(torch, torchMetadata);

        using var scanned = new PEReader(File.OpenRead(assemblyPath));
        var metadata = scanned.GetMetadataReader();
        var findings = new List<string>();
        foreach (var handle in metadata.MethodDefinitions)
        {
            var method = metadata.GetMethodDefinition(handle);
            if (method.RelativeVirtualAddress == 0)
                continue;
            string caller = MethodKey(metadata, handle);
            foreach (var token in CallTokens(scanned.GetMethodBody(method.RelativeVirtualAddress)))
            {
                string? callee = CalleeKey(metadata, token);
                if (callee is null)
                    continue;
                if (callee.StartsWith(ScalarType + "::op_Implicit", StringComparison.Ordinal))
                    findings.Add($"{caller} converts a number to a Scalar implicitly");
                else if (creating.Contains(callee))
                    findings.Add($"{caller} calls {callee}, which creates a Scalar implicitly");
            }
        }

        // Module.forward is called virtually: check the overrides of the module types this assembly names.
        foreach (var handle in metadata.TypeReferences)
        {
            string name = TypeName(metadata, handle);
            foreach (var key in creating.Where(k => k.StartsWith(name + "::forward(", StringComparison.Ordinal)))
                findings.Add($"module {name} is used, and its {key} creates a Scalar implicitly");
        }
        return findings.Distinct().OrderBy(f => f, StringComparer.Ordinal).ToList();
    }

    /// <summary>TorchSharp methods whose call creates an implicit Scalar, directly or through other TorchSharp methods.</summary>
    private static HashSet<string> CreatingMethods(PEReader reader, MetadataReader metadata)
    {
        var callees = new Dictionary<string, List<string>>();
        var creating = new HashSet<string>(StringComparer.Ordinal);
        foreach (var handle in metadata.MethodDefinitions)
        {
            var method = metadata.GetMethodDefinition(handle);
            string key = MethodKey(metadata, handle);
            var list = new List<string>();
            if (method.RelativeVirtualAddress != 0)
            {
                foreach (var token in CallTokens(reader.GetMethodBody(method.RelativeVirtualAddress)))
                {
                    string? callee = CalleeKey(metadata, token);
                    if (callee is null)
                        continue;
                    if (callee.StartsWith(ScalarType + "::op_Implicit", StringComparison.Ordinal))
                        creating.Add(key);
                    else
                        list.Add(callee);
                }
            }
            callees[key] = list;
        }
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var (method, calls) in callees)
            {
                if (!creating.Contains(method) && calls.Any(creating.Contains))
                    changed = creating.Add(method) | changed;
            }
        }
        return creating;
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>The metadata tokens of call, callvirt, newobj and ldftn instructions in a method body.</summary>
    private static IEnumerable<int> CallTokens(MethodBodyBlock body)
    {
        var il = body.GetILBytes() ?? [];
        var tokens = new List<int>();
        for (int i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var opCode = OpCodesByValue[value];
            int size = OperandSize(opCode.OperandType, il, i);
            if (opCode == OpCodes.Call || opCode == OpCodes.Callvirt || opCode == OpCodes.Newobj || opCode == OpCodes.Ldftn)
                tokens.Add(BitConverter.ToInt32(il, i));
            i += size;
        }
        return tokens;
    }

    private static int OperandSize(OperandType type, byte[] il, int at) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };

    private static string? CalleeKey(MetadataReader metadata, int token)
    {
        var handle = MetadataTokens.EntityHandle(token);
        switch (handle.Kind)
        {
            case HandleKind.MethodDefinition:
                return MethodKey(metadata, (MethodDefinitionHandle)handle);
            case HandleKind.MemberReference:
            {
                var member = metadata.GetMemberReference((MemberReferenceHandle)handle);
                if (member.GetKind() != MemberReferenceKind.Method)
                    return null;
                string parent = member.Parent.Kind switch
                {
                    HandleKind.TypeReference => TypeName(metadata, (TypeReferenceHandle)member.Parent),
                    HandleKind.TypeDefinition => TypeName(metadata, (TypeDefinitionHandle)member.Parent),
                    HandleKind.TypeSpecification => metadata.GetTypeSpecification((TypeSpecificationHandle)member.Parent).DecodeSignature(Names.Instance, null),
                    _ => "?",
                };
                var signature = member.DecodeMethodSignature(Names.Instance, null);
                return Key(parent, metadata.GetString(member.Name), signature);
            }
            case HandleKind.MethodSpecification:
                return CalleeKey(metadata, MetadataTokens.GetToken(metadata.GetMethodSpecification((MethodSpecificationHandle)handle).Method));
            default:
                return null;
        }
    }

    private static string MethodKey(MetadataReader metadata, MethodDefinitionHandle handle)
    {
        var method = metadata.GetMethodDefinition(handle);
        return Key(TypeName(metadata, method.GetDeclaringType()), metadata.GetString(method.Name), method.DecodeSignature(Names.Instance, null));
    }

    private static string Key(string type, string name, MethodSignature<string> signature) =>
        $"{type}::{name}({string.Join(",", signature.ParameterTypes)})";

    private static string TypeName(MetadataReader metadata, TypeDefinitionHandle handle)
    {
        var type = metadata.GetTypeDefinition(handle);
        string name = metadata.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        return declaring.IsNil ? Join(metadata.GetString(type.Namespace), name) : TypeName(metadata, declaring) + "+" + name;
    }

    private static string TypeName(MetadataReader metadata, TypeReferenceHandle handle)
    {
        var type = metadata.GetTypeReference(handle);
        string name = metadata.GetString(type.Name);
        return type.ResolutionScope.Kind == HandleKind.TypeReference
            ? TypeName(metadata, (TypeReferenceHandle)type.ResolutionScope) + "+" + name
            : Join(metadata.GetString(type.Namespace), name);
    }

    private static string Join(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;

    /// <summary>Type names for signatures; generic instances are named by their definition so call sites match definitions.</summary>
    private sealed class Names : ISignatureTypeProvider<string, object?>
    {
        public static readonly Names Instance = new();
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[*]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => genericType;
        public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetPinnedType(string elementType) => elementType;
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => TypeName(reader, handle);
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => TypeName(reader, handle);
        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
    }
}
