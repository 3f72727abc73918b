using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Coherence.GpuCheck;

/// <summary>
/// The CUDA check (docs/gpu.md). The parent process loads no libtorch itself: it starts one child process per
/// job (probe, CPU and CUDA parity runs, the end-to-end pipeline, one benchmark run per model, one precision run
/// per dtype and batch), collects their JSON, prints tables and writes results.json after every job.
/// Exit codes: 0 everything ran (with CUDA absent and not expected: the CPU half ran and every CUDA field is null);
/// 2 usage; 3 TorchSharp could not be bound to the libtorch given; 4 CUDA is expected or present but missing, a CUDA
/// run failed, the CPU/CUDA loss curves differ by more than the tolerance or the end-to-end checks failed on CUDA;
/// 5 a CPU run failed.
/// </summary>
internal static class Program
{
    public const int ExitOk = 0, ExitUsage = 2, ExitNativeLoad = 3, ExitCudaFailed = 4, ExitCpuFailed = 5;

    /// <summary>Version of results.json's layout (docs/gpu.md, "Results JSON").</summary>
    public const int SchemaVersion = 2;

    // Parity tolerance: the same seed gives identical initial weights (initialised on the CPU, then moved) and
    // identical batches; only floating-point reduction order differs (cuBLAS, fused attention kernels).
    public const double FirstStepRelativeTolerance = 1e-4;
    public const double CurveRelativeTolerance = 1e-2;

    private const int Seed = 20_240_607;

    // The benchmark and precision model: d = 512, 8 heads, context 64, batch 32 (2,048 tokens a step).
    private const int BenchDimension = 512, BenchHeads = 8, BenchContext = 64, BenchBatch = 32, BenchVocabulary = 30_000;
    private const int PrecisionLayers = 6, PrecisionNegatives = 256;

    private static int Main(string[] args)
    {
        var options = Arguments.Parse(args, out string? error, out var help);
        if (help is not null)
        {
            return help.Invoke();
        }

        if (options is null)
        {
            Console.Error.WriteLine($"error: {error}");
            Console.Error.WriteLine("Run 'Coherence.GpuCheck --help' for the options.");
            return ExitUsage;
        }
        try
        {
            return options.Job is null ? Orchestrate(options) : RunJob(options);
        }
        catch (NativeLoadException e)
        {
            Console.Error.WriteLine("Native load failed: " + e.Message);
            if (options.Result is not null)
                WriteJson(options.Result, new JsonObject { ["job"] = options.Job, ["native_error"] = e.Message, ["loaded"] = e.Loaded.DeepClone() });
            return ExitNativeLoad;
        }
    }

    // ---------------------------------------------------------------- child

    private static int RunJob(Arguments a)
    {
        if (a.Result is null || a.LibTorch is null)
        {
            Console.Error.WriteLine("error: a child job needs --result and --libtorch (the parent passes both).");
            return ExitUsage;
        }
        JsonObject result = a.Job switch
        {
            "probe" => Jobs.Probe(a.LibTorch),
            "train" => Jobs.Train(a.LibTorch, a.Corpus, new Jobs.TrainSpec(a.Device, a.Layers, a.Dimension, a.Heads, a.Context, a.Batch,
                a.Steps, a.Sca, Seed, a.MaxVocabulary, a.Warmup)),
            "e2e" => EndToEndJob.Run(a.LibTorch, a.Spam, new EndToEndJob.Spec(a.FallbackToCpu, a.CudaExpected, a.E2eSteps, a.E2eLayers, Seed)),
            "precision" => PrecisionJob.Run(a.LibTorch, a.Corpus, new PrecisionJob.Spec(a.Device, a.DType, a.Layers, a.Dimension, a.Heads,
                a.Context, a.Batch, a.Steps, a.Warmup, PrecisionNegatives, a.MaxVocabulary, Seed)),
            _ => throw new ArgumentException("Unknown job " + a.Job),
        };
        WriteJson(a.Result, result);
        // A job that ran but whose checks failed (e2e) exits 1: the parent reads the reason from the JSON.
        return result["ok"] is JsonValue ok && ok.GetValue<bool>() == false ? 1 : ExitOk;
    }

    // ---------------------------------------------------------------- parent

    private sealed record ChildResult(int ExitCode, JsonObject? Json, string LogTail, double Seconds, long? PeakGpuMiB, long? BaselineGpuMiB, bool Skipped = false);

