using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Coherence;
using Microsoft.ML.Data;

namespace Coherence.GpuCheck;

/// <summary>
/// The end-to-end pipeline job (issue 12 item 1): <c>MLContext.GpuDeviceId = 0</c>, MapValueToKey(Label) -> the
/// coherence stage -> NormalizeMinMax -> SdcaMaximumEntropy -> MapKeyToValue, fitted on the bundled spam sample;
/// <c>Model.Save</c> to a zip; the zip loaded in a fresh MLContext (no GPU id) and scored on the CPU; then the
/// same pipeline fitted on the CPU at the same seed, and its features compared with those of the first model.
/// </summary>
internal static class EndToEndJob
{
    /// <summary>Features of the CUDA-trained and the CPU-trained stage must agree within this, element by element.</summary>
    public const double FeatureAbsoluteTolerance = 1e-2;

    /// <summary>Save and reload must reproduce the features exactly up to this (the same ONNX graph on the same CPU).</summary>
    public const double ReloadAbsoluteTolerance = 1e-5;

    private const int PipelineSeed = 1;

    public sealed record Spec(bool FallbackToCpu, bool CudaExpected, int? Steps, int Layers, int Seed);

    /// <summary>One row of the spam sample: label ("ham"/"spam") and text.</summary>
    public sealed class SpamRow
    {
        [LoadColumn(0)] public string Label { get; set; } = "";
        [LoadColumn(1)] public string Text { get; set; } = "";
    }

