using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;
using TorchSharp;

namespace Coherence.GpuCheck;

/// <summary>
/// The work of one child process: "probe" (load TorchSharp against the libtorch, ask for CUDA) or "train"
/// (one training run). Each runs in its own process so that a native crash is reported, not fatal to the
/// whole check, and so that each run's GPU memory is measured from a clean CUDA context.
/// </summary>
internal static class Jobs
{
    public static JsonObject Probe(string libtorchDirectory)
    {
        var result = new JsonObject { ["job"] = "probe" };
        var native = NativeTorch.Load(libtorchDirectory);
        result["native"] = native;
        result["torchsharp_version"] = typeof(torch).Assembly.GetName().Version?.ToString();
        result["libtorch_version_expected_by_torchsharp"] = torch.__version__;
        // A first CPU op proves that the binding works.
        using (var t = torch.arange(4, dtype: torch.ScalarType.Float32))
            result["cpu_op_ok"] = Math.Abs(t.sum().item<float>() - 6f) < 1e-6;
        bool cuda;
        try
        {
            cuda = torch.cuda.is_available();
        }
        catch (Exception e)
        {
            cuda = false;
            result["cuda_error"] = e.GetType().Name + ": " + FirstLine(e.Message);
        }
        result["cuda_available"] = cuda;
        result["cuda_device_count"] = cuda ? torch.cuda.device_count() : null;
        result["bf16_supported"] = cuda ? ProbeBf16() : null;
        return result;
    }

    /// <summary>Whether a bf16 matmul runs on the GPU (the library itself trains in fp32: see docs/gpu.md).</summary>
    private static bool? ProbeBf16()
    {
        try
        {
            using var scope = torch.NewDisposeScope();
            var a = torch.ones(64, 64, dtype: torch.ScalarType.BFloat16, device: torch.CUDA);
            return Math.Abs(a.matmul(a).to(torch.ScalarType.Float32).mean().item<float>() - 64f) < 0.5f;
        }
        catch (Exception)
        {
            return false;
        }
    }

    public sealed record TrainSpec(string Device, int Layers, int Dimension, int Heads, int ContextLength, int BatchSize,
        int Steps, bool Sca, int Seed, int MaxVocabularySize, int WarmupSteps);

    public static JsonObject Train(string libtorchDirectory, string corpusPath, TrainSpec spec)
    {
        NativeTorch.Load(libtorchDirectory);
        var ml = new MLContext(seed: spec.Seed);
        string[] lines = File.ReadAllLines(corpusPath);
        var tokenizer = new CoherenceTokenizer(ml);
        string[][] documents = tokenizer.Tokenize(lines).ToArray();

        var options = new CoherenceEmbeddingOptions
        {
            Device = spec.Device,
            Layers = spec.Layers,
            EmbeddingDimension = spec.Dimension,
            Heads = spec.Heads,
            ContextLength = spec.ContextLength,
            BatchSize = spec.BatchSize,
            Steps = spec.Steps,
            Seed = spec.Seed,
            MaxVocabularySize = spec.MaxVocabularySize,
            EvaluationInterval = 0,
            HeldOutFraction = 0.02f,
        };
        if (!spec.Sca)
            options = options.AsBaseline();

        var clock = Stopwatch.StartNew();
        var model = CoherenceEmbeddingEngine.Train(ml, () => documents, options);
        double wall = clock.Elapsed.TotalSeconds;
        var report = model.Report;
        var history = report.History;

        // Steady-state speed: from the end of the warm-up steps (CUDA context, cuBLAS handles, kernel selection)
        // to the second-to-last step (the last step's time includes the final evaluation).
        double? steady = null;
        var from = history.FirstOrDefault(h => h.Step == spec.WarmupSteps);
        var to = history.LastOrDefault(h => h.Step < spec.Steps);
        if (from is not null && to is not null && to.Step > from.Step)
            steady = (to.Tokens - from.Tokens) / Math.Max((to.Elapsed - from.Elapsed).TotalSeconds, 1e-9);

        var historyJson = new JsonArray();
        foreach (var h in history)
        {
            historyJson.Add(new JsonObject
            {
                ["step"] = h.Step, ["loss"] = h.Loss, ["task_loss"] = h.TaskLoss, ["elapsed_s"] = h.Elapsed.TotalSeconds,
            });
        }
        return new JsonObject
        {
            ["job"] = "train",
            ["device"] = report.Device,
            ["layers"] = spec.Layers,
            ["d"] = spec.Dimension,
            ["heads"] = spec.Heads,
            ["context"] = spec.ContextLength,
            ["batch"] = spec.BatchSize,
            ["steps"] = spec.Steps,
            ["mode"] = spec.Sca ? "sca" : "baseline",
            ["dtype"] = "float32",
            ["seed"] = report.Seed,
            ["vocabulary"] = report.VocabularySize,
            ["training_tokens"] = report.TrainingTokens,
            ["statistics_s"] = report.StatisticsSeconds,
            ["train_s"] = report.TrainSeconds,
            ["wall_s"] = wall,
            ["seconds_per_step"] = report.SecondsPerStep,
            ["tokens_per_second"] = report.TokensPerSecond,
            ["steady_tokens_per_second"] = steady,
            ["warmup_steps_excluded"] = spec.WarmupSteps,
            ["final_loss"] = history.Count > 0 ? history[^1].Loss : null,
            ["final_task_loss"] = history.Count > 0 ? history[^1].TaskLoss : null,
            ["peak_host_working_set_mb"] = report.PeakMemoryMB,
            ["history"] = historyJson,
        };
    }

    internal static string FirstLine(string text)
    {
        int newline = text.IndexOf('\n');
        return newline < 0 ? text : text[..newline];
    }
}
