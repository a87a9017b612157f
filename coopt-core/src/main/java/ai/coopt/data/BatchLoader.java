package ai.coopt.data;

import ai.coopt.UserException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * One epoch of batches, in order, computed ahead by a fixed pool of daemon worker threads.
 * At most {@code 2 × workers} batches are in flight or waiting, so a slow consumer does not
 * make memory grow. The content of every batch is deterministic: it depends on the seed, the
 * epoch and the order, never on the number of workers or their timing.
 *
 * <p>Single pass and single consumer: {@link #iterator()} returns this loader. Close it when
 * stopping early; it also releases its threads by itself after the last batch. A failure in a
 * worker is rethrown by {@link #next()}.
 */
public final class BatchLoader implements Iterator<ViewBatch>, Iterable<ViewBatch>, AutoCloseable {
    /** Every worker thread's name starts with this. */
    public static final String THREAD_PREFIX = "coopt-batch-";
    private static final AtomicInteger LOADERS = new AtomicInteger();
    private static final long JOIN_MILLIS = 5_000;

    /** Computes batch b; may be interrupted. */
    @FunctionalInterface
    public interface BatchSource {
        ViewBatch batch(int b) throws Exception;
    }

    private final BatchSource source;
    private final int batches;
    private final int prefetch;
    private final ExecutorService pool;
    private final List<Thread> threads = new ArrayList<>();
    private final ArrayDeque<Future<ViewBatch>> pending = new ArrayDeque<>();
    private int submitted;
    private int delivered;
    private boolean closed;

    BatchLoader(BatchSource source, int batches, int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("need at least one worker thread, got " + workers);
        }
        this.source = source;
        this.batches = batches;
        this.prefetch = 2 * workers;
        String prefix = THREAD_PREFIX + LOADERS.incrementAndGet() + "-";
        AtomicInteger count = new AtomicInteger();
        ThreadFactory factory = task -> {
            Thread t = new Thread(task, prefix + count.incrementAndGet());
            t.setDaemon(true);
            synchronized (threads) {
                threads.add(t);
            }
            return t;
        };
        this.pool = Executors.newFixedThreadPool(workers, factory);
        if (batches == 0) {
            close();
        } else {
            fill();
        }
    }

    /**
     * A loader of {@code batches} batches that {@code source} computes on {@code workers} threads,
     * for inputs other than augmented views (e.g. images adapted to a prior's input size).
     */
    public static BatchLoader of(int batches, int workers, BatchSource source) {
        return new BatchLoader(source, batches, workers);
    }

    /** A builder for a loader over {@code set}, normalised with {@code normalization}. */
    public static Builder builder(ImageSet set, Normalization normalization) {
        return new Builder(set, normalization);
    }

    /** The number of batches this epoch yields in total. */
    public int batches() {
        return batches;
    }

    @Override
    public Iterator<ViewBatch> iterator() {
        return this;
    }

    @Override
    public boolean hasNext() {
        return !closed && delivered < batches;
    }

    /**
     * The next batch, waiting for the workers if needed.
     *
     * @throws NoSuchElementException after the last batch or after {@link #close()}
     */
    @Override
    public ViewBatch next() {
        if (!hasNext()) {
            throw new NoSuchElementException(closed ? "batch loader is closed" : "no more batches in this epoch");
        }
        Future<ViewBatch> head = pending.poll();
        ViewBatch batch;
        try {
            batch = head.get();
        } catch (ExecutionException e) {
            close();
            throw rethrown(e.getCause());
        } catch (InterruptedException e) {
            close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for batch " + delivered, e);
        }
        delivered++;
        if (delivered == batches) {
            close();
        } else {
            fill();
        }
        return batch;
    }

    /** Stops the workers, drops the batches computed ahead and waits for the threads to end. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Future<ViewBatch> f : pending) {
            f.cancel(true);
        }
        pending.clear();
        pool.shutdownNow();
        List<Thread> started;
        synchronized (threads) {
            started = new ArrayList<>(threads);
        }
        long deadline = System.currentTimeMillis() + JOIN_MILLIS;
        try {
            for (Thread t : started) {
                t.join(Math.max(1, deadline - System.currentTimeMillis()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void fill() {
        while (submitted < batches && pending.size() < prefetch) {
            int b = submitted++;
            pending.add(pool.submit(() -> source.batch(b)));
        }
    }

    private static RuntimeException rethrown(Throwable cause) {
        if (cause instanceof RuntimeException r) {
            return r;
        }
        if (cause instanceof Error e) {
            throw e;
        }
        if (cause instanceof InterruptedException) {
            return new CancellationException("batch computation was interrupted");
        }
        return new IllegalStateException("batch worker failed: " + cause, cause);
    }

    /**
     * A permutation of 0..n-1 that depends only on (seed, epoch): the sample order of one epoch.
     */
    public static int[] shuffledOrder(int n, long seed, int epoch) {
        return Randomness.permutationPrefix(n, n, new SplittableRandom(Randomness.mix(seed, Randomness.SHUFFLE, epoch, n)));
    }

    /**
     * A fresh random subset of round(n × ratio) (at least one) of the indices 0..n-1, in random
     * order, depending only on (seed, epoch): ReLA's "data ratio".
     *
     * @throws UserException when ratio is not in (0, 1]
     */
    public static int[] randomSubset(int n, double ratio, long seed, int epoch) {
        if (!(ratio > 0 && ratio <= 1)) {
            throw new UserException("data ratio must be in (0, 1], got " + ratio);
        }
        int m = n == 0 ? 0 : Math.max(1, (int) Math.round(n * ratio));
        return Randomness.permutationPrefix(n, m, new SplittableRandom(Randomness.mix(seed, Randomness.SUBSET, epoch, n)));
    }

    /** Configures a {@link BatchLoader}; every setting but the set and normalisation has a default. */
    public static final class Builder {
        private final ImageSet set;
        private final Normalization normalization;
        private int[] order;
        private int batchSize = 128;
        private boolean dropLast;
        private Augmentation augmentation;
        private int views = 1;
        private MultiCrop multiCrop = MultiCrop.NONE;
        private long seed;
        private int epoch;
        private int workers = 1;

        private Builder(ImageSet set, Normalization normalization) {
            normalization.checkChannels(set);
            this.set = set;
            this.normalization = normalization;
        }

        /** The epoch's sample order (indices into the set, e.g. a permutation or subset); default 0..n-1. */
        public Builder order(int[] order) {
            this.order = order.clone();
            return this;
        }

        /** Images per batch; default 128. */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Whether to drop a last batch smaller than the batch size; default false. */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** The augmentation of every view, or {@code null} (the default) for plain normalised images. */
        public Builder augmentation(Augmentation augmentation) {
            this.augmentation = augmentation;
            return this;
        }

        /** Views per image, 1 or 2; default 1. */
        public Builder views(int views) {
            this.views = views;
            return this;
        }

        /** Small views besides the full-size ones (needs an augmentation); default none. */
        public Builder multiCrop(MultiCrop multiCrop) {
            this.multiCrop = multiCrop;
            return this;
        }

        /** The run's seed; default 0. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** The epoch number, mixed into the augmentation seed; default 0. */
        public Builder epoch(int epoch) {
            this.epoch = epoch;
            return this;
        }

        /** Worker threads; default 1. */
        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        /** Starts the workers on the first batches. */
        public BatchLoader build() {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
            }
            if (views != 1 && views != 2) {
                throw new IllegalArgumentException("views must be 1 or 2, got " + views);
            }
            if (multiCrop.any() && augmentation == null) {
                throw new IllegalArgumentException("multi-crop needs an augmentation");
            }
            int[] o = order != null ? order : IntStream.range(0, set.count()).toArray();
            for (int index : o) {
                if (index < 0 || index >= set.count()) {
                    throw new IllegalArgumentException("order holds index " + index + ", the set has "
                            + set.count() + " images");
                }
            }
            BatchAssembler assembler = new BatchAssembler(set, o, batchSize, dropLast, normalization,
                    augmentation, views, multiCrop, seed, epoch);
            return new BatchLoader(assembler::assemble, assembler.batches(), workers);
        }
    }
}
