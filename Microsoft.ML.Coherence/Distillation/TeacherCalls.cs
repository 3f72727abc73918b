using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace Microsoft.ML.Coherence.Distillation;

/// <summary>What the teacher returned for a list of texts: one row of <see cref="Dimension"/> floats per text, in order.</summary>
/// <param name="Values">[count, Dimension] row-major.</param>
/// <param name="Dimension">The teacher's embedding length.</param>
/// <param name="Seconds">Wall time of the calls.</param>
internal sealed record TeacherVectors(float[] Values, int Dimension, double Seconds)
{
    public int Count => Dimension == 0 ? 0 : Values.Length / Dimension;

    public ReadOnlySpan<float> Row(int index) => Values.AsSpan(index * Dimension, Dimension);
}

/// <summary>
/// Calls a <see cref="CoherenceEmbeddingOptions.Teacher"/> in batches, with the fit's cancellation and a log line every
/// tenth of the way, and checks every answer: one finite, non-empty vector per text, all of one length. A teacher that
/// throws or answers wrongly stops <c>Fit</c> before training with an error that names the option, the batch and what
/// was expected; nothing has been trained by then.
/// </summary>
internal static class TeacherCalls
{
    private const string Option = "CoherenceEmbeddingOptions.Teacher";

    /// <param name="teacher">The embedding model.</param>
    /// <param name="texts">What to embed.</param>
    /// <param name="batchSize">Texts per call.</param>
    /// <param name="purpose">What the texts are, for the log and errors ("the vocabulary", "the sampled training rows").</param>
    /// <param name="dimension">The length every vector must have, or 0 to take the first vector's.</param>
    /// <param name="log">Receives progress lines.</param>
    /// <param name="cancellationToken">Stops between batches and is passed to the teacher.</param>
    public static TeacherVectors Embed(IEmbeddingGenerator<string, Embedding<float>> teacher, IReadOnlyList<string> texts, int batchSize,
        string purpose, int dimension, Action<string> log, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        float[] values = dimension > 0 ? new float[(long)texts.Count * dimension] : [];
        int nextReport = Math.Max(1, texts.Count / 10);
        for (int start = 0; start < texts.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = new string[Math.Min(batchSize, texts.Count - start)];
            for (int i = 0; i < batch.Length; i++)
                batch[i] = texts[start + i];
            var embeddings = Call(teacher, batch, purpose, start, cancellationToken);
            for (int i = 0; i < batch.Length; i++)
            {
                var vector = embeddings[i] is { } embedding ? embedding.Vector.Span : default;
                if (vector.Length == 0)
                    throw Failed(purpose, start + i, batch[i], "an empty vector; it must return a non-empty vector for every text");
                if (dimension == 0)
                {
                    dimension = vector.Length;
                    values = new float[(long)texts.Count * dimension];
                }
                if (vector.Length != dimension)
                    throw Failed(purpose, start + i, batch[i], $"a vector of {vector.Length} values after vectors of {dimension}; all must have the same length");
                foreach (float v in vector)
                    if (!float.IsFinite(v))
                        throw Failed(purpose, start + i, batch[i], $"a vector holding {v.ToString(CultureInfo.InvariantCulture)}; every value must be finite");
                vector.CopyTo(values.AsSpan((start + i) * dimension, dimension));
            }
            int done = start + batch.Length;
            if (done >= nextReport || done == texts.Count)
            {
                log(string.Create(CultureInfo.InvariantCulture,
                    $"Teacher: embedded {done:N0} of {texts.Count:N0} texts of {purpose} ({done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F0} texts/s)."));
                nextReport = done + Math.Max(1, texts.Count / 10);
            }
        }
        return new TeacherVectors(values, dimension, clock.Elapsed.TotalSeconds);
    }

    /// <summary>One call, run off the caller's synchronization context (Fit is synchronous; an awaiting teacher must not deadlock a UI thread).</summary>
    private static IList<Embedding<float>> Call(IEmbeddingGenerator<string, Embedding<float>> teacher, string[] batch, string purpose, int start,
        CancellationToken cancellationToken)
    {
        GeneratedEmbeddings<Embedding<float>>? result;
        try
        {
            result = Task.Run(() => teacher.GenerateAsync(batch, options: null, cancellationToken), cancellationToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception failure)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The teacher ({Option}) failed while embedding {purpose} (texts {start:N0} to {start + batch.Length - 1:N0}): {failure.GetType().Name}: {failure.Message} " +
                $"Nothing has been trained yet; fix or replace the teacher, or set Teacher to null to train without one."), failure);
        }
        if (result is null || result.Count != batch.Length)
        {
            string returned = result is null ? "null" : result.Count.ToString("N0", CultureInfo.InvariantCulture);
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The teacher ({Option}) returned {returned} embeddings for " +
                $"{batch.Length:N0} texts of {purpose} (texts {start:N0} to {start + batch.Length - 1:N0}); it must return one embedding per text, in order. Nothing has been trained yet."));
        }
        return result;
    }

    private static InvalidOperationException Failed(string purpose, int index, string text, string what) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"The teacher ({Option}) returned {what} (text {index:N0} of {purpose}: \"{Shorten(text)}\"). Nothing has been trained yet."));

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
