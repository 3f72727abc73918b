using System.Numerics;
using System.Runtime.CompilerServices;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// A hash map from a pair key ((long)i &lt;&lt; 32 | j, both non-negative) to a 64-bit count: open addressing
/// with linear probing in one array of (key, value) entries, so that an update touches one cache line.
/// It is about four times faster than a Dictionary per row on counting workloads. Not thread-safe.
/// </summary>
internal sealed class PairCountTable
{
    /// <summary>The key of an empty slot; real keys are non-negative.</summary>
    public const long EmptyKey = -1;

    private Entry[] _entries;
    private int _shift;
    private int _growAt;

    public PairCountTable(int initialCapacity = 1024)
    {
        var capacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, initialCapacity));
        _entries = NewEntries(capacity);
        _shift = 64 - BitOperations.Log2((uint)capacity);
        _growAt = capacity / 2;
    }

    /// <summary>Number of keys present.</summary>
    public int Count { get; private set; }

    /// <summary>The raw slots, for iteration: skip those whose key is <see cref="EmptyKey"/>.</summary>
    public ReadOnlySpan<Entry> Slots => _entries;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Key(int i, int j) => ((long)i << 32) | (uint)j;

    /// <summary>Adds <paramref name="value"/> to the count of <paramref name="key"/>, inserting it when absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(long key, long value)
    {
        var entries = _entries;
        var mask = entries.Length - 1;
        // Fibonacci hashing: the top bits of key * 2^64/phi spread row-major keys evenly.
        var slot = (int)((ulong)key * 0x9E3779B97F4A7C15UL >> _shift);
        while (true)
        {
            ref var entry = ref entries[slot];
            if (entry.Key == key)
            {
                entry.Value += value;
                return;
            }
            if (entry.Key == EmptyKey)
            {
                entry.Key = key;
                entry.Value = value;
                if (++Count > _growAt)
                {
                    Grow();
                }
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    public bool TryGetValue(long key, out long value)
    {
        var entries = _entries;
        var mask = entries.Length - 1;
        var slot = (int)((ulong)key * 0x9E3779B97F4A7C15UL >> _shift);
        while (true)
        {
            ref var entry = ref entries[slot];
            if (entry.Key == key)
            {
                value = entry.Value;
                return true;
            }
            if (entry.Key == EmptyKey)
            {
                value = 0;
                return false;
            }
            slot = (slot + 1) & mask;
        }
    }

    private void Grow()
    {
        var old = _entries;
        var capacity = old.Length * 2;
        _entries = NewEntries(capacity);
        _shift--;
        _growAt = capacity / 2;
        Count = 0;
        foreach (var entry in old)
        {
            if (entry.Key != EmptyKey)
            {
                Add(entry.Key, entry.Value);
            }
        }
    }

    private static Entry[] NewEntries(int capacity)
    {
        var entries = GC.AllocateUninitializedArray<Entry>(capacity);
        entries.AsSpan().Fill(new Entry { Key = EmptyKey });
        return entries;
    }

    internal struct Entry
    {
        public long Key;
        public long Value;
    }
}
