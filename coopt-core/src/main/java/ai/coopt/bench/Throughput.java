package ai.coopt.bench;

import ai.coopt.engine.MemoryBudget;
import ai.coopt.engine.NativeWork;
import ai.coopt.engine.NoGrad;
import ai.coopt.engine.Precision;
import ai.coopt.nn.InferenceNetwork;
import ai.coopt.nn.Network;
import ai.coopt.train.AdamW;
import ai.coopt.train.Losses;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static ai.coopt.Setting.BATCH_SIZE;
import static ai.coopt.Setting.INPUT_SIZE;

/**
 * Training and inference throughput of an architecture on synthetic input, measured the way
 * {@code scripts/bench_pytorch.py} measures PyTorch from Python: the same loss (1 − cos to a fixed
 * random target), AdamW, warm-up steps, then timed steps. Every step's arrays live in a
 * sub-manager closed at the end of the step. Inference runs the trained weights as priors run them, folded into an
 * {@link InferenceNetwork} (folding is done once, before the warm-up, and not timed), or with {@code unfolded}
 * through the training network's blocks in evaluation mode.
 */
public final class Throughput {
    /** The measured figures. */
    public record Result(String arch, long parameters, int batch, int channels, int size, int threads, int steps,
                         boolean folded, double trainImgPerS, double inferImgPerS, double trainCpuUserS, double trainCpuSysS,
                         double matmulPeakGflops, Precision precision, double inferFp32ImgPerS,
                         double inferRelativeError, double trainFp32ImgPerS, List<Step> trainSteps) {
        public Result {
            trainSteps = List.copyOf(trainSteps);
        }
    }

    /**
     * One timed training step of the measured precision: when it started (milliseconds since the epoch) and how long
     * it took. Two benchmarks run at the same time on separate cores compare their steps over the window they share
     * ({@code scripts/bench_concurrent.py}), which this VM kind's drift in speed between runs does not reach.
     */
    public record Step(long startEpochMs, double ms) {}

    private static final int MATMUL_SIZE = 2048;
    private static final int TRACED_STEPS = 3;

    private Throughput() {}

    /**
     * @param trace when not null, after the timed steps a few more training and inference steps run under PyTorch's
     *     profiler, written as Chrome traces to {@code trace + "-train.json"} and {@code trace + "-infer.json"}
     */
    public static Result measure(String arch, int batch, int channels, int size, int warmup, int steps, boolean folded,
                                 Path trace, Device device) {
        return measure(arch, batch, channels, size, warmup, steps, folded, trace, device, Precision.FP32);
    }

    /**
     * As above, training and the folded inference network computing in {@code precision} (unfolded inference only
     * in float32); in bf16 the same steps then run in float32, each precision in a block of its own (warm-up, timed
     * steps), so that both are measured in the same sitting ({@code trainFp32ImgPerS}, {@code inferFp32ImgPerS}).
     */
    public static Result measure(String arch, int batch, int channels, int size, int warmup, int steps, boolean folded,
                                 Path trace, Device device, Precision precision) {
        if (!folded && precision != Precision.FP32) {
            throw new ai.coopt.UserException("bfloat16 inference is measured on the folded network only");
        }
        try (Network net = Network.create(arch, channels, size, size, 0, device);
             NDManager data = NDManager.newBaseManager(device)) {
            MemoryBudget.require((long) batch * net.activationBytesPerImage(), names -> names.of(BATCH_SIZE) + " "
                    + batch
                    + " of " + channels + "x" + size + "x" + size + " inputs in " + arch,
                    names -> "lower " + names.of(BATCH_SIZE) + " or " + names.of(INPUT_SIZE));
            NDArray x = data.randomNormal(new Shape(batch, channels, size, size));
            NDArray y = data.randomNormal(new Shape(batch, net.featureDim()));
            AdamW optimizer = new AdamW(net.trainableParameters(), 1e-3f, 0.01f);
            boolean both = precision != Precision.FP32;
            TrainBlock train = trainBlock(net.computeIn(precision), optimizer, x, y, warmup, steps);
            double trainFp32Seconds = both
                    ? trainBlock(net.computeIn(Precision.FP32), optimizer, x, y, warmup, steps).seconds()
                    : Double.NaN;
            double trainSeconds = train.seconds();
            CpuTimes trainCpu = train.cpu();
            net.computeIn(Precision.FP32);

            double inferSeconds;
            double fp32Seconds = Double.NaN;
            double relativeError = Double.NaN;
            try (InferenceNetwork inference = folded ? InferenceNetwork.of(net, precision) : null;
                 InferenceNetwork reference = precision == Precision.FP32 ? null : InferenceNetwork.of(net)) {
                // each precision in a block of its own, as a user runs it: alternating step by step was measured to
                // cost convnet-s's bf16 inference about 12% (BENCHMARKS.md, "Precision")
                inferSeconds = inferBlock(net, inference, x, warmup, steps);
                if (reference != null) {
                    fp32Seconds = inferBlock(net, reference, x, warmup, steps);
                    relativeError = relativeError(features(reference, x), features(inference, x));
                }
                if (trace != null) {
                    int traced = Math.min(steps, TRACED_STEPS);
                    JniUtils.startProfile(false, true, false);
                    // the traced steps run in the precision measured (the timed loop left the network in fp32)
                    net.computeIn(precision);
                    for (int i = 0; i < traced; i++) {
                        trainStep(net, optimizer, x, y);
                    }
                    net.computeIn(Precision.FP32);
                    JniUtils.stopProfile(trace + "-train.json");
                    JniUtils.startProfile(false, true, false);
                    for (int i = 0; i < traced; i++) {
                        inferStep(net, inference, x);
                    }
                    JniUtils.stopProfile(trace + "-infer.json");
                }
            }
            long parameters = 0;
            for (var p : net.trainableParameters()) {
                parameters += p.getArray().size();
            }
            int threads = Integer.getInteger("ai.djl.pytorch.num_threads", Runtime.getRuntime().availableProcessors());
            return new Result(arch, parameters, batch, channels, size, threads, steps, folded,
                    steps * (double) batch / trainSeconds, steps * (double) batch / inferSeconds,
                    trainCpu.userSeconds(), trainCpu.systemSeconds(), matmulPeakGflops(data), precision,
                    steps * (double) batch / fp32Seconds, relativeError, steps * (double) batch / trainFp32Seconds,
                    train.steps());
        }
    }

