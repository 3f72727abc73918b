using System.Globalization;

namespace Coherence.GpuCheck;

/// <summary>Command-line arguments of the parent ("--libtorch DIR --out DIR") and of a child job ("--job ...").</summary>
internal sealed class Arguments
{
    public const string Usage =
        "Usage: Coherence.GpuCheck --libtorch <libtorch lib folder> --out <results folder> [--corpus <corpus.txt>]\n" +
        "         [--parity-steps N (40)] [--bench-steps-cuda N (60)] [--bench-steps-cpu N (5)] [--bench-devices cpu,cuda]\n" +
        "         [--job-timeout S (600)]\n" +
        "Normally started by run-check.sh, which makes the libtorch folder findable first.";

    public string? Job { get; private set; }
    public string? LibTorch { get; private set; }
    public string? Out { get; private set; }
    public string? Result { get; private set; }
    public string Corpus { get; private set; } = Path.Combine(AppContext.BaseDirectory, "corpus.txt");
    public int ParitySteps { get; private set; } = 40;
    public int BenchStepsCuda { get; private set; } = 60;
    public int BenchStepsCpu { get; private set; } = 5;
    public string[]? BenchDevices { get; private set; }
    public int JobTimeoutSeconds { get; private set; } = 600;

    // Child "train" job.
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
                case "--result": a.Result = Path.GetFullPath(value); break;
                case "--corpus": a.Corpus = Path.GetFullPath(value); break;
                case "--parity-steps": a.ParitySteps = Int(value); break;
                case "--bench-steps-cuda": a.BenchStepsCuda = Int(value); break;
                case "--bench-steps-cpu": a.BenchStepsCpu = Int(value); break;
                case "--bench-devices": a.BenchDevices = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
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
                default: return null;
            }
            i++;
        }
        return a;
    }

    private static int Int(string value) => int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
}
