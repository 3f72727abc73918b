namespace Microsoft.ML.Coherence;

/// <summary>
/// Every setting of coherence-aligned embedding training, with documented defaults
/// (<see cref="Defaults"/>). Setting <see cref="CoherenceWeight"/> and <see cref="UniformityWeight"/>
/// to 0 gives the baseline: the same model, data and budget without the coherence terms.
/// </summary>
public sealed class CoherenceEmbeddingOptions
{
    /// <summary>Default values, reused by the catalog.</summary>
    public static class Defaults
    {
        /// <summary>Embedding dimension d.</summary>
        public const int EmbeddingDimension = 128;
        /// <summary>Transformer layers; 0 is the static-embedding mode.</summary>
        public const int Layers = 0;
        /// <summary>Attention heads per layer.</summary>
        public const int Heads = 4;
        /// <summary>Training sequence length (and scoring chunk length in Transformer mode).</summary>
        public const int ContextLength = 64;
        /// <summary>In static mode, the next token is predicted from the mean of this many preceding embeddings.</summary>
        public const int StaticContextSize = 4;
        /// <summary>Minimum corpus count for a word to enter the vocabulary.</summary>
        public const int MinCount = 2;
        /// <summary>Largest vocabulary, the unknown token included.</summary>
        public const int MaxVocabularySize = 30_000;
        /// <summary>Symmetric co-occurrence window; pairs are weighted 1/distance.</summary>
        public const int Window = 5;
        /// <summary>Context-distribution smoothing exponent of PPMI.</summary>
        public const double ContextSmoothing = 0.75;
        /// <summary>Statistical neighbours kept per token (K).</summary>
        public const int NeighborCount = 32;
        /// <summary>Weight of the coherence alignment loss (after warm-up).</summary>
        public const float CoherenceWeight = 1.0f;
        /// <summary>Weight of the uniformity loss.</summary>
        public const float UniformityWeight = 0.1f;
        /// <summary>Share of the training steps over which the coherence weight ramps linearly from 0.</summary>
        public const float CoherenceWarmupFraction = 0.2f;
        /// <summary>Temperature of the cosine softmax in the alignment loss.</summary>
        public const float Temperature = 0.5f;
        /// <summary>Negatives per step for the alignment loss, drawn from the smoothed unigram distribution, shared by all anchors.</summary>
        public const int CoherenceNegatives = 64;
        /// <summary>Anchor tokens per step for the alignment loss, drawn from the tokens of the batch.</summary>
        public const int AnchorsPerStep = 256;
        /// <summary>Shared negatives of the sampled softmax for the next-token loss; 0 uses the full softmax.</summary>
        public const int SampledSoftmaxNegatives = 256;
        /// <summary>Passes over the training tokens when <see cref="CoherenceEmbeddingOptions.Steps"/> is not set.</summary>
        public const float Epochs = 10f;
        /// <summary>Punctuation separates words (and is dropped).</summary>
        public const bool SplitPunctuation = true;
        /// <summary>Whether the language model's output table is the embedding table.</summary>
        public const bool TieOutputEmbedding = true;
        /// <summary>Sequences per batch.</summary>
        public const int BatchSize = 32;
        /// <summary>Peak learning rate of AdamW.</summary>
        public const float LearningRate = 3e-3f;
        /// <summary>AdamW decoupled weight decay.</summary>
        public const float WeightDecay = 0.0f;
        /// <summary>Share of the steps spent in linear learning-rate warm-up before cosine decay.</summary>
        public const float LearningRateWarmupFraction = 0.05f;
        /// <summary>Global gradient-norm clip.</summary>
        public const float GradientClipNorm = 1.0f;
        /// <summary>Steps between evaluations (held-out perplexity, coherence score, drift).</summary>
        public const int EvaluationInterval = 200;
        /// <summary>Share of the corpus' documents held out for perplexity.</summary>
        public const float HeldOutFraction = 0.05f;
        /// <summary>Weight of the label loss when <see cref="CoherenceEmbeddingOptions.LabelColumnName"/> is set.</summary>
        public const float LabelWeight = 10.0f;
        /// <summary>Passes over the labelled training documents that the label loss makes in a run, when <see cref="CoherenceEmbeddingOptions.LabelBatchSize"/> is null.</summary>
        public const float LabelEpochs = 4f;
        /// <summary>Share of the labelled training documents kept out of the label loss to measure held-out label accuracy.</summary>
        public const float LabelHoldOutFraction = 0.1f;
        /// <summary>Weight of the row distillation loss when a <see cref="CoherenceEmbeddingOptions.Teacher"/> is set.</summary>
        public const float TeacherRowWeight = 1.0f;
        /// <summary>Most training rows the teacher embeds for row distillation.</summary>
        public const int TeacherRowSample = 10_000;
        /// <summary>Texts per call to the teacher.</summary>
        public const int TeacherBatchSize = 32;
    }

