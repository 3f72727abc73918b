using System.Globalization;
using System.Security.Cryptography;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Modules;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Checkpoints of model and optimiser state, one file a step (checkpoint-00000100.bin), written to a
/// temporary file then renamed so a crash never leaves a torn checkpoint. The two newest this run wrote are kept;
/// files it did not write are never deleted (a run that starts over moves the earlier run's checkpoints into a
/// subfolder), and temporary files left by a killed earlier run are removed.
/// </summary>
/// <remarks>
/// Layout: the magic string, the payload's length (Int64) and its SHA-256 (32 bytes), then the payload:
/// the run's fingerprint (<see cref="CheckpointFingerprint"/>), the step, the model and the optimiser.
/// Resuming takes the newest checkpoint that is whole and whose checksum holds; a truncated, damaged or
/// foreign file is skipped with a message that names it. An intact checkpoint of a run with other
/// settings or another corpus is refused (resuming from it would silently train something else).
/// </remarks>
internal sealed class CheckpointStore
{
    // 4: the optimiser state holds the row-sparse embedding optimiser's moments and per-row step counts.
    private const string Magic = "COHERENCE-CHECKPOINT-5"; // 5: the row-sparse optimiser keeps a per-step history for its catch-up
    private const int Keep = 2;
    private const int HashLength = 32;
    private readonly string _directory;
    private readonly string _fingerprint;
    private readonly Action<string>? _log;
    private readonly int _lastStep;
    private readonly Queue<string> _written = new();

    /// <param name="directory">The checkpoint folder (created if missing).</param>
    /// <param name="fingerprint">This run's fingerprint; only checkpoints with the same one are resumed.</param>
    /// <param name="log">Receives a message for each checkpoint skipped and each file moved or removed.</param>
    /// <param name="lastStep">The run's last step: a checkpoint claiming a later one (or a step below 1) is never resumed.</param>
    public CheckpointStore(string directory, string fingerprint, Action<string>? log = null, int lastStep = int.MaxValue)
    {
        _directory = directory;
        _fingerprint = fingerprint;
        _log = log;
        _lastStep = lastStep;
        Directory.CreateDirectory(directory);
        RemoveStaleTempFiles(DateTime.UtcNow);
    }

    public static string FileName(int step) => $"checkpoint-{step.ToString("D8", CultureInfo.InvariantCulture)}.bin";

