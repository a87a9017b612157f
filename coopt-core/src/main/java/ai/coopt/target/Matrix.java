package ai.coopt.target;

/**
 * A dense matrix of floats stored row-major: row {@code i} occupies
 * {@code values[i * cols .. (i + 1) * cols)}. The array is shared, not copied, so operations that
 * work "in place" change what the caller sees; equality is that of the array reference.
 *
 * @param values the elements, exactly {@code rows * cols} of them
 * @param rows number of rows (samples)
 * @param cols number of columns (dimensions)
 */
public record Matrix(float[] values, int rows, int cols) {
    /** Checks that the array holds exactly {@code rows × cols} elements. */
    public Matrix {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative matrix shape " + rows + " × " + cols);
        }
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException(
                    "a " + rows + " × " + cols + " matrix needs " + (long) rows * cols + " values, not " + values.length);
        }
    }
}
