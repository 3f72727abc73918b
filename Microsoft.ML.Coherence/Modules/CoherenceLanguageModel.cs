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
    // Parameter keys: "embedding", "positions", "blocks.N.*", "final_norm.*".
    private readonly Parameter embedding;
    private readonly Parameter? positions;
    private readonly ModuleList<CausalTransformerBlock> blocks;
    private readonly LayerNorm? final_norm;
    private readonly int _staticContextSize;

    public CoherenceLanguageModel(int vocabularySize, int dimension, int layers, int heads, int contextLength, int staticContextSize)
        : base(nameof(CoherenceLanguageModel))
    {
        VocabularySize = vocabularySize;
        Dimension = dimension;
        Heads = heads;
        ContextLength = contextLength;
        _staticContextSize = staticContextSize;
        // Small initial norms make every logit close to 0, so an untrained model's perplexity is about |V|.
        embedding = nn.Parameter(torch.randn(vocabularySize, dimension).Times(0.02));
        blocks = nn.ModuleList<CausalTransformerBlock>();
        if (layers > 0)
        {
            positions = nn.Parameter(torch.randn(contextLength, dimension).Times(0.02));
            for (int i = 0; i < layers; i++)
                blocks.Add(new CausalTransformerBlock(dimension, heads));
            final_norm = nn.LayerNorm(dimension, eps: Scoring.CoherenceEncoderWeights.LayerNormEpsilon);
        }
        RegisterComponents();
    }

    public int VocabularySize { get; }
    public int Dimension { get; }
    public int Heads { get; }
    public int ContextLength { get; }
    public int Layers => blocks.Count;

    /// <summary>The tied embedding table E [V, d].</summary>
    public Parameter Embedding => embedding;

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

    /// <summary>
    /// The hidden states that predict tokens 1..T of windows of T + 1 token vectors: the causal states of tokens 0..T-1
    /// (<see cref="CoherenceObjective.NextToken"/>), or for each of tokens 1..T the mean of the vectors of up to
    /// <c>StaticContextSize</c> tokens on either side of it within the window, itself excluded
    /// (<see cref="CoherenceObjective.CenterWord"/>, static mode).
    /// </summary>
    /// <param name="window">[B, T + 1, d] token vectors, T &gt;= 1.</param>
    /// <param name="objective">What the states predict.</param>
    /// <returns>[B, T, d].</returns>
    public Tensor Hidden(Tensor window, CoherenceObjective objective)
    {
        long time = window.shape[1] - 1;
        if (objective == CoherenceObjective.NextToken)
            return Encode(window.narrow(1, 0, time));
        using var scope = NewDisposeScope();
        return EncodeBothSides(window).narrow(1, 1, time).MoveToOuterDisposeScope();
    }

    /// <summary>Two-sided window means: h_t = (sum of x over [t-c, t+c] within the sequence, minus x_t) / (tokens in it - 1).</summary>
    /// <param name="x">[B, L, d], L &gt;= 2.</param>
    private Tensor EncodeBothSides(Tensor x)
    {
        using var scope = NewDisposeScope();
        long length = x.shape[1];
        int c = _staticContextSize;
        // Zero-pad c positions each side and take prefix sums with a leading 0: the sum over padded positions
        // [t, t + 2c] (original [t - c, t + c]) is S[t + 2c + 1] - S[t].
        var prefix = nn.functional.pad(nn.functional.pad(x, [0, 0, c, c]).cumsum(1), [0, 0, 1, 0]);
        var sums = prefix.narrow(1, 2 * c + 1, length) - prefix.narrow(1, 0, length);
        var counts = new float[length];
        for (long t = 0; t < length; t++)
            counts[t] = Math.Max(1, Math.Min(t + c, length - 1) - Math.Max(t - c, 0));
        var divisor = torch.tensor(counts, dtype: x.dtype, device: x.device).view(1, length, 1);
        return ((sums - x) / divisor).MoveToOuterDisposeScope();
    }

    /// <summary>Copies the weights to plain arrays for ONNX export and scoring.</summary>
    public Scoring.CoherenceEncoderWeights ToEncoderWeights() => new()
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
