using System.Diagnostics;

namespace Microsoft.ML.Coherence.Tests.TestData;

/// <summary>
/// Runs one of the repository's tools (built next to the tests, same configuration, through a project reference that does
/// not reference its assembly) in a child <c>dotnet</c> process and returns what it printed.
/// </summary>
internal static class ToolProcess
{
    /// <param name="project">The tool's project name under <c>tools/</c>, e.g. Coherence.ModelLoadCheck.</param>
    /// <param name="arguments">The tool's arguments.</param>
    /// <param name="environment">Variables to set in the child (a null value removes one); the rest are inherited.</param>
    public static (int ExitCode, string Output, string Errors) Run(string project, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tool = Path.Combine(SampleData.RepositoryRoot, "tools", project, "bin", testBin.Parent!.Name, testBin.Name, project + ".dll");
        Assert.IsTrue(File.Exists(tool), tool);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments.Prepend(tool))
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync(); // both pipes drained at once: a full one cannot block the child
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, errors.Result);
    }
}
