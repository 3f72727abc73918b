using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Corpus;

/// <summary>
/// The encoded corpus: token ids of every document in one growable buffer (4 bytes a token, no
/// text kept), with document boundaries. Training samples sequences from the concatenated stream.
/// </summary>
internal sealed class TokenCorpus
{
    private int[] _tokens = new int[1024];
    private readonly List<long> _starts = [];

    public long TokenCount { get; private set; }
    public int DocumentCount => _starts.Count;
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, checked((int)TokenCount));

    public void AddDocument(ReadOnlySpan<int> ids)
    {
        _starts.Add(TokenCount);
        AppendToLastDocument(ids);
    }

    /// <summary>Appends <paramref name="ids"/> to the last document (a later piece of a long row).</summary>
    public void AppendToLastDocument(ReadOnlySpan<int> ids)
    {
        if (_starts.Count == 0)
            throw new InvalidOperationException("The corpus has no document to append to.");
        long needed = TokenCount + ids.Length;
        if (needed > Array.MaxLength)
            throw new InvalidOperationException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The corpus exceeds {Array.MaxLength:N0} tokens, the most one training run holds; train on a sample."));
        if (needed > _tokens.Length)
            Array.Resize(ref _tokens, (int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _tokens.Length)));
        ids.CopyTo(_tokens.AsSpan((int)TokenCount));
        TokenCount = needed;
    }

    public ReadOnlySpan<int> Document(int index) => DocumentMemory(index).Span;

    /// <summary>Document <paramref name="index"/>'s ids as memory, valid until the next <see cref="AddDocument"/>.</summary>
    public ReadOnlyMemory<int> DocumentMemory(int index)
    {
        long start = _starts[index];
        long end = index + 1 < _starts.Count ? _starts[index + 1] : TokenCount;
        return _tokens.AsMemory((int)start, (int)(end - start));
    }

    /// <summary>
    /// The held-out rule: document i (i &gt; 0) is held out when a seeded hash of i falls below
    /// <paramref name="heldOutFraction"/>; document 0 always trains, so a corpus never lacks training text. It needs
    /// no document count, so the vocabulary pass can leave held-out documents out as it streams.
    /// </summary>
    public static Func<int, bool> HeldOutRule(double heldOutFraction, int seed)
    {
        if (heldOutFraction <= 0)
            return static _ => false;
        ulong threshold = (ulong)(heldOutFraction * ulong.MaxValue);
        return i => i > 0 && SplitMix.Hash((ulong)(uint)seed, (ulong)i) < threshold;
    }
}
