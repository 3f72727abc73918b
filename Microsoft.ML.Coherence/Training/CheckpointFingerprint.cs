using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// What a checkpoint must agree on to be resumed: every option that changes the trained weights or the
/// report, the seed actually used, the vocabulary size and a SHA-256 of the training token ids, written
/// culture-invariantly as <c>name=value;...</c> so that a run on another machine or locale reads the same.
/// </summary>
/// <remarks>
/// The list is explicit, and <see cref="Excluded"/> names the options left out on purpose; a test fails
/// when an option is added to <see cref="CoherenceEmbeddingOptions"/> without being put in one or the other.
/// </remarks>
internal static class CheckpointFingerprint
{
    /// <summary>
    /// Options that do not change the result: the device (a run may resume elsewhere), where the stage scores, and the checkpoint
    /// settings themselves.
    /// </summary>
    public static readonly IReadOnlyList<string> Excluded =
    [
        nameof(CoherenceEmbeddingOptions.Device),
        nameof(CoherenceEmbeddingOptions.ScoringGpuDeviceId),
        nameof(CoherenceEmbeddingOptions.CheckpointDirectory),
        nameof(CoherenceEmbeddingOptions.CheckpointInterval),
        nameof(CoherenceEmbeddingOptions.ResumeFromCheckpoint),
        // The teacher itself cannot be written down; a digest of what it returned goes into the fingerprint instead (Compute).
        nameof(CoherenceEmbeddingOptions.Teacher),
        nameof(CoherenceEmbeddingOptions.TeacherBatchSize),
    ];

    /// <summary>The options in the fingerprint, by name, with their values (the resolved seed for <see cref="CoherenceEmbeddingOptions.Seed"/>).</summary>
    public static IReadOnlyList<(string Name, object Value)> Options(CoherenceEmbeddingOptions o, int seed) =>
    [
        (nameof(o.EmbeddingDimension), o.EmbeddingDimension),
        (nameof(o.Layers), o.Layers),
        (nameof(o.Heads), o.Heads),
        (nameof(o.ContextLength), o.ContextLength),
        (nameof(o.StaticContextSize), o.StaticContextSize),
        (nameof(o.MinCount), o.MinCount),
        (nameof(o.MaxVocabularySize), o.MaxVocabularySize),
        (nameof(o.Window), o.Window),
        (nameof(o.ContextSmoothing), o.ContextSmoothing),
        (nameof(o.NeighborCount), o.NeighborCount),
        (nameof(o.CoherenceWeight), o.CoherenceWeight),
        (nameof(o.UniformityWeight), o.UniformityWeight),
        (nameof(o.CoherenceWarmupFraction), o.CoherenceWarmupFraction),
        (nameof(o.Temperature), o.Temperature),
        (nameof(o.CoherenceNegatives), o.CoherenceNegatives),
        (nameof(o.AnchorsPerStep), o.AnchorsPerStep),
        (nameof(o.SampledSoftmaxNegatives), o.SampledSoftmaxNegatives),
        (nameof(o.Steps), o.Steps ?? 0), // resolved from Epochs before training starts
        (nameof(o.Epochs), o.Epochs),
        (nameof(o.SplitPunctuation), o.SplitPunctuation),
        (nameof(o.TieOutputEmbedding), o.TieOutputEmbedding),
        (nameof(o.BatchSize), o.BatchSize),
        (nameof(o.LearningRate), o.LearningRate),
        (nameof(o.WeightDecay), o.WeightDecay),
        (nameof(o.LearningRateWarmupFraction), o.LearningRateWarmupFraction),
        (nameof(o.GradientClipNorm), o.GradientClipNorm),
        (nameof(o.EvaluationInterval), o.EvaluationInterval),
        (nameof(o.HeldOutFraction), o.HeldOutFraction),
        (nameof(o.Pooling), o.Pooling),
        (nameof(o.LabelColumnName), o.LabelColumnName ?? ""),
        (nameof(o.LabelWeight), o.LabelWeight),
        (nameof(o.LabelBatchSize), o.LabelBatchSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""),
        (nameof(o.LabelEpochs), o.LabelEpochs),
        (nameof(o.LabelHoldOutFraction), o.LabelHoldOutFraction),
        (nameof(o.TeacherRowWeight), o.TeacherRowWeight),
        (nameof(o.TeacherRowSample), o.TeacherRowSample),
        (nameof(o.Seed), seed),
    ];

    /// <summary>The fingerprint of a run.</summary>
    /// <param name="options">The run's options.</param>
    /// <param name="seed">The seed the run uses (the options' or the one drawn from the MLContext).</param>
    /// <param name="vocabularySize">Rows of the embedding table.</param>
    /// <param name="trainingTokens">The training split's token ids, in order.</param>
    /// <param name="teacherDigest">A digest of the teacher's vectors (<see cref="Distillation.TeacherTargets.Digest"/>), or null without a teacher.</param>
    public static string Compute(CoherenceEmbeddingOptions options, int seed, int vocabularySize, ReadOnlySpan<int> trainingTokens, string? teacherDigest = null)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in Options(options, seed))
            text.Append(name).Append('=').Append(Format(value)).Append(';');
        if (teacherDigest is not null)
            text.Append("TeacherSha256=").Append(teacherDigest).Append(';');
        text.Append("VocabularySize=").Append(vocabularySize.ToString(CultureInfo.InvariantCulture)).Append(';');
        text.Append("TrainingTokens=").Append(trainingTokens.Length.ToString(CultureInfo.InvariantCulture)).Append(';');
        text.Append("TokenSha256=").Append(HashTokens(trainingTokens));
        return text.ToString();
    }

    /// <summary>
    /// The entries where two fingerprints differ, as "name: saved there, current here", for the message
    /// that refuses to resume; a fingerprint of an older format shows as a whole.
    /// </summary>
    public static string Differences(string saved, string current)
    {
        var there = Parse(saved);
        var here = Parse(current);
        if (there is null || here is null)
            return $"saved ({saved}), this run ({current})";
        var differences = here.Keys.Union(there.Keys)
            .Where(key => !there.TryGetValue(key, out var a) || !here.TryGetValue(key, out var b) || a != b)
            .Select(key => $"{key} {(there.TryGetValue(key, out var a) ? a : "(absent)")} there, {(here.TryGetValue(key, out var b) ? b : "(absent)")} here");
        return string.Join("; ", differences);
    }

    private static string HashTokens(ReadOnlySpan<int> tokens)
    {
        // Little-endian ids; on a big-endian machine the bytes are swapped first so the hash is the same.
        if (BitConverter.IsLittleEndian)
            return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(tokens)));
        var swapped = new int[tokens.Length];
        System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(tokens, swapped);
        return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(swapped.AsSpan())));
    }

    private static string Format(object value) => value switch
    {
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static Dictionary<string, string>? Parse(string fingerprint)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in fingerprint.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                return null;
            entries[part[..equals]] = part[(equals + 1)..];
        }
        return entries;
    }
}
