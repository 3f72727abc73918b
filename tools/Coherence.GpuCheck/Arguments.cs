using System.Globalization;

namespace Coherence.GpuCheck;

/// <summary>Command-line arguments of the parent ("--libtorch DIR --out DIR") and of a child job ("--job ...").</summary>
internal sealed class Arguments
{
    public const string Usage =
        "Usage: Coherence.GpuCheck --libtorch <libtorch lib folder> --out <results folder> [--jobs-dir DIR (<out>/jobs)]\n" +
        "         [--run parity,e2e,bench,bf16 (all)] [--expect-cuda true|false (false)] [--budget-s S (0: none)] [--job-timeout S (600)]\n" +
        "         [--corpus <corpus.txt>] [--spam <folder with train.tsv, test.tsv>]\n" +
        "         [--parity-steps N (40)] [--bench-steps-cuda N (60)] [--bench-steps-cpu N (5)] [--bench-devices cpu,cuda]\n" +
        "         [--bench-cpu-layers 0,2,6 (with CUDA: 2)] [--e2e-steps N (from Epochs)] [--e2e-layers N (2)]\n" +
        "         [--bf16-steps-cuda N (40)] [--bf16-steps-cpu N (3)] [--bf16-batches 32,512 (CPU: 32)]\n" +
        "Normally started by run-check.sh, which makes the libtorch folder findable first.";

    public string? Job { get; private set; }
    public string? LibTorch { get; private set; }
    public string? Out { get; private set; }
    public string? JobsDir { get; private set; }
    public string? Result { get; private set; }
    public string Corpus { get; private set; } = Path.Combine(AppContext.BaseDirectory, "corpus.txt");
    public string Spam { get; private set; } = Path.Combine(AppContext.BaseDirectory, "spam");
    public string[] Run { get; private set; } = ["parity", "e2e", "bench", "bf16"];
    public bool ExpectCuda { get; private set; }
    public int BudgetSeconds { get; private set; }
    public int ParitySteps { get; private set; } = 40;
    public int BenchStepsCuda { get; private set; } = 60;
    public int BenchStepsCpu { get; private set; } = 5;
    public string[]? BenchDevices { get; private set; }
    public int[]? BenchCpuLayers { get; private set; }
    public int? E2eSteps { get; private set; }
    public int E2eLayers { get; private set; } = 2;
    public int Bf16StepsCuda { get; private set; } = 40;
    public int Bf16StepsCpu { get; private set; } = 3;
    public int[]? Bf16Batches { get; private set; }
    public int JobTimeoutSeconds { get; private set; } = 600;

    // Child "train" and "precision" jobs.
    public string Device { get; private set; } = "cpu";
    public int Layers { get; private set; }
    public int Dimension { get; private set; } = 64;
    public int Heads { get; private set; } = 4;
    public int Context { get; private set; } = 32;
    public int Batch { get; private set; } = 16;
    public int Steps { get; private set; } = 20;
    public bool Sca { get; private set; }
    public int MaxVocabulary { get; private set; } = 30_000;
    public int Warmup { get; private set; } = 2;
    public string DType { get; private set; } = "float32";

    // Child "e2e" job.
    public bool FallbackToCpu { get; private set; }
    public bool CudaExpected { get; private set; }

    public static Arguments? Parse(string[] args)
    {
        var a = new Arguments();
        for (int i = 0; i < args.Length; i++)
        {
            if (i + 1 >= args.Length)
                return null;
            string value = args[i + 1];
            switch (args[i])
            {
                case "--job": a.Job = value; break;
                case "--libtorch": a.LibTorch = Path.GetFullPath(value); break;
                case "--out": a.Out = Path.GetFullPath(value); break;
                case "--jobs-dir": a.JobsDir = Path.GetFullPath(value); break;
                case "--result": a.Result = Path.GetFullPath(value); break;
                case "--corpus": a.Corpus = Path.GetFullPath(value); break;
                case "--spam": a.Spam = Path.GetFullPath(value); break;
                case "--run": a.Run = List(value); break;
                case "--expect-cuda": a.ExpectCuda = bool.Parse(value); break;
                case "--budget-s": a.BudgetSeconds = Int(value); break;
                case "--parity-steps": a.ParitySteps = Int(value); break;
                case "--bench-steps-cuda": a.BenchStepsCuda = Int(value); break;
                case "--bench-steps-cpu": a.BenchStepsCpu = Int(value); break;
                case "--bench-devices": a.BenchDevices = List(value); break;
                case "--bench-cpu-layers": a.BenchCpuLayers = List(value).Select(Int).ToArray(); break;
                case "--e2e-steps": a.E2eSteps = Int(value); break;
                case "--e2e-layers": a.E2eLayers = Int(value); break;
                case "--bf16-steps-cuda": a.Bf16StepsCuda = Int(value); break;
                case "--bf16-steps-cpu": a.Bf16StepsCpu = Int(value); break;
                case "--bf16-batches": a.Bf16Batches = List(value).Select(Int).ToArray(); break;
                case "--job-timeout": a.JobTimeoutSeconds = Int(value); break;
                case "--device": a.Device = value; break;
                case "--layers": a.Layers = Int(value); break;
                case "--d": a.Dimension = Int(value); break;
                case "--heads": a.Heads = Int(value); break;
                case "--context": a.Context = Int(value); break;
                case "--batch": a.Batch = Int(value); break;
                case "--steps": a.Steps = Int(value); break;
                case "--sca": a.Sca = bool.Parse(value); break;
                case "--max-vocabulary": a.MaxVocabulary = Int(value); break;
                case "--warmup": a.Warmup = Int(value); break;
                case "--dtype": a.DType = value; break;
                case "--fallback-to-cpu": a.FallbackToCpu = bool.Parse(value); break;
                case "--cuda-expected": a.CudaExpected = bool.Parse(value); break;
                default: return null;
            }
            i++;
        }
        return a;
    }

    private static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static int Int(string value) => int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
}