    private static int Orchestrate(Arguments a)
    {
        if (a.LibTorch is null || a.Out is null)
        {
            Console.Error.WriteLine("error: --libtorch and --out are required.");
            Console.Error.WriteLine("Run 'Coherence.GpuCheck --help' for the options.");
            return ExitUsage;
        }
        var clock = Stopwatch.StartNew();
        string jobsDir = a.JobsDir ?? Path.Combine(a.Out, "jobs");
        Directory.CreateDirectory(a.Out);
        Directory.CreateDirectory(jobsDir);
        var results = new JsonObject
        {
            ["tool"] = "Coherence.GpuCheck",
            ["schema_version"] = SchemaVersion,
            ["started_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            ["host"] = new JsonObject
            {
                ["machine"] = Environment.MachineName, ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["cpu_count"] = Environment.ProcessorCount, ["dotnet"] = Environment.Version.ToString(),
            },
            ["libtorch_dir"] = a.LibTorch,
            ["corpus"] = a.Corpus,
            ["spam"] = a.Spam,
            ["run"] = new JsonArray(a.Run.Select(r => (JsonNode?)r).ToArray()),
            ["expect_cuda"] = a.ExpectCuda,
            ["budget_s"] = a.BudgetSeconds > 0 ? a.BudgetSeconds : null,
            ["exit_codes"] = "0 ok (CUDA absent and not expected: CPU half ran, CUDA fields null); 3 native load failed; " +
                "4 CUDA expected but missing, a CUDA run failed, parity out of tolerance or e2e checks failed on CUDA; 5 a CPU run failed",
            ["skipped"] = new JsonArray(),
        };
        string resultsPath = Path.Combine(a.Out, "results.json");
        var runner = new ChildRunner(a, jobsDir, clock, results["skipped"]!.AsArray());

        // 1. Probe: bind TorchSharp to the libtorch, ask for CUDA.
        Console.WriteLine($"Coherence.GpuCheck: libtorch from {a.LibTorch}");
        var probe = runner.Run("probe", ["--job", "probe"], gpuIndex: null, required: true);
        results["probe"] = probe.Json?.DeepClone();
        if (probe.ExitCode != 0 || probe.Json is null || probe.Json["native_error"] is not null)
        {
            string reason = probe.Json?["native_error"]?.GetValue<string>() ?? $"the probe exited with code {probe.ExitCode}: {probe.LogTail}";
            Console.WriteLine("TorchSharp could not be bound to this libtorch: " + reason);
            return Finish(results, resultsPath, a, "native_load_failed", ExitNativeLoad, reason);
        }
        bool cuda = probe.Json["cuda_available"]?.GetValue<bool>() == true;
        Console.WriteLine($"TorchSharp {probe.Json["torchsharp_version"]} bound to {a.LibTorch} (TorchSharp expects libtorch {probe.Json["libtorch_version_expected_by_torchsharp"]}).");
        JsonObject? gpu = null;
        if (cuda)
        {
            string? smi = GpuMemorySampler.Query(["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits", "-i", "0"]);
            var parts = smi?.Split(',', StringSplitOptions.TrimEntries);
            string? name = parts?.ElementAtOrDefault(0);
            var (peak, peakSource) = Bf16PeakTflops(name);
            gpu = new JsonObject
            {
                ["name"] = name, ["memory_total_mib"] = parts?.ElementAtOrDefault(1), ["driver"] = parts?.ElementAtOrDefault(2),
                ["device_count"] = probe.Json["cuda_device_count"]?.DeepClone(), ["bf16_matmul_ok"] = probe.Json["bf16_supported"]?.DeepClone(),
                ["bf16_dense_peak_tflops"] = peak, ["bf16_dense_peak_source"] = peakSource,
            };
            Console.WriteLine($"CUDA available: {name} ({gpu["memory_total_mib"]} MiB, driver {gpu["driver"]}).");
        }
        else
        {
            string why = probe.Json["cuda_error"]?.GetValue<string>() ?? "torch.cuda.is_available() is false for this libtorch (a CPU build, or no driver/GPU)";
            Console.WriteLine($"CUDA not available: {why}.{(a.ExpectCuda ? "" : " Running the CPU half only; CUDA fields are null.")}");
            results["cuda_reason"] = why;
        }
        results["cuda_available"] = cuda;
        results["gpu"] = gpu;
        if (a.ExpectCuda && !cuda)
            return Finish(results, resultsPath, a, "cuda_expected_but_missing", ExitCudaFailed, "--expect-cuda true, but " + results["cuda_reason"]);
        WriteJson(resultsPath, results);

        int exit = ExitOk;
        void Fail(bool onCuda) => exit = exit != ExitOk ? exit : onCuda ? ExitCudaFailed : ExitCpuFailed;

        // 2. Parity: the same small model, same seed, CPU then CUDA.
        if (a.Run.Contains("parity"))
        {
            var parityArgs = new List<string> { "--job", "train", "--layers", "2", "--d", "64", "--heads", "4", "--context", "32", "--batch", "16",
                "--steps", Str(a.ParitySteps), "--sca", "true", "--max-vocabulary", "5000", "--warmup", "2" };
            Console.WriteLine($"Parity: 2-layer d=64 model with SCA, {a.ParitySteps} steps, seed {Seed}, on the CPU{(cuda ? " and on CUDA" : "")}...");
            var cpuRun = runner.Run("parity-cpu", [.. parityArgs, "--device", "cpu"], gpuIndex: null);
            ChildResult? cudaRun = cuda ? runner.Run("parity-cuda", [.. parityArgs, "--device", "cuda"], gpuIndex: 0) : null;
            var parity = CompareParity(cpuRun, cudaRun, cuda);
            results["parity"] = parity;
            if (cpuRun.ExitCode != 0 && !cpuRun.Skipped)
                Fail(onCuda: false);
            else if (cuda && !(cudaRun?.Skipped ?? false) && parity["within_tolerance"]?.GetValue<bool>() != true)
                Fail(onCuda: true);
            Console.WriteLine(parity["summary"]?.GetValue<string>());
            WriteJson(resultsPath, results);
        }

        // 3. End to end: GpuDeviceId = 0, the spam sample, SDCA, Model.Save, reload and score on the CPU, CPU-trained reference.
        if (a.Run.Contains("e2e"))
        {
            bool fallback = !(a.ExpectCuda || cuda);
            var e2eArgs = new List<string> { "--job", "e2e", "--fallback-to-cpu", fallback ? "true" : "false", "--cuda-expected", cuda ? "true" : "false",
                "--e2e-layers", Str(a.E2eLayers) };
            if (a.E2eSteps is int e2eSteps)
                e2eArgs.AddRange(["--e2e-steps", Str(e2eSteps)]);
            Console.WriteLine($"End to end: MLContext.GpuDeviceId = 0 (FallbackToCpu {fallback}), {a.E2eLayers}-layer d=64 stage on the spam sample, " +
                $"{(a.E2eSteps is int s ? s + " steps" : "steps from Epochs")}, SDCA, save, reload on the CPU, CPU-trained reference...");
            var run = runner.Run("e2e", e2eArgs, gpuIndex: cuda ? 0 : null);
            var e2e = run.Json?.DeepClone().AsObject() ?? new JsonObject { ["job"] = "e2e", ["ok"] = false };
            e2e["exit_code"] = run.ExitCode;
            e2e["wall_s"] = Math.Round(run.Seconds, 2);
            e2e["peak_gpu_memory_mib"] = run.PeakGpuMiB;
            e2e["baseline_gpu_memory_mib"] = run.BaselineGpuMiB;
            if (run.Skipped)
                e2e["skipped"] = true;
            else if (run.ExitCode != 0)
            {
                if (run.Json is null)
                    e2e["error"] = run.LogTail; // the job died; with JSON, its attempts and checks say what failed
                Fail(onCuda: cuda);
            }
            results["e2e"] = e2e;
            Console.WriteLine(EndToEndSummary(e2e));
            WriteJson(resultsPath, results);
        }

        // 4. Precision: fp32 against bf16 mixed precision, 6 layers d = 512, per batch size.
        var precisionRows = new JsonArray();
        if (a.Run.Contains("bf16"))
        {
            string device = cuda ? "cuda" : "cpu";
            int steps = cuda ? a.Bf16StepsCuda : a.Bf16StepsCpu;
            int warmup = Math.Max(1, steps / 5);
            int[] batches = a.Bf16Batches ?? (cuda ? [BenchBatch, 512] : [BenchBatch]);
            results["precision"] = new JsonObject
            {
                ["model"] = $"{PrecisionLayers} layers, d={BenchDimension}, {BenchHeads} heads, context {BenchContext}, baseline objective (sampled softmax, {PrecisionNegatives} negatives)",
                ["autocast"] = "TorchSharp 0.107 has no autocast (no torch.autocast / torch.amp in its API); bf16 is done by hand (see recipe)",
                ["flops_formula"] = PrecisionJob.FlopsFormula,
                ["bf16_dense_peak_tflops"] = gpu?["bf16_dense_peak_tflops"]?.DeepClone(),
                ["rows"] = precisionRows,
            };
            foreach (int batch in batches)
            {
                foreach (string dtype in cuda ? new[] { "float32", "tf32", "bfloat16" } : ["float32", "bfloat16"])
                {
                    string name = $"precision-{device}-L{PrecisionLayers}-b{batch}-{dtype}";
                    Console.WriteLine($"Precision {name}: d={BenchDimension}, {steps} steps...");
                    var run = runner.Run(name, ["--job", "precision", "--device", device, "--dtype", dtype, "--layers", Str(PrecisionLayers),
                        "--d", Str(BenchDimension), "--heads", Str(BenchHeads), "--context", Str(BenchContext), "--batch", Str(batch),
                        "--steps", Str(steps), "--warmup", Str(warmup), "--max-vocabulary", Str(BenchVocabulary)], gpuIndex: cuda ? 0 : null);
                    var row = new JsonObject
                    {
                        ["device"] = device, ["dtype"] = dtype, ["layers"] = PrecisionLayers, ["d"] = BenchDimension, ["batch"] = batch,
                        ["tokens_per_step"] = batch * BenchContext, ["steps"] = steps, ["ok"] = run.ExitCode == 0 && run.Json is not null,
                        ["tokens_per_second"] = run.Json?["steady_tokens_per_second"]?.DeepClone(),
                        ["seconds_per_step"] = run.Json?["seconds_per_step"]?.DeepClone(),
                        ["model_flops_per_token"] = run.Json?["model_flops_per_token"]?.DeepClone(),
                        ["achieved_tflops"] = run.Json?["achieved_tflops"]?.DeepClone(),
                        ["share_of_bf16_peak"] = null,
                        ["share_of_measured_bf16_matmul"] = null,
                        ["bf16_matmul_tflops_measured"] = run.Json?["bf16_matmul_tflops_measured"]?.DeepClone(),
                        ["speedup_over_float32"] = null,
                        ["final_loss"] = run.Json?["final_loss"]?.DeepClone(),
                        ["peak_gpu_memory_mib"] = run.PeakGpuMiB,
                        ["baseline_gpu_memory_mib"] = run.BaselineGpuMiB,
                        ["wall_s"] = Math.Round(run.Seconds, 2),
                    };
                    double? achieved = Number(row["achieved_tflops"]);
                    if (achieved is double tflops && Number(gpu?["bf16_dense_peak_tflops"]) is double peak)
                        row["share_of_bf16_peak"] = tflops / peak;
                    if (achieved is double t2 && Number(row["bf16_matmul_tflops_measured"]) is double ceiling && ceiling > 0)
                        row["share_of_measured_bf16_matmul"] = t2 / ceiling;
                    if (dtype != "float32" && Number(row["tokens_per_second"]) is double bf16Speed)
                    {
                        var fp32 = precisionRows.LastOrDefault(r => r!["batch"]!.GetValue<int>() == batch && r["dtype"]!.GetValue<string>() == "float32");
                        if (Number(fp32?["tokens_per_second"]) is double fp32Speed && fp32Speed > 0)
                            row["speedup_over_float32"] = bf16Speed / fp32Speed;
                    }
                    if (run.Skipped)
                        row["skipped"] = true;
                    else if (run.ExitCode != 0)
                    {
                        row["error"] = run.LogTail;
                        Fail(onCuda: cuda);
                    }
                    precisionRows.Add(row);
                    WriteJson(resultsPath, results);
                }
            }
        }

        // 5. Benchmarks of the library's trainer: static (0 layers), 2 and 6 layers at d = 512; baseline and SCA.
        var rows = new JsonArray();
        if (a.Run.Contains("bench"))
        {
            var devices = a.BenchDevices ?? (cuda ? ["cuda", "cpu"] : ["cpu"]);
            var bench = new JsonObject
            {
                ["dtype"] = "float32",
                ["bf16"] = "the library trains in float32 only (no dtype option); bf16 is measured by the precision job",
                ["gpu_memory_method"] = GpuMemorySampler.Method,
                ["tokens_per_second"] = "steady: tokens of the steps after the warm-up steps up to the second-to-last step, over their wall time (per-step loss read back, one sync per step, as in the library)",
                ["rows"] = rows,
            };
            results["bench"] = bench;
            // The order is what matters most first, since a spent time budget skips what is left: the 2-layer model on
            // CUDA and on the CPU (the GPU/CPU speed-up), then the 6-layer and static models on CUDA.
            var plan = new List<(string Device, int Layers)>();
            foreach (int layers in new[] { 2, 6, 0 })
            {
                int[] cpuLayers = a.BenchCpuLayers ?? (cuda ? [2] : [0, 2, 6]);
                foreach (string device in devices.Where(d => d != "cuda" || cuda))
                {
                    if (device == "cuda" || cpuLayers.Contains(layers))
                        plan.Add((device, layers));
                }
            }
            foreach (var (device, layers) in plan)
            {
                int steps = device == "cuda" ? a.BenchStepsCuda : a.BenchStepsCpu;
                int warmup = Math.Max(1, steps / 5);
                foreach (bool sca in new[] { false, true })
                {
                    string name = $"bench-{device}-L{layers}-{(sca ? "sca" : "baseline")}";
                    Console.WriteLine($"Bench {name}: d={BenchDimension}, {steps} steps...");
                    var run = runner.Run(name, ["--job", "train", "--device", device, "--layers", Str(layers),
                        "--d", Str(BenchDimension), "--heads", Str(BenchHeads), "--context", Str(BenchContext), "--batch", Str(BenchBatch),
                        "--steps", Str(steps), "--sca", sca ? "true" : "false", "--max-vocabulary", Str(BenchVocabulary), "--warmup", Str(warmup)],
                        gpuIndex: device == "cuda" ? 0 : null);
                    var row = new JsonObject
                    {
                        ["model"] = layers == 0 ? "static" : $"{layers}-layer", ["layers"] = layers, ["d"] = BenchDimension, ["mode"] = sca ? "sca" : "baseline",
                        ["device"] = device, ["dtype"] = "float32", ["steps"] = steps, ["ok"] = run.ExitCode == 0 && run.Json is not null,
                        ["tokens_per_second"] = run.Json?["steady_tokens_per_second"]?.DeepClone(),
                        ["tokens_per_second_all_steps"] = run.Json?["tokens_per_second"]?.DeepClone(),
                        ["seconds_per_step"] = run.Json?["seconds_per_step"]?.DeepClone(),
                        ["speedup_over_cpu"] = null,
                        ["final_loss"] = run.Json?["final_loss"]?.DeepClone(),
                        ["vocabulary"] = run.Json?["vocabulary"]?.DeepClone(),
                        ["peak_gpu_memory_mib"] = run.PeakGpuMiB,
                        ["baseline_gpu_memory_mib"] = run.BaselineGpuMiB,
                        ["peak_host_working_set_mb"] = run.Json?["peak_host_working_set_mb"]?.DeepClone(),
                        ["wall_s"] = Math.Round(run.Seconds, 2),
                    };
                    if (run.Skipped)
                        row["skipped"] = true;
                    else if (run.ExitCode != 0)
                    {
                        row["error"] = run.LogTail;
                        Fail(onCuda: device == "cuda");
                    }
                    rows.Add(row);
                    WriteJson(resultsPath, results);
                }
            }
            // GPU/CPU speed-up where both devices ran the same model and mode.
            foreach (var row in rows)
            {
                if (row!["device"]!.GetValue<string>() != "cuda" || Number(row["tokens_per_second"]) is not double gpuSpeed)
                    continue;
                var cpuRow = rows.FirstOrDefault(r => r!["device"]!.GetValue<string>() == "cpu" && r["layers"]!.GetValue<int>() == row["layers"]!.GetValue<int>()
                    && r["mode"]!.GetValue<string>() == row["mode"]!.GetValue<string>());
                if (Number(cpuRow?["tokens_per_second"]) is double cpuSpeed && cpuSpeed > 0)
                    row["speedup_over_cpu"] = gpuSpeed / cpuSpeed;
            }
        }

        string table = Table(rows) + Environment.NewLine + PrecisionTable(precisionRows)
            + (results["parity"]?["summary"] is JsonNode p ? Environment.NewLine + p.GetValue<string>() + Environment.NewLine : "")
            + (results["e2e"] is JsonObject e ? Environment.NewLine + EndToEndSummary(e) + Environment.NewLine : "");
        Console.WriteLine();
        Console.WriteLine(table);
        File.WriteAllText(Path.Combine(a.Out, "table.txt"), table);
        string status = exit != ExitOk ? "failed" : results["skipped"]!.AsArray().Count > 0 ? "incomplete_budget" : cuda ? "ok" : "ok_cpu_only";
        return Finish(results, resultsPath, a, status, exit, null);
    }

    private static int Finish(JsonObject results, string resultsPath, Arguments a, string status, int exit, string? error)
    {
        results["status"] = status;
        if (error is not null)
            results["error"] = error;
        results["exit_code"] = exit;
        results["finished_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture);
        WriteJson(resultsPath, results);
        Console.WriteLine($"Wrote {resultsPath}; status {status}; exit code {exit}.");
        return exit;
    }

    /// <summary>Dense bf16 tensor-core peak by the vendor's datasheet, for the share-of-peak figure; null for a GPU not listed.</summary>
    internal static (double? Tflops, string? Source) Bf16PeakTflops(string? gpuName)
    {
        if (string.IsNullOrEmpty(gpuName))
            return (null, null);
        if (gpuName.Contains("H100 PCIe", StringComparison.OrdinalIgnoreCase))
            return (756, "NVIDIA H100 PCIe datasheet, dense BF16");
        if (gpuName.Contains("H200", StringComparison.OrdinalIgnoreCase) || gpuName.Contains("H100", StringComparison.OrdinalIgnoreCase))
            return (989.4, "NVIDIA H100/H200 SXM datasheet, dense BF16 (1,979 with sparsity)");
        if (gpuName.Contains("A100", StringComparison.OrdinalIgnoreCase))
            return (312, "NVIDIA A100 datasheet, dense BF16");
        return (null, "GPU not in the peak table");
    }

    private static string EndToEndSummary(JsonObject e)
    {
        if (e["skipped"] is not null)
            return "End to end: skipped (time budget).";
        if (e["accuracy_before_reload"] is null)
            return $"End to end FAILED (exit {e["exit_code"]}, phase {e["failed_phase"]}): {(e["attempts"] as JsonArray)?.LastOrDefault()?["error"] ?? e["error"]}";
        var r = e["cpu_reference"] as JsonObject;
        string gpuRoute = e["gpu_device_id_route_ok"]?.GetValue<bool>() == true
            ? "GpuDeviceId route ok"
            : $"GpuDeviceId route FAILED ({(e["attempts"] as JsonArray)?.FirstOrDefault()?["error"]}), measured through the Device option instead";
        return $"End to end {(e["ok"]?.GetValue<bool>() == true ? "PASSED" : "FAILED")}: {gpuRoute}; trained on {e["training_device"]} ({e["route"]}), " +
            $"accuracy {Percent(e["accuracy_before_reload"])} before and {Percent(e["accuracy_after_reload"])} after reload " +
            $"(predictions identical: {e["predictions_identical_after_reload"]}; features max |diff| {Format(e["reload_max_abs_feature_difference"])}); " +
            $"CPU-trained reference: accuracy {Percent(r?["accuracy"])}, features max |diff| {Format(r?["max_abs_feature_difference"])} " +
            $"(tolerance {EndToEndJob.FeatureAbsoluteTolerance:G}; max |feature| {Format(r?["max_abs_feature_value"])}), " +
            $"within tolerance: {r?["features_equal_within_tolerance"]}, prediction agreement {Percent(r?["prediction_agreement"])}.";
    }

    private static string Percent(JsonNode? node) => Number(node) is double v ? v.ToString("P1", CultureInfo.InvariantCulture) : "n/a";

    private static string Format(JsonNode? node) => Number(node) is double v ? v.ToString("G3", CultureInfo.InvariantCulture) : "n/a";

    private static double? Number(JsonNode? node) => node is JsonValue v && v.TryGetValue(out double d) ? d : null;

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static JsonObject CompareParity(ChildResult cpu, ChildResult? cuda, bool cudaAvailable)
    {
        var parity = new JsonObject
        {
            ["model"] = "2 layers, d=64, 4 heads, context 32, batch 16, SCA on, seed " + Seed,
            ["tolerance"] = new JsonObject
            {
                ["first_step_relative"] = FirstStepRelativeTolerance,
                ["every_step_relative"] = CurveRelativeTolerance,
                ["why"] = "same initial weights (initialised on the CPU, then moved) and same batches; only fp32 reduction order differs, and Adam amplifies it slowly over steps",
            },
            ["cpu_ok"] = cpu.ExitCode == 0,
            ["cpu_final_loss"] = cpu.Json?["final_loss"]?.DeepClone(),
            ["cpu_tokens_per_second"] = cpu.Json?["tokens_per_second"]?.DeepClone(),
            ["cuda_ok"] = cuda is null ? null : cuda.ExitCode == 0,
            ["cuda_final_loss"] = cuda?.Json?["final_loss"]?.DeepClone(),
            ["cuda_tokens_per_second"] = cuda?.Json?["tokens_per_second"]?.DeepClone(),
            ["first_step_relative_difference"] = null,
            ["max_relative_difference"] = null,
            ["within_tolerance"] = null,
        };
        if (cpu.ExitCode != 0)
            parity["cpu_error"] = cpu.LogTail;
        var curve = new JsonArray();
        var cpuHistory = cpu.Json?["history"]?.AsArray();
        var cudaHistory = cuda?.Json?["history"]?.AsArray();
        double maxRelative = 0, firstRelative = double.NaN;
        if (cpuHistory is not null)
        {
            var cudaByStep = cudaHistory?.ToDictionary(h => h!["step"]!.GetValue<int>(), h => h!["loss"]!.GetValue<double>());
            foreach (var h in cpuHistory)
            {
                int step = h!["step"]!.GetValue<int>();
                double cpuLoss = h["loss"]!.GetValue<double>();
                double? cudaLoss = cudaByStep is not null && cudaByStep.TryGetValue(step, out double c) ? c : null;
                if (cudaLoss is double value)
                {
                    double relative = Math.Abs(value - cpuLoss) / Math.Max(Math.Abs(cpuLoss), 1e-6);
                    maxRelative = Math.Max(maxRelative, double.IsFinite(relative) ? relative : double.PositiveInfinity);
                    if (step == 1)
                        firstRelative = relative;
                }
                curve.Add(new JsonObject { ["step"] = step, ["cpu_loss"] = cpuLoss, ["cuda_loss"] = cudaLoss });
            }
        }
        parity["curve"] = curve;
        if (cuda is not null && cuda.ExitCode != 0)
            parity["cuda_error"] = cuda.LogTail;
        if (cudaHistory is not null && cpuHistory is not null)
        {
            parity["first_step_relative_difference"] = firstRelative;
            parity["max_relative_difference"] = maxRelative;
            bool ok = firstRelative <= FirstStepRelativeTolerance && maxRelative <= CurveRelativeTolerance && cudaHistory.Count == cpuHistory.Count;
            parity["within_tolerance"] = ok;
            parity["summary"] = $"Parity {(ok ? "PASSED" : "FAILED")}: step-1 relative loss difference {firstRelative:E2} (tolerance {FirstStepRelativeTolerance:E0}), " +
                $"largest over {cpuHistory.Count} steps {maxRelative:E2} (tolerance {CurveRelativeTolerance:E0}); final loss CPU {cpu.Json?["final_loss"]}, CUDA {cuda?.Json?["final_loss"]}.";
        }
        else
        {
            parity["summary"] = cpu.ExitCode != 0
                ? $"Parity: the CPU run failed (exit {cpu.ExitCode}): {cpu.LogTail}"
                : cudaAvailable
                    ? $"Parity FAILED: the CUDA run failed (exit {cuda?.ExitCode}): {cuda?.LogTail}"
                    : $"Parity: CPU run only (CUDA not available): final loss {cpu.Json?["final_loss"]}, {cpuHistory?.Count} steps; CUDA comparison null.";
        }
        return parity;
    }

    private static string Table(JsonArray rows)
    {
        var sb = new StringBuilder();
        string header = $"{"model",-9} {"mode",-9} {"device",-6} {"dtype",-8} {"steps",5} {"tokens/s",11} {"s/step",8} {"GPU/CPU",8} {"peak GPU MiB",15} {"final loss",10}";
        sb.AppendLine(header);
        sb.AppendLine(new string('-', header.Length));
        foreach (var row in rows)
        {
            string Num(string key, string format) => Number(row![key]) is double d ? d.ToString(format, CultureInfo.InvariantCulture) : "n/a";
            sb.AppendLine($"{row!["model"],-9} {row["mode"],-9} {row["device"],-6} {row["dtype"],-8} {row["steps"],5} {Num("tokens_per_second", "N0"),11} " +
                $"{Num("seconds_per_step", "F3"),8} {(Number(row["speedup_over_cpu"]) is double x ? x.ToString("F1", CultureInfo.InvariantCulture) + "x" : "n/a"),8} " +
                $"{Peak(row),15} {Num("final_loss", "F3"),10}" + Flag(row));
        }
        return sb.ToString();
    }

    private static string PrecisionTable(JsonArray rows)
    {
        if (rows.Count == 0)
            return "";
        var sb = new StringBuilder();
        string header = $"{"precision",-9} {"device",-6} {"batch",5} {"steps",5} {"tokens/s",11} {"s/step",8} {"TFLOP/s",8} {"of peak",8} {"vs fp32",8} {"peak GPU MiB",15} {"final loss",10}";
        sb.AppendLine("6-layer d=512, baseline objective, the precision job's loop (float32; tf32 on CUDA; bf16 mixed precision):");
        sb.AppendLine(header);
        sb.AppendLine(new string('-', header.Length));
        foreach (var row in rows)
        {
            string Num(string key, string format) => Number(row![key]) is double d ? d.ToString(format, CultureInfo.InvariantCulture) : "n/a";
            sb.AppendLine($"{row!["dtype"],-9} {row["device"],-6} {row["batch"],5} {row["steps"],5} {Num("tokens_per_second", "N0"),11} {Num("seconds_per_step", "F3"),8} " +
                $"{Num("achieved_tflops", "F1"),8} {Num("share_of_bf16_peak", "P1"),8} " +
                $"{(Number(row["speedup_over_float32"]) is double x ? x.ToString("F2", CultureInfo.InvariantCulture) + "x" : "n/a"),8} {Peak(row),15} {Num("final_loss", "F3"),10}" + Flag(row));
        }
        return sb.ToString();
    }

    private static string Peak(JsonNode row) =>
        row["peak_gpu_memory_mib"] is JsonValue p && p.TryGetValue(out long mib)
            ? $"{mib}" + (row["baseline_gpu_memory_mib"] is JsonValue b && b.TryGetValue(out long baseMib) ? $" (+{mib - baseMib})" : "")
            : "null";

    private static string Flag(JsonNode row) => row["skipped"] is not null ? "  SKIPPED" : row["ok"]?.GetValue<bool>() == true ? "" : "  FAILED";

    /// <summary>Starts child jobs, one at a time, within the overall time budget.</summary>
    private sealed class ChildRunner(Arguments a, string jobsDir, Stopwatch clock, JsonArray skipped)
    {
        public ChildResult Run(string name, IEnumerable<string> jobArgs, int? gpuIndex, bool required = false)
        {
            int timeout = a.JobTimeoutSeconds;
            if (a.BudgetSeconds > 0 && !required)
            {
                int left = a.BudgetSeconds - (int)clock.Elapsed.TotalSeconds;
                if (left < 10)
                {
                    Console.WriteLine($"  {name} skipped: the time budget of {a.BudgetSeconds} s is spent.");
                    skipped.Add(name);
                    return new ChildResult(-1, null, "skipped: time budget spent", 0, null, null, Skipped: true);
                }
                timeout = Math.Min(timeout, left);
            }
            return RunChild(a, jobsDir, name, jobArgs, gpuIndex, timeout);
        }
    }

    private static ChildResult RunChild(Arguments a, string jobsDir, string name, IEnumerable<string> jobArgs, int? gpuIndex, int timeoutSeconds)
    {
        string resultPath = Path.Combine(jobsDir, name + ".json");
        string logPath = Path.Combine(jobsDir, name + ".log");
        File.Delete(resultPath);
        var info = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string arg in jobArgs)
            info.ArgumentList.Add(arg);
        foreach (string arg in new[] { "--libtorch", a.LibTorch!, "--corpus", a.Corpus, "--spam", a.Spam, "--result", resultPath })
            info.ArgumentList.Add(arg);

        long? baseline = gpuIndex is int i0 ? GpuMemorySampler.SampleOnce(i0) : null;
        using var sampler = gpuIndex is int i1 ? GpuMemorySampler.Start(i1) : null;
        var clock = Stopwatch.StartNew();
        var log = new StringBuilder();
        int exitCode;
        using (var process = Process.Start(info)!)
        {
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(timeoutSeconds * 1000))
            {
                process.Kill(entireProcessTree: true);
                lock (log) log.AppendLine($"Killed after the job timeout of {timeoutSeconds} s.");
            }
            process.WaitForExit();
            exitCode = process.ExitCode;
        }
        long? peak = sampler?.Stop();
        string logText;
        lock (log) logText = log.ToString();
        File.WriteAllText(logPath, logText);
        JsonObject? json = null;
        if (File.Exists(resultPath))
        {
            try { json = JsonNode.Parse(File.ReadAllText(resultPath)) as JsonObject; }
            catch (JsonException) { json = null; }
        }
        string tail = logText.Length > 1500 ? logText[^1500..] : logText;
        if (exitCode != 0)
            Console.WriteLine($"  {name} failed with exit code {exitCode}; log {logPath}");
        return new ChildResult(exitCode, json, tail.Trim(), clock.Elapsed.TotalSeconds, peak, baseline);
    }

    private static void WriteJson(string path, JsonObject json)
    {
        Microsoft.ML.Coherence.Internal.AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
