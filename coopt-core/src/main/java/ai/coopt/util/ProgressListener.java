package ai.coopt.util;

/**
 * Hears about long work so a front end can draw progress; the library itself never prints.
 * A task starts with {@link #start}, reports with {@link #advance}, and ends with {@link #finish}.
 */
public interface ProgressListener {
    void start(String task, long total, String unit);

    /** The number of units done so far in the current task. */
    void advance(long done);

    void finish();

    /** A listener that ignores everything. */
    ProgressListener NONE = new ProgressListener() {
        @Override
        public void start(String task, long total, String unit) {}

        @Override
        public void advance(long done) {}

        @Override
        public void finish() {}
    };
}