    /// <summary>What the pipeline writes that this job reads back.</summary>
    public sealed class ScoredRow
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
        public float[] Embedding { get; set; } = [];
    }

    private sealed record Scored(string[] Predicted, float[][] Scores, float[][] Features, double Accuracy);

    public static JsonObject Run(string libtorchDirectory, string spamDirectory, Spec spec)
    {
        NativeTorch.Load(libtorchDirectory);
        string trainPath = Path.Combine(spamDirectory, "train.tsv"), testPath = Path.Combine(spamDirectory, "test.tsv");
        var result = new JsonObject
        {
            ["job"] = "e2e",
            ["data"] = new JsonObject { ["train"] = trainPath, ["test"] = testPath },
            ["pipeline"] = "MapValueToKey(Label) -> CoherenceEmbeddings(Embedding <- Text) -> NormalizeMinMax(Features <- Embedding) -> cache -> SdcaMaximumEntropy -> MapKeyToValue(PredictedLabel)",
            ["gpu_device_id"] = 0,
            ["fallback_to_cpu"] = spec.FallbackToCpu,
            ["cuda_expected"] = spec.CudaExpected,
            ["feature_tolerance_abs"] = FeatureAbsoluteTolerance,
            ["reload_tolerance_abs"] = ReloadAbsoluteTolerance,
        };
        var options = Options(spec);
        result["stage_options"] = new JsonObject
        {
            ["layers"] = options.Layers, ["d"] = options.EmbeddingDimension, ["heads"] = options.Heads, ["context"] = options.ContextLength,
            ["batch"] = options.BatchSize, ["steps"] = options.Steps, ["epochs"] = options.Epochs, ["seed"] = options.Seed,
            ["pooling"] = options.Pooling.ToString(), ["sca"] = !options.IsBaseline,
        };
        string[] labels = ReadLabels(testPath);
        string workDirectory = Path.Combine(Path.GetTempPath(), "coherence-gpucheck-" + Environment.ProcessId);
        Directory.CreateDirectory(workDirectory);
        string zipPath = Path.Combine(workDirectory, "e2e-model.zip");
        try
        {
            // 1. The pipeline on the GPU settings: GpuDeviceId = 0 (and FallbackToCpu as given).
            var ml = new MLContext(seed: PipelineSeed) { GpuDeviceId = 0, FallbackToCpu = spec.FallbackToCpu };
            var attempts = new JsonArray();
            result["attempts"] = attempts;
            var (model, stage, fitSeconds) = Fit(ml, trainPath, options, "MLContext.GpuDeviceId = 0", attempts);
            result["gpu_device_id_route_ok"] = model is not null;
            if (model is null)
            {
                // The GpuDeviceId route failed: with the library of 2026-12-01 ML.NET's ApplyOnnxModel in the scoring chain
                // inherits GpuDeviceId and asks the CPU build of ONNX Runtime for CUDA, which throws EntryPointNotFoundException
                // after training, FallbackToCpu or not. Train again through the option, on a context without a GPU id, so the
                // rest of the run still measures the model trained on the device the GpuDeviceId route would have used.
                var direct = new MLContext(seed: PipelineSeed);
                var directOptions = options.Clone();
                directOptions.Device = spec.CudaExpected ? "cuda" : "cpu";
                (model, stage, fitSeconds) = Fit(direct, trainPath, directOptions,
                    $"Options.Device = \"{directOptions.Device}\", no GpuDeviceId (after the GpuDeviceId route failed)", attempts);
                ml = direct;
            }
            if (model is null || stage is null)
            {
                result["ok"] = false;
                result["failed_phase"] = "fit";
                return result;
            }
            var report = stage.Report;
            result["route"] = attempts[^1]!["route"]!.DeepClone();
            result["training_device"] = report.Device;
            result["trained_on_cuda"] = report.Device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase);
            result["report"] = ReportJson(report, fitSeconds);

            var clock = Stopwatch.StartNew();
            var before = Score(ml, model, testPath, labels);
            result["score_s"] = clock.Elapsed.TotalSeconds;
            result["accuracy_before_reload"] = before.Accuracy;
            result["test_rows"] = labels.Length;
            result["feature_length"] = before.Features.FirstOrDefault()?.Length;

            // 2. Save, load in a fresh MLContext (no GPU id: the CPU), score.
            var trainView = ml.Data.LoadFromTextFile<SpamRow>(trainPath, separatorChar: '\t', allowQuoting: false);
            ml.Model.Save(model, trainView.Schema, zipPath);
            result["zip_bytes"] = new FileInfo(zipPath).Length;
            result["zip_sha256"] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(zipPath))).ToLowerInvariant();
            (model as IDisposable)?.Dispose();
            var fresh = new MLContext(seed: 9);
            clock.Restart();
            var loaded = fresh.Model.Load(zipPath, out _);
            result["load_s"] = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var after = Score(fresh, loaded, testPath, labels);
            result["score_after_reload_s"] = clock.Elapsed.TotalSeconds;
            (loaded as IDisposable)?.Dispose();
            result["accuracy_after_reload"] = after.Accuracy;
            result["predictions_identical_after_reload"] = before.Predicted.SequenceEqual(after.Predicted);
            double reloadFeatureDiff = MaxAbsDifference(before.Features, after.Features);
            result["reload_max_abs_feature_difference"] = reloadFeatureDiff;
            result["reload_max_abs_score_difference"] = MaxAbsDifference(before.Scores, after.Scores);
            result["features_identical_after_reload"] = reloadFeatureDiff <= ReloadAbsoluteTolerance;

            // 3. The same pipeline trained on the CPU at the same seed: do the features agree?
            var cpuContext = new MLContext(seed: PipelineSeed);
            var cpuOptions = options.Clone();
            cpuOptions.Device = "cpu";
            var cpuAttempts = new JsonArray();
            var (cpuModel, cpuStage, cpuFitSeconds) = Fit(cpuContext, trainPath, cpuOptions, "CPU reference (Options.Device = \"cpu\")", cpuAttempts);
            var reference = new JsonObject { ["attempts"] = cpuAttempts };
            result["cpu_reference"] = reference;
            if (cpuModel is null || cpuStage is null)
            {
                result["ok"] = false;
                result["failed_phase"] = "cpu_reference";
                return result;
            }
            reference["training_device"] = cpuStage.Report.Device;
            reference["report"] = ReportJson(cpuStage.Report, cpuFitSeconds);
            var cpu = Score(cpuContext, cpuModel, testPath, labels);
            (cpuModel as IDisposable)?.Dispose();
            reference["accuracy"] = cpu.Accuracy;
            double featureDiff = MaxAbsDifference(before.Features, cpu.Features);
            double maxFeature = before.Features.SelectMany(f => f).Select(v => (double)Math.Abs(v)).DefaultIfEmpty(0).Max();
            reference["max_abs_feature_difference"] = featureDiff;
            reference["max_abs_feature_value"] = maxFeature;
            reference["rms_feature_difference"] = RmsDifference(before.Features, cpu.Features);
            reference["min_row_cosine"] = MinRowCosine(before.Features, cpu.Features);
            reference["features_equal_within_tolerance"] = featureDiff <= FeatureAbsoluteTolerance;
            reference["features_bitwise_equal"] = featureDiff == 0;
            reference["prediction_agreement"] = Agreement(before.Predicted, cpu.Predicted);
            reference["loss_curve_max_relative_difference"] = CurveDifference(report.History, cpuStage.Report.History);

            bool ok = result["gpu_device_id_route_ok"]!.GetValue<bool>()
                && result["predictions_identical_after_reload"]!.GetValue<bool>()
                && result["features_identical_after_reload"]!.GetValue<bool>()
                && featureDiff <= FeatureAbsoluteTolerance
                && (!spec.CudaExpected || result["trained_on_cuda"]!.GetValue<bool>());
            result["ok"] = ok;
            if (!ok)
                result["failed_phase"] = "checks";
            return result;
        }
        finally
        {
            try { Directory.Delete(workDirectory, recursive: true); }
            catch (IOException) { }
        }
    }

    private static CoherenceEmbeddingOptions Options(Spec spec) => new()
    {
        Layers = spec.Layers,
        EmbeddingDimension = 64,
        Heads = 4,
        ContextLength = 64,
        BatchSize = 32,
        Steps = spec.Steps, // null: from Epochs (the library's default)
        Seed = spec.Seed,
        EvaluationInterval = 0,
    };

    /// <summary>Fits the whole pipeline; a failure is recorded in <paramref name="attempts"/> and gives a null model.</summary>
    private static (ITransformer? Model, CoherenceEmbeddingTransformer? Stage, double Seconds) Fit(MLContext ml, string trainPath,
        CoherenceEmbeddingOptions options, string route, JsonArray attempts)
    {
        var attempt = new JsonObject { ["route"] = route, ["device_option"] = options.Device };
        attempts.Add(attempt);
        var clock = Stopwatch.StartNew();
        try
        {
            var train = ml.Data.LoadFromTextFile<SpamRow>(trainPath, separatorChar: '\t', allowQuoting: false);
            var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(ml.Transforms.Text.CoherenceEmbeddings("Embedding", "Text", options))
                .Append(ml.Transforms.NormalizeMinMax("Features", "Embedding"))
                .AppendCacheCheckpoint(ml)
                .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
            var model = pipeline.Fit(train);
            double seconds = clock.Elapsed.TotalSeconds;
            var stage = ((IEnumerable<ITransformer>)model).OfType<CoherenceEmbeddingTransformer>().Single();
            attempt["ok"] = true;
            attempt["fit_s"] = seconds;
            attempt["training_device"] = stage.Report.Device;
            return (model, stage, seconds);
        }
        catch (Exception e)
        {
            attempt["ok"] = false;
            attempt["fit_s"] = clock.Elapsed.TotalSeconds;
            attempt["error"] = $"{e.GetType().Name}: {e.Message}";
            for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
                attempt["error"] += $" <- {inner.GetType().Name}: {Jobs.FirstLine(inner.Message)}";
            Console.Error.WriteLine($"e2e fit ({route}) failed: {e}");
            return (null, null, clock.Elapsed.TotalSeconds);
        }
    }

    private static Scored Score(MLContext ml, ITransformer model, string testPath, string[] labels)
    {
        var test = ml.Data.LoadFromTextFile<SpamRow>(testPath, separatorChar: '\t', allowQuoting: false);
        var rows = ml.Data.CreateEnumerable<ScoredRow>(model.Transform(test), reuseRowObject: false).ToArray();
        if (rows.Length != labels.Length)
            throw new InvalidOperationException($"Scored {rows.Length} rows of {labels.Length}.");
        int correct = rows.Where((r, i) => r.PredictedLabel == labels[i]).Count();
        return new Scored(rows.Select(r => r.PredictedLabel).ToArray(), rows.Select(r => r.Score).ToArray(),
            rows.Select(r => r.Embedding).ToArray(), rows.Length == 0 ? double.NaN : (double)correct / rows.Length);
    }

    private static string[] ReadLabels(string testPath)
    {
        var ml = new MLContext(seed: 0);
        var test = ml.Data.LoadFromTextFile<SpamRow>(testPath, separatorChar: '\t', allowQuoting: false);
        return ml.Data.CreateEnumerable<SpamRow>(test, reuseRowObject: false).Select(r => r.Label).ToArray();
    }

    private static JsonObject ReportJson(CoherenceTrainingReport report, double fitSeconds)
    {
        var history = report.History;
        return new JsonObject
        {
            ["device"] = report.Device,
            ["seed"] = report.Seed,
            ["vocabulary"] = report.VocabularySize,
            ["training_tokens"] = report.TrainingTokens,
            ["steps"] = report.Options.Steps,
            ["epochs"] = report.Epochs,
            ["statistics_s"] = report.StatisticsSeconds,
            ["train_s"] = report.TrainSeconds,
            ["tokens_per_second"] = report.TokensPerSecond,
            ["final_loss"] = history.Count > 0 ? history[^1].Loss : null,
            ["initial_held_out_perplexity"] = report.InitialHeldOutPerplexity,
            ["final_held_out_perplexity"] = report.FinalHeldOutPerplexity,
            ["pipeline_fit_s"] = fitSeconds,
        };
    }

    private static double MaxAbsDifference(float[][] a, float[][] b)
    {
        if (a.Length != b.Length)
            return double.PositiveInfinity;
        double max = 0;
        for (int r = 0; r < a.Length; r++)
        {
            if (a[r].Length != b[r].Length)
                return double.PositiveInfinity;
            for (int k = 0; k < a[r].Length; k++)
            {
                double d = Math.Abs((double)a[r][k] - b[r][k]);
                max = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(max, d);
            }
        }
        return max;
    }

    private static double RmsDifference(float[][] a, float[][] b)
    {
        double sum = 0;
        long n = 0;
        for (int r = 0; r < Math.Min(a.Length, b.Length); r++)
            for (int k = 0; k < Math.Min(a[r].Length, b[r].Length); k++, n++)
                sum += Math.Pow((double)a[r][k] - b[r][k], 2);
        return n == 0 ? double.NaN : Math.Sqrt(sum / n);
    }

    /// <summary>The smallest cosine similarity between a row's two feature vectors, over rows where both are non-zero.</summary>
    private static double? MinRowCosine(float[][] a, float[][] b)
    {
        double? min = null;
        for (int r = 0; r < Math.Min(a.Length, b.Length); r++)
        {
            double dot = 0, na = 0, nb = 0;
            for (int k = 0; k < Math.Min(a[r].Length, b[r].Length); k++)
            {
                dot += (double)a[r][k] * b[r][k];
                na += (double)a[r][k] * a[r][k];
                nb += (double)b[r][k] * b[r][k];
            }
            if (na > 0 && nb > 0)
                min = Math.Min(min ?? 1, dot / Math.Sqrt(na * nb));
        }
        return min;
    }

    private static double Agreement(string[] a, string[] b) =>
        a.Length == 0 || a.Length != b.Length ? double.NaN : (double)a.Where((p, i) => p == b[i]).Count() / a.Length;

    private static double? CurveDifference(IReadOnlyList<CoherenceTrainingProgress> a, IReadOnlyList<CoherenceTrainingProgress> b)
    {
        var byStep = b.ToDictionary(h => h.Step, h => h.Loss);
        double? max = null;
        foreach (var h in a)
        {
            if (byStep.TryGetValue(h.Step, out double other))
                max = Math.Max(max ?? 0, Math.Abs(h.Loss - other) / Math.Max(Math.Abs(other), 1e-6));
        }
        return max;
    }
}
