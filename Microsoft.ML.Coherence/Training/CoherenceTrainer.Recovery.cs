using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Checkpoints and failures: resuming from the newest checkpoint that fits the run, and what the trainer does when a step,
/// an evaluation or a checkpoint save fails (the model it keeps, the message), with the test seams that inject failures.
/// </summary>
internal sealed partial class CoherenceTrainer
{
    /// <summary>Test seam: returns true for a step whose loss is replaced by NaN.</summary>
    internal Func<int, bool>? InjectNonFiniteLoss { get; set; }

    /// <summary>Test seam: returns true for a step whose backward pass fails as a libtorch error would.</summary>
    internal Func<int, bool>? InjectNativeFailure { get; set; }

    /// <summary>Test seam: the exception the evaluation ("evaluation") or checkpoint save ("checkpoint") after a step throws, or null.</summary>
    internal Func<int, string, Exception?>? InjectAfterStepFailure { get; set; }

    // True while the optimiser writes the weights: a failure then leaves them partly updated.
    private bool _updatingWeights;


    /// <summary>The run's checkpoint store (null without <see cref="CoherenceEmbeddingOptions.CheckpointDirectory"/>), after
    /// restoring the newest checkpoint that fits this run when <see cref="CoherenceEmbeddingOptions.ResumeFromCheckpoint"/> is set.</summary>
    private CheckpointStore? OpenCheckpoints(TokenCorpus train)
    {
        if (_options.CheckpointDirectory is null)
            return null;
        var checkpoints = new CheckpointStore(_options.CheckpointDirectory, Fingerprint(train), _log, Steps);
        if (!_options.ResumeFromCheckpoint)
            checkpoints.ArchiveEarlierRun();
        else if (checkpoints.TryLoadLatest(Model, _optimizer, out int restored))
        {
            CompletedSteps = restored;
            ResumedFromStep = restored;
            _log?.Invoke($"Resumed from the checkpoint of step {restored} in '{_options.CheckpointDirectory}'.");
        }
        return checkpoints;
    }


    /// <summary>What a checkpoint must agree on to be resumed by this run: the options, seed, vocabulary size and training tokens.</summary>
    private string Fingerprint(TokenCorpus train) => CheckpointFingerprint.Compute(_options, _seed, Model.VocabularySize, train.Tokens, TeacherDigest);


    /// <summary>Stops before the update when the loss or the gradient norm is not finite, so the weights stay those of the last good step.</summary>
    private void ThrowIfNotFinite(int step, double total, double norm)
    {
        if (double.IsFinite(total) && double.IsFinite(norm))
            return;
        _optimizer.ZeroGrad();
        foreach (var document in _terms.OfType<IDocumentTerm>())
            document.ZeroGrad();
        throw new CoherenceTrainingException(
            $"Training stopped at step {step}: the loss or a gradient became {(double.IsFinite(total) ? norm : total)}. " +
            $"The model keeps the weights of step {step - 1}, the last good step. Lower LearningRate (now {_options.LearningRate}) " +
            $"or CoherenceWeight (now {_options.CoherenceWeight}), or raise Temperature (now {_options.Temperature}).", step);
    }


    /// <summary>
    /// A step failed with a libtorch or runtime error. Before the weight update the model still holds the last
    /// completed step: it is checkpointed (when checkpoints are on) so a new Fit resumes from there. A failure
    /// inside the update leaves the weights partly written: they are restored from the newest checkpoint when
    /// there is one.
    /// </summary>
    private CoherenceTrainingException StepFailed(int step, Exception failure, CheckpointStore? checkpoints)
    {
        _optimizer.ZeroGrad();
        foreach (var document in _terms.OfType<IDocumentTerm>())
            document.ZeroGrad();
        string kept;
        if (!_updatingWeights)
        {
            kept = $"The model keeps the weights of step {CompletedSteps}, the last completed step";
            if (checkpoints is not null && CompletedSteps > 0)
            {
                try
                {
                    checkpoints.Save(CompletedSteps, Model, _optimizer);
                    kept += $", checkpointed in '{_options.CheckpointDirectory}'; a new Fit with the same settings resumes from it";
                }
                catch (Exception saveFailure) when (saveFailure is IOException or UnauthorizedAccessException or OutOfMemoryException)
                {
                    // The step's own failure is the one to report; the earlier checkpoints stay as they were (atomic writes).
                    kept += $"; saving it as a checkpoint failed too ({saveFailure.GetType().Name}: {FirstLine(saveFailure.Message)})";
                }
            }
        }
        else if (checkpoints is not null && checkpoints.TryLoadLatest(Model, _optimizer, out int restored))
        {
            CompletedSteps = restored;
            kept = $"The failure came during the weight update; the model was restored to the checkpoint of step {restored}";
        }
        else
        {
            kept = "The failure came during the weight update, so the weights may be partly updated (set CheckpointDirectory to keep restorable weights)";
        }
        _updatingWeights = false;
        return new CoherenceTrainingException(
            $"Training failed at step {step}: {failure.GetType().Name}: {FirstLine(failure.Message)} {kept}.", step, lastGoodModel: null, failure);
    }


    /// <summary>
    /// Runs the evaluation or the checkpoint save that follows a completed step. An IO, memory or libtorch failure there
    /// becomes a <see cref="CoherenceTrainingException"/> (the engine attaches the model of that step, whose weights are
    /// whole); a failed checkpoint save leaves the previous checkpoint as it was (it is written through a temporary file).
    /// </summary>
    private T AfterStep<T>(int step, string what, Func<T> work)
    {
        try
        {
            if (InjectAfterStepFailure?.Invoke(step, what) is { } injected)
                throw injected;
            return work();
        }
        catch (Exception failure) when (failure is not (CoherenceTrainingException or OperationCanceledException))
        {
            string action = what == "checkpoint" ? $"saving the checkpoint in '{_options.CheckpointDirectory}'" : "the evaluation";
            throw new CoherenceTrainingException(
                $"Training stopped after step {step}, in {action}: {failure.GetType().Name}: {FirstLine(failure.Message)} " +
                $"The model keeps the weights of step {step}, the last completed step.", step, lastGoodModel: null, failure);
        }
    }

    private void AfterStep(int step, string what, Action work) => AfterStep(step, what, () =>
    {
        work();
        return true;
    });

    private static string FirstLine(string message)
    {
        int end = message.IndexOf('\n');
        return (end < 0 ? message : message[..end]).Trim();
    }

}
