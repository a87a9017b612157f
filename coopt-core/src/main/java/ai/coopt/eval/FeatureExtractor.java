package ai.coopt.eval;

import ai.coopt.data.ImageSet;
import ai.coopt.data.Normalization;
import ai.coopt.nn.Network;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.nio.FloatBuffer;
import java.util.function.IntConsumer;

/**
 * Runs a frozen network over an image set in inference mode (batch norm uses its running
 * statistics, no gradients) and collects the outputs. Each batch's arrays are freed when the batch ends.
 */
public final class FeatureExtractor {
    private final Network network;
    private final Normalization normalization;
    private final int batchSize;

    public FeatureExtractor(Network network, Normalization normalization, int batchSize) {
        this.network = network;
        this.normalization = normalization;
        this.batchSize = batchSize;
    }

    /**
     * Features of every image in {@code set}, in order.
     *
     * @param progress told the number of images done after each batch (may be null)
     */
    public Features extract(ImageSet set, IntConsumer progress) {
        int n = set.count();
        int dim = network.featureDim();
        float[] out = new float[n * dim];
        float[] input = new float[batchSize * set.imageSize()];
        for (int start = 0; start < n; start += batchSize) {
            int b = Math.min(batchSize, n - start);
            int[] idx = new int[b];
            for (int i = 0; i < b; i++) {
                idx[i] = start + i;
            }
            normalization.toFloats(set, idx, input);
            try (NDManager step = network.manager().newSubManager()) {
                NDArray x = step.create(FloatBuffer.wrap(input, 0, b * set.imageSize()),
                        new Shape(b, set.channels(), set.height(), set.width()));
                float[] f = network.forward(x, false).toFloatArray();
                System.arraycopy(f, 0, out, start * dim, b * dim);
            }
            if (progress != null) {
                progress.accept(start + b);
            }
        }
        return new Features(out, n, dim, set.labels());
    }
}
