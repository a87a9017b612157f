import ai.coopt.engine.BFloat16;
import ai.coopt.engine.Engines;
import ai.coopt.engine.Layouts;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.training.GradientCollector;

import java.util.Arrays;

/**
 * Batch norm's bf16 training pass (float32 γ, β and running statistics, as a bf16 student computes it) at batch 128
 * and 32×32 maps, for each width in turn, on channels-last and on NCHW input, alternated so a drift of the machine
 * slows both. Prints the median forward time and the median backward time (which includes the backward pass of the
 * cast to float32 and of the product with a fixed upstream gradient that make the scalar it starts from; {@code
 * scripts/bench_batchnorm.py} times the same operations in PyTorch), in ms and in ns per element. The evidence for
 * BENCHMARKS.md's "batch norm at widths 24 and 40".
 *
 * <p>Usage (after {@code mvn -q install -DskipTests}; one engine thread):
 * <pre>
 * taskset -c 0 java -Dai.djl.offline=true -cp "coopt-cli/target/lib/*:coopt-cli/target/coopt.jar" \
 *     scripts/BatchNormBench.java [--reps 21] [--size 32] [--widths 16,24,32,40,48,64]
 * </pre>
 */
public class BatchNormBench {
    private static final int BATCH = 128;
    private static final int WARMUP = 3;

    public static void main(String[] args) {
        int reps = 21;
        int size = 32;
        int[] widths = {16, 24, 32, 40, 48, 64};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--size" -> size = Integer.parseInt(args[++i]);
                case "--widths" -> widths = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Engines.configure(1);
        Engines.get();
        System.out.println("libtorch (DJL), bf16 input, batch " + BATCH + ", " + size + "x" + size + ", medians of "
                + reps);
        for (int c : widths) {
            double[][] ms = timeBothLayouts(c, size, reps);
            double elements = (double) BATCH * c * size * size;
            for (int layout = 0; layout < 2; layout++) {
                double f = ms[2 * layout][reps / 2];
                double b = ms[2 * layout + 1][reps / 2];
                System.out.printf("width %4d %-13s forward %7.3f ms %5.2f ns/el, backward %7.3f ms %5.2f ns/el%n", c,
                        layout == 0 ? "channels-last" : "NCHW", f, f * 1e6 / elements, b, b * 1e6 / elements);
            }
        }
    }

    /** Sorted times: [0] channels-last forward, [1] its backward, [2] NCHW forward, [3] its backward. */
    private static double[][] timeBothLayouts(int c, int size, int reps) {
        double[][] ms = new double[4][reps];
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray input = m.randomNormal(new Shape(BATCH, c, size, size));
            NDArray upstreamNchw = m.randomNormal(new Shape(BATCH, c, size, size));
            // in each input's own layout: a product across two memory orders runs without vectors
            NDArray upstreamChannelsLast = Layouts.channelsLast(upstreamNchw);
            for (int r = 0; r < WARMUP + reps; r++) {
                for (int layout = 0; layout < 2; layout++) {
                    try (NDManager step = m.newSubManager()) {
                        input.tempAttach(step);
                        NDArray upstream = layout == 0 ? upstreamChannelsLast : upstreamNchw;
                        NDArray x = layout == 0 ? BFloat16.ofImages(input) : BFloat16.of(input);
                        x.setRequiresGradient(true);
                        NDArray gamma = step.ones(new Shape(c));
                        NDArray beta = step.zeros(new Shape(c));
                        gamma.setRequiresGradient(true);
                        beta.setRequiresGradient(true);
                        NDArray runningMean = step.zeros(new Shape(c));
                        NDArray runningVar = step.ones(new Shape(c));
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            long t0 = System.nanoTime();
                            NDArray y = BatchNorm.batchNorm(x, runningMean, runningVar, gamma, beta, 1, 0.1f, 1e-5f,
                                    true).singletonOrThrow();
                            long t1 = System.nanoTime();
                            NDArray loss = BFloat16.toFloat32(y).mul(upstream).sum();
                            long t2 = System.nanoTime();
                            gc.backward(loss);
                            long t3 = System.nanoTime();
                            if (r >= WARMUP) {
                                ms[2 * layout][r - WARMUP] = (t1 - t0) / 1e6;
                                ms[2 * layout + 1][r - WARMUP] = (t3 - t2) / 1e6;
                            }
                        }
                    }
                }
            }
        }
        for (double[] a : ms) {
            Arrays.sort(a);
        }
        return ms;
    }
}
