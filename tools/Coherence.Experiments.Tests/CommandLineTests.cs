using System.CommandLine;
using System.CommandLine.Help;
using Coherence.Tools;
using Microsoft.ML.Coherence;

namespace Coherence.Experiments.Tests;

/// <summary>The harness' System.CommandLine surface: help, defaults, repeated options, values that look like options or response files.</summary>
[TestClass]
public sealed class CommandLineTests
{
    private static ExperimentOptions Parse(params string[] more) => ExperimentOptions.Parse(["--train", "a.tsv", "--test", "b.tsv", .. more])!;

    private static string Error(params string[] args) => Assert.ThrowsExactly<InputException>(() => ExperimentOptions.Parse(args)).Message;

    [TestMethod]
    public void HelpListsEveryOptionWithItsDescription()
    {
        foreach (var (command, args) in new (Command Command, string[] Args)[] { (ExperimentOptions.Command, ["--help"]), (WordNetPairsCommand.Command, ["wordnet-pairs", "--help"]) })
        {
            var output = new StringWriter();
            var result = ToolCommandLine.Parse(ExperimentOptions.Command, args);
            Assert.IsTrue(ToolCommandLine.IsHelp(result));
            Assert.AreEqual(0, result.Invoke(new InvocationConfiguration { Output = output }));
            string help = output.ToString();
            var options = command.Options.Where(o => o is not HelpOption and not VersionOption).ToList();
            Assert.IsGreaterThanOrEqualTo(6, options.Count);
            foreach (var option in options)
            {
                Assert.IsFalse(string.IsNullOrWhiteSpace(option.Description), $"{option.Name} has no description");
                Assert.Contains(option.Name, help);
                Assert.Contains(option.Description!.Split(' ')[0], help);
            }
        }
    }

    [TestMethod]
    public void ModelOptionsDefaultToTheLibraryDefaults()
    {
        var given = Parse().Model;
        var library = new CoherenceEmbeddingOptions();
        Assert.AreEqual(library.EmbeddingDimension, given.EmbeddingDimension);
        Assert.AreEqual(library.Layers, given.Layers);
        Assert.AreEqual(library.Heads, given.Heads);
        Assert.AreEqual(library.ContextLength, given.ContextLength);
        Assert.AreEqual(library.Steps, given.Steps);
        Assert.AreEqual(library.Epochs, given.Epochs);
        Assert.AreEqual(library.BatchSize, given.BatchSize);
        Assert.AreEqual(library.LearningRate, given.LearningRate);
        Assert.AreEqual(library.CoherenceWeight, given.CoherenceWeight);
        Assert.AreEqual(library.UniformityWeight, given.UniformityWeight);
        Assert.AreEqual(library.Temperature, given.Temperature);
        Assert.AreEqual(library.MinCount, given.MinCount);
        Assert.AreEqual(library.MaxVocabularySize, given.MaxVocabularySize);
        Assert.AreEqual(library.Window, given.Window);
        Assert.AreEqual(library.NeighborCount, given.NeighborCount);
        Assert.AreEqual(library.CoherenceNegatives, given.CoherenceNegatives);
        Assert.AreEqual(library.AnchorsPerStep, given.AnchorsPerStep);
        Assert.AreEqual(library.SampledSoftmaxNegatives, given.SampledSoftmaxNegatives);
        Assert.AreEqual(library.EvaluationInterval, given.EvaluationInterval);
        Assert.AreEqual(library.HeldOutFraction, given.HeldOutFraction);
        Assert.AreEqual(library.SplitPunctuation, given.SplitPunctuation);
        var o = Parse();
        Assert.AreEqual(3, o.Seeds);
        Assert.AreEqual(Path.Combine("out", "experiments"), o.OutputDirectory);
        Assert.AreEqual(10, o.NeighborK);
        Assert.AreEqual(2000, o.QuerySample);
        Assert.IsNull(o.CorpusPath);
        Assert.IsNull(o.Title);
    }

