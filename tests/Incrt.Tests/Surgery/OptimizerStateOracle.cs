using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Tests.Surgery;

/// <summary>
/// Reads optimizer state straight from TorchSharp's own state objects (<c>state_dict().State</c>, cast to
/// <see cref="Adam.State"/>, <see cref="AdamW.State"/> or <see cref="SGD.State"/>), never through
/// <c>HeadSurgery.CollectSlots</c> or the library's adapters, so a test built on it is an independent oracle for the
/// surgery code.
/// </summary>
public static class OptimizerStateOracle
{
    public enum Opt { Adam, AdamAmsgrad, AdamW, AdamWAmsgrad, SgdMomentum }

    public const double Lr = 1e-2, Beta1 = 0.8, Beta2 = 0.95, Eps = 1e-6, AdamWDecay = 0.05, Momentum = 0.9;

    public static bool IsAdamFamily(Opt kind) => kind != Opt.SgdMomentum;

    public static bool IsAmsgrad(Opt kind) => kind is Opt.AdamAmsgrad or Opt.AdamWAmsgrad;

    public static optim.Optimizer Make(Opt kind, Parameter[] ps) => kind switch
    {
        Opt.Adam or Opt.AdamAmsgrad => optim.Adam(ps, lr: Lr, beta1: Beta1, beta2: Beta2, eps: Eps, amsgrad: IsAmsgrad(kind)),
        Opt.AdamW or Opt.AdamWAmsgrad => optim.AdamW(ps, lr: Lr, beta1: Beta1, beta2: Beta2, eps: Eps, weight_decay: AdamWDecay,
            amsgrad: IsAmsgrad(kind)),
        _ => optim.SGD(ps, Lr, momentum: Momentum),
    };

    /// <summary>One parameter's optimizer state: Adam's step counter (−1 for SGD) and copies of its state tensors by
    /// PyTorch name (absent tensors are left out).</summary>
    public sealed record ParamState(long Step, IReadOnlyDictionary<string, Tensor> Tensors);

    public static ParamState Read(optim.Optimizer optimizer, Parameter p)
    {
        var helper = (OptimizerHelper)optimizer;
        int i = helper.parameters().ToList().FindIndex(q => q.Handle == p.Handle);
        if (i < 0) throw new InvalidOperationException("The optimizer does not own this parameter.");
        var state = helper.state_dict().State[i];
        var tensors = new Dictionary<string, Tensor>();
        void Add(string name, Tensor? t)
        {
            if (t is not null) tensors[name] = t.detach().clone();
        }
        long step;
        switch (state)
        {
            case Adam.State a:
                step = a.step;
                Add("exp_avg", a.exp_avg); Add("exp_avg_sq", a.exp_avg_sq); Add("max_exp_avg_sq", a.max_exp_avg_sq);
                break;
            case AdamW.State a:
                step = a.step;
                Add("exp_avg", a.exp_avg); Add("exp_avg_sq", a.exp_avg_sq); Add("max_exp_avg_sq", a.max_exp_avg_sq);
                break;
            case SGD.State s:
                step = -1;
                Add("momentum_buffer", s.momentum_buffer);
                break;
            default:
                throw new NotSupportedException(state.GetType().FullName);
        }
        return new ParamState(step, tensors);
    }

    /// <summary>The state of every parameter of <paramref name="module"/>, by parameter name.</summary>
    public static Dictionary<string, ParamState> ReadAll(optim.Optimizer optimizer, nn.Module module) =>
        module.named_parameters().ToDictionary(p => p.name, p => Read(optimizer, p.parameter));

    /// <summary>Largest absolute difference, relative to 1 + the reference's magnitude.</summary>
    public static double RelDiff(Tensor actual, Tensor expected)
    {
        if (!actual.shape.SequenceEqual(expected.shape))
            throw new InvalidOperationException(
                $"shape ({string.Join(", ", actual.shape)}) differs from the expected ({string.Join(", ", expected.shape)})");
        using var scope = NewDisposeScope();
        return (actual - expected).abs().max().item<double>() / (1 + expected.abs().max().item<double>());
    }
}
