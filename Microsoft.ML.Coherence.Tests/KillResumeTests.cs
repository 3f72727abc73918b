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
        var (exitCode, stdout, stderr) = ToolProcess.Run("Coherence.KillResumeCheck", ["3", "100"]);

        Assert.AreEqual(0, exitCode, stdout + stderr);
        StringAssert.Contains(stdout, "3 kills: 3 passed, 0 failed");
        Assert.AreEqual(3, stdout.Split('\n').Count(line => line.Contains("weights equal the uninterrupted fit: yes", StringComparison.Ordinal)), stdout);
    }
}
