using System.Text.RegularExpressions;
using Microsoft.ML.Coherence.Tests.TestData;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// docs/architecture.md states the library's folders in order, each using only those before it. This reads the source:
/// the types each folder declares, and the type names each file uses (comments and strings left out).
/// </summary>
[TestClass]
public sealed partial class ArchitectureTests
{
    private static readonly string LibraryRoot = Path.Combine(SampleData.RepositoryRoot, "Microsoft.ML.Coherence");

    [TestMethod]
    public void NoFolderUsesAFolderThatComesLaterInTheStatedOrder()
    {
        var order = StatedOrder();
        var uses = CrossFolderUses();
        var placed = uses.Keys.Select(use => use.From).Concat(DeclaredTypes().Values.SelectMany(f => f)).Distinct().Order().ToArray();
        CollectionAssert.IsSubsetOf(placed, order, $"every folder of the library is placed in docs/architecture.md ({string.Join(", ", order)})");

        // The reader sees uses between folders (these are allowed ones): without them the check below would pass vacuously.
        Assert.IsTrue(uses.ContainsKey(("Training", "Corpus")), "Training uses TokenCorpus from Corpus");
        Assert.IsTrue(uses.ContainsKey(("Scoring", "Modules")), "Scoring uses CoherenceEncoderWeights from Modules");

        var backwards = uses.Where(use => order.IndexOf(use.Key.To) > order.IndexOf(use.Key.From))
            .Select(use => $"{use.Key.From} uses {use.Key.To}: {string.Join(", ", use.Value.Order())}").ToList();
        Assert.IsEmpty(backwards, string.Join(Environment.NewLine, backwards));
    }

    /// <summary>The folders in the order docs/architecture.md gives on its line "Order: `A` -> `B` -> ...".</summary>
    private static List<string> StatedOrder()
    {
        string line = File.ReadLines(Path.Combine(SampleData.RepositoryRoot, "docs", "architecture.md")).Single(l => l.StartsWith("Order:", StringComparison.Ordinal));
        return [.. Regex.Matches(line, "`(\\w+)`").Select(m => m.Groups[1].Value)];
    }

    /// <summary>Type name -> the folders that declare it (a library folder is the first directory under the project).</summary>
    private static Dictionary<string, HashSet<string>> DeclaredTypes()
    {
        var declared = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (folder, code) in FolderFiles())
        {
            foreach (Match match in Declaration().Matches(code))
            {
                string name = match.Groups[1].Value;
                if (!declared.TryGetValue(name, out var folders))
                    declared[name] = folders = [];
                folders.Add(folder);
            }
        }
        return declared;
    }

    /// <summary>(using folder, used folder) -> the type names used.</summary>
    private static Dictionary<(string From, string To), HashSet<string>> CrossFolderUses()
    {
        var declared = DeclaredTypes();
        var uses = new Dictionary<(string From, string To), HashSet<string>>();
        foreach (var (folder, code) in FolderFiles())
        {
            foreach (string name in Identifier().Matches(code).Select(m => m.Value).Distinct())
            {
                if (!declared.TryGetValue(name, out var owners) || owners.Contains(folder))
                    continue;
                foreach (string owner in owners)
                {
                    if (!uses.TryGetValue((folder, owner), out var names))
                        uses[(folder, owner)] = names = [];
                    names.Add(name);
                }
            }
        }
        return uses;
    }

    /// <summary>Each source file in a library folder (not the project root, whose public types sit above every folder), without comments and strings.</summary>
    private static IEnumerable<(string Folder, string Code)> FolderFiles()
    {
        foreach (string path in Directory.EnumerateFiles(LibraryRoot, "*.cs", SearchOption.AllDirectories))
        {
            string[] parts = Path.GetRelativePath(LibraryRoot, path).Split(Path.DirectorySeparatorChar);
            if (parts.Length < 2 || parts[0] is "bin" or "obj")
                continue;
            yield return (parts[0], StringsAndComments().Replace(File.ReadAllText(path), " "));
        }
    }

    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?)\s+([A-Z]\w*)")]
    private static partial Regex Declaration();

    [GeneratedRegex(@"\b[A-Z]\w*\b")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|@?\$?""(?:\\.|""""|[^""\\])*""|'(?:\\.|[^'\\])'", RegexOptions.Singleline)]
    private static partial Regex StringsAndComments();
}
