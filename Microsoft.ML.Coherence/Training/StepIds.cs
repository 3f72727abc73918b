using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>A step's ids on the device, uploaded as one tensor and viewed in parts.</summary>
internal sealed class StepIds
{
    public required Tensor Inputs { get; init; }    // [B·T]
    public required Tensor Targets { get; init; }   // [B·T]
    public required Tensor Sampled { get; init; }   // [S]
    public required Tensor Anchors { get; init; }   // [A]
    public required Tensor Negatives { get; init; } // [M]

    public int SampledCount => (int)Sampled.shape[0];

    public int AnchorCount => (int)Anchors.shape[0];

    public static StepIds Upload(StepDraws draws, int batch, int time, Device device)
    {
        var negatives = draws.AlignmentNegatives ?? [];
        var packed = new long[draws.Windows.Length + draws.Sampled.Length + draws.Anchors.Length + negatives.Length];
        draws.Windows.CopyTo(packed, 0);
        draws.Sampled.CopyTo(packed, draws.Windows.Length);
        draws.Anchors.CopyTo(packed, draws.Windows.Length + draws.Sampled.Length);
        negatives.CopyTo(packed, draws.Windows.Length + draws.Sampled.Length + draws.Anchors.Length);
        var all = torch.tensor(packed, device: device);                           // the step's one upload
        var windows = all.narrow(0, 0, draws.Windows.Length).view(batch, time + 1);
        long at = draws.Windows.Length;
        Tensor Next(int length)
        {
            var part = all.narrow(0, at, length);
            at += length;
            return part;
        }
        return new StepIds
        {
            Inputs = windows.narrow(1, 0, time).reshape(-1),
            Targets = windows.narrow(1, 1, time).reshape(-1),
            Sampled = Next(draws.Sampled.Length),
            Anchors = Next(draws.Anchors.Length),
            Negatives = Next(negatives.Length),
        };
    }
}
