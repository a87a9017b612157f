package ai.coopt.data;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchLoaderTest {
    private static final ImageSet SET = SyntheticImages.random(23, 3, 4, 4, 3);
    private static final Normalization NORM = Normalization.forImages(SET);

    private static List<String> liveWorkers() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(BatchLoader.THREAD_PREFIX))
                .map(Thread::getName).toList();
    }

    private static ViewBatch emptyBatch() {
        return new ViewBatch(new int[0], new float[0], null, null, 1, 1, 1);
    }

    @Test
    void coversEveryIndexOfTheOrderOnceWithAPartialLastBatch() {
        int[] order = BatchLoader.shuffledOrder(SET.count(), 9, 0);
        List<ViewBatch> batches = new ArrayList<>();
        try (BatchLoader loader = BatchLoader.builder(SET, NORM).order(order).batchSize(5).workers(3).build()) {
            assertEquals(5, loader.batches());
            loader.forEach(batches::add);
            assertThrows(NoSuchElementException.class, loader::next);
        }
        int[] seen = batches.stream().flatMapToInt(b -> IntStream.of(b.indices())).toArray();
        assertArrayEquals(order, seen);
        assertEquals(3, batches.get(4).size());
        for (ViewBatch b : batches) {
            assertArrayEquals(NORM.batch(SET, b.indices()), b.view1());
            assertNull(b.view2());
            for (int i = 0; i < b.size(); i++) {
                assertEquals(SET.labels()[b.indices()[i]], b.labels()[i]);
            }
        }
        assertTrue(liveWorkers().isEmpty(), "threads end after the last batch: " + liveWorkers());
    }

    @Test
    void dropLastDropsThePartialBatch() {
        try (BatchLoader loader = BatchLoader.builder(SET, NORM).batchSize(5).dropLast(true).build()) {
            int count = 0;
            for (ViewBatch b : loader) {
                assertEquals(5, b.size());
                count++;
            }
            assertEquals(4, count);
        }
        try (BatchLoader tooFew = BatchLoader.builder(SET, NORM).batchSize(30).dropLast(true).build()) {
            assertEquals(0, tooFew.batches());
            assertFalse(tooFew.hasNext());
        }
    }

    @Test
    void twoPlainViewsAreEqualCopies() {
        try (BatchLoader loader = BatchLoader.builder(SET, NORM).batchSize(8).views(2).build()) {
            ViewBatch b = loader.next();
            assertArrayEquals(b.view1(), b.view2());
            assertFalse(b.view1() == b.view2());
            assertTrue(b.hasTwoViews());
        }
    }

    @Test
    void earlyCloseStopsAllWorkers() {
        BatchLoader loader = BatchLoader.builder(SyntheticImages.random(400, 3, 16, 16, 1), NORM).batchSize(2)
                .augmentation(Augmentation.defaults()).views(2).workers(3).build();
        loader.next();
        loader.close();
        assertTrue(liveWorkers().isEmpty(), "live after close: " + liveWorkers());
        assertFalse(loader.hasNext());
        assertThrows(NoSuchElementException.class, loader::next);
        loader.close();
    }

    @Test
    void closeInterruptsWorkersStuckInSlowBatches() {
        BatchLoader loader = new BatchLoader(b -> {
            Thread.sleep(60_000);
            return emptyBatch();
        }, 10, 2);
        loader.close();
        assertTrue(liveWorkers().isEmpty(), "live after close: " + liveWorkers());
    }

    @Test
    void workerExceptionReachesTheConsumer() {
        IllegalStateException boom = new IllegalStateException("boom");
        BatchLoader loader = new BatchLoader(b -> {
            if (b == 2) {
                throw boom;
            }
            return emptyBatch();
        }, 5, 2);
        loader.next();
        loader.next();
        assertSame(boom, assertThrows(IllegalStateException.class, loader::next));
        assertFalse(loader.hasNext());
        assertTrue(liveWorkers().isEmpty(), "live after failure: " + liveWorkers());
    }

    @Test
    void checkedWorkerExceptionIsWrapped() {
        try (BatchLoader loader = new BatchLoader(b -> {
            throw new java.io.IOException("disk");
        }, 1, 1)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, loader::next);
            assertTrue(e.getCause() instanceof java.io.IOException);
        }
    }

    @Test
    void prefetchIsBounded() throws InterruptedException {
        AtomicInteger started = new AtomicInteger();
        try (BatchLoader loader = new BatchLoader(b -> {
            started.incrementAndGet();
            return emptyBatch();
        }, 100, 2)) {
            Thread.sleep(200);
            assertTrue(started.get() <= 4, started.get() + " batches computed ahead");
            loader.next();
            Thread.sleep(100);
            assertTrue(started.get() <= 5, started.get() + " batches computed after one was taken");
        }
    }

    @Test
    void rejectsBadConfiguration() {
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(SET, NORM).order(new int[] {0, 23}).build());
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(SET, NORM).views(3).build());
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(SET, NORM).batchSize(0).build());
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(SET, NORM).workers(0).build());
        Normalization gray = Normalization.of(new float[] {0.5f}, new float[] {0.5f});
        assertThrows(IllegalArgumentException.class, () -> BatchLoader.builder(SET, gray));
    }

    @Test
    void shuffledOrderIsADeterministicPermutationPerEpoch() {
        int[] a = BatchLoader.shuffledOrder(100, 5, 0);
        assertArrayEquals(IntStream.range(0, 100).toArray(), Arrays.stream(a).sorted().toArray());
        assertArrayEquals(a, BatchLoader.shuffledOrder(100, 5, 0));
        assertFalse(Arrays.equals(a, BatchLoader.shuffledOrder(100, 5, 1)));
        assertFalse(Arrays.equals(a, BatchLoader.shuffledOrder(100, 6, 0)));
    }

    @Test
    void randomSubsetIsAFreshDistinctSubsetPerEpoch() {
        int[] a = BatchLoader.randomSubset(1000, 0.2, 5, 0);
        assertEquals(200, a.length);
        Set<Integer> distinct = new HashSet<>();
        for (int i : a) {
            assertTrue(i >= 0 && i < 1000);
            distinct.add(i);
        }
        assertEquals(200, distinct.size());
        assertArrayEquals(a, BatchLoader.randomSubset(1000, 0.2, 5, 0));
        assertFalse(Arrays.equals(a, BatchLoader.randomSubset(1000, 0.2, 5, 1)));
        assertEquals(1, BatchLoader.randomSubset(10, 0.01, 5, 0).length);
        assertEquals(10, BatchLoader.randomSubset(10, 1, 5, 0).length);
        assertThrows(UserException.class, () -> BatchLoader.randomSubset(10, 0, 5, 0));
        assertThrows(UserException.class, () -> BatchLoader.randomSubset(10, 1.5, 5, 0));
    }
}
