package ai.coopt.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** Loading saved values into arrays the engine already holds (parameters, optimiser state). */
public final class ArrayValues {
    private ArrayValues() {}

    /**
     * Replaces the values of the float32 array {@code target} with {@code values} (same element count), keeping
     * the array object, its shape, device and whether it records gradients. A 4-D array gets channels-last strides,
     * the layout of this project's convolution weights ({@link Layouts}).
     *
     * <p>Not {@code NDArray.set(Buffer)}: DJL's PyTorch binding implements it under libtorch's deprecated
     * {@code AutoNonVariableTypeMode}, which prints a warning on stderr once per process. The values go into a new
     * tensor that owns its memory, whose storage {@code target} then takes over. That tensor must not be the one
     * {@code create} returns, which is a view of a Java buffer freed with it, nor {@code toType(FLOAT32, true)}, which
     * returns the same view; a multiplication by one makes a new tensor with the exact same bits (-0.0 included),
     * and so does the copy into channels-last order.
     */
    public static void assign(NDArray target, float[] values) {
        if (target.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("array is " + target.getDataType() + ", not float32");
        }
        if (values.length != target.size()) {
            throw new IllegalArgumentException(values.length + " values for an array of " + target.size());
        }
        boolean gradient = target.hasGradient();
        try (NDArray view = target.getManager().create(values, target.getShape())) {
            NDArray owned = target.getShape().dimension() == 4 ? Layouts.channelsLast(view) : view.mul(1f);
            target.intern(owned);
        }
        target.setRequiresGradient(gradient);
    }
}
