using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Coherence.GpuCheck;

/// <summary>
/// The CUDA check (docs/gpu.md). The parent process loads no libtorch itself: it starts one child process per
/// job (probe, CPU and CUDA parity runs, one benchmark run per model), collects their JSON, prints a table
/// and writes results.json.
/// Exit codes: 0 everything ran (with CUDA absent: the CPU half ran and every CUDA field is null);
/// 2 usage; 3 TorchSharp could not be bound to the libtorch given; 4 CUDA is present but a CUDA run
/// failed or the CPU/CUDA loss curves differ by more than the tolerance; 5 a CPU run failed.
/// </summary>
internal static class Program
{
    public const int ExitOk = 0, ExitUsage = 2, ExitNativeLoad = 3, ExitCudaFailed = 4, ExitCpuFailed = 5;

    // Parity tolerance: the same seed gives identical initial weights (initialised on the CPU, then moved) and
    // identical batches; only floating-point reduction order differs (cuBLAS, fused attention kernels).
    public const double FirstStepRelativeTolerance = 1e-4;
    public const double CurveRelativeTolerance = 1e-2;

    private const int Seed = 20_240_607;

    private static int Main(string[] args)
    {
        var options = Arguments.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine(Arguments.Usage);
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
            Console.Error.WriteLine(Arguments.Usage);
            return ExitUsage;
        }
        JsonObject result = a.Job switch
        {
            "probe" => Jobs.Probe(a.LibTorch),
            "train" => Jobs.Train(a.LibTorch, a.Corpus, new Jobs.TrainSpec(a.Device, a.Layers, a.Dimension, a.Heads, a.Context, a.Batch,
                a.Steps, a.Sca, Seed, a.MaxVocabulary, a.Warmup)),
            _ => throw new ArgumentException("Unknown job " + a.Job),
        };
        WriteJson(a.Result, result);
        return ExitOk;
    }

    // ---------------------------------------------------------------- parent

    private sealed record ChildResult(int ExitCode, JsonObject? Json, string LogTail, double Seconds, long? PeakGpuMiB, long? BaselineGpuMiB);

    private static int Orchestrate(Arguments a)
    {
        if (a.LibTorch is null || a.Out is null)
        {
            Console.Error.WriteLine(Arguments.Usage);
            return ExitUsage;
        }
        Directory.CreateDirectory(a.Out);
        Directory.CreateDirectory(Path.Combine(a.Out, "jobs"));
        var results = new JsonObject
        {
            ["tool"] = "Coherence.GpuCheck",
            ["started_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            ["host"] = new JsonObject
            {
                ["machine"] = Environment.MachineName, ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["cpu_count"] = Environment.ProcessorCount, ["dotnet"] = Environment.Version.ToString(),
            },
            ["libtorch_dir"] = a.LibTorch,
            ["corpus"] = a.Corpus,
            ["exit_codes"] = "0 ok (CUDA absent: CPU half ran, CUDA fields null); 3 native load failed; 4 CUDA run failed or parity out of tolerance; 5 CPU run failed",
        };
        string resultsPath = Path.Combine(a.Out, "results.json");

        // 1. Probe: bind TorchSharp to the libtorch, ask for CUDA.
        Console.WriteLine($"Coherence.GpuCheck: libtorch from {a.LibTorch}");
        var probe = RunChild(a, "probe", ["--job", "probe"], gpuIndex: null);
        results["probe"] = probe.Json?.DeepClone();
        if (probe.ExitCode != 0 || probe.Json is null || probe.Json["native_error"] is not null)
        {
            string reason = probe.Json?["native_error"]?.GetValue<string>() ?? $"the probe exited with code {probe.ExitCode}: {probe.LogTail}";
            Console.WriteLine("TorchSharp could not be bound to this libtorch: " + reason);
            results["status"] = "native_load_failed";
            results["error"] = reason;
            results["exit_code"] = ExitNativeLoad;
            WriteJson(resultsPath, results);
            return ExitNativeLoad;
        }
        bool cuda = probe.Json["cuda_available"]?.GetValue<bool>() == true;
        Console.WriteLine($"TorchSharp {probe.Json["torchsharp_version"]} bound to {a.LibTorch} (TorchSharp expects libtorch {probe.Json["libtorch_version_expected_by_torchsharp"]}).");
        JsonObject? gpu = null;
        if (cuda)
        {
            string? smi = GpuMemorySampler.Query(["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits", "-i", "0"]);
            var parts = smi?.Split(',', StringSplitOptions.TrimEntries);
            gpu = new JsonObject
            {
                ["name"] = parts?.ElementAtOrDefault(0), ["memory_total_mib"] = parts?.ElementAtOrDefault(1), ["driver"] = parts?.ElementAtOrDefault(2),
                ["device_count"] = probe.Json["cuda_device_count"]?.DeepClone(), ["bf16_matmul_ok"] = probe.Json["bf16_supported"]?.DeepClone(),
            };
            Console.WriteLine($"CUDA available: {gpu["name"]} ({gpu["memory_total_mib"]} MiB, driver {gpu["driver"]}).");
        }
        else
        {
            string why = probe.Json["cuda_error"]?.GetValue<string>() ?? "torch.cuda.is_available() is false for this libtorch (a CPU build, or no driver/GPU)";
            Console.WriteLine($"CUDA not available: {why}. Running the CPU half only; CUDA fields are null.");
            results["cuda_reason"] = why;
        }
        results["cuda_available"] = cuda;
        results["gpu"] = gpu;
        WriteJson(resultsPath, results);

        int exit = ExitOk;

        // 2. Parity: the same small model, same seed, CPU then CUDA.
        var parityArgs = new List<string> { "--job", "train", "--layers", "2", "--d", "64", "--heads", "4", "--context", "32", "--batch", "16",
            "--steps", a.ParitySteps.ToString(CultureInfo.InvariantCulture), "--sca", "true", "--max-vocabulary", "5000", "--warmup", "2" };
        Console.WriteLine($"Parity: 2-layer d=64 model with SCA, {a.ParitySteps} steps, seed {Seed}, on the CPU{(cuda ? " and on CUDA" : "")}...");
        var cpuRun = RunChild(a, "parity-cpu", [.. parityArgs, "--device", "cpu"], gpuIndex: null);
        ChildResult? cudaRun = cuda ? RunChild(a, "parity-cuda", [.. parityArgs, "--device", "cuda"], gpuIndex: 0) : null;
        var parity = CompareParity(cpuRun, cudaRun, cuda);
        results["parity"] = parity;
        if (cpuRun.ExitCode != 0)
            exit = ExitCpuFailed;
        else if (cuda && parity["within_tolerance"]?.GetValue<bool>() != true)
            exit = ExitCudaFailed;
        Console.WriteLine(parity["summary"]?.GetValue<string>());
        WriteJson(resultsPath, results);

        // 3. Benchmarks: static (0 layers), 2 and 6 layers at d = 512; baseline and SCA.
        var devices = a.BenchDevices ?? (cuda ? ["cuda"] : ["cpu"]);
        var rows = new JsonArray();
        var bench = new JsonObject
        {
            ["dtype"] = "float32",
            ["bf16"] = "not measured: the library trains in float32 only (no dtype or autocast option yet; TorchSharp 0.107 has no autocast)",
            ["gpu_memory_method"] = GpuMemorySampler.Method,
            ["tokens_per_second"] = "steady: tokens of the steps after the warm-up steps up to the second-to-last step, over their wall time (per-step loss read back, one sync per step, as in the library)",
            ["rows"] = rows,
        };
        results["bench"] = bench;
        foreach (string device in devices)
        {
            if (device == "cuda" && !cuda)
                continue;
            int steps = device == "cuda" ? a.BenchStepsCuda : a.BenchStepsCpu;
            int warmup = Math.Max(1, steps / 5);
            foreach (int layers in new[] { 0, 2, 6 })
            {
                foreach (bool sca in new[] { false, true })
                {
                    string name = $"bench-{device}-L{layers}-{(sca ? "sca" : "baseline")}";
                    Console.WriteLine($"Bench {name}: d=512, {steps} steps...");
                    var run = RunChild(a, name, ["--job", "train", "--device", device, "--layers", layers.ToString(CultureInfo.InvariantCulture),
                        "--d", "512", "--heads", "8", "--context", "64", "--batch", "32", "--steps", steps.ToString(CultureInfo.InvariantCulture),
                        "--sca", sca ? "true" : "false", "--max-vocabulary", "30000", "--warmup", warmup.ToString(CultureInfo.InvariantCulture)],
                        gpuIndex: device == "cuda" ? 0 : null);
                    var row = new JsonObject
                    {
                        ["model"] = layers == 0 ? "static" : $"{layers}-layer", ["layers"] = layers, ["d"] = 512, ["mode"] = sca ? "sca" : "baseline",
                        ["device"] = device, ["dtype"] = "float32", ["steps"] = steps, ["ok"] = run.ExitCode == 0 && run.Json is not null,
                        ["tokens_per_second"] = run.Json?["steady_tokens_per_second"]?.DeepClone(),
                        ["tokens_per_second_all_steps"] = run.Json?["tokens_per_second"]?.DeepClone(),
                        ["seconds_per_step"] = run.Json?["seconds_per_step"]?.DeepClone(),
                        ["final_loss"] = run.Json?["final_loss"]?.DeepClone(),
                        ["vocabulary"] = run.Json?["vocabulary"]?.DeepClone(),
                        ["peak_gpu_memory_mib"] = run.PeakGpuMiB,
                        ["baseline_gpu_memory_mib"] = run.BaselineGpuMiB,
                        ["peak_host_working_set_mb"] = run.Json?["peak_host_working_set_mb"]?.DeepClone(),
                        ["wall_s"] = Math.Round(run.Seconds, 2),
                    };
                    if (run.ExitCode != 0)
                    {
                        row["error"] = run.LogTail;
                        exit = exit != ExitOk ? exit : device == "cuda" ? ExitCudaFailed : ExitCpuFailed;
                    }
                    rows.Add(row);
                    WriteJson(resultsPath, results);
                }
            }
        }

        string table = Table(rows);
        Console.WriteLine();
        Console.WriteLine(table);
        File.WriteAllText(Path.Combine(a.Out, "table.txt"), table);
        results["status"] = exit == ExitOk ? (cuda ? "ok" : "ok_cpu_only") : "failed";
        results["exit_code"] = exit;
        results["finished_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture);
        WriteJson(resultsPath, results);
        Console.WriteLine($"Wrote {resultsPath}; exit code {exit}.");
        return exit;
    }

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
        string header = $"{"model",-9} {"mode",-9} {"device",-6} {"dtype",-8} {"steps",5} {"tokens/s",11} {"s/step",8} {"peak GPU MiB",13} {"final loss",10}";
        sb.AppendLine(header);
        sb.AppendLine(new string('-', header.Length));
        foreach (var row in rows)
        {
            string Number(string key, string format) =>
                row![key] is JsonValue v && v.TryGetValue(out double d) ? d.ToString(format, CultureInfo.InvariantCulture) : "n/a";
            string peak = row!["peak_gpu_memory_mib"] is JsonValue p && p.TryGetValue(out long mib)
                ? $"{mib}" + (row["baseline_gpu_memory_mib"] is JsonValue b && b.TryGetValue(out long baseMib) ? $" (+{mib - baseMib})" : "")
                : "null";
            sb.AppendLine($"{row["model"],-9} {row["mode"],-9} {row["device"],-6} {row["dtype"],-8} {row["steps"],5} {Number("tokens_per_second", "N0"),11} " +
                $"{Number("seconds_per_step", "F3"),8} {peak,13} {Number("final_loss", "F3"),10}" + (row["ok"]?.GetValue<bool>() == true ? "" : "  FAILED"));
        }
        return sb.ToString();
    }

    private static ChildResult RunChild(Arguments a, string name, IEnumerable<string> jobArgs, int? gpuIndex)
    {
        string resultPath = Path.Combine(a.Out!, "jobs", name + ".json");
        string logPath = Path.Combine(a.Out!, "jobs", name + ".log");
        File.Delete(resultPath);
        var info = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string arg in jobArgs)
            info.ArgumentList.Add(arg);
        foreach (string arg in new[] { "--libtorch", a.LibTorch!, "--corpus", a.Corpus, "--result", resultPath })
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
            if (!process.WaitForExit(a.JobTimeoutSeconds * 1000))
            {
                process.Kill(entireProcessTree: true);
                lock (log) log.AppendLine($"Killed after the job timeout of {a.JobTimeoutSeconds} s.");
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
