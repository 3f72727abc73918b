using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.Coherence.Internal;

namespace Coherence.Benchmarks;

/// <summary>What every mode shares: the repository root, the machine's load, the JSON settings and the result files.</summary>
internal static class BenchmarkEnvironment
{
    /// <summary>The seed of every benchmark run.</summary>
    public const int Seed = 20250214;

    /// <summary>The project's target for SCA's cost over the baseline (time per step and memory).</summary>
    public const double OverheadTarget = 1.10;

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    internal static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Coherence.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"Coherence.sln was not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>The 1-, 5- and 15-minute load averages (/proc/loadavg), or "unknown".</summary>
    public static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} {parts[1]} {parts[2]}";
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    /// <summary>The machine, now.</summary>
    public static MachineInfo Machine(string loadBefore) => new()
    {
        LogicalCores = Environment.ProcessorCount,
        Os = RuntimeInformation.OSDescription,
        Runtime = RuntimeInformation.FrameworkDescription,
        LoadAverageBefore = loadBefore,
        LoadAverageAfter = LoadAverage(),
    };

    /// <summary>Writes <paramref name="value"/> as indented JSON to <paramref name="fileName"/> in <paramref name="outDirectory"/> (temporary file, then rename).</summary>
    public static string WriteResult<T>(string outDirectory, string fileName, T value)
    {
        string path = Path.Combine(Path.GetFullPath(outDirectory), fileName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, Json) + Environment.NewLine);
        return path;
    }
}

/// <summary>A plain-text table with aligned columns.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public void Print()
    {
        var widths = headers.Select((h, c) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[c].Length))).ToArray();
        string Line(string[] cells) => string.Join(" | ", cells.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd();
        Console.WriteLine(Line(headers));
        Console.WriteLine(string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (var row in _rows)
            Console.WriteLine(Line(row));
    }
}

internal sealed record MachineInfo
{
    public required int LogicalCores { get; init; }
    public required string Os { get; init; }
    public required string Runtime { get; init; }
    public required string LoadAverageBefore { get; init; }
    public required string LoadAverageAfter { get; init; }
}
