using System.Globalization;
using Microsoft.ML.Coherence.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Checkpoints of model and optimiser state, one file a step (checkpoint-00000100.bin), written to a
/// temporary file then renamed so a crash never leaves a torn checkpoint. The two newest are kept.
/// </summary>
internal sealed class CheckpointStore
{
    private const string Magic = "COHERENCE-CHECKPOINT-2";
    private const int Keep = 2;
    private readonly string _directory;

    public CheckpointStore(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
    }

    public static string FileName(int step) => $"checkpoint-{step.ToString("D8", CultureInfo.InvariantCulture)}.bin";

    public void Save(int step, CoherenceLanguageModel model, SafeAdamW optimizer, string fingerprint)
    {
        string path = Path.Combine(_directory, FileName(step));
        string temp = path + ".tmp";
        using (var stream = File.Create(temp))
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(fingerprint);
            writer.Write(step);
            model.save(writer);
            optimizer.Save(writer);
        }
        File.Move(temp, path, overwrite: true);
        foreach (var old in List().SkipLast(Keep))
            File.Delete(old.Path);
    }

    public bool TryLoadLatest(CoherenceLanguageModel model, SafeAdamW optimizer, string fingerprint, out int step)
    {
        step = 0;
        var latest = List().LastOrDefault();
        if (latest.Path is null)
            return false;
        using var stream = File.OpenRead(latest.Path);
        using var reader = new BinaryReader(stream);
        if (reader.ReadString() != Magic)
            throw new InvalidDataException($"'{latest.Path}' is not a coherence checkpoint; remove it or choose another CheckpointDirectory.");
        string saved = reader.ReadString();
        if (saved != fingerprint)
            throw new InvalidOperationException(
                $"The checkpoint '{latest.Path}' was written by a run with other settings ({saved}); this run has ({fingerprint}). " +
                "Use another CheckpointDirectory or set ResumeFromCheckpoint = false.");
        step = reader.ReadInt32();
        model.load(reader);
        optimizer.Load(reader);
        return true;
    }

    private IEnumerable<(int Step, string Path)> List() =>
        Directory.EnumerateFiles(_directory, "checkpoint-*.bin")
            .Select(p => (Ok: int.TryParse(Path.GetFileNameWithoutExtension(p)["checkpoint-".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int s), Step: s, Path: p))
            .Where(x => x.Ok)
            .OrderBy(x => x.Step)
            .Select(x => (x.Step, x.Path));
}
