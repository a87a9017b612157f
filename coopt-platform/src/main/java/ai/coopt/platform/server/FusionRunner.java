package ai.coopt.platform.server;

import ai.coopt.UserException;
import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.collab.RoundEngine;
import ai.coopt.collab.RoundLedger;
import ai.coopt.collab.ShardOutputs;
import ai.coopt.platform.PrivateFiles;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.db.Fusion;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Round;
import ai.coopt.platform.db.Upload;
import ai.coopt.store.Json;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.Scratch;
import ai.coopt.util.DaemonThreads;
import ai.coopt.util.ProgressListener;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Where fusion runs: one process at a time claims it (the fusion row names it), fuses what was accepted in the
 * background while its heartbeat says it is at work, and records the outcome; another process takes over only a
 * fusion whose owner is gone or silent ({@link #takeOverStale}).
 */
final class FusionRunner implements AutoCloseable {
    /** How often the process that fuses says so in the database. */
    static final long FUSION_HEARTBEAT_MILLIS = 5_000;
    /** A running fusion whose heartbeat is older than this is taken to be dead and may be taken over. */
    static final long FUSION_TIMEOUT_MILLIS = 60_000;

    /** What fusion made, kept in the database as JSON. */
    record Detail(@JsonSetter(nulls = Nulls.SET) Integer count, @JsonSetter(nulls = Nulls.SET) Integer dim,
                  Map<String, Double> residuals, double alignmentSeconds, double fusionSeconds,
                  @JsonSetter(nulls = Nulls.SET) List<String> notes,
                  @JsonSetter(nulls = Nulls.SET) String error) {
        static Detail failed(String error) {
            return new Detail(null, null, Map.of(), 0, 0, null, error);
        }

        String json() {
            try {
                return Json.mapper().writeValueAsString(this);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** A detail the database holds, or null when it does not parse. */
        static Detail parse(String json) {
            try {
                return Json.mapper().readValue(json, Detail.class);
            } catch (IOException e) {
                return null;
            }
        }
    }

    private final RoundFiles files;
    private final PlatformStore store;
    private final RoundEngine engine;
    private final RoundLedger ledger;
    private final String instanceId;
    private final LongSupplier clock;
    private final ExecutorService fusion = Executors.newSingleThreadExecutor(DaemonThreads.named("coopt-fusion"));
    /** Fusion heartbeats and the watch for a fusion whose owner went silent. */
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("coopt-fusion-heartbeat"));

    FusionRunner(RoundFiles files, PlatformStore store, RoundEngine engine, RoundLedger ledger, String instanceId,
                 LongSupplier clock) {
        this.files = files;
        this.store = store;
        this.engine = engine;
        this.ledger = ledger;
        this.instanceId = instanceId;
        this.clock = clock;
    }

    /**
     * While this process serves: every {@value #FUSION_HEARTBEAT_MILLIS} ms, looks for a running fusion whose owner
     * went silent and takes it over (so when the process that fuses dies, another one finishes the work).
     */
    void watch() {
        timer.scheduleWithFixedDelay(() -> {
            try {
                takeOverStale();
            } catch (RuntimeException e) {
                System.err.println("coopt platform: checking the fusion's heartbeat failed: " + e.getMessage());
            }
        }, FUSION_HEARTBEAT_MILLIS, FUSION_HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Marks a running fusion as failed and starts it here when its owner is gone: its staging lock is free (a
     * process on this directory that ended) or its heartbeat is older than {@value #FUSION_TIMEOUT_MILLIS} ms (a
     * process cut off, or one elsewhere whose lock this machine cannot see); true when it did.
     */
    boolean takeOverStale() {
        Fusion f = store.fusion().state();
        if (f.state() != FusionState.RUNNING || instanceId.equals(f.owner())) {
            return false;
        }
        long now = clock.getAsLong();
        boolean gone = !Staging.alive(files.dir(), f.owner());
        long heartbeatBefore = gone ? Long.MAX_VALUE : now - FUSION_TIMEOUT_MILLIS;
        if (!store.fusion().abandon(f.owner(), heartbeatBefore, Detail.failed(
                "interrupted: the platform process fusing it (" + f.owner() + ") stopped").json(), now)) {
            return false;
        }
        return start(f.forced());
    }

    /** Claims fusion for this process (see {@link ai.coopt.platform.db.FusionRepository#set}); false when it runs or is done. */
    boolean claim(boolean forced) {
        return store.fusion().set(FusionState.RUNNING, instanceId, forced, null, clock.getAsLong());
    }

    /** Starts fusion in the background unless it is running or done; {@code forced} fuses what is there. */
    synchronized boolean start(boolean forced) {
        if (!claim(forced)) {
            return false;
        }
        fusion.submit(() -> fuse(forced));
        return true;
    }

    /**
     * Runs fusion in this thread (this process must have claimed it: {@link #claim}) and records the outcome;
     * says every {@value #FUSION_HEARTBEAT_MILLIS} ms that it is still at work. When another process took the run over
     * (these heartbeats did not reach the database in time) it stops at its next progress report (the post-processing
     * passes report; alignment does not) and in any case cannot record its outcome: only the owner can.
     */
    void fuse(boolean forced) {
        AtomicBoolean lost = new AtomicBoolean();
        ScheduledFuture<?> heartbeat = timer.scheduleWithFixedDelay(() -> {
            try {
                if (!store.fusion().heartbeat(instanceId, clock.getAsLong())) {
                    lost.set(true);
                }
            } catch (RuntimeException e) {
                System.err.println("coopt platform: the fusion heartbeat failed: " + e.getMessage());
            }
        }, FUSION_HEARTBEAT_MILLIS, FUSION_HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
        try {
            fuse(forced, lost);
        } finally {
            heartbeat.cancel(false);
        }
    }

    private void fuse(boolean forced, AtomicBoolean lost) {
        ProgressListener abortWhenLost = new ProgressListener() {
            @Override
            public void start(String task, long total, String unit) {
                check();
            }

            @Override
            public void advance(long done) {
                check();
            }

            @Override
            public void finish() {
                check();
            }

            private void check() {
                if (lost.get()) {
                    throw new UserException("fusion was taken over by another platform process (no heartbeat for "
                            + FUSION_TIMEOUT_MILLIS / 1000 + " s)");
                }
            }
        };
        // the round cannot change meanwhile: the next one opens only once this one's fusion is done
        int round = store.rounds().current().map(Round::id).orElseThrow(() -> new IllegalStateException("the platform has no round"));
        Path dir = files.dir();
        PlatformConfig config = files.config();
        Path out = RoundFiles.fusedDir(dir, round);
        try {
            Files.createDirectories(out.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make " + out.getParent(), e);
        }
        String done = null;
        try (Scratch scratch = Scratch.beside(out)) {
            List<Uploads.Opened> opened = new ArrayList<>();
            List<ShardOutputs> shards = new ArrayList<>();
            try {
                for (Upload u : store.uploads().all()) {
                    if (u.accepted() && u.shard() != null) {
                        Uploads.Opened o = Uploads.open(files.upload(u.file()));
                        opened.add(o);
                        shards.add(new ShardOutputs(u.participantId(), u.shard(), o.ids(), o.rows(), 0));
                    }
                }
                if (shards.isEmpty()) {
                    throw new UserException("no shard is accepted yet: nothing to fuse");
                }
                List<String> command = new ArrayList<>(config.commandLine());
                if (round > 1) {
                    command.add("(platform round " + round + ")");
                }
                if (forced) {
                    command.add("(fused by coopt platform fuse with " + shards.size() + " of " + files.shards()
                            + " shards)");
                }
                CollaborativeOptimization.Written w = CollaborativeOptimization.fuseAndWrite(engine.judge(ledger), shards,
                        files.sharedIds(), engine.policy().alignment(), config.dim(), new ManifestProvenance.Source(config.data(),
                                config.split(), config.count(), config.fingerprint(), config.skippedImages(),
                                config.subset()),
                        new ManifestProvenance.Created(Instant.ofEpochMilli(clock.getAsLong()), config.toolVersion(),
                                command, config.seed()), config.seed(), out, scratch,
                        abortWhenLost);
                FusedChecksums.write(out);
                Map<String, Double> residuals = new LinkedHashMap<>();
                for (int i = 0; i < w.participantIds().size(); i++) {
                    residuals.put(w.participantIds().get(i), w.alignment().residuals().get(i));
                }
                PrivateFiles.restrictTree(out);
                for (Path p = out.getParent(); p.startsWith(dir) && !p.equals(dir); p = p.getParent()) {
                    PrivateFiles.restrict(p); // rounds/ and rounds/N/
                }
                done = new Detail(w.count(), w.dim(), residuals, w.alignmentSeconds(), w.fusionSeconds(), w.notes(),
                        null).json();
            } finally {
                opened.forEach(Uploads.Opened::close);
            }
        } catch (RuntimeException e) {
            store.fusion().set(FusionState.FAILED, instanceId, forced,
                    Detail.failed(e.getMessage() == null ? e.toString() : e.getMessage()).json(), clock.getAsLong());
            if (!(e instanceof UserException)) {
                throw e;
            }
        }
        if (done != null) {
            // said once the scratch directory is gone: "done" means the platform directory holds only what it keeps
            store.fusion().set(FusionState.DONE, instanceId, forced, done, clock.getAsLong());
        }
    }

    /** Stops fusing and watching. */
    @Override
    public void close() {
        fusion.shutdownNow();
        timer.shutdownNow();
    }
}
