namespace Coherence.Experiments.Tests;

[TestClass]
public sealed class PeerOptionTests
{
    private static ExperimentOptions Parse(params string[] more) => ExperimentOptions.Parse(["--train", "a.tsv", "--test", "b.tsv", .. more])!;

    private static string Error(params string[] more) => Assert.ThrowsExactly<InputException>(() => Parse(more)).Message;

    [TestMethod]
    public void DefaultsRunEveryVariantWithAllLabels()
    {
        var o = Parse();
        CollectionAssert.AreEqual(Variants.All, o.Variants.ToArray());
        Assert.AreEqual(1.0, o.LabelFraction);
        Assert.AreEqual(100, o.FastTextDimension);
        Assert.AreEqual(2, o.FastTextThreads);
        Assert.HasCount(22, Variants.All);
        Assert.AreEqual(ExperimentOptions.DefaultTeacherCache, o.TeacherCache);
    }

    [TestMethod]
    public void VariantsAreParsedIntoReportOrderWithPrerequisitesAdded()
    {
        var o = Parse("--variants", "uniformity-only, featurize-text,baseline");
        CollectionAssert.AreEqual(new[] { "featurize-text", "baseline", "uniformity-only" }, o.Variants.ToArray());

        // featurize-text+sca reuses sca's stage; the time-matched baseline needs baseline's and sca's step times.
        o = Parse("--variants", "featurize-text+sca");
        CollectionAssert.AreEqual(new[] { "sca", "featurize-text+sca" }, o.Variants.ToArray());
        CollectionAssert.AreEqual(new[] { "featurize-text+sca" }, o.RequestedVariants.ToArray());
        o = Parse("--variants", "featurize-text+sca-label");
        CollectionAssert.AreEqual(new[] { "sca-label", "featurize-text+sca-label" }, o.Variants.ToArray());
        o = Parse("--variants", "featurize-text+distilled+sca+rows,teacher");
        CollectionAssert.AreEqual(new[] { "teacher", "distilled+sca+rows", "featurize-text+distilled+sca+rows" }, o.Variants.ToArray());
        o = Parse("--variants", "time-matched-baseline");
        CollectionAssert.AreEqual(new[] { "baseline", "sca", "time-matched-baseline" }, o.Variants.ToArray());
        o = Parse("--variants", "all", "--skip-featurize-text");
        Assert.DoesNotContain("featurize-text", o.Variants);
        Assert.HasCount(21, o.Variants);
    }

    [TestMethod]
    public void BadVariantsNameTheOptionAndTheValidNames()
    {
        Assert.AreEqual(
            "option --variants: unknown variant 'fasttext'; valid: all, featurize-text, baseline, sca, featurize-text+sca, sca-label, featurize-text+sca-label, fasttext-vectors, featurize-text+fasttext-vectors, fasttext-supervised, fasttext-supervised-tuned, time-matched-baseline, alignment-only, uniformity-only, sca-untied, teacher, featurize-text+teacher, distilled, featurize-text+distilled, distilled+sca, featurize-text+distilled+sca, distilled+sca+rows, featurize-text+distilled+sca+rows.",
            Error("--variants", "sca,fasttext"));
        Assert.StartsWith("option --variants: 'sca,,baseline' has an empty variant name; valid: featurize-text, baseline,", Error("--variants", "sca,,baseline"));
        Assert.AreEqual("option --variants: nothing left to run (--skip-featurize-text removed the only variant).",
            Error("--variants", "featurize-text", "--skip-featurize-text"));
    }

    [TestMethod]
    public void TheDistilledVariantsDifferOnlyInStepsAndRowWeight()
    {
        var given = new Microsoft.ML.Coherence.CoherenceEmbeddingOptions();
        var distilled = ExperimentRunner.OptionsFor(Variants.Distilled, given, seed: 3);
        Assert.AreEqual(0, distilled.Steps, "vocabulary initialisation only: no training step");
        Assert.AreEqual(0f, distilled.TeacherRowWeight);
        var sca = ExperimentRunner.OptionsFor(Variants.DistilledSca, given, seed: 3);
        Assert.IsNull(sca.Steps);
        Assert.AreEqual(0f, sca.TeacherRowWeight);
        var rows = ExperimentRunner.OptionsFor(Variants.DistilledScaRows, given, seed: 3);
        Assert.AreEqual(given.TeacherRowWeight, rows.TeacherRowWeight, "the library's default row weight");
        Assert.AreEqual(given.CoherenceWeight, rows.CoherenceWeight);
        Assert.AreEqual("out/x.bin", Parse("--teacher-cache", "out/x.bin").TeacherCache);
    }

