using Microsoft.ML.Coherence.Internal;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter, 2019) with the same update as TorchSharp's <c>torch.optim.AdamW</c>
/// (decoupled weight decay, bias correction, no amsgrad), written so that every number reaches libtorch
/// through a Scalar kept alive for the whole call (see <see cref="ScalarArithmetic"/>): TorchSharp's own
/// optimiser passes implicit Scalars that the garbage collector may free mid-call. Its state saves to and
/// loads from a checkpoint stream exactly.
/// </summary>
internal sealed class SafeAdamW : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _firstMoment;
    private readonly Tensor[] _secondMoment;
    private readonly double _beta1, _beta2, _epsilon, _weightDecay;

    public SafeAdamW(IEnumerable<Parameter> parameters, double learningRate, double weightDecay,
        double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        _parameters = parameters.ToArray();
        LearningRate = learningRate;
        _weightDecay = weightDecay;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        using var noGrad = torch.no_grad();
        _firstMoment = _parameters.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
        _secondMoment = _parameters.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    public double LearningRate { get; set; }

    /// <summary>Updates taken so far (the bias-correction step count).</summary>
    public long StepCount { get; private set; }

    public IReadOnlyList<Parameter> Parameters => _parameters;

    public void Step()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        StepCount++;
        double correction1 = 1 - Math.Pow(_beta1, StepCount);
        double correction2 = 1 - Math.Pow(_beta2, StepCount);
        using var decay = (1 - LearningRate * _weightDecay).ToScalar();
        using var beta1 = _beta1.ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var epsilon = _epsilon.ToScalar();
        using var stepSize = (-LearningRate / correction1).ToScalar();
        using var root2 = Math.Sqrt(correction2).ToScalar();
        for (int i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i];
            var gradient = parameter.grad;
            if (gradient is null)
                continue;
            if (_weightDecay != 0)
                parameter.mul_(decay);
            _firstMoment[i].mul_(beta1).add_(gradient, oneMinusBeta1);
            _secondMoment[i].mul_(beta2).addcmul_(gradient, gradient, oneMinusBeta2);
            var denominator = _secondMoment[i].sqrt().div_(root2).PlusInPlace(epsilon);
            parameter.addcdiv_(_firstMoment[i], denominator, stepSize);
        }
    }

    public void ZeroGrad()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var parameter in _parameters)
            parameter.grad?.zero_();
    }

    public void Save(BinaryWriter writer)
    {
        writer.Write(StepCount);
        writer.Write(_parameters.Length);
        for (int i = 0; i < _parameters.Length; i++)
        {
            _firstMoment[i].Save(writer);
            _secondMoment[i].Save(writer);
        }
    }

    /// <summary>Null when the state at the reader's position fits this optimiser's moments; otherwise what does not.</summary>
    public string? Mismatch(BinaryReader reader)
    {
        long steps = reader.ReadInt64();
        if (steps < 0)
            return $"its optimiser has taken {steps} steps";
        int count = reader.ReadInt32();
        if (count != _parameters.Length)
            return $"its optimiser state has {count} parameters, this run's {_parameters.Length}";
        for (int i = 0; i < count; i++)
        {
            if ((TensorHeader.Mismatch(reader.BaseStream, _firstMoment[i], $"first moment {i}")
                    ?? TensorHeader.Mismatch(reader.BaseStream, _secondMoment[i], $"second moment {i}")) is { } mismatch)
                return mismatch;
        }
        return null;
    }

    public void Load(BinaryReader reader)
    {
        long steps = reader.ReadInt64();
        int count = reader.ReadInt32();
        if (count != _parameters.Length)
            throw new InvalidDataException($"The checkpoint's optimiser state has {count} parameters; this model has {_parameters.Length}.");
        using var noGrad = torch.no_grad();
        for (int i = 0; i < count; i++)
        {
            _firstMoment[i].Load(reader);
            _secondMoment[i].Load(reader);
        }
        StepCount = steps;
    }

    public void Dispose()
    {
        foreach (var tensor in _firstMoment.Concat(_secondMoment))
            tensor.Dispose();
    }
}
