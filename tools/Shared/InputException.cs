namespace Coherence.Tools;

/// <summary>A usage or input error: the tool prints the message and exits with code 2.</summary>
internal sealed class InputException(string message) : Exception(message)
{
    /// <summary>The process exit code for usage and input errors.</summary>
    public const int ExitCode = 2;
}