    [TestMethod]
    public void EveryModelOptionReachesTheStage()
    {
        var m = Parse("--dim", "48", "--layers", "2", "--heads", "2", "--context", "16", "--batch", "8", "--lr", "0.01", "--temperature", "0.25",
            "--min-count", "3", "--max-vocab", "500", "--window", "4", "--neighbors", "8", "--negatives", "16", "--anchors", "32",
            "--softmax-negatives", "0", "--eval-interval", "0", "--held-out", "0.1").Model;
        Assert.AreEqual(48, m.EmbeddingDimension);
        Assert.AreEqual(2, m.Layers);
        Assert.AreEqual(2, m.Heads);
        Assert.AreEqual(16, m.ContextLength);
        Assert.AreEqual(8, m.BatchSize);
        Assert.AreEqual(0.01f, m.LearningRate);
        Assert.AreEqual(0.25f, m.Temperature);
        Assert.AreEqual(3, m.MinCount);
        Assert.AreEqual(500, m.MaxVocabularySize);
        Assert.AreEqual(4, m.Window);
        Assert.AreEqual(8, m.NeighborCount);
        Assert.AreEqual(16, m.CoherenceNegatives);
        Assert.AreEqual(32, m.AnchorsPerStep);
        Assert.AreEqual(0, m.SampledSoftmaxNegatives);
        Assert.AreEqual(0, m.EvaluationInterval);
        Assert.AreEqual(0.1f, m.HeldOutFraction);
    }

    [TestMethod]
    public void AnOptionGivenTwiceKeepsItsLastValue()
    {
        // scripts/run-peer-experiments.sh appends the user's options after its own.
        Assert.AreEqual(5, Parse("--seeds", "3", "--seeds", "5").Seeds);
        Assert.AreEqual("second", Parse("--title", "first", "--title", "second").Title);
    }

    [TestMethod]
    public void FirstSeedShiftsTheSeedsARunCovers()
    {
        var shifted = Parse("--seeds", "1", "--first-seed", "3");
        Assert.AreEqual((3, 3), (shifted.FirstSeed, shifted.LastSeed));
        var plain = Parse("--seeds", "3");
        Assert.AreEqual((1, 3), (plain.FirstSeed, plain.LastSeed));
        Assert.AreEqual("option --first-seed: '0' is not an integer >= 1.", Error("--train", "a", "--test", "b", "--first-seed", "0"));
    }

    [TestMethod]
    public void ValuesAreTakenLiterally()
    {
        // Response files are off: a value that starts with @ is a path, not a file of arguments.
        Assert.AreEqual("@corpus.txt", Parse("--corpus", "@corpus.txt").CorpusPath);
        Assert.AreEqual("option --lr: '-1' is not a non-negative number.", Error("--train", "a", "--test", "b", "--lr", "-1"));
        Assert.AreEqual("option --layers: '-1' is not an integer >= 0.", Error("--train", "a", "--test", "b", "--layers", "-1"));
        Assert.AreEqual("unexpected argument 'c.tsv'.", Error("--train", "a", "--test", "b", "--keep-punctuation", "c.tsv"));
        Assert.AreEqual("unexpected argument '4'.", Error("--train", "a", "--test", "b", "--dim", "3", "4"));
        Assert.AreEqual("option --seeds: '0' is not an integer >= 1.", Error("--train", "a", "--test", "b", "--seeds", "0"));
    }

    [TestMethod]
    public void TheSubcommandIsFoundFromTheRoot()
    {
        var result = ToolCommandLine.Parse(ExperimentOptions.Command, ["wordnet-pairs", "--out", "p.tsv", "--corpus", "c.txt", "--seed", "4"]);
        Assert.AreSame(WordNetPairsCommand.Command, result.CommandResult.Command);
        var command = WordNetPairsCommand.From(result);
        Assert.AreEqual("p.tsv", command.OutputPath);
        Assert.AreEqual("c.txt", command.CorpusPath);
        Assert.IsNull(command.TrainPath);
        Assert.AreEqual(4, command.Seed);
        Assert.AreEqual("/usr/share/wordnet", command.WordNetDirectory);
        Assert.AreSame(ExperimentOptions.Command, ToolCommandLine.Parse(ExperimentOptions.Command, ["--train", "a", "--test", "b"]).CommandResult.Command);
    }
}
