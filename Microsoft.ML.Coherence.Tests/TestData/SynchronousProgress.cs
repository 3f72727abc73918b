namespace Microsoft.ML.Coherence.Tests;

/// <summary>Progress&lt;T&gt; posts to the thread pool; tests need the callback on the training thread, before the next step.</summary>
internal sealed class SynchronousProgress(Action<CoherenceTrainingProgress> action) : IProgress<CoherenceTrainingProgress>
{
    public void Report(CoherenceTrainingProgress value) => action(value);
}