    /// <summary>Embedding dimension d (&gt; 0; divisible by <see cref="Heads"/> when <see cref="Layers"/> &gt; 0).</summary>
    public int EmbeddingDimension { get; set; } = Defaults.EmbeddingDimension;
    /// <summary>Causal Transformer layers over the embeddings; 0 is the cheap static-embedding mode.</summary>
    public int Layers { get; set; } = Defaults.Layers;
    /// <summary>Attention heads per layer.</summary>
    public int Heads { get; set; } = Defaults.Heads;
    /// <summary>Training sequence length; in Transformer mode rows are scored in chunks of this length.</summary>
    public int ContextLength { get; set; } = Defaults.ContextLength;
    /// <summary>Static mode only: how many preceding token embeddings are averaged to predict the next token.</summary>
    public int StaticContextSize { get; set; } = Defaults.StaticContextSize;
    /// <summary>Minimum corpus count for a word to enter the vocabulary.</summary>
    public int MinCount { get; set; } = Defaults.MinCount;
    /// <summary>Largest vocabulary, the unknown token included.</summary>
    public int MaxVocabularySize { get; set; } = Defaults.MaxVocabularySize;
    /// <summary>Symmetric co-occurrence window (1..16); pairs are weighted 1/distance.</summary>
    public int Window { get; set; } = Defaults.Window;
    /// <summary>Context-distribution smoothing exponent alpha of PPMI (0 &lt; alpha &lt;= 1).</summary>
    public double ContextSmoothing { get; set; } = Defaults.ContextSmoothing;
    /// <summary>
    /// Statistical neighbours per token, K (default 32). Left at its default, it is lowered to the vocabulary size minus
    /// one when the vocabulary is smaller than that (logged); a value set here that the vocabulary cannot give is refused.
    /// </summary>
    public int NeighborCount
    {
        get => _neighborCount;
        set
        {
            _neighborCount = value;
            NeighborCountIsExplicit = true;
        }
    }

    private int _neighborCount = Defaults.NeighborCount;

