using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Statistics;

namespace Microsoft.ML.Coherence.Training;

/// <summary>What a step reads that stays the same for the whole run: the corpus, the field, the sequence length and
/// batch size, and the samplers of the language model's and the alignment term's negatives.</summary>
internal sealed record RunInputs(TokenCorpus Train, StatisticalField Field, int Time, int Batch, UnigramSampler LmSampler,
    UnigramSampler? NegativeSampler)
{
    public long TokensPerStep => (long)Batch * Time;
}
