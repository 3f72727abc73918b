using System.CommandLine;
using Coherence.Tools;

namespace Coherence.GpuCheck;

/// <summary>Command-line arguments of the parent ("--libtorch DIR --out DIR") and of a child job ("--job ..."), parsed with System.CommandLine.</summary>
internal sealed class Arguments
{
    public string? Job { get; private init; }
    public string? LibTorch { get; private init; }
    public string? Out { get; private init; }
    public string? JobsDir { get; private init; }
    public string? Result { get; private init; }
    public string Corpus { get; private set; } = Path.Combine(AppContext.BaseDirectory, "corpus.txt");
    public string Spam { get; private set; } = Path.Combine(AppContext.BaseDirectory, "spam");
    public string[] Run { get; private init; } = ["parity", "e2e", "bench", "bf16"];
    public bool ExpectCuda { get; private init; }
    public int BudgetSeconds { get; private init; }
    public int ParitySteps { get; private init; } = 40;
    public int BenchStepsCuda { get; private init; } = 60;
    public int BenchStepsCpu { get; private init; } = 5;
    public string[]? BenchDevices { get; private init; }
    public int[]? BenchCpuLayers { get; private init; }
    public int? E2eSteps { get; private init; }
    public int E2eLayers { get; private init; } = 2;
    public int Bf16StepsCuda { get; private init; } = 40;
    public int Bf16StepsCpu { get; private init; } = 3;
    public int[]? Bf16Batches { get; private init; }
    public int JobTimeoutSeconds { get; private init; } = 600;

    // Child "train" and "precision" jobs.
    public string Device { get; private init; } = "cpu";
    public int Layers { get; private init; }
    public int Dimension { get; private init; } = 64;
    public int Heads { get; private init; } = 4;
    public int Context { get; private init; } = 32;
    public int Batch { get; private init; } = 16;
    public int Steps { get; private init; } = 20;
    public bool Sca { get; private init; }
    public int MaxVocabulary { get; private init; } = 30_000;
    public int Warmup { get; private init; } = 2;
    public string DType { get; private init; } = "float32";

    // Child "e2e" job.
    public bool FallbackToCpu { get; private init; }
    public bool CudaExpected { get; private init; }

    /// <summary>The command line, built once: the parent's options, then a child job's (set by the parent, listed for completeness).</summary>
    public static RootCommand Command { get; } = CreateCommand();

    /// <summary>
    /// Parses <paramref name="args"/>: the arguments, or null with <paramref name="error"/> set on a usage error, or
    /// null with <paramref name="help"/> set when help was asked for (<see cref="ParseResult.Invoke"/> prints it).
    /// </summary>
    public static Arguments? Parse(string[] args, out string? error, out ParseResult? help)
    {
        var result = ToolCommandLine.Parse(Command, args);
        help = ToolCommandLine.IsHelp(result) ? result : null;
        error = help is null ? ToolCommandLine.FirstError(result) : null;
        if (help is not null || error is not null)
        {
            return null;
        }

        string? FullPath(Option<string?> option) => result.GetValue(option) is { } path ? Path.GetFullPath(path) : null;
        var a = new Arguments
        {
            Job = result.GetValue(Cli.Job),
            LibTorch = FullPath(Cli.LibTorch),
            Out = FullPath(Cli.Out),
            JobsDir = FullPath(Cli.JobsDir),
            Result = FullPath(Cli.Result),
            Run = result.GetValue(Cli.Run)!,
            ExpectCuda = ToolCommandLine.GetBoolean(result, Cli.ExpectCuda),
            BudgetSeconds = result.GetValue(Cli.BudgetSeconds),
            ParitySteps = result.GetValue(Cli.ParitySteps),
            BenchStepsCuda = result.GetValue(Cli.BenchStepsCuda),
            BenchStepsCpu = result.GetValue(Cli.BenchStepsCpu),
            BenchDevices = result.GetValue(Cli.BenchDevices),
            BenchCpuLayers = result.GetValue(Cli.BenchCpuLayers),
            E2eSteps = result.GetValue(Cli.E2eSteps),
            E2eLayers = result.GetValue(Cli.E2eLayers),
            Bf16StepsCuda = result.GetValue(Cli.Bf16StepsCuda),
            Bf16StepsCpu = result.GetValue(Cli.Bf16StepsCpu),
            Bf16Batches = result.GetValue(Cli.Bf16Batches),
            JobTimeoutSeconds = result.GetValue(Cli.JobTimeout),
            Device = result.GetValue(Cli.Device)!,
            Layers = result.GetValue(Cli.Layers),
            Dimension = result.GetValue(Cli.Dimension),
            Heads = result.GetValue(Cli.Heads),
            Context = result.GetValue(Cli.Context),
            Batch = result.GetValue(Cli.Batch),
            Steps = result.GetValue(Cli.Steps),
            Sca = ToolCommandLine.GetBoolean(result, Cli.Sca),
            MaxVocabulary = result.GetValue(Cli.MaxVocabulary),
            Warmup = result.GetValue(Cli.Warmup),
            DType = result.GetValue(Cli.DType)!,
            FallbackToCpu = ToolCommandLine.GetBoolean(result, Cli.FallbackToCpu),
            CudaExpected = ToolCommandLine.GetBoolean(result, Cli.CudaExpected),
        };
        if (result.GetValue(Cli.Corpus) is { } corpus)
        {
            a.Corpus = Path.GetFullPath(corpus);
        }

        if (result.GetValue(Cli.Spam) is { } spam)
        {
            a.Spam = Path.GetFullPath(spam);
        }

        return a;
    }