    /// <summary>Whether <see cref="NeighborCount"/> was set (then it is never adapted to the data).</summary>
    internal bool NeighborCountIsExplicit { get; private set; }
    /// <summary>Weight of the coherence alignment loss after warm-up; 0 switches it off.</summary>
    public float CoherenceWeight { get; set; } = Defaults.CoherenceWeight;
    /// <summary>Weight of the uniformity loss; 0 switches it off.</summary>
    public float UniformityWeight { get; set; } = Defaults.UniformityWeight;
    /// <summary>Share of the steps over which the coherence weight ramps up linearly from 0.</summary>
    public float CoherenceWarmupFraction { get; set; } = Defaults.CoherenceWarmupFraction;
    /// <summary>Temperature tau of the cosine softmax in the alignment loss.</summary>
    public float Temperature { get; set; } = Defaults.Temperature;
    /// <summary>Negatives per step for the alignment loss, shared by all anchors.</summary>
    public int CoherenceNegatives { get; set; } = Defaults.CoherenceNegatives;
    /// <summary>Anchor tokens per step for the alignment loss, drawn from the batch.</summary>
    public int AnchorsPerStep { get; set; } = Defaults.AnchorsPerStep;
    /// <summary>Shared negatives of the sampled softmax; 0 uses the full softmax over the vocabulary.</summary>
    public int SampledSoftmaxNegatives { get; set; } = Defaults.SampledSoftmaxNegatives;
    /// <summary>
    /// Optimiser steps; null (the default) sets them from <see cref="Epochs"/>: epochs x training tokens / (batch x context)
    /// tokens a step, at least 1. The report states the steps, epochs and tokens trained.
    /// </summary>
    public int? Steps { get; set; }
    /// <summary>Passes over the training tokens, used when <see cref="Steps"/> is null (greater than 0).</summary>
    public float Epochs { get; set; } = Defaults.Epochs;
    /// <summary>
    /// Whether punctuation separates words and is dropped ("world!" becomes "world"); white space and control characters
    /// always separate words. The saved scoring chain tokenises the same way.
    /// </summary>
    public bool SplitPunctuation { get; set; } = Defaults.SplitPunctuation;
    /// <summary>
    /// Whether the language model predicts with the embedding table itself (tied, the default) or with a separate output
    /// table, as word2vec and fastText do (false). Only the embedding table is exported and scored either way.
    /// </summary>
    public bool TieOutputEmbedding { get; set; } = Defaults.TieOutputEmbedding;
    /// <summary>Sequences per batch.</summary>
    public int BatchSize { get; set; } = Defaults.BatchSize;
    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; set; } = Defaults.LearningRate;
    /// <summary>AdamW decoupled weight decay. With the sampled softmax the embedding table is updated row-wise, so its
    /// rows decay only at the steps that touch them.</summary>
    public float WeightDecay { get; set; } = Defaults.WeightDecay;
    /// <summary>Share of the steps spent in linear learning-rate warm-up before cosine decay to 10%.</summary>
    public float LearningRateWarmupFraction { get; set; } = Defaults.LearningRateWarmupFraction;
    /// <summary>Global gradient-norm clip; 0 switches clipping off.</summary>
    public float GradientClipNorm { get; set; } = Defaults.GradientClipNorm;
    /// <summary>Steps between evaluations; 0 evaluates only at the end.</summary>
    public int EvaluationInterval { get; set; } = Defaults.EvaluationInterval;
    /// <summary>Share of the documents held out to measure perplexity (0 to hold out none).</summary>
    public float HeldOutFraction { get; set; } = Defaults.HeldOutFraction;
    /// <summary>
    /// Name of a label column (<see cref="string"/> text, or a key) that training may read; null (the default) trains on the text
    /// alone. When set, a linear softmax head on each labelled document's mean word vector (its tokens' vectors of
    /// <c>Rows</c>, unknown words skipped, as fastText's supervised mode does) is trained jointly with the
    /// other terms: L = L_task + <see cref="LabelWeight"/> L_label + coherence weight L_align + uniformity weight L_unif,
    /// and its gradient reaches the word vectors. Rows whose label is missing (empty text, key 0) feed only the
    /// unsupervised terms. The head is not part of the fitted stage: the output stays the feature vector, and the saved
    /// chain is the same as without labels. <see cref="LabelHoldOutFraction"/> of the labelled documents stay out of the
    /// label loss and measure held-out label accuracy (reported). The head pools word vectors even with
    /// Transformer layers or <see cref="CoherencePooling.MeanMax"/> pooling, whose
    /// features it then only approximates. Not checkpointed: <see cref="CheckpointDirectory"/> must be null with a label column.
    /// </summary>
    public string? LabelColumnName { get; set; }
    /// <summary>Weight lambda_label of the label loss (a finite number, 0 or more); used only with <see cref="LabelColumnName"/>.</summary>
    public float LabelWeight { get; set; } = Defaults.LabelWeight;
    /// <summary>
    /// Labelled documents drawn (with replacement) for the label loss at each step (greater than 0); used only with
    /// <see cref="LabelColumnName"/>. Null, the default, sizes it from the data: ceil(<see cref="LabelEpochs"/> × labelled
    /// training documents / <see cref="Steps"/>), at least 1, so the label loss sees its rows about
    /// <see cref="LabelEpochs"/> times whatever the corpus and the share of labelled rows. The report's options give the size used.
    /// </summary>
    public int? LabelBatchSize { get; set; }
    /// <summary>
    /// Passes over the labelled training documents that the label loss makes in the run when <see cref="LabelBatchSize"/> is
    /// null (a finite number greater than 0). The default, 4, was chosen on validation splits carved from train
    /// (docs/results/label): more passes fit the labelled rows harder, which helps the stage's features alone when labels
    /// are many and hurts them next to FeaturizeText and when labels are few (the stacking trap).
    /// </summary>
    public float LabelEpochs { get; set; } = Defaults.LabelEpochs;
    /// <summary>
    /// Share of the labelled training documents (seeded by <see cref="Seed"/>) that the label loss never sees; the head's
    /// accuracy on them is the report's held-out label accuracy, a signal for early stopping and for the stacking trap
    /// (0 to less than 0.5; 0 measures nothing).
    /// </summary>
    public float LabelHoldOutFraction { get; set; } = Defaults.LabelHoldOutFraction;
    /// <summary>
    /// A pretrained embedding model to learn from (any <see cref="Microsoft.Extensions.AI.IEmbeddingGenerator{TInput, TEmbedding}"/>
    /// of strings, such as a sentence encoder); null, the default, trains from the corpus alone. With a teacher, <c>Fit</c>
    /// (1) has the teacher embed every vocabulary word and starts the embedding table from the principal components of those
    /// vectors (Model2Vec's recipe) instead of random values; (2) has it embed a seeded sample of at most
    /// <see cref="TeacherRowSample"/> training rows, and trains a row distillation term (weight <see cref="TeacherRowWeight"/>)
    /// that pulls each sampled row's mean word vector, through a linear map that is dropped after training, toward the
    /// teacher's vector of that row (cosine); (3) adapts the table to the corpus with the language-model and coherence terms
    /// (and the label term, when set) as usual. The teacher is called only during <c>Fit</c>, in batches of
    /// <see cref="TeacherBatchSize"/>, with the fit's cancellation; the fitted stage and the saved model never need it.
    /// <see cref="Steps"/> = 0 keeps the distilled table as it is (no training). The teacher's cost is in the report.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore] // an object of the application's: a saved model or report does not keep it
    public Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>? Teacher { get; set; }
    /// <summary>
    /// Weight of the row distillation term (a finite number, 0 or more) when <see cref="Teacher"/> is set; 0 keeps only the
    /// teacher's vocabulary initialisation.
    /// </summary>
    public float TeacherRowWeight { get; set; } = Defaults.TeacherRowWeight;
    /// <summary>Most training rows (seeded sample) the teacher embeds for row distillation (0 or more; 0 embeds none).</summary>
    public int TeacherRowSample { get; set; } = Defaults.TeacherRowSample;
    /// <summary>Texts per call to the <see cref="Teacher"/> (greater than 0).</summary>
    public int TeacherBatchSize { get; set; } = Defaults.TeacherBatchSize;
    /// <summary>How token vectors are pooled into row features.</summary>
    public CoherencePooling Pooling { get; set; } = CoherencePooling.Mean;
    /// <summary>Random seed; null takes one from the MLContext's seed.</summary>
    public int? Seed { get; set; }
    /// <summary>
    /// Training device: null follows ML.NET (<c>MLContext.GpuDeviceId</c> and <c>FallbackToCpu</c>);
    /// otherwise "cpu", "cuda" or "cuda:N".
    /// </summary>
    public string? Device { get; set; }
    /// <summary>
    /// GPU the fitted stage scores on (ONNX Runtime's CUDA provider, which needs the
    /// Microsoft.ML.OnnxRuntime.Gpu package in the application); null, the default, scores on the CPU
    /// whatever device trained. <c>MLContext.FallbackToCpu</c> decides what happens when that GPU is missing.
    /// Scoring runs ML.NET's ONNX stage one row at a time, where a GPU rarely pays.
    /// </summary>
    public int? ScoringGpuDeviceId { get; set; }
    /// <summary>Folder for checkpoints; null writes none.</summary>
    public string? CheckpointDirectory { get; set; }
    /// <summary>Steps between checkpoints (when <see cref="CheckpointDirectory"/> is set).</summary>
    public int CheckpointInterval { get; set; } = 100;
    /// <summary>
    /// Resume from the newest checkpoint in <see cref="CheckpointDirectory"/> if there is one. When false, the run starts
    /// at step 1 and first moves the checkpoints already in the folder into a subfolder <c>earlier-run-&lt;UTC time&gt;</c>
    /// (logged), so they are neither resumed nor lost.
    /// </summary>
    public bool ResumeFromCheckpoint { get; set; } = true;

    /// <summary>Whether both coherence terms are off, i.e. this is the baseline.</summary>
    public bool IsBaseline => CoherenceWeight == 0 && UniformityWeight == 0;

    /// <summary>Whether a fit with these (resolved) options trains the teacher's row distillation term: a teacher, a row weight
    /// and a row sample above 0, and at least one step to read the rows.</summary>
    internal bool TeacherTrainsRows => Teacher is not null && TeacherRowWeight > 0 && TeacherRowSample > 0 && Steps != 0;

    /// <summary>These options with both coherence weights 0: the baseline, which differs from them only in the coherence terms.</summary>
    public CoherenceEmbeddingOptions AsBaseline()
    {
        var baseline = Clone();
        baseline.CoherenceWeight = 0;
        baseline.UniformityWeight = 0;
        return baseline;
    }

    /// <summary>A copy of these options.</summary>
    public CoherenceEmbeddingOptions Clone() => (CoherenceEmbeddingOptions)MemberwiseClone();
}
