using System.Diagnostics;
using Microsoft.ML.Coherence.Tests.TestData;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// A training child killed with SIGKILL while it writes checkpoints (tools/Coherence.KillResumeCheck, built next to the
/// tests): the next fit in the folder resumes from the newest complete checkpoint, never from a partial file, ends with
/// the weights of an uninterrupted fit and removes what the killed child left. The tool runs 10 tries (docs/reliability.md);
/// the suite runs 3.
/// </summary>
[TestClass]
public sealed class KillResumeTests
{
    [TestMethod]
    public void AFitKilledDuringItsCheckpointWritesResumesToTheUninterruptedWeights()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tool = Path.Combine(SampleData.RepositoryRoot, "tools", "Coherence.KillResumeCheck", "bin", testBin.Parent!.Name, testBin.Name,
            "Coherence.KillResumeCheck.dll");
        Assert.IsTrue(File.Exists(tool), tool);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[] { tool, "3", "100" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        Assert.AreEqual(0, process.ExitCode, stdout + stderr.Result);
        StringAssert.Contains(stdout, "3 kills: 3 passed, 0 failed");
        Assert.AreEqual(3, stdout.Split('\n').Count(line => line.Contains("weights equal the uninterrupted fit: yes", StringComparison.Ordinal)), stdout);
    }
}
