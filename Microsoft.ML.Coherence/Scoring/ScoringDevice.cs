using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>
/// Where the fitted stage scores: the CPU unless <see cref="CoherenceEmbeddingOptions.ScoringGpuDeviceId"/>
/// asks for a GPU; never the training GPU. Decided before training, so a missing CUDA provider fails (or
/// falls back) before any work rather than after the model is trained.
/// </summary>
internal static class ScoringDevice
{
    /// <summary>The ONNX Runtime export that only GPU builds have; the CPU package's library lacks it.</summary>
    public const string CudaProviderExport = "OrtSessionOptionsAppendExecutionProvider_CUDA";

    /// <summary>Returns the GPU to score on, or null for the CPU.</summary>
    /// <param name="requested">The option's value.</param>
    /// <param name="fallbackToCpu"><c>MLContext.FallbackToCpu</c> when <c>Fit</c> runs.</param>
    /// <param name="warn">Receives the message when a missing GPU falls back to the CPU.</param>
    /// <param name="cudaProviderPresent">Test seam; null asks the ONNX Runtime library the application loads.</param>
    public static int? Resolve(int? requested, bool fallbackToCpu, Action<string> warn, Func<bool>? cudaProviderPresent = null)
    {
        if (requested is not int id)
            return null;
        if ((cudaProviderPresent ?? OnnxRuntimeHasCudaProvider)())
            return id;
        string missing = $"Option '{nameof(CoherenceEmbeddingOptions.ScoringGpuDeviceId)}' is {id}, but the ONNX Runtime in this " +
            "application has no CUDA execution provider (the Microsoft.ML.OnnxRuntime package is CPU-only)";
        if (fallbackToCpu)
        {
            warn(missing + "; scoring on the CPU (MLContext.FallbackToCpu is true).");
            return null;
        }
        throw new InvalidOperationException(missing + ". Reference Microsoft.ML.OnnxRuntime.Gpu instead, set " +
            "MLContext.FallbackToCpu = true, or leave ScoringGpuDeviceId null to score on the CPU.");
    }

    private static bool OnnxRuntimeHasCudaProvider() =>
        NativeLibrary.TryLoad("onnxruntime", typeof(InferenceSession).Assembly, null, out var library)
        && NativeLibrary.TryGetExport(library, CudaProviderExport, out _);
}
