package ai.coopt.platform.server;

import ai.coopt.collab.RoundEngine;
import ai.coopt.collab.RoundLedger;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.util.DaemonThreads;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Where the networked round is settled: audits past their deadline fail, then the round's policy is applied to the
 * platform's ledger ({@link RoundEngine}, the same as {@code coopt collab}'s): the participants it excludes are
 * quarantined (their shards go back to the pool), and fusion starts when the policy says so. It runs after every accepted output, upload and audit answer
 * ({@link #request}), and every second while the process serves ({@link #start}).
 */
final class Referee implements AutoCloseable {
    private final PlatformStore store;
    private final RoundEngine engine;
    private final RoundLedger ledger;
    private final FusionRunner fusion;
    private final LongSupplier clock;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("coopt-referee"));
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean queued = new AtomicBoolean();

    Referee(PlatformStore store, RoundEngine engine, RoundLedger ledger, FusionRunner fusion, LongSupplier clock) {
        this.store = store;
        this.engine = engine;
        this.ledger = ledger;
        this.fusion = fusion;
        this.clock = clock;
    }

    /** Settles the round as it stands now (see the class). */
    synchronized void settle() {
        store.audits().expire(clock.getAsLong());
        if (engine.settle(ledger).fuse()) {
            fusion.start(false);
        }
    }

    /**
     * Runs {@link #settle} soon on the referee's thread (once, however many ask meanwhile): a request that changed
     * what the referee looks at is answered without waiting for the screening or the start of fusion.
     */
    void request() {
        if (queued.compareAndSet(false, true)) {
            thread.execute(() -> {
                queued.set(false);
                settleLogged();
            });
        }
    }

    /** Runs {@link #settle} every second in the background (the serving process only). */
    void start() {
        if (!started.getAndSet(true)) {
            thread.scheduleWithFixedDelay(this::settleLogged, 1, 1, TimeUnit.SECONDS);
        }
    }

    private void settleLogged() {
        try {
            settle();
        } catch (RuntimeException e) {
            System.err.println("coopt platform: the referee failed: " + e);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