    private static RootCommand CreateCommand()
    {
        var root = new RootCommand(
            "The CUDA check for a machine with PyTorch but no .NET (docs/gpu.md): parity of CPU and CUDA training, the saved " +
            "pipeline end to end, step-time benchmarks and bf16. Normally started by run-check.sh, which makes the libtorch folder findable first.");
        foreach (var option in Cli.All)
        {
            root.Options.Add(option);
        }

        return root;
    }

    private static class Cli
    {
        private static readonly ToolCommandLine.TryParse<string[]> Names = ToolCommandLine.ListOf<string>((string text, out string value) =>
        {
            value = text;
            return true;
        });

        private static readonly ToolCommandLine.TryParse<int[]> Ints = ToolCommandLine.ListOf(ToolCommandLine.IntAtLeast(0));

        // The parent.
        public static readonly Option<string?> LibTorch = ToolCommandLine.OptionalText("--libtorch", "The libtorch lib folder (required; run-check.sh finds it).");
        public static readonly Option<string?> Out = ToolCommandLine.OptionalText("--out", "The results folder (required for a check): results.json and the jobs' logs.");
        public static readonly Option<string?> JobsDir = ToolCommandLine.OptionalText("--jobs-dir", "Where the child jobs write (default: <out>/jobs).");
        public static readonly Option<string[]> Run = ToolCommandLine.Checked("--run", "Comma-separated parts to run: parity, e2e, bench, bf16.",
            ToolCommandLine.ListOf(ToolCommandLine.OneOf("parity", "e2e", "bench", "bf16")), "a comma-separated list of parity, e2e, bench, bf16",
            () => ["parity", "e2e", "bench", "bf16"]);
        public static readonly Option<string> ExpectCuda = ToolCommandLine.Boolean("--expect-cuda", "true: fail (exit code) when CUDA is not usable.", false);
        public static readonly Option<int> BudgetSeconds = ToolCommandLine.Int("--budget-s", "Wall-clock budget in seconds; parts that no longer fit are skipped (0: none).", 0, 0);
        public static readonly Option<int> JobTimeout = ToolCommandLine.Int("--job-timeout", "Seconds before a child job is killed.", 600, 1);
        public static readonly Option<string?> Corpus = ToolCommandLine.OptionalText("--corpus", "The training text (default: corpus.txt next to the program).");
        public static readonly Option<string?> Spam = ToolCommandLine.OptionalText("--spam", "Folder with train.tsv and test.tsv for the end-to-end job (default: spam next to the program).");
        public static readonly Option<int> ParitySteps = ToolCommandLine.Int("--parity-steps", "Steps of the CPU/CUDA parity runs.", 40, 1);
        public static readonly Option<int> BenchStepsCuda = ToolCommandLine.Int("--bench-steps-cuda", "Steps of each CUDA benchmark run.", 60, 1);
        public static readonly Option<int> BenchStepsCpu = ToolCommandLine.Int("--bench-steps-cpu", "Steps of each CPU benchmark run.", 5, 1);
        public static readonly Option<string[]?> BenchDevices = ToolCommandLine.Checked<string[]?>("--bench-devices", "Comma-separated devices to benchmark: cpu, cuda (default: both where CUDA works).",
            (string text, out string[]? value) =>
            {
                bool ok = ToolCommandLine.ListOf(ToolCommandLine.OneOf("cpu", "cuda"))(text, out var list);
                value = list;
                return ok;
            }, "a comma-separated list of cpu, cuda");
        public static readonly Option<int[]?> BenchCpuLayers = IntList("--bench-cpu-layers", "Comma-separated layer counts of the CPU benchmark (default 0,2,6; with CUDA: 2).");
        public static readonly Option<int?> E2eSteps = ToolCommandLine.OptionalInt("--e2e-steps", "Steps of the end-to-end fit (default: from Epochs).", 1);
        public static readonly Option<int> E2eLayers = ToolCommandLine.Int("--e2e-layers", "Layers of the end-to-end model.", 2, 0);
        public static readonly Option<int> Bf16StepsCuda = ToolCommandLine.Int("--bf16-steps-cuda", "Steps of each CUDA precision run.", 40, 1);
        public static readonly Option<int> Bf16StepsCpu = ToolCommandLine.Int("--bf16-steps-cpu", "Steps of each CPU precision run.", 3, 1);
        public static readonly Option<int[]?> Bf16Batches = IntList("--bf16-batches", "Comma-separated batch sizes of the precision runs (default 32,512; CPU: 32).");

