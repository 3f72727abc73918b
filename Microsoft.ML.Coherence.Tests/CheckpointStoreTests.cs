using System.Globalization;
using System.Reflection;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// Damaged, truncated and foreign checkpoints are skipped with a message that names them and resume continues
/// exactly from the newest intact one; a checkpoint of other settings is refused with the differences.
/// </summary>
[TestClass]
public sealed class CheckpointStoreTests
{
    private static readonly List<string> Corpus = PlantedCorpus.Generate(groups: 6, wordsPerGroup: 10, sentences: 300, sentenceLength: 10, inGroupShare: 0.9, seed: 5);
    private static readonly Lazy<float[]> Uninterrupted = new(() => Train(PlantedCorpus.TinyOptions(steps: 20), []).GetEmbeddingMatrix());

    private static CoherenceEmbeddingModel Train(CoherenceEmbeddingOptions options, List<string> log, IProgress<CoherenceTrainingProgress>? progress = null,
        CancellationToken token = default, IEnumerable<string>? corpus = null)
    {
        var ml = new MLContext(seed: 1);
        ml.Log += (_, e) => { lock (log) log.Add(e.RawMessage); };
        var tokenizer = new CoherenceTokenizer(ml);
        return CoherenceEmbeddingEngine.Train(ml, () => tokenizer.Tokenize(corpus ?? Corpus), options, progress, token);
    }

    /// <summary>A run with checkpoints every 5 steps, stopped after step 13: leaves the checkpoints of steps 5 and 10.</summary>
    private static CoherenceEmbeddingOptions Interrupted(string directory)
    {
        var options = PlantedCorpus.TinyOptions(steps: 20);
        options.CheckpointDirectory = directory;
        options.CheckpointInterval = 5;
        using var cancel = new CancellationTokenSource();
        var stopAt13 = new SynchronousProgress(p => { if (p.Step == 13) cancel.Cancel(); });
        Assert.ThrowsExactly<OperationCanceledException>(() => Train(options, [], stopAt13, cancel.Token));
        CollectionAssert.AreEquivalent(new[] { CheckpointStore.FileName(5), CheckpointStore.FileName(10) },
            Directory.GetFiles(directory).Select(Path.GetFileName).ToArray());
        return options;
    }

    private static void InTempDirectory(Action<string> test) => TempFolder.Use("coherence-checkpoints", test);

    [TestMethod]
    [DataRow("truncated")]
    [DataRow("bit-flipped")]
    public void DamagedNewestCheckpointResumesFromThePreviousOneAndEndsBitIdentical(string damage)
    {
        InTempDirectory(directory =>
        {
            var options = Interrupted(directory);
            string newest = Path.Combine(directory, CheckpointStore.FileName(10));
            byte[] bytes = File.ReadAllBytes(newest);
            if (damage == "truncated")
                File.WriteAllBytes(newest, bytes[..(bytes.Length / 2)]);
            else
            {
                bytes[bytes.Length * 2 / 3] ^= 0x10;
                File.WriteAllBytes(newest, bytes);
            }

            var log = new List<string>();
            var resumed = Train(options, log);
            Assert.AreEqual(5, resumed.Report.ResumedFromStep);
            CollectionAssert.AreEqual(Uninterrupted.Value, resumed.GetEmbeddingMatrix(), "resumed from step 5, the weights end as in the uninterrupted run");
            string reason = damage == "truncated" ? "it is truncated or has trailing bytes" : "its SHA-256 checksum does not match its contents";
            Assert.AreEqual(1, log.Count(m => m.Contains($"skipped the checkpoint '{newest}': {reason}")), string.Join("\n", log));
            StringAssert.Contains(log.Single(m => m.StartsWith("Resumed", StringComparison.Ordinal)), "Resumed from the checkpoint of step 5");
        });
    }

