package ai.coopt.store;

/** Takes rows of floats in order: a file being written ({@link RowFile.Writer}) or an array being filled. */
@FunctionalInterface
public interface RowSink {
    /** Appends {@code n} rows from {@code values}, starting at index {@code offset}. */
    void write(float[] values, int offset, int n);
}
