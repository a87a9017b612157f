import ai.coopt.engine.BFloat16;
import ai.coopt.engine.Engines;
import ai.coopt.engine.Layouts;
import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;

import java.util.Arrays;

/**
 * One pointwise (1×1) layer's training pass (forward, input and weight gradients) computed two ways, alternated so a
 * drift of the machine slows both: as the engine's convolution (oneDNN) and as a matrix product on the rows of the
 * channels-last input's N×H×W×C view, as {@code Layers.Conv2d} computes it. Prints each shape's median times. The
 * shapes are mobilenetv2's, resnet50's and resnet-s's at 32×32 input, batch 128: the evidence for the limits in
 * {@code Layers.Conv2d}.
 *
 * <p>Usage (after {@code mvn -q install -DskipTests}; one engine thread):
 * <pre>
 * taskset -c 0 java -Dai.djl.offline=true -cp "coopt-cli/target/lib/*:coopt-cli/target/coopt.jar" \
 *     scripts/PointwiseBench.java \
 *     [--reps 15] [--precision fp32|bf16]
 * </pre>
 */
public class PointwiseBench {
    /** Input channels, output channels, input height (= width), stride: mobilenetv2's layers at 32×32 input. */
    private static final int[][] MOBILENETV2 = {{160, 960, 4, 1}, {960, 160, 4, 1}, {320, 1280, 4, 1},
        {960, 320, 4, 1}, {576, 160, 4, 1}};
    /** resnet50's (stride 1 on 4×4 and 2×2 maps, then its strided shortcuts), and resnet-s's strided shortcut. */
    private static final int[][] RESNETS = {{128, 512, 4, 1}, {512, 128, 4, 1}, {512, 256, 4, 1},
        {1024, 256, 2, 1}, {256, 1024, 2, 1}, {1024, 512, 2, 1}, {256, 512, 8, 2}, {512, 1024, 4, 2},
        {1024, 2048, 2, 2}, {96, 192, 8, 2}, {48, 96, 16, 2}};
    private static final int BATCH = 128;
    private static final int WARMUP = 3;

    public static void main(String[] args) {
        int reps = 15;
        boolean bf16 = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--precision" -> bf16 = args[++i].equals("bf16");
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Engines.configure(1);
        Engines.get();
        System.out.println("precision " + (bf16 ? "bf16" : "fp32") + ", batch " + BATCH + ", medians of " + reps);
        for (int[] s : concat(MOBILENETV2, RESNETS)) {
            double[][] ms = timeBothWays(s[0], s[1], s[2], s[3], bf16, reps);
            int oh = (s[2] - 1) / s[3] + 1;
            double conv = ms[0][reps / 2];
            double product = ms[1][reps / 2];
            System.out.printf("c %4d o %4d %dx%d stride %d, %5d pixels: convolution %7.2f ms, product %7.2f ms,"
                    + " product/convolution %.2f%n", s[0], s[1], s[2], s[2], s[3], BATCH * oh * oh, conv, product,
                    product / conv);
        }
    }

    /** The sorted times of each way (0: convolution, 1: product), alternated, after a warm-up. */
    private static double[][] timeBothWays(int c, int o, int h, int stride, boolean bf16, int reps) {
        int oh = (h - 1) / stride + 1;
        double[][] ms = new double[2][reps];
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = Layouts.channelsLast(m.randomNormal(new Shape(BATCH, c, h, h)));
            x.setRequiresGradient(true);
            NDArray w = Layouts.channelsLast(m.randomNormal(new Shape(o, c, 1, 1)).mul(0.05f));
            w.setRequiresGradient(true);
            NDArray upstream = Layouts.channelsLast(m.randomNormal(new Shape(BATCH, o, oh, oh)));
            for (int r = 0; r < WARMUP + reps; r++) {
                for (int way = 0; way < 2; way++) {
                    long t0 = System.nanoTime();
                    try (NDManager step = m.newSubManager();
                         GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        x.tempAttach(step);
                        w.tempAttach(step);
                        upstream.tempAttach(step);
                        NDArray xs = bf16 ? BFloat16.of(x) : x;
                        NDArray ws = bf16 ? BFloat16.of(w) : w;
                        NDArray y = way == 0 ? convolution(xs, ws, stride) : product(xs, ws, h, stride);
                        NDArray out = bf16 ? BFloat16.toFloat32(y) : y;
                        gc.backward(out.mul(upstream).sum());
                        x.getGradient().toFloatArray(); // the backward pass has finished
                    }
                    if (r >= WARMUP) {
                        ms[way][r - WARMUP] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
        }
        Arrays.sort(ms[0]);
        Arrays.sort(ms[1]);
        return ms;
    }

    private static int[][] concat(int[][] a, int[][] b) {
        int[][] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static NDArray convolution(NDArray x, NDArray w, int stride) {
        return Conv2d.conv2d(x, w, null, new Shape(stride, stride), new Shape(0, 0), new Shape(1, 1), 1)
                .singletonOrThrow();
    }

    private static NDArray product(NDArray x, NDArray w, int h, int stride) {
        long[] ws = w.getShape().getShape();
        NDArray rows = x.transpose(0, 2, 3, 1);
        if (stride > 1) {
            rows = rows.get(new NDIndex().addAllDim().addSliceDim(0, h, stride).addSliceDim(0, h, stride).addAllDim());
        }
        NDArray w2 = w.transpose(0, 2, 3, 1).reshape(ws[0], ws[1]);
        return Linear.linear(rows, w2).singletonOrThrow().transpose(0, 3, 1, 2);
    }
}