    [TestMethod]
    public void GarbageFileIsSkippedWithAMessageNamingIt()
    {
        InTempDirectory(directory =>
        {
            var options = Interrupted(directory);
            string garbage = Path.Combine(directory, CheckpointStore.FileName(15));
            File.WriteAllBytes(garbage, Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray());

            var log = new List<string>();
            var resumed = Train(options, log);
            Assert.AreEqual(10, resumed.Report.ResumedFromStep);
            CollectionAssert.AreEqual(Uninterrupted.Value, resumed.GetEmbeddingMatrix());
            CollectionAssert.Contains(log, $"Warning: skipped the checkpoint '{garbage}': it is not a coherence checkpoint. Trying the one before it.");
        });
    }

    [TestMethod]
    public void ChangedOptionOrCorpusRefusesToResumeAndNamesTheDifference()
    {
        InTempDirectory(directory =>
        {
            var options = Interrupted(directory);
            string newest = Path.Combine(directory, CheckpointStore.FileName(10));

            var changed = options.Clone();
            changed.Temperature = 0.25f;
            var error = Assert.ThrowsExactly<InvalidOperationException>(() => Train(changed, []));
            Assert.AreEqual(
                $"The checkpoint '{newest}' was written by a run with other settings or another corpus: Temperature 0.5 there, 0.25 here. " +
                "Use another CheckpointDirectory, or set ResumeFromCheckpoint = false to start over (its checkpoints are then moved into a subfolder).", error.Message);

            var otherCorpus = Assert.ThrowsExactly<InvalidOperationException>(() => Train(options, [], corpus: Corpus.Skip(1).Append(Corpus[0])));
            StringAssert.Contains(otherCorpus.Message, "TokenSha256 ");

            // Options that do not change the result may differ.
            var elsewhere = options.Clone();
            elsewhere.CheckpointInterval = 7;
            elsewhere.Device = "cpu";
            Assert.AreEqual(10, Train(elsewhere, []).Report.ResumedFromStep);
        });
    }

    [TestMethod]
    public void FingerprintListsEveryOptionOrExcludesItOnPurpose()
    {
        var listed = CheckpointFingerprint.Options(new CoherenceEmbeddingOptions(), seed: 1).Select(o => o.Name).ToArray();
        var excluded = CheckpointFingerprint.Excluded.ToArray();
        var settable = typeof(CoherenceEmbeddingOptions).GetProperties(BindingFlags.Instance | BindingFlags.Public)
            .Where(p => p.CanWrite).Select(p => p.Name).ToArray();
        var unlisted = settable.Except(listed).Except(excluded).ToArray();
        Assert.AreEqual(0, unlisted.Length, "options neither in the checkpoint fingerprint nor excluded from it: " + string.Join(", ", unlisted));
        Assert.AreEqual(0, listed.Intersect(excluded).Count());
        Assert.AreEqual(listed.Length, listed.Distinct().Count());
        CollectionAssert.IsSubsetOf(listed, settable);
    }

    [TestMethod]
    public void FingerprintIsTheSameInEveryCulture()
    {
        var options = new CoherenceEmbeddingOptions { Temperature = 0.25f, ContextSmoothing = 0.75 };
        int[] tokens = [1, 2, 3, 2, 1];
        var previous = CultureInfo.CurrentCulture;
        string invariant, german;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            invariant = CheckpointFingerprint.Compute(options, 7, 4, tokens);
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            german = CheckpointFingerprint.Compute(options, 7, 4, tokens);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
        Assert.AreEqual(invariant, german);
        StringAssert.Contains(invariant, "Temperature=0.25;");
        StringAssert.Contains(invariant, "ContextSmoothing=0.75;");
        StringAssert.Contains(invariant, "Seed=7;");
        StringAssert.Contains(invariant, "VocabularySize=4;TrainingTokens=5;TokenSha256=");
        Assert.AreNotEqual(invariant, CheckpointFingerprint.Compute(options, 7, 4, [1, 2, 3, 2, 2]));
    }

