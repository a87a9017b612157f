package ai.coopt.eval;

/**
 * A matrix of feature vectors, row-major {@code count × dim}, with the labels of the images they came from.
 *
 * @param labels one per row, or {@code null} for unlabeled data
 */
public record Features(float[] values, int count, int dim, int[] labels) {
    public Features {
        if ((long) count * dim != values.length) {
            throw new IllegalArgumentException(values.length + " values for " + count + "x" + dim);
        }
    }
}