    /**
     * The engine's single-precision matrix-multiply rate on {@value #MATMUL_SIZE}² matrices (best
     * of five rounds): the practical compute peak of this machine at the configured thread count.
     */
    static double matmulPeakGflops(NDManager manager) {
        double flops = 2.0 * MATMUL_SIZE * MATMUL_SIZE * MATMUL_SIZE;
        double best = 0;
        try (NDManager m = manager.newSubManager()) {
            NDArray a = m.randomNormal(new Shape(MATMUL_SIZE, MATMUL_SIZE));
            NDArray b = m.randomNormal(new Shape(MATMUL_SIZE, MATMUL_SIZE));
            a.matMul(b).close();
            for (int round = 0; round < 5; round++) {
                long t0 = System.nanoTime();
                a.matMul(b).close();
                best = Math.max(best, flops / ((System.nanoTime() - t0) / 1e9) / 1e9);
            }
        }
        return best;
    }

    /** Each of {@code steps} timed training steps, after {@code warmup} untimed ones, and their CPU time. */
    private record TrainBlock(List<Step> steps, CpuTimes cpu) {
        double seconds() {
            return steps.stream().mapToDouble(Step::ms).sum() / 1e3;
        }
    }

    private static TrainBlock trainBlock(Network net, AdamW optimizer, NDArray x, NDArray y, int warmup, int steps) {
        for (int i = 0; i < warmup; i++) {
            trainStep(net, optimizer, x, y);
        }
        CpuTimes cpu = new CpuTimes(0, 0);
        List<Step> timed = new ArrayList<>(steps);
        for (int i = 0; i < steps; i++) {
            CpuTimes before = CpuTimes.now();
            long start = System.currentTimeMillis();
            long t0 = System.nanoTime();
            trainStep(net, optimizer, x, y);
            timed.add(new Step(start, (System.nanoTime() - t0) / 1e6));
            cpu = cpu.plus(CpuTimes.now().minus(before));
        }
        return new TrainBlock(timed, cpu);
    }

    /** Seconds of {@code steps} inference steps, after {@code warmup} untimed ones. */
    private static double inferBlock(Network net, InferenceNetwork inference, NDArray x, int warmup, int steps) {
        for (int i = 0; i < warmup; i++) {
            inferStep(net, inference, x);
        }
        double seconds = 0;
        for (int i = 0; i < steps; i++) {
            long t0 = System.nanoTime();
            inferStep(net, inference, x);
            seconds += (System.nanoTime() - t0) / 1e9;
        }
        return seconds;
    }

    private static void trainStep(Network net, AdamW optimizer, NDArray x, NDArray y) {
        try (NativeWork section = NativeWork.enter(); NDManager step = x.getManager().newSubManager();
             GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            x.tempAttach(step);
            NDArray loss = Losses.cosineDistance(net.forward(x, true), y);
            gc.backward(loss);
            optimizer.step();
        }
    }

    private static float[] features(InferenceNetwork inference, NDArray x) {
        try (NativeWork section = NativeWork.enter(); NDManager step = x.getManager().newSubManager()) {
            x.tempAttach(step);
            return inference.forward(x).toFloatArray();
        }
    }

    /** ‖a − b‖ / ‖a‖ over all the values. */
    static double relativeError(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (double) (a[i] - b[i]);
            den += a[i] * (double) a[i];
        }
        return Math.sqrt(num / den);
    }

    private static void inferStep(Network net, InferenceNetwork inference, NDArray x) {
        try (NativeWork section = NativeWork.enter(); NDManager step = x.getManager().newSubManager()) {
            x.tempAttach(step);
            if (inference != null) {
                inference.forward(x).toFloatArray();
            } else {
                try (NoGrad ignored = NoGrad.enter()) {
                    net.forward(x, false).toFloatArray();
                }
            }
        }
    }
}
