using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// One cancellation token for a <c>Fit</c> that fires on the caller's token or on <c>MLContext.CancelExecution()</c>.
/// ML.NET offers no notification for the latter (its components poll <c>IsCanceled</c> in <c>CheckAlive</c>),
/// so a timer polls the training host a few times a second; the training loop checks the token every step.
/// </summary>
internal sealed class HostCancellation : IDisposable
{
    /// <summary>How often the host is polled.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly IHost _host;
    private readonly CancellationTokenSource _source;
    private readonly Timer? _timer;

    /// <param name="host">A host registered with the user's context for this fit.</param>
    /// <param name="token">The caller's own token.</param>
    public HostCancellation(IHost host, CancellationToken token)
    {
        _host = host;
        _source = CancellationTokenSource.CreateLinkedTokenSource(token);
        if (HostEnvironmentSettings.CanObserveCancellation(host))
            _timer = new Timer(_ => Poll(), null, PollInterval, PollInterval);
        Poll();
    }

    /// <summary>Fires when either source cancels.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Throws <see cref="OperationCanceledException"/> if either source has cancelled.</summary>
    public void ThrowIfCancellationRequested()
    {
        Poll();
        _source.Token.ThrowIfCancellationRequested();
    }

    private void Poll()
    {
        try
        {
            if (!_source.IsCancellationRequested && HostEnvironmentSettings.IsCanceled(_host))
                _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // a last timer tick after Dispose
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _source.Dispose();
    }
}
