using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Coherence.GpuCheck;

/// <summary>
/// The bf16 job ("precision"): tokens per second of the library's model (<see cref="CoherenceLanguageModel"/>, here
/// 6 layers, d = 512) trained with the baseline objective (next token, sampled softmax, no coherence terms) in
/// float32 or in bfloat16 mixed precision. TorchSharp 0.107 has bf16 tensors and modules (<c>Module.to(BFloat16)</c>)
/// but no autocast, so bf16 here is done by hand, the way autocast's "O2" recipe does it: a bf16 copy of the model
/// runs the forward and backward passes (every matmul, the attention and the MLP in bf16, LayerNorm accumulating in
/// fp32 inside libtorch), the loss's softmax runs in fp32 (its log-expected-count corrections are fp32, so type
/// promotion lifts the logits), and AdamW (the library's <see cref="SafeAdamW"/>) updates fp32 master weights, which
/// are copied back into the bf16 model after each step. The float32 variant runs the same loop on the fp32 model, and
/// the tf32 variant (CUDA only) the same with cuBLAS allowed to use TF32 (<c>torch.backends.cuda.matmul.allow_tf32</c>).
/// The library's own trainer has no dtype option; this loop is a copy of its hot path, not the library's training.
/// </summary>
internal static class PrecisionJob
{
    public sealed record Spec(string Device, string DType, int Layers, int Dimension, int Heads, int ContextLength, int BatchSize,
        int Steps, int WarmupSteps, int Negatives, int MaxVocabularySize, int Seed);

    /// <summary>Model FLOPs of one trained token: 6 per weight of the blocks' matmuls (12 L d^2), attention 12 L T d, and the sampled softmax 6 d (M + 1).</summary>
    public static double FlopsPerToken(int layers, int dimension, int contextLength, int negatives) =>
        6.0 * 12 * layers * (double)dimension * dimension + 12.0 * layers * contextLength * dimension + 6.0 * dimension * (negatives + 1);

    public const string FlopsFormula =
        "6 x 12 L d^2 (the blocks' matmul weights, forward + backward) + 12 L T d (attention scores and values, causal mask not discounted, PaLM's convention) + 6 d (M + 1) (sampled softmax with M negatives); embedding gathers, LayerNorm and GELU not counted";

