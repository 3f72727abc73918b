using Microsoft.ML.Coherence.Internal;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Modules;

/// <summary>
/// Causal language model with tied input/output embeddings: 0 layers is the static mode (the
/// hidden state at t is the mean of the last <c>StaticContextSize</c> token embeddings), N layers
/// add learned positions, N pre-LN Transformer blocks and a final LayerNorm.
/// <see cref="forward"/> returns hidden states [B, T, d]; logits are hidden · Eᵀ.
/// </summary>
internal sealed class CoherenceLanguageModel : nn.Module<Tensor, Tensor>
{
    // Parameter keys: "embedding", "output", "positions", "blocks.N.*", "final_norm.*".
    private readonly Parameter embedding;
    private readonly Parameter? output;
    private readonly Parameter? positions;
    private readonly ModuleList<CausalTransformerBlock> blocks;
    private readonly LayerNorm? final_norm;
    private readonly int _staticContextSize;

    // generator: the fit's own random generator, every initial weight's source (libtorch's global one is the application's);
    // null draws from a private generator seeded 0.
    public CoherenceLanguageModel(int vocabularySize, int dimension, int layers, int heads, int contextLength, int staticContextSize,
        bool tieOutput = true, Generator? generator = null)
        : base(nameof(CoherenceLanguageModel))
    {
        using var ownGenerator = generator is null ? new Generator(0) : null;
        var random = generator ?? ownGenerator!;
        VocabularySize = vocabularySize;
        Dimension = dimension;
        Heads = heads;
        ContextLength = contextLength;
        _staticContextSize = staticContextSize;
        // Small initial norms make every logit close to 0, so an untrained model's perplexity is about |V|.
        embedding = SmallNormal(vocabularySize, dimension, random);
        if (!tieOutput)
            output = SmallNormal(vocabularySize, dimension, random);
        blocks = nn.ModuleList<CausalTransformerBlock>();
        if (layers > 0)
        {
            positions = SmallNormal(contextLength, dimension, random);
            for (int i = 0; i < layers; i++)
                blocks.Add(new CausalTransformerBlock(dimension, heads, random));
            final_norm = nn.LayerNorm(dimension, eps: CoherenceEncoderWeights.LayerNormEpsilon);
        }
        RegisterComponents();
    }

    /// <summary>
    /// A parameter [rows, d] drawn from N(0, 0.02²). The draw is held by <c>using</c> until the scaling returns: the constructor
    /// runs outside any dispose scope, and TorchSharp passes only the draw's handle to <c>mul</c>, so an unreferenced
    /// temporary could be finalized mid-call and its storage freed while libtorch reads it (the forced-collection stress test
    /// once found E[0, 0] = a glibc free-list pointer × 0.02; docs/engineering-notes.md).
    /// </summary>
    private static Parameter SmallNormal(long rows, long dimension, Generator generator)
    {
        using var normal = torch.randn(rows, dimension, generator: generator);
        return nn.Parameter(normal.Times(0.02));
    }

    public int VocabularySize { get; }
    public int Dimension { get; }
    public int Heads { get; }
    public int ContextLength { get; }
    public int Layers => blocks.Count;

    /// <summary>The tied embedding table E [V, d].</summary>
    public Parameter Embedding => embedding;

    /// <summary>The rows of E of the given token ids, [U, d] (differentiable in E).</summary>
    public Tensor Rows(long[] ids)
    {
        using var indices = torch.tensor(ids).to(embedding.device);
        return embedding.index_select(0, indices);
    }

    /// <summary>The table the language model predicts with, [V, d]: <see cref="Embedding"/> when tied, else the separate output table.</summary>
    public Tensor OutputTable() => output ?? embedding;

    /// <summary>The separate output table, or null when the output is tied to the embedding.</summary>
    public Parameter? Output => output;

    /// <summary>The rows of E of the ids in <paramref name="ids"/> (int64 [U]).</summary>
    public Tensor Rows(Tensor ids) => embedding.index_select(0, ids);

    /// <summary>Replaces the embedding table E with <paramref name="values"/> ([V, d] row-major), e.g. a teacher's distilled table.</summary>
    public void SetEmbedding(float[] values)
    {
        if (values.Length != (long)VocabularySize * Dimension)
            throw new ArgumentException($"The table has {values.Length} values; the model needs {VocabularySize} x {Dimension}.", nameof(values));
        using var noGrad = torch.no_grad();
        using var source = torch.tensor(values, [VocabularySize, Dimension]);
        embedding.copy_(source);
    }

    /// <param name="ids">[B, T] int64 token ids, T &lt;= ContextLength in Transformer mode.</param>
    /// <returns>Hidden states [B, T, d].</returns>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var x = embedding.index_select(0, ids.flatten()).view(ids.shape[0], ids.shape[1], Dimension);
        return Encode(x).MoveToOuterDisposeScope();
    }

    /// <summary>Hidden states from already gathered token vectors, so a training step can gather every row it needs at once.</summary>
    /// <param name="x">[B, T, d] token embeddings.</param>
    /// <returns>Hidden states [B, T, d].</returns>
    public Tensor Encode(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h;
        if (blocks.Count == 0)
        {
            // Causal window mean via prefix sums: h_t = (S_t - S_{t-c}) / min(t+1, c).
            long time = x.shape[1];
            int c = _staticContextSize;
            var prefix = x.cumsum(1);
            var shifted = nn.functional.pad(prefix, [0, 0, c, 0])[.., ..(int)time, ..];
            var counts = ScalarArithmetic.Range(1, time + 1, x.device).AtMost(c).to(x.dtype).view(1, time, 1);
            h = (prefix - shifted) / counts;
        }
        else
        {
            h = x.Plus(positions![..(int)x.shape[1], ..].unsqueeze(0));
            foreach (var block in blocks)
                h = block.forward(h);
            h = final_norm!.forward(h);
        }
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>The hidden states that predict tokens 1..T of windows of T + 1 token vectors: the causal states of tokens 0..T-1.</summary>
    /// <param name="window">[B, T + 1, d] token vectors, T &gt;= 1.</param>
    /// <returns>[B, T, d].</returns>
    public Tensor Hidden(Tensor window) => Encode(window.narrow(1, 0, window.shape[1] - 1));

    /// <summary>Copies the weights to plain arrays for ONNX export and scoring.</summary>
    public CoherenceEncoderWeights ToEncoderWeights()
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        return new()
    {
        VocabularySize = VocabularySize,
        Dimension = Dimension,
        Heads = Heads,
        ContextLength = ContextLength,
        Embeddings = CausalTransformerBlock.Values(embedding),
        Positions = positions is null ? [] : CausalTransformerBlock.Values(positions),
        Blocks = blocks.Select(b => b.ToWeights()).ToArray(),
        FinalNormWeight = final_norm is null ? [] : CausalTransformerBlock.Values(final_norm.weight!),
        FinalNormBias = final_norm is null ? [] : CausalTransformerBlock.Values(final_norm.bias!),
    };
    }
}