    [TestMethod]
    public void LabelFractionMustBeInZeroToOne()
    {
        Assert.AreEqual(0.1, Parse("--label-fraction", "0.1").LabelFraction);
        Assert.AreEqual(1.0, Parse("--label-fraction", "1").LabelFraction);
        foreach (var bad in new[] { "0", "1.5", "-0.1", "ten", "NaN" })
        {
            Assert.AreEqual($"option --label-fraction: '{bad}' is not a number in (0, 1] (for example 0.1 keeps 10% of the labels).", Error("--label-fraction", bad));
        }
    }

    [TestMethod]
    public void FastTextSettingsAreParsedAndChecked()
    {
        var o = Parse("--fasttext-dim", "64", "--fasttext-threads", "1");
        Assert.AreEqual(64, o.FastTextDimension);
        Assert.AreEqual(1, o.FastTextThreads);
        Assert.AreEqual("option --fasttext-dim: '0' is not an integer >= 1.", Error("--fasttext-dim", "0"));
        Assert.AreEqual("option --fasttext-threads: 'two' is not an integer >= 1.", Error("--fasttext-threads", "two"));
        Assert.AreEqual("option --label-fraction needs a value.", Error("--label-fraction"));
    }

    [TestMethod]
    public void BudgetAndPunctuationOptionsReachTheStage()
    {
        var o = Parse("--epochs", "2.5", "--keep-punctuation").Model;
        Assert.AreEqual(2.5f, o.Epochs);
        Assert.IsNull(o.Steps, "without --steps the stage sets its steps from the epochs");
        Assert.IsFalse(o.SplitPunctuation);
        Assert.IsTrue(Parse().Model.SplitPunctuation);
        Assert.AreEqual("option --epochs: '0' is not a number greater than 0.", Error("--epochs", "0"));
    }

    [TestMethod]
    public void EachStageVariantChangesOnlyWhatItsNameSays()
    {
        var given = Parse("--coherence-weight", "2", "--uniformity-weight", "0.3", "--steps", "400").Model;
        var alignment = ExperimentRunner.OptionsFor("alignment-only", given, 3);
        Assert.AreEqual(2f, alignment.CoherenceWeight);
        Assert.AreEqual(0f, alignment.UniformityWeight);
        var uniformity = ExperimentRunner.OptionsFor("uniformity-only", given, 3);
        Assert.AreEqual(0f, uniformity.CoherenceWeight);
        Assert.AreEqual(0.3f, uniformity.UniformityWeight);
        var matched = ExperimentRunner.OptionsFor("time-matched-baseline", given, 3, timeMatchedSteps: 1234);
        Assert.AreEqual(0f, matched.CoherenceWeight);
        Assert.AreEqual(0f, matched.UniformityWeight);
        Assert.AreEqual(1234, matched.Steps);
        Assert.AreEqual(400, ExperimentRunner.OptionsFor("sca", given, 3).Steps);
        foreach (var o in new[] { alignment, uniformity, matched })
        {
            Assert.AreEqual(3, o.Seed);
            Assert.AreEqual(given.EmbeddingDimension, o.EmbeddingDimension);
            Assert.AreEqual(given.Temperature, o.Temperature);
        }

        Assert.ThrowsExactly<ArgumentException>(() => ExperimentRunner.OptionsFor("time-matched-baseline", given, 3));
        Assert.ThrowsExactly<ArgumentException>(() => ExperimentRunner.OptionsFor("featurize-text", given, 3));
    }

    [TestMethod]
    public void TimeMatchedStepsGiveTheBaselineScasTrainingTime()
    {
        // SCA: 500 steps at 0.03 s = 15 s; the baseline at 0.012 s/step needs 1,250 steps for 15 s.
        Assert.AreEqual(1250, ExperimentRunner.TimeMatchedSteps(500, 0.03, 0.012));
        Assert.AreEqual(667, ExperimentRunner.TimeMatchedSteps(400, 0.05, 0.03)); // 666.67 rounds to 667
        Assert.AreEqual(1, ExperimentRunner.TimeMatchedSteps(1, 0.001, 1.0)); // never 0 steps
        Assert.AreEqual(500, ExperimentRunner.TimeMatchedSteps(500, 0.03, 0)); // no measurement: SCA's own count
    }
}
