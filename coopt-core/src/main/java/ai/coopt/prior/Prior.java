package ai.coopt.prior;

import ai.coopt.engine.Precision;
/**
 * A task- and architecture-agnostic model that maps images to representation vectors: the ψ of
 * the ReLA and CoOpt papers. Implementations own native resources; close them.
 *
 * <p>Not thread-safe: one thread calls {@link #embed}; input preparation may happen elsewhere.
 */
public interface Prior extends AutoCloseable {
    /** The spec it was opened from, e.g. {@code random:convnet-s:0} or {@code onnx:/abs/clip.onnx}. */
    String spec();

    /** {@code random}, {@code model}, {@code torchscript} or {@code onnx}. */
    String kind();

    /** The images it takes and how they must be normalised. */
    InputSpec input();

    /** The width of each output vector. */
    int outputDim();

    /** SHA-256 of the weights (the model file, or the serialised weights of a generated network). */
    String weightsSha256();

    /** What the prior computes in: float32 unless it was opened for bfloat16 and its runtime allows it. */
    default Precision precision() {
        return Precision.FP32;
    }

    /**
     * Embeds {@code batch} images given as normalised floats in N×C×H×W order matching
     * {@link #input()}; returns {@code batch × outputDim()} floats, row-major.
     *
     * @throws ai.coopt.UserException when the model fails or its output is not a 2-D
     *     {@code [batch, dim]} float tensor
     */
    float[] embed(float[] images, int batch);

    /**
     * An estimate of the engine memory one image takes in {@link #embed}, so that batches can be sized to the
     * {@link ai.coopt.engine.MemoryBudget}. A foreign model's layers are not known, so by default it is taken to hold
     * {@value #FOREIGN_ACTIVATIONS_PER_INPUT} floats per input value, about what a ResNet-50 holds at 224x224.
     */
    default long activationBytesPerImage() {
        InputSpec in = input();
        return 4L * FOREIGN_ACTIVATIONS_PER_INPUT * in.channels() * in.height() * in.width();
    }

    /** See {@link #activationBytesPerImage()}. */
    int FOREIGN_ACTIVATIONS_PER_INPUT = 256;

    @Override
    void close();
}
