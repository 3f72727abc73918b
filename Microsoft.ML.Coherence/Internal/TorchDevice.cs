using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// The one device picker. ML.NET's convention: a GPU when <c>MLContext.GpuDeviceId</c> is set and
/// CUDA is present; the CPU when it is not and <c>MLContext.FallbackToCpu</c> allows; an error
/// otherwise. <see cref="CoherenceEmbeddingOptions.Device"/> overrides both.
/// </summary>
internal static class TorchDevice
{
    public static Device Select(string? requested, int? gpuDeviceId, bool fallbackToCpu, Action<string>? log = null)
    {
        if (requested is not null)
        {
            string name = requested.Trim().ToLowerInvariant();
            if (name == "cpu")
                return torch.CPU;
            if (name == "cuda" || (name.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(name[5..], out int parsed) && parsed >= 0))
            {
                int index = name == "cuda" ? 0 : int.Parse(name[5..], System.Globalization.CultureInfo.InvariantCulture);
                EnsureCuda(index, "Option 'Device' asks for '" + requested + "'", "set Device = \"cpu\"");
                return torch.device(DeviceType.CUDA, index);
            }
            CoherenceThrow.OptionOutOfRange(nameof(CoherenceEmbeddingOptions.Device), requested,
                "null (follow MLContext.GpuDeviceId), \"cpu\", \"cuda\" or \"cuda:N\"");
        }

        if (gpuDeviceId is int id)
        {
            if (torch.cuda.is_available() && id < torch.cuda.device_count())
                return torch.device(DeviceType.CUDA, id);
            if (fallbackToCpu)
            {
                log?.Invoke($"MLContext.GpuDeviceId is {id} but that CUDA device is not available; training on the CPU (MLContext.FallbackToCpu is true).");
                return torch.CPU;
            }
            EnsureCuda(id, $"MLContext.GpuDeviceId is {id}", "set MLContext.FallbackToCpu = true or GpuDeviceId = null");
            return torch.device(DeviceType.CUDA, id);
        }
        return torch.CPU;
    }

    private static void EnsureCuda(int index, string who, string fix)
    {
        if (!torch.cuda.is_available())
            throw new InvalidOperationException(
                $"{who}, but CUDA is not available: the application needs a CUDA libtorch backend package " +
                $"(for example TorchSharp-cuda-linux) and a CUDA driver; or {fix}.");
        int count = torch.cuda.device_count();
        if (index >= count)
            throw new InvalidOperationException($"{who}, but only {count} CUDA device(s) exist (valid: 0..{count - 1}); or {fix}.");
    }
}