        // A child job (the parent writes these).
        public static readonly Option<string?> Job = ToolCommandLine.Checked<string?>("--job", "Child job to run: probe, train, e2e or precision (set by the parent).",
            (string text, out string? value) =>
            {
                value = text;
                return text is "probe" or "train" or "e2e" or "precision";
            }, "a job; valid: probe, train, e2e, precision");
        public static readonly Option<string?> Result = ToolCommandLine.OptionalText("--result", "Child job: where to write its JSON result.");
        public static readonly Option<string> Device = ToolCommandLine.Checked("--device", "Child job: the device, cpu or cuda.", ToolCommandLine.OneOf("cpu", "cuda"), "a device; valid: cpu, cuda", () => "cpu");
        public static readonly Option<int> Layers = ToolCommandLine.Int("--layers", "Child job: Transformer layers.", 0, 0);
        public static readonly Option<int> Dimension = ToolCommandLine.Int("--d", "Child job: embedding dimension.", 64, 1);
        public static readonly Option<int> Heads = ToolCommandLine.Int("--heads", "Child job: attention heads.", 4, 1);
        public static readonly Option<int> Context = ToolCommandLine.Int("--context", "Child job: context length.", 32, 2);
        public static readonly Option<int> Batch = ToolCommandLine.Int("--batch", "Child job: batch size.", 16, 1);
        public static readonly Option<int> Steps = ToolCommandLine.Int("--steps", "Child job: optimiser steps.", 20, 1);
        public static readonly Option<string> Sca = ToolCommandLine.Boolean("--sca", "Child job: true for SCA, false for the baseline.", false);
        public static readonly Option<int> MaxVocabulary = ToolCommandLine.Int("--max-vocabulary", "Child job: largest vocabulary.", 30_000, 2);
        public static readonly Option<int> Warmup = ToolCommandLine.Int("--warmup", "Child job: untimed warm-up steps.", 2, 0);
        public static readonly Option<string> DType = ToolCommandLine.Checked("--dtype", "Child job: float32, tf32 or bfloat16.",
            ToolCommandLine.OneOf("float32", "tf32", "bfloat16"), "a dtype; valid: float32, tf32, bfloat16", () => "float32");
        public static readonly Option<string> FallbackToCpu = ToolCommandLine.Boolean("--fallback-to-cpu", "Child e2e job: the MLContext's FallbackToCpu.", false);
        public static readonly Option<string> CudaExpected = ToolCommandLine.Boolean("--cuda-expected", "Child e2e job: whether the probe found CUDA.", false);

        public static readonly Option[] All =
        [
            LibTorch, Out, JobsDir, Run, ExpectCuda, BudgetSeconds, JobTimeout, Corpus, Spam, ParitySteps, BenchStepsCuda, BenchStepsCpu,
            BenchDevices, BenchCpuLayers, E2eSteps, E2eLayers, Bf16StepsCuda, Bf16StepsCpu, Bf16Batches,
            Job, Result, Device, Layers, Dimension, Heads, Context, Batch, Steps, Sca, MaxVocabulary, Warmup, DType, FallbackToCpu, CudaExpected,
        ];

        private static Option<int[]?> IntList(string name, string description) =>
            ToolCommandLine.Checked<int[]?>(name, description, (string text, out int[]? value) =>
            {
                bool ok = Ints(text, out var list);
                value = list;
                return ok;
            }, "a comma-separated list of integers >= 0");
    }
}
