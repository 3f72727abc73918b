using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Statistics;

namespace Microsoft.ML.Coherence.Training;

/// <summary>A step's seeded draws on the host: the windows [B·(T + 1)], the LM negatives, the anchors and, when the
/// alignment term is on this step, its negatives.</summary>
internal sealed record StepDraws(long[] Windows, long[] Sampled, long[] Anchors, long[]? AlignmentNegatives)
{
    /// <summary>The host side of a step: its seeded draws. Separate streams for batches and for coherence sampling,
    /// so the baseline and SCA see the same batches; the order of the draws is that of every earlier version.</summary>
    public static StepDraws Draw(CoherenceEmbeddingOptions options, int seed, int step, RunInputs run, double weight)
    {
        var (train, field, time, batch, lmSampler, negativeSampler) = run;
        var batchRandom = SplitMix.ForStep(seed, step);
        var sampleRandom = SplitMix.ForStep(seed ^ 0x5CA, step);
        var tokens = train.Tokens;
        var windows = new long[batch * (time + 1)];                                   // [B, T + 1] row-major
        for (int b = 0; b < batch; b++)
        {
            long start = batchRandom.NextInt64(0, train.TokenCount - time);
            for (int t = 0; t <= time; t++)
                windows[b * (time + 1) + t] = tokens[(int)(start + t)];
        }
        int lmNegatives = options.SampledSoftmaxNegatives;
        long[] sampled = lmNegatives > 0 ? lmSampler.Sample(sampleRandom, lmNegatives) : [];
        long[] anchors = [];
        long[]? negatives = null;
        if (negativeSampler is not null)
        {
            anchors = AnchorSampler.Draw(windows, field, options.AnchorsPerStep, sampleRandom);
            if (anchors.Length < 2)
                anchors = [];
            else if (weight > 0)
                negatives = negativeSampler.Sample(sampleRandom, options.CoherenceNegatives);
        }
        return new StepDraws(windows, sampled, anchors, negatives);
    }
}
