package ai.coopt.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.IValue;

import java.util.Arrays;
import java.util.List;

/**
 * AdamW's update of a group of parameters in place, in one call to the engine: its fused kernel
 * ({@code _fused_adamw_}), which reads each weight, gradient and moment once and writes them once, then the gradients
 * cleared ({@code _foreach_zero_}).
 *
 * <p>DJL's update clones the gradient and builds the step from four full-size temporaries; a chain of PyTorch's
 * in-place operations per parameter still passes over each array five times. The fused kernel is the one
 * {@code torch.optim.AdamW(fused=True)} runs, and its formula is PyTorch's: {@code w ← w·(1 − lr·decay)},
 * {@code m ← β1·m + (1 − β1)·g}, {@code v ← β2·v + (1 − β2)·g²},
 * {@code w ← w − (lr / c1)·m / (√v / √c2 + ε)} with {@code c1 = 1 − β1^t}, {@code c2 = 1 − β2^t}.
 */
public final class AdamWUpdate {
    private AdamWUpdate() {}

    /**
     * Updates every {@code weights[i]}, {@code means[i]} and {@code variances[i]} in place from {@code grads[i]}, then
     * zeroes the gradients. Autograd must be off ({@link NoGrad}) around the call: the engine refuses an in-place
     * change of a weight that requires a gradient while it records.
     *
     * @param step a float32 scalar holding the step number {@code t} (from 1), read for the bias corrections
     */
    public static void apply(List<NDArray> weights, List<NDArray> grads, List<NDArray> means,
            List<NDArray> variances, NDArray step, float learningRate, float weightDecay, float beta1, float beta2,
            float epsilon) {
        PtNDArray[] steps = new PtNDArray[weights.size()];
        Arrays.fill(steps, (PtNDArray) step);
        Module.MODULE.run(List.of(
                list(weights), list(grads), list(means), list(variances), IValue.listFrom(steps),
                IValue.from((double) learningRate), IValue.from((double) weightDecay), IValue.from((double) beta1),
                IValue.from((double) beta2), IValue.from((double) epsilon))).close();
    }

    /**
     * A zero moment estimate for {@code weight}, laid out like it (a channels-last weight gets a channels-last
     * moment), in its manager: what {@link #apply} requires of the moments it is given.
     */
    public static NDArray zeroMoment(NDArray weight) {
        return Module.ZEROS_LIKE.apply(weight);
    }

    private static IValue list(List<NDArray> arrays) {
        return IValue.listFrom(arrays.stream().map(a -> (PtNDArray) a).toArray(PtNDArray[]::new));
    }

    /** The module, made at first use. */
    private static final class Module {
        static final ScriptModule ZEROS_LIKE = ScriptModules.load("ZerosLike", "Tensor",
                "return torch.zeros_like(x)");
        static final ScriptModule MODULE = ScriptModules.loadWith("AdamWUpdate",
                "w: List[Tensor], g: List[Tensor], m: List[Tensor], v: List[Tensor], s: List[Tensor], lr: float,"
                        + " wd: float, beta1: float, beta2: float, eps: float",
                "int",
                // the kernel walks each weight's memory and its gradient's and moments' in step, so their strides
                // must agree: autograd lays a gradient out like its weight, and zeroMoment the moments
                "for i in range(len(w)):",
                "  assert g[i].stride() == w[i].stride() and m[i].stride() == w[i].stride()"
                        + " and v[i].stride() == w[i].stride(), 'AdamW: a gradient or moment is laid out unlike its weight'",
                // the kernel copies every gradient that is not contiguous, and then reads the original: a wasted
                // copy for each channels-last weight. Its O×H×W×I view is contiguous, and the update is
                // elementwise, so the kernel is given that view of all four (these lists are the call's own).
                "  if w[i].dim() == 4 and not w[i].is_contiguous():",
                "    w[i] = w[i].permute([0, 2, 3, 1])",
                "    g[i] = g[i].permute([0, 2, 3, 1])",
                "    m[i] = m[i].permute([0, 2, 3, 1])",
                "    v[i] = v[i].permute([0, 2, 3, 1])",
                "torch._fused_adamw_(w, g, m, v, annotate(List[Tensor], []), s, lr=lr, beta1=beta1, beta2=beta2,"
                        + " weight_decay=wd, eps=eps, amsgrad=False, maximize=False)",
                "torch._foreach_zero_(g)",
                "return 0");
    }
}
