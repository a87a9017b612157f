package ai.coopt.platform.server;

import ai.coopt.collab.Screening;
import ai.coopt.platform.db.AuditState;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.ShardState;
import ai.coopt.util.DaemonThreads;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Where the round is settled: audits past their deadline fail, participants the screening of the outputs on S
 * excludes are quarantined (their shards go back to the pool), and once every shard is accepted from a participant in
 * good standing and every audit passed, fusion starts. It runs after every accepted output, upload and audit answer
 * ({@link #request}), and every second while the process serves ({@link #start}).
 */
final class Referee implements AutoCloseable {
    private final PlatformStore store;
    private final SharedScreening screening;
    private final FusionRunner fusion;
    private final LongSupplier clock;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("coopt-referee"));
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean queued = new AtomicBoolean();

    Referee(PlatformStore store, SharedScreening screening, FusionRunner fusion, LongSupplier clock) {
        this.store = store;
        this.screening = screening;
        this.fusion = fusion;
        this.clock = clock;
    }

    /** Settles the round as it stands now (see the class). */
    synchronized void settle() {
        long now = clock.getAsLong();
        store.audits().expire(now);
        if (store.uploads().sharedOutputs().isEmpty()) {
            return;
        }
        Screening.Result r = screening.now();
        for (Screening.Verdict v : r.excluded()) {
            if (!v.reason().startsWith("quarantined: ")) {
                store.audits().quarantine(v.participant(), v.reason(), now);
            }
        }
        if (store.fusion().state().state() != FusionState.WAITING
                || !store.rounds().shards().stream().allMatch(x -> x.state() == ShardState.ACCEPTED)) {
            return;
        }
        Map<Long, AuditState> audited = new LinkedHashMap<>();
        store.audits().all().forEach(a -> audited.put(a.uploadId(), a.state()));
        boolean allPassed = store.uploads().all().stream().filter(u -> u.accepted() && u.shard() != null)
                .allMatch(u -> audited.get(u.id()) == AuditState.PASSED);
        if (allPassed) {
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
