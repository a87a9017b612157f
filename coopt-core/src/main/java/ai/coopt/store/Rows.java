package ai.coopt.store;

/**
 * A matrix of {@code count × dim} floats read by rows, row-major: in memory ({@code target.Matrix}) or on disk
 * ({@link RowFile}), so that code over prior outputs and targets runs the same whether they fit in the heap or
 * not. Reads are thread-safe.
 */
public interface Rows {
    /** Floats in one block of {@link #forEachBlock}: 16 MiB. */
    int BLOCK_ELEMENTS = 1 << 22;

    /** The number of rows. */
    int count();

    /** The width of a row. */
    int dim();

    /** Copies rows {@code first .. first + n} into {@code dst} from {@code offset}, row after row. */
    void read(int first, int n, float[] dst, int offset);

    /** Copies the rows {@code rows[0], rows[1], …} into {@code dst}, row after row. */
    default void gather(int[] rows, float[] dst) {
        int d = dim();
        for (int i = 0; i < rows.length; i++) {
            read(rows[i], 1, dst, i * d);
        }
    }

    /** Receives consecutive blocks of rows. */
    @FunctionalInterface
    interface Block {
        /** {@code values} holds rows {@code first .. first + n} from index 0 (it may be longer). */
        void accept(int first, int n, float[] values);
    }

    /** Works on rows just read: rows {@code first .. first + n}, found in {@code dst} from {@code offset}. */
    @FunctionalInterface
    interface OnRead {
        void apply(int first, int n, float[] dst, int offset);
    }

    /**
     * These rows as they are read, handed to {@code onRead} first, which may change them in place (standardise) or
     * only look (check, count): a view, nothing is copied.
     */
    default Rows onRead(OnRead onRead) {
        Rows source = this;
        return new Rows() {
            @Override
            public int count() {
                return source.count();
            }

            @Override
            public int dim() {
                return source.dim();
            }

            @Override
            public void read(int first, int n, float[] dst, int offset) {
                source.read(first, n, dst, offset);
                onRead.apply(first, n, dst, offset);
            }
        };
    }

    /** Rows per block for rows of width {@code dim}: {@value #BLOCK_ELEMENTS} floats, at least one row. */
    static int blockRows(int dim) {
        return Math.max(1, BLOCK_ELEMENTS / Math.max(1, dim));
    }

    /**
     * Visits every row in order, in blocks of {@code blockRows} rows (the last one shorter), reusing one buffer:
     * a pass over the data that holds one block in memory whatever the count.
     */
    default void forEachBlock(int blockRows, Block visitor) {
        int n = count();
        float[] buffer = new float[Math.multiplyExact(Math.min(blockRows, Math.max(n, 1)), dim())];
        for (int first = 0; first < n; first += blockRows) {
            int rows = Math.min(blockRows, n - first);
            read(first, rows, buffer, 0);
            visitor.accept(first, rows, buffer);
        }
    }

    /** Writes every row into {@code sink}, block by block. */
    default void copyTo(RowSink sink) {
        forEachBlock(blockRows(dim()), (first, n, values) -> sink.write(values, 0, n));
    }

    /**
     * All rows in one new array, for data known to be small (tests, a sample).
     *
     * @throws IllegalStateException when they do not fit in one Java array
     */
    default float[] toArray() {
        long size = (long) count() * dim();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(count() + " × " + dim() + " floats do not fit in one array");
        }
        float[] out = new float[(int) size];
        read(0, count(), out, 0);
        return out;
    }

    /** Checks that rows {@code first .. first + n} exist. */
    default void checkRange(int first, int n) {
        if (first < 0 || n < 0 || first > count() - n) {
            throw new IndexOutOfBoundsException("rows " + first + " .. " + ((long) first + n) + " of " + count());
        }
    }
}