    public static JsonObject Run(string libtorchDirectory, string corpusPath, Spec spec)
    {
        NativeTorch.Load(libtorchDirectory);
        var dtype = spec.DType switch
        {
            "bfloat16" or "bf16" => ScalarType.BFloat16,
            "float32" or "fp32" or "tf32" => ScalarType.Float32,
            _ => throw new ArgumentException("--dtype must be float32, tf32 or bfloat16, not " + spec.DType),
        };
        bool tf32 = spec.DType == "tf32";
        Device device = spec.Device.StartsWith("cuda", StringComparison.Ordinal) ? torch.device(DeviceType.CUDA, 0) : torch.CPU;
        bool cuda = device.type == DeviceType.CUDA;
        // "tf32": the float32 model with cuBLAS allowed to use TF32 tensor cores (libtorch's default is off, and so the library's).
        bool? allowTf32 = null;
        try
        {
            if (tf32)
                torch.backends.cuda.matmul.allow_tf32 = true;
            allowTf32 = torch.backends.cuda.matmul.allow_tf32;
        }
        catch (Exception e) when (!tf32)
        {
            Console.Error.WriteLine("allow_tf32 not readable: " + e.Message);
        }

        var ml = new MLContext(seed: spec.Seed);
        var documents = new CoherenceTokenizer(ml).Tokenize(File.ReadAllLines(corpusPath)).ToArray();
        var vocabulary = Vocabulary.Build(documents, CoherenceEmbeddingOptions.Defaults.MinCount, spec.MaxVocabularySize);
        var tokens = documents.SelectMany(vocabulary.Encode).ToArray();
        int time = spec.ContextLength, batch = spec.BatchSize, d = spec.Dimension;
        if (tokens.Length <= time + 1)
            throw new InvalidOperationException($"The corpus has {tokens.Length} tokens, too few for a context of {time}.");
        var sampler = new UnigramSampler(vocabulary.Frequencies, CoherenceEmbeddingOptions.Defaults.ContextSmoothing, includeUnknown: true);

        torch.random.manual_seed(spec.Seed);
        using var model = new CoherenceLanguageModel(vocabulary.Count, d, spec.Layers, spec.Heads, time, CoherenceEmbeddingOptions.Defaults.StaticContextSize);
        model.to(device);
        // fp32 master weights (initialised before the bf16 cast, so both variants start from the same weights).
        Dictionary<string, Parameter>? master = null;
        if (dtype != ScalarType.Float32)
        {
            using (torch.no_grad())
                master = model.named_parameters().ToDictionary(p => p.name, p => nn.Parameter(p.parameter.detach().clone()));
            model.to(dtype);
        }
        var work = model.named_parameters().ToArray();
        var masterInOrder = master is null ? null : work.Select(p => master[p.name]).ToArray();
        using var optimizer = new SafeAdamW(masterInOrder ?? work.Select(p => p.parameter),
            CoherenceEmbeddingOptions.Defaults.LearningRate, CoherenceEmbeddingOptions.Defaults.WeightDecay);
        long parameterCount = work.Sum(p => p.parameter.numel());

        var history = new JsonArray();
        var clock = Stopwatch.StartNew();
        double warmEnd = double.NaN;
        double lastLoss = double.NaN;
        for (int step = 1; step <= spec.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.LearningRate = LearningRateSchedule.LearningRate(step, spec.Steps, CoherenceEmbeddingOptions.Defaults.LearningRate,
                CoherenceEmbeddingOptions.Defaults.LearningRateWarmupFraction);
            var random = SplitMix.ForStep(spec.Seed, step);
            var ids = new long[batch * (time + 1)];
            for (int b = 0; b < batch; b++)
            {
                int start = random.Next(0, tokens.Length - time - 1);
                for (int t = 0; t <= time; t++)
                    ids[b * (time + 1) + t] = tokens[start + t];
            }
            long[] negatives = sampler.Sample(random, spec.Negatives);
            var targetCorrection = new float[batch * time];
            for (int b = 0, n = 0; b < batch; b++)
                for (int t = 1; t <= time; t++, n++)
                    targetCorrection[n] = sampler.LogExpectedCount(ids[b * (time + 1) + t], spec.Negatives);
            var negativeCorrection = negatives.Select(id => sampler.LogExpectedCount(id, spec.Negatives)).ToArray();

            var idTensor = torch.tensor(ids, [batch, time + 1]).to(device);
            var negativeIds = torch.tensor(negatives).to(device);
            var embedding = model.Embedding;
            var window = embedding.index_select(0, idTensor.flatten()).view(batch, time + 1, d);
            var hidden = model.Hidden(window).reshape(-1, d);
            var loss = NextTokenLoss.Sampled(hidden, window.narrow(1, 1, time).reshape(-1, d), embedding.index_select(0, negativeIds),
                idTensor.narrow(1, 1, time).reshape(-1), negativeIds,
                torch.tensor(targetCorrection).to(device), torch.tensor(negativeCorrection).to(device));
            loss.backward();
            torch.nn.utils.clip_grad_norm_(work.Select(p => p.parameter), CoherenceEmbeddingOptions.Defaults.GradientClipNorm);
            lastLoss = loss.to(ScalarType.Float32).item<float>(); // one sync per step, as the library's loop
            if (!double.IsFinite(lastLoss))
                throw new InvalidOperationException($"The {spec.DType} loss became {lastLoss} at step {step}.");
            if (masterInOrder is not null)
            {
                for (int i = 0; i < work.Length; i++)
                {
                    var gradient = work[i].parameter.grad;
                    if (gradient is not null)
                        masterInOrder[i].grad = gradient.to(ScalarType.Float32);
                }
            }
            optimizer.Step();
            if (masterInOrder is not null)
            {
                using var noGrad = torch.no_grad();
                for (int i = 0; i < work.Length; i++)
                    work[i].parameter.copy_(masterInOrder[i]);
            }
            foreach (var (_, parameter) in work)
                parameter.grad?.zero_();
            if (cuda)
                torch.cuda.synchronize(device);
            double elapsed = clock.Elapsed.TotalSeconds;
            if (step == spec.WarmupSteps)
                warmEnd = elapsed;
            history.Add(new JsonObject { ["step"] = step, ["loss"] = lastLoss, ["elapsed_s"] = elapsed });
        }
        double total = clock.Elapsed.TotalSeconds;
        int timedSteps = spec.Steps - spec.WarmupSteps;
        double? steady = timedSteps > 0 && double.IsFinite(warmEnd) ? (double)timedSteps * batch * time / Math.Max(total - warmEnd, 1e-9) : null;
        double flops = FlopsPerToken(spec.Layers, d, time, spec.Negatives);

        var result = new JsonObject
        {
            ["job"] = "precision",
            ["device"] = device.ToString(),
            ["dtype"] = dtype == ScalarType.BFloat16 ? "bfloat16" : tf32 ? "tf32" : "float32",
            ["recipe"] = dtype == ScalarType.BFloat16
                ? "bf16 model for forward/backward, fp32 softmax in the loss, fp32 master weights and AdamW state, bf16 copy refreshed each step (no autocast in TorchSharp 0.107)"
                : tf32 ? "float32 weights and activations, cuBLAS matmuls in TF32 (torch.backends.cuda.matmul.allow_tf32 = true)" : "float32 throughout",
            ["allow_tf32_cublas"] = allowTf32,
            ["objective"] = "baseline: next token, sampled softmax",
            ["layers"] = spec.Layers, ["d"] = d, ["heads"] = spec.Heads, ["context"] = time, ["batch"] = batch,
            ["tokens_per_step"] = batch * time,
            ["negatives"] = spec.Negatives, ["vocabulary"] = vocabulary.Count, ["parameters"] = parameterCount,
            ["steps"] = spec.Steps, ["warmup_steps_excluded"] = spec.WarmupSteps,
            ["train_s"] = total,
            ["seconds_per_step"] = timedSteps > 0 && double.IsFinite(warmEnd) ? (total - warmEnd) / timedSteps : null,
            ["steady_tokens_per_second"] = steady,
            ["model_flops_per_token"] = flops,
            ["achieved_tflops"] = steady is double s ? s * flops / 1e12 : null,
            ["final_loss"] = lastLoss,
            ["history"] = history,
        };
        if (cuda && dtype == ScalarType.BFloat16)
            result["bf16_matmul_tflops_measured"] = MatmulCeiling(device);
        return result;
    }

    /// <summary>An 8192^3 bf16 matrix product, 3 warm-ups then 10 timed: the practical ceiling the bf16 share is also given against.</summary>
    private static double? MatmulCeiling(Device device)
    {
        try
        {
            using var scope = torch.NewDisposeScope();
            const long n = 8192;
            var a = torch.randn([n, n], dtype: ScalarType.BFloat16, device: device);
            var b = torch.randn([n, n], dtype: ScalarType.BFloat16, device: device);
            for (int i = 0; i < 3; i++)
                a.matmul(b).Dispose();
            torch.cuda.synchronize(device);
            var clock = Stopwatch.StartNew();
            const int Repeats = 10;
            for (int i = 0; i < Repeats; i++)
                a.matmul(b).Dispose();
            torch.cuda.synchronize(device);
            return 2.0 * n * n * n * Repeats / clock.Elapsed.TotalSeconds / 1e12;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("bf16 matmul ceiling not measured: " + e.Message);
            return null;
        }
    }
}