    /// <summary>
    /// Checks, before any work, that <paramref name="directory"/> (the option <c>CheckpointDirectory</c>) can be
    /// created and written: creates it and writes and deletes a probe file.
    /// </summary>
    public static void EnsureWritable(string directory)
    {
        const string Option = nameof(CoherenceEmbeddingOptions.CheckpointDirectory);
        if (string.IsNullOrWhiteSpace(directory))
            CoherenceThrow.OptionOutOfRange(Option, $"'{directory}'", "null (no checkpoints) or a folder this process can create and write");
        string probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(directory);
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            CoherenceThrow.OptionOutOfRange(Option, $"'{directory}'", $"a folder this process can create and write ({e.Message})");
        }
    }

    public void Save(int step, CoherenceLanguageModel model, TrainingOptimizer optimizer)
    {
        AtomicFile.Write(Path.Combine(_directory, FileName(step)), stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            long header = stream.Position;
            writer.Write(0L);                   // payload length, filled in below
            writer.Write(new byte[HashLength]); // payload SHA-256, filled in below
            long payload = stream.Position;
            writer.Write(_fingerprint);
            writer.Write(step);
            model.save(writer);
            optimizer.Save(writer);
            writer.Flush();

            long length = stream.Position - payload;
            stream.Position = payload;
            byte[] hash = HashOf(stream, length);
            stream.Position = header;
            writer.Write(length);
            writer.Write(hash);
            writer.Flush();
        });
        // Only this run's own older files: a name that sorts later (another run's, or a stray file) must not push them out.
        _written.Enqueue(Path.Combine(_directory, FileName(step)));
        while (_written.Count > Keep)
            File.Delete(_written.Dequeue());
    }

    /// <summary>
    /// Starting over (<c>ResumeFromCheckpoint = false</c>): moves the checkpoints already in the folder into a new subfolder
    /// <c>earlier-run-&lt;UTC time&gt;</c>, so that this run's files are the only ones resumed later and nothing is lost;
    /// logs what it moved. Returns the subfolder, or null when there was nothing to move.
    /// </summary>
    public string? ArchiveEarlierRun()
    {
        var earlier = List().ToList();
        if (earlier.Count == 0)
            return null;
        string archive = Path.Combine(_directory, "earlier-run-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(archive);
        foreach (var (_, path) in earlier)
            File.Move(path, Path.Combine(archive, Path.GetFileName(path)));
        _log?.Invoke($"ResumeFromCheckpoint is false: moved the {earlier.Count} checkpoint(s) of an earlier run " +
            $"({string.Join(", ", earlier.Select(e => Path.GetFileName(e.Path)))}) into '{archive}'; this run starts at step 1.");
        return archive;
    }

    /// <summary>Removes this store's temporary files (<c>checkpoint-*.bin.*.tmp</c>) last written before <paramref name="runStart"/>:
    /// a killed run leaves them; a run writing now has newer ones.</summary>
    private void RemoveStaleTempFiles(DateTime runStart)
    {
        foreach (string path in Directory.EnumerateFiles(_directory, "checkpoint-*.bin.*" + AtomicFile.TempSuffix))
        {
            var file = new FileInfo(path);
            if (file.LinkTarget is not null || file.LastWriteTimeUtc >= runStart)
                continue;
            file.Delete();
            _log?.Invoke($"Removed '{path}', a temporary file left by an interrupted earlier run.");
        }
    }

    /// <summary>
    /// Restores the newest intact checkpoint of this run into <paramref name="model"/> and <paramref name="optimizer"/>;
    /// false when there is none. Files that fail their checks are skipped, newest first.
    /// </summary>
    /// <exception cref="InvalidOperationException">The newest intact checkpoint was written by a run with another fingerprint.</exception>
    public bool TryLoadLatest(CoherenceLanguageModel model, TrainingOptimizer optimizer, out int step)
    {
        foreach (var (fileStep, path) in List().Reverse())
        {
            step = TryLoad(path, fileStep, model, optimizer);
            if (step > 0)
                return true;
        }
        step = 0;
        return false;
    }

    /// <summary>Loads one checkpoint file into the model and optimiser and returns its step, or skips it (logged) and returns 0.</summary>
    private int TryLoad(string path, int fileStep, CoherenceLanguageModel model, TrainingOptimizer optimizer)
    {
        if (new FileInfo(path).Length == 0)
            // Never opened: a FIFO or device named like a checkpoint has length 0 and would block or never end.
            return Skipped(path, "it is empty or not a regular file");
        if (fileStep > _lastStep)
            return Skipped(path, $"its name says step {fileStep}, after this run's last step {_lastStep}");
        using var stream = OpenIntact(path, out string? problem);
        if (stream is null)
            return Skipped(path, problem!);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        string saved = reader.ReadString();
        if (saved != _fingerprint)
        {
            throw new InvalidOperationException(
                $"The checkpoint '{path}' was written by a run with other settings or another corpus: " +
                $"{CheckpointFingerprint.Differences(saved, _fingerprint)}. " +
                "Use another CheckpointDirectory, or set ResumeFromCheckpoint = false to start over (its checkpoints are then moved into a subfolder).");
        }
        int step = reader.ReadInt32();
        if (step < 1 || step > _lastStep)
            return Skipped(path, $"it holds step {step}, outside this run's 1 to {_lastStep}");
        if (step != fileStep)
            _log?.Invoke($"Warning: the checkpoint '{path}' holds step {step}, not {fileStep} as its name says; resuming from step {step}.");
        long section = stream.Position;
        if (SectionsMismatch(stream, reader, model, optimizer) is { } mismatch)
            return Skipped(path, mismatch);
        stream.Position = section;
        model.load(reader);
        optimizer.Load(reader);
        return step;
    }

    /// <summary>Why the model or optimiser section does not fit this run, or null. Both are checked before either is loaded:
    /// a bad optimiser section must not leave the model half restored.</summary>
    private static string? SectionsMismatch(Stream stream, BinaryReader reader, CoherenceLanguageModel model, TrainingOptimizer optimizer)
    {
        try
        {
            return CheckpointModelSection.Mismatch(stream, model) is { } modelMismatch
                ? $"its model section does not fit this run's model ({modelMismatch})"
                : optimizer.Mismatch(reader) is { } optimiserMismatch ? $"its optimiser section does not fit this run's optimiser ({optimiserMismatch})" : null;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
        {
            return $"it cannot be read ({e.Message})";
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> positioned at its payload when the magic, the length and the checksum hold;
    /// otherwise null, with the reason.
    /// </summary>
    private static FileStream? OpenIntact(string path, out string? problem)
    {
        FileStream? stream = null;
        try
        {
            stream = File.OpenRead(path);
            problem = IntegrityProblem(stream);
            if (problem is null)
                return stream;
            stream.Dispose();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) // EndOfStreamException included
        {
            stream?.Dispose();
            problem = $"it cannot be read ({e.Message})";
            return null;
        }
    }

    /// <summary>Why <paramref name="stream"/> is not an intact checkpoint (magic, length, checksum), or null, leaving it at the payload.</summary>
    private static string? IntegrityProblem(FileStream stream)
    {
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        string magic;
        try
        {
            magic = reader.ReadString();
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            magic = "";
        }
        if (magic != Magic)
        {
            return magic.StartsWith("COHERENCE-CHECKPOINT-", StringComparison.Ordinal)
                ? $"it has the older format '{magic}' (this version reads '{Magic}'); start over or resume with the version that wrote it"
                : "it is not a coherence checkpoint";
        }
        long length = stream.Length - stream.Position - sizeof(long) - HashLength;
        long declared = length >= 0 ? reader.ReadInt64() : -1;
        if (declared < 0 || declared != length)
            return $"it is truncated or has trailing bytes ({Math.Max(length, 0)} payload bytes, {Math.Max(declared, 0)} expected)";
        byte[] expected = reader.ReadBytes(HashLength);
        long payload = stream.Position;
        if (!HashOf(stream, length).AsSpan().SequenceEqual(expected))
            return "its SHA-256 checksum does not match its contents (the file is damaged)";
        stream.Position = payload;
        return null;
    }

    private static byte[] HashOf(Stream stream, long length)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        for (long left = length; left > 0;)
        {
            int read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
                throw new EndOfStreamException();
            hash.AppendData(buffer, 0, read);
            left -= read;
        }
        return hash.GetHashAndReset();
    }

    /// <summary>Logs that <paramref name="path"/> was passed over for <paramref name="reason"/>, as every skip is worded.</summary>
    /// <summary>Logs that <paramref name="path"/> was skipped and why; returns 0, the step of no checkpoint.</summary>
    private int Skipped(string path, string reason)
    {
        _log?.Invoke($"Warning: skipped the checkpoint '{path}': {reason}. Trying the one before it.");
        return 0;
    }

    // Regular files only: a link could point anywhere.
    private IEnumerable<(int Step, string Path)> List() =>
        Directory.EnumerateFiles(_directory, "checkpoint-*.bin")
            .Where(p => new FileInfo(p).LinkTarget is null)
            .Select(p => (Ok: int.TryParse(Path.GetFileNameWithoutExtension(p)["checkpoint-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int s), Step: s, Path: p))
            .Where(x => x.Ok)
            .OrderBy(x => x.Step)
            .Select(x => (x.Step, x.Path));
}
