using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Tests.TestData;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>Atomic writes (exports, checkpoints): temporary names that never collide, and nothing left behind.</summary>
[TestClass]
public sealed class AtomicFileTests
{
    private static void InNewFolder(Action<string> test) => TempFolder.Use("coherence-atomic", test);

    [TestMethod]
    public void AFileLeftByAnEarlierProcessWithTheSameIdDoesNotBlockTheWrite()
    {
        InNewFolder(folder =>
        {
            string path = Path.Combine(folder, "vectors.txt");
            // The name the previous scheme used (<path>.<pid>.tmp): in a container every first process is PID 1.
            string stale = $"{path}.{Environment.ProcessId}.tmp";
            File.WriteAllText(stale, "left by a killed run");
            AtomicFile.WriteAllText(path, "new");
            Assert.AreEqual("new", File.ReadAllText(path));
            Assert.AreEqual("left by a killed run", File.ReadAllText(stale), "a file the library did not create in this call is left alone");
        });
    }

    [TestMethod]
    public void FortyEightConcurrentWritesToOnePathAllSucceedAndLeaveOneWholeFile()
    {
        InNewFolder(folder =>
        {
            string path = Path.Combine(folder, "export.txt");
            string Content(int writer) => $"writer {writer}: " + new string((char)('a' + writer % 26), 200_000);
            var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
            Parallel.For(0, 48, new ParallelOptions { MaxDegreeOfParallelism = 8 }, writer =>
            {
                try
                {
                    AtomicFile.WriteAllText(path, Content(writer));
                }
                catch (Exception e)
                {
                    failures.Add(e);
                }
            });
            Assert.IsEmpty(failures, string.Join(Environment.NewLine, failures.Select(f => f.Message).Distinct()));
            string text = File.ReadAllText(path);
            int winner = int.Parse(text["writer ".Length..text.IndexOf(':')]);
            Assert.AreEqual(Content(winner), text, "the file is exactly one writer's content, never a mix or a torn write");
            CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(folder), "no temporary file is left");
        });
    }

    [TestMethod]
    public void AFailedWriteLeavesTheExistingFileAndNoTemporaryFile()
    {
        InNewFolder(folder =>
        {
            string path = Path.Combine(folder, "model.bin");
            File.WriteAllText(path, "the user's file");
            Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(path, stream =>
            {
                stream.Write(new byte[1000]);
                throw new IOException("disk full");
            }));
            Assert.AreEqual("the user's file", File.ReadAllText(path));
            CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(folder));
            StringAssert.EndsWith(AtomicFile.TempPathFor(path), AtomicFile.TempSuffix);
            Assert.AreNotEqual(AtomicFile.TempPathFor(path), AtomicFile.TempPathFor(path), "every write gets its own temporary name");
        });
    }
}