    [TestMethod]
    public void UnwritableCheckpointDirectoryFailsBeforeTheCorpusIsRead()
    {
        string file = Path.GetTempFileName();
        try
        {
            var options = PlantedCorpus.TinyOptions(steps: 5);
            options.CheckpointDirectory = Path.Combine(file, "checkpoints"); // a folder inside a file cannot be created
            int passes = 0;
            var ml = new MLContext(seed: 1);
            var tokenizer = new CoherenceTokenizer(ml);
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
                CoherenceEmbeddingEngine.Train(ml, () => { passes++; return tokenizer.Tokenize(Corpus); }, options));
            StringAssert.StartsWith(error.Message, $"Option 'CheckpointDirectory' is '{options.CheckpointDirectory}'; valid: a folder this process can create and write (");
            Assert.AreEqual("CheckpointDirectory", error.ParamName);
            Assert.AreEqual(0, passes);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static CoherenceEmbeddingOptions Checkpointed(string directory, int steps, bool resume = true)
    {
        var options = PlantedCorpus.TinyOptions(steps);
        options.CheckpointDirectory = directory;
        options.CheckpointInterval = 5;
        options.ResumeFromCheckpoint = resume;
        return options;
    }

    private static string[] FileNames(string directory) => Directory.GetFiles(directory).Select(f => Path.GetFileName(f)!).Order().ToArray();

    [TestMethod]
    public void StartingOverMovesALongerEarlierRunAsideAndKeepsItsOwnNewestCheckpoints()
    {
        InTempDirectory(directory =>
        {
            Train(Checkpointed(directory, steps: 20), []);
            CollectionAssert.AreEqual(new[] { CheckpointStore.FileName(15), CheckpointStore.FileName(20) }, FileNames(directory));

            // Before: the shorter new run's checkpoints sorted below the earlier run's, so each was deleted as soon as written.
            var log = new List<string>();
            Train(Checkpointed(directory, steps: 10, resume: false), log);
            CollectionAssert.AreEqual(new[] { CheckpointStore.FileName(5), CheckpointStore.FileName(10) }, FileNames(directory));
            string archive = Directory.GetDirectories(directory).Single();
            StringAssert.StartsWith(Path.GetFileName(archive), "earlier-run-");
            CollectionAssert.AreEqual(new[] { CheckpointStore.FileName(15), CheckpointStore.FileName(20) }, FileNames(archive), "nothing is lost");
            Assert.IsTrue(log.Any(l => l.Contains("moved the 2 checkpoint(s) of an earlier run", StringComparison.Ordinal) && l.Contains(archive, StringComparison.Ordinal)),
                string.Join(Environment.NewLine, log));
        });
    }

    [TestMethod]
    public void StrayFilesNamedLikeLaterCheckpointsAreNeitherResumedNorAllowedToPushOutTheRunsOwn()
    {
        InTempDirectory(directory =>
        {
            Directory.CreateDirectory(directory);
            string[] strays = [CheckpointStore.FileName(99999996), CheckpointStore.FileName(99999997)];
            foreach (string stray in strays)
                File.WriteAllText(Path.Combine(directory, stray), "not written by this library");
            var log = new List<string>();
            var model = Train(Checkpointed(directory, steps: 20), log);

            CollectionAssert.AreEqual(Uninterrupted.Value, model.GetEmbeddingMatrix(), "nothing was resumed: the run is the uninterrupted one");
            CollectionAssert.AreEqual(new[] { CheckpointStore.FileName(15), CheckpointStore.FileName(20), strays[0], strays[1] }, FileNames(directory));
            Assert.AreEqual(2, log.Count(l => l.Contains("after this run's last step 20", StringComparison.Ordinal)), string.Join(Environment.NewLine, log));
        });
    }

    [TestMethod]
    public void TemporaryFilesOfAKilledEarlierRunAreRemovedAndOthersKept()
    {
        InTempDirectory(directory =>
        {
            Directory.CreateDirectory(directory);
            string stale = Path.Combine(directory, CheckpointStore.FileName(5) + ".0123456789abcdef.tmp");
            string unrelated = Path.Combine(directory, "notes.tmp");
            File.WriteAllBytes(stale, new byte[1000]);
            File.WriteAllText(unrelated, "the user's");
            File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-1));
            File.SetLastWriteTimeUtc(unrelated, DateTime.UtcNow.AddHours(-1));
            var log = new List<string>();
            Train(Checkpointed(directory, steps: 10), log);
            Assert.IsFalse(File.Exists(stale));
            Assert.IsTrue(File.Exists(unrelated), "only the library's own pattern is removed");
            Assert.IsTrue(log.Any(l => l.Contains(stale, StringComparison.Ordinal)), "the removal is logged with the file's name");
        });
    }

    [TestMethod]
    public void AFifoNamedLikeTheNewestCheckpointIsSkippedWithoutBeingOpened()
    {
        if (OperatingSystem.IsWindows())
            Assert.Inconclusive("FIFOs are a Unix file type.");
        InTempDirectory(directory =>
        {
            Interrupted(directory); // checkpoints 5 and 10
            string fifo = Path.Combine(directory, CheckpointStore.FileName(12));
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
                mkfifo.WaitForExit();
            Assert.IsTrue(File.Exists(fifo));
            var log = new List<string>();
            // Before: opening the FIFO blocked Fit forever, waiting for a writer.
            var fit = Task.Run(() => Train(Checkpointed(directory, steps: 20), log));
            Assert.IsTrue(fit.Wait(TimeSpan.FromMinutes(2)), "Fit must not block on the FIFO");
            CollectionAssert.AreEqual(Uninterrupted.Value, fit.Result.GetEmbeddingMatrix(), "resumed from step 10 and ended bit-identical");
            Assert.AreEqual(10, fit.Result.Report.ResumedFromStep);
            Assert.IsTrue(log.Any(l => l.Contains(fifo, StringComparison.Ordinal) && l.Contains("not a regular file", StringComparison.Ordinal)), string.Join(Environment.NewLine, log));
        });
    }

    [TestMethod]
    [DataRow("tensor count 2^40")]
    [DataRow("rank 2^28")]
    [DataRow("rank 2^31")]
    [DataRow("dimension 2^40")]
    [DataRow("optimiser rank 2^28")]
    [DataRow("optimiser history 2^31-1")]
    public void AForgedCheckpointWithAValidChecksumIsSkippedBeforeAnyLargeAllocation(string forgery)
    {
        InTempDirectory(directory =>
        {
            Interrupted(directory); // checkpoints 5 and 10
            string newest = Path.Combine(directory, CheckpointStore.FileName(10));
            Forge(newest, forgery);
            var log = new List<string>();
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            // Before: TorchSharp's load allocated what the file declared (rank 2^28: a 2 GB array; 2^31: OverflowException).
            var model = Train(Checkpointed(directory, steps: 20), log);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            Assert.AreEqual(5, model.Report.ResumedFromStep, string.Join(Environment.NewLine, log));
            CollectionAssert.AreEqual(Uninterrupted.Value, model.GetEmbeddingMatrix(), "resumed from step 5, ended bit-identical");
            string section = forgery.StartsWith("optimiser", StringComparison.Ordinal) ? "optimiser section does not fit this run's optimiser" : "model section does not fit this run's model";
            Assert.AreEqual(1, log.Count(l => l.StartsWith($"Warning: skipped the checkpoint '{newest}': its {section}", StringComparison.Ordinal)),
                string.Join(Environment.NewLine, log));
            Assert.IsLessThan(512L << 20, allocated, "nothing the forged file declared was allocated");
        });
    }

    /// <summary>Rewrites a checkpoint's model or optimiser section as <paramref name="forgery"/> says, with a length and SHA-256 that hold.</summary>
    private static void Forge(string path, string forgery)
    {
        byte[] file = File.ReadAllBytes(path);
        using var reader = new BinaryReader(new MemoryStream(file));
        string magic = reader.ReadString();
        reader.ReadInt64();
        reader.ReadBytes(32);
        var payload = reader.BaseStream;
        long payloadStart = payload.Position;
        reader.ReadString(); // fingerprint
        reader.ReadInt32();  // step
        long countAt = payload.Position;
        ReadLeb(payload);
        long nameLength = ReadLeb(payload);
        payload.Seek(nameLength, SeekOrigin.Current);
        ReadLeb(payload); // element type
        long rankAt = payload.Position;
        ReadLeb(payload);
        long dimensionAt = payload.Position;
        ReadLeb(payload);
        long dimensionEnd = payload.Position;
        if (forgery.StartsWith("optimiser", StringComparison.Ordinal))
        {
            payload.Position = countAt;
            SkipModelSection(payload);
            payload.Seek(sizeof(int) + sizeof(bool) + sizeof(long), SeekOrigin.Current); // version, row-sparse flag, dense step count
            bool rowSparseOnly = new BinaryReader(payload).ReadInt32() == 0; // the dense part's parameter count
            if (rowSparseOnly)
                payload.Seek(sizeof(int), SeekOrigin.Current); // the row-sparse part's table count
            long historyAt = payload.Position;
            if (forgery.Contains("history", StringComparison.Ordinal))
            {
                Assert.IsTrue(rowSparseOnly, "the default static model trains its table row-sparse");
                Rewrite(path, magic, file, payloadStart, historyAt, historyAt + sizeof(int), BitConverter.GetBytes(int.MaxValue));
                return;
            }
            if (rowSparseOnly)
                payload.Seek(sizeof(int) + 16L * BitConverter.ToInt32(file, (int)historyAt), SeekOrigin.Current);
            ReadLeb(payload); // element type of the optimiser's first tensor
            long optimiserRankAt = payload.Position;
            ReadLeb(payload);
            Rewrite(path, magic, file, payloadStart, optimiserRankAt, payload.Position, Leb(1L << 28));
            return;
        }
        var (at, end, value) = forgery switch
        {
            "tensor count 2^40" => (countAt, countAt + LebLength(file, countAt), 1L << 40),
            "rank 2^28" => (rankAt, dimensionAt, 1L << 28),
            "rank 2^31" => (rankAt, dimensionAt, 1L << 31),
            _ => (dimensionAt, dimensionEnd, 1L << 40),
        };
        Rewrite(path, magic, file, payloadStart, at, end, Leb(value));
    }

    // The payload from payloadStart with bytes [at, end) replaced, behind a header whose length and SHA-256 hold.
    private static void Rewrite(string path, string magic, byte[] file, long payloadStart, long at, long end, byte[] replacement)
    {
        byte[] forged = [.. file[(int)payloadStart..(int)at], .. replacement, .. file[(int)end..]];
        using var output = new BinaryWriter(File.Create(path));
        output.Write(magic);
        output.Write((long)forged.Length);
        output.Write(System.Security.Cryptography.SHA256.HashData(forged));
        output.Write(forged);
    }

    // Moves past TorchSharp's state dictionary: a count, then per tensor its name, element type, rank, dimensions and bytes.
    private static void SkipModelSection(Stream payload)
    {
        long count = ReadLeb(payload);
        for (long i = 0; i < count; i++)
        {
            payload.Seek(ReadLeb(payload), SeekOrigin.Current);
            long type = ReadLeb(payload);
            long elements = 1;
            for (long rank = ReadLeb(payload), d = 0; d < rank; d++)
                elements *= ReadLeb(payload);
            payload.Seek(elements * (type is 6 or 3 ? 4 : 8), SeekOrigin.Current); // Float32 / Int32, else 8-byte types
        }
    }

    private static long ReadLeb(Stream stream)
    {
        long value = 0;
        for (int shift = 0; ; shift += 7)
        {
            int b = stream.ReadByte();
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
    }

    private static int LebLength(byte[] bytes, long at)
    {
        int length = 1;
        while ((bytes[at + length - 1] & 0x80) != 0)
            length++;
        return length;
    }

    private static byte[] Leb(long value)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
        return [.. bytes];
    }
}
