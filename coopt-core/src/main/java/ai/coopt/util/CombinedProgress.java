package ai.coopt.util;

/**
 * One progress bar for several workers running at once: each worker reports to its own
 * {@link #part()} as if it were alone (tasks started, advanced, finished one after another), and
 * the outer listener sees the sum of all parts against the announced total.
 */
public final class CombinedProgress {
    private final ProgressListener outer;
    private long done;

    /** Starts the outer task now. */
    public CombinedProgress(ProgressListener outer, String task, long total, String unit) {
        this.outer = outer;
        outer.start(task, total, unit);
    }

    /** A listener for one worker; its tasks' units add up into the outer bar. */
    public ProgressListener part() {
        return new ProgressListener() {
            private long current;

            @Override
            public void start(String task, long total, String unit) {
                current = 0;
            }

            @Override
            public void advance(long units) {
                add(units - current);
                current = units;
            }

            @Override
            public void finish() {
                current = 0;
            }
        };
    }

    private synchronized void add(long units) {
        done += units;
        outer.advance(done);
    }

    /** Ends the outer task. */
    public synchronized void finish() {
        outer.finish();
    }
}
