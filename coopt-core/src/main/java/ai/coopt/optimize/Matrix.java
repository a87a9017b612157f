package ai.coopt.optimize;

import ai.coopt.store.RowSink;
import ai.coopt.store.Rows;

/**
 * A dense matrix of floats stored row-major: row {@code i} occupies
 * {@code values[i * cols .. (i + 1) * cols)}. The array is shared, not copied, so operations that
 * work "in place" change what the caller sees; equality is that of the array reference.
 *
 * @param values the elements, exactly {@code rows * cols} of them
 * @param rows number of rows (samples)
 * @param cols number of columns (dimensions)
 */
public record Matrix(float[] values, int rows, int cols) implements Rows {
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

    @Override
    public int count() {
        return rows;
    }

    @Override
    public int dim() {
        return cols;
    }

    @Override
    public void read(int first, int n, float[] dst, int offset) {
        checkRange(first, n);
        System.arraycopy(values, first * cols, dst, offset, n * cols);
    }

    /** An empty {@code rows × cols} matrix and a sink that fills it in order, for outputs known to be small. */
    public static Filler filler(int rows, int cols) {
        return new Filler(new Matrix(new float[Math.multiplyExact(rows, cols)], rows, cols));
    }

    /** Fills a matrix row after row. */
    public static final class Filler implements RowSink {
        private final Matrix matrix;
        private int filled;

        private Filler(Matrix matrix) {
            this.matrix = matrix;
        }

        @Override
        public void write(float[] values, int offset, int n) {
            if (n > matrix.rows - filled) {
                throw new IllegalStateException(n + " more rows for a matrix with " + (matrix.rows - filled) + " left");
            }
            System.arraycopy(values, offset, matrix.values, filled * matrix.cols, n * matrix.cols);
            filled += n;
        }

        /** The matrix, which must be full. */
        public Matrix matrix() {
            if (filled != matrix.rows) {
                throw new IllegalStateException("matrix filled to " + filled + " of " + matrix.rows + " rows");
            }
            return matrix;
        }
    }
}
