using System.Buffers.Binary;
using System.Text;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// The few facts of a 64-bit little-endian ELF shared library that the TorchSharp native fix needs: the
/// symbol versions it defines (<c>.gnu.version_d</c>), the versions it requires (<c>.gnu.version_r</c>) and
/// the libraries it needs (<c>DT_NEEDED</c>). Works on the file's bytes; every offset is bounds-checked, and
/// anything malformed fails with <see cref="InvalidDataException"/>.
/// </summary>
internal static class ElfFile
{
    private const uint ShtDynamic = 6;
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const long DtNeeded = 1;

    /// <summary>VER_FLG_WEAK: the dynamic loader ignores a missing weak version requirement.</summary>
    public const ushort WeakFlag = 0x2;

    /// <summary>One version requirement: its name, its flags and where its flags field sits in the file.</summary>
    public readonly record struct VersionRequirement(string File, string Name, ushort Flags, int FlagsOffset)
    {
        /// <summary>Whether <see cref="WeakFlag"/> is set.</summary>
        public bool IsWeak => (Flags & WeakFlag) != 0;
    }

    /// <summary>Whether <paramref name="elf"/> starts like a 64-bit little-endian ELF file.</summary>
    public static bool IsElf64LittleEndian(ReadOnlySpan<byte> elf) =>
        elf.Length >= 64 && elf[0] == 0x7f && elf[1] == (byte)'E' && elf[2] == (byte)'L' && elf[3] == (byte)'F' && elf[4] == 2 && elf[5] == 1;

    /// <summary>The version names the file defines (for libstdc++: GLIBCXX_3.4, ..., GLIBCXX_3.4.30, CXXABI_1.3, ...).</summary>
    public static IReadOnlyList<string> DefinedVersions(ReadOnlySpan<byte> elf)
    {
        var names = new List<string>();
        foreach (var section in Sections(elf, ShtGnuVerdef))
        {
            long strings = StringTableOffset(elf, section.Link);
            long entry = section.Offset;
            for (uint n = 0; n < section.Info; n++)
            {
                uint aux = U32(elf, entry + 12);
                if (U16(elf, entry + 6) > 0)
                    names.Add(String(elf, strings, U32(elf, entry + aux))); // the first Verdaux names the version
                uint next = U32(elf, entry + 16);
                if (next == 0)
                    break;
                entry += next;
            }
        }
        return names;
    }

    /// <summary>Every version requirement in the file, in file order.</summary>
    public static IReadOnlyList<VersionRequirement> RequiredVersions(ReadOnlySpan<byte> elf)
    {
        var requirements = new List<VersionRequirement>();
        foreach (var section in Sections(elf, ShtGnuVerneed))
        {
            long strings = StringTableOffset(elf, section.Link);
            long need = section.Offset;
            for (uint n = 0; n < section.Info; n++)
            {
                string file = String(elf, strings, U32(elf, need + 4));
                int count = U16(elf, need + 2);
                long aux = need + U32(elf, need + 8);
                for (int a = 0; a < count; a++)
                {
                    requirements.Add(new VersionRequirement(file, String(elf, strings, U32(elf, aux + 8)), U16(elf, aux + 4), checked((int)(aux + 4))));
                    uint nextAux = U32(elf, aux + 12);
                    if (nextAux == 0)
                        break;
                    aux += nextAux;
                }
                uint next = U32(elf, need + 12);
                if (next == 0)
                    break;
                need += next;
            }
        }
        return requirements;
    }

    /// <summary>The DT_NEEDED entries: the libraries the dynamic loader loads with this one, in order.</summary>
    public static IReadOnlyList<string> NeededLibraries(ReadOnlySpan<byte> elf)
    {
        var needed = new List<string>();
        foreach (var section in Sections(elf, ShtDynamic))
        {
            long strings = StringTableOffset(elf, section.Link);
            for (long entry = section.Offset; entry + 16 <= section.Offset + section.Size; entry += 16)
            {
                long tag = I64(elf, entry);
                if (tag == 0)
                    break; // DT_NULL
                if (tag == DtNeeded)
                    needed.Add(String(elf, strings, checked((long)U64(elf, entry + 8))));
            }
        }
        return needed;
    }

    /// <summary>
    /// Sets <see cref="WeakFlag"/> on every requirement of <paramref name="version"/>; returns how many it
    /// changed (0 when there is none or all are weak already).
    /// </summary>
    public static int MarkWeak(Span<byte> elf, string version)
    {
        int changed = 0;
        foreach (var requirement in RequiredVersions(elf))
        {
            if (requirement.Name != version || requirement.IsWeak)
                continue;
            BinaryPrimitives.WriteUInt16LittleEndian(elf.Slice(requirement.FlagsOffset, 2), (ushort)(requirement.Flags | WeakFlag));
            changed++;
        }
        return changed;
    }

    private readonly record struct Section(uint Type, long Offset, long Size, uint Link, uint Info);

    private static List<Section> Sections(ReadOnlySpan<byte> elf, uint type)
    {
        if (!IsElf64LittleEndian(elf))
            throw new InvalidDataException("Not a 64-bit little-endian ELF file.");
        long table = checked((long)U64(elf, 0x28));
        int entrySize = U16(elf, 0x3A);
        int count = U16(elf, 0x3C);
        if (entrySize < 64)
            throw new InvalidDataException($"ELF section header size {entrySize} is below 64.");
        var sections = new List<Section>();
        for (int s = 0; s < count; s++)
        {
            long header = table + (long)s * entrySize;
            if (U32(elf, header + 4) != type)
                continue;
            sections.Add(new Section(type, checked((long)U64(elf, header + 0x18)), checked((long)U64(elf, header + 0x20)),
                U32(elf, header + 0x28), U32(elf, header + 0x2C)));
        }
        return sections;
    }

    private static long StringTableOffset(ReadOnlySpan<byte> elf, uint sectionIndex)
    {
        long table = checked((long)U64(elf, 0x28));
        int entrySize = U16(elf, 0x3A);
        if (sectionIndex >= U16(elf, 0x3C))
            throw new InvalidDataException($"ELF string table index {sectionIndex} is out of range.");
        return checked((long)U64(elf, table + sectionIndex * (long)entrySize + 0x18));
    }

    private static string String(ReadOnlySpan<byte> elf, long table, long offset)
    {
        long start = checked(table + offset);
        _ = Slice(elf, start, 1);
        int length = elf[(int)start..].IndexOf((byte)0);
        if (length < 0)
            throw new InvalidDataException("Unterminated ELF string.");
        return Encoding.ASCII.GetString(elf.Slice((int)start, length));
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> elf, long offset, int length)
    {
        if (offset < 0 || offset + length > elf.Length)
            throw new InvalidDataException($"ELF offset {offset} (+{length}) lies outside the file ({elf.Length} bytes).");
        return elf.Slice((int)offset, length);
    }

    private static ushort U16(ReadOnlySpan<byte> elf, long offset) => BinaryPrimitives.ReadUInt16LittleEndian(Slice(elf, offset, 2));

    private static uint U32(ReadOnlySpan<byte> elf, long offset) => BinaryPrimitives.ReadUInt32LittleEndian(Slice(elf, offset, 4));

    private static ulong U64(ReadOnlySpan<byte> elf, long offset) => BinaryPrimitives.ReadUInt64LittleEndian(Slice(elf, offset, 8));

    private static long I64(ReadOnlySpan<byte> elf, long offset) => BinaryPrimitives.ReadInt64LittleEndian(Slice(elf, offset, 8));
}
