package ai.coopt.platform.server;

import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.TestPlatform;
import ai.coopt.platform.bench.LoadBenchmark;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.Event;
import ai.coopt.platform.db.EventKind;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.ShardState;
import ai.coopt.platform.db.TestDatabases;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two platform processes serving one round from one database and one directory (here two PlatformService +
 * PlatformServer pairs in this JVM, each with its own database connection): participants alternate between them,
 * no shard is granted twice or accepted twice, each process stages in its own directory and start-up cleaning
 * spares what a live one may still commit, and one process fuses, another taking over only from a dead one.
 */
class ScaleOutTest {
    private static ImageSet images;

    @BeforeAll
    static void data() {
        images = DatasetSpec.parse("fashion-mnist").load("train", 400);
    }

    private static PlatformConfig config(int shards) {
        return new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 400, null, 400, images.fingerprint(), 0,
                shards, null, 20, 2, 600, "ridge", 0, Instant.now().toString(), "test", List.of("t"));
    }

    /** One serve process: its own connection to the database, service and server on a free port, recovered as serve does. */
    private static TestPlatform serve(String dbUrl, Path dir, PlatformConfig config, LongSupplier clock) {
        TestPlatform p = TestPlatform.startIn(dbUrl, dir, config, images, null, clock);
        p.service().recover();
        return p;
    }

    private static String database(String vendor, Path tmp) {
        return vendor.equals("sqlite") ? TestDatabases.sqlite(tmp) : TestDatabases.postgresqlFreshSchema();
    }

    private static void drop(String vendor, String url) {
        if (vendor.equals("postgresql")) {
            TestDatabases.dropSchema(url);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql", "sqlite"})
    void participantsAlternatingBetweenTwoServersGetEveryShardAcceptedOnceAndNeverLeasedTwice(String vendor,
                                                                                             @TempDir Path tmp) throws Exception {
        String url = database(vendor, tmp);
        Path dir = tmp.resolve("platform");
        int shards = 48;
        try (TestPlatform a = serve(url, dir, config(shards), System::currentTimeMillis);
             TestPlatform b = serve(url, dir, config(shards), System::currentTimeMillis);
             Database db = Database.open(url)) {
            assertNotEquals(a.service().instanceId(), b.service().instanceId());
            PlatformStore store = new PlatformStore(db);
            LoadBenchmark.Result r = LoadBenchmark.run(List.of(a.url(), b.url()), store, a.operatorToken(), 12, 16, tmp.resolve("work"),
                    System.err::println);
            assertTrue(r.acceptedOnce(), "every shard accepted exactly once: " + r);
            assertEquals(0, r.doubleLeases(), r.toString());
            assertEquals(0, r.refusals(), r.toString());
            assertEquals(shards, r.upload().count());
            assertEquals(shards, r.auditsPassed(), "each accepted shard audited across the two servers: " + r);
            assertEquals(0, r.quarantined(), r.toString());
            assertEquals(2, r.servers());

            // the database's own record: each shard taken by one lease, never re-taken, accepted once
            Map<Integer, Integer> taken = new HashMap<>();
            for (Event e : store.events().all()) {
                assertFalse(e.kind() == EventKind.LEASE_RETAKEN, "no lease expired, none was re-taken: " + e);
                if (e.kind() == EventKind.LEASE_TAKEN) {
                    taken.merge(e.shard(), 1, Integer::sum);
                }
            }
            assertEquals(shards, taken.size());
            assertTrue(taken.values().stream().allMatch(n -> n == 1), taken.toString());
            assertTrue(store.rounds().shards().stream().allMatch(s -> s.state() == ShardState.ACCEPTED));
            assertEquals(shards, store.uploads().all().stream().filter(u -> u.accepted() && u.shard() != null).count());

            // the last acceptance started fusion on one of the two; it ends once
            for (int i = 0; i < 600 && store.fusion().state().state() == FusionState.RUNNING; i++) {
                Thread.sleep(100);
            }
            assertEquals(FusionState.DONE, store.fusion().state().state(), store.fusion().state().toString());
            assertTrue(List.of(a.service().instanceId(), b.service().instanceId()).contains(store.fusion().state().owner()));
            assertEquals(1, store.events().all().stream().filter(e -> e.kind() == EventKind.FUSION_STARTED).count());
            assertEquals(List.of(), TestPlatform.stagedFiles(dir), "no staged leftovers");
        } finally {
            drop(vendor, url);
        }
    }

    @Test
    void startingAProcessSparesWhatLiveOnesMayStillCommitAndRemovesTheDeadOnesLeftovers(@TempDir Path tmp) throws Exception {
        String url = TestDatabases.sqlite(tmp);
        Path dir = tmp.resolve("platform");
        AtomicLong now = new AtomicLong(System.currentTimeMillis());
        try (TestPlatform a = serve(url, dir, config(4), now::get)) {
            Path staging = dir.resolve("staging");
            Path aStaging = staging.resolve(a.service().instanceId());
            Path inFlight = Files.writeString(aStaging.resolve("upload-live.tmp"), "being received");
            Files.setLastModifiedTime(inFlight, FileTime.fromMillis(now.get() - 3 * Staging.STALE_STAGING_AGE_MILLIS));
            // a process killed while receiving: its directory and lock file are there, nobody holds the lock
            Path dead = Files.createDirectories(staging.resolve("00000000deadbeef"));
            Files.writeString(dead.resolve(Staging.STAGING_LOCK), "");
            Files.writeString(dead.resolve("upload-dead.tmp"), "half");
            // leftovers of a coopt that staged straight into staging/: old ones go, a fresh one stays
            Path oldLoose = Files.writeString(staging.resolve("upload-old.tmp"), "x");
            Files.setLastModifiedTime(oldLoose, FileTime.fromMillis(now.get() - Staging.STALE_STAGING_AGE_MILLIS - 1000));
            Path freshLoose = Files.writeString(staging.resolve("upload-fresh.tmp"), "x");
            Files.createDirectories(dir.resolve("uploads"));
            // upload files no row names: one just renamed by a live process (about to commit), one long orphaned
            Path justRenamed = Files.writeString(dir.resolve("uploads").resolve("shard-00001-p-just.safetensors"), "x");
            Path orphan = Files.writeString(dir.resolve("uploads").resolve("shard-00002-p-old.safetensors"), "x");
            Files.setLastModifiedTime(orphan, FileTime.fromMillis(now.get() - Staging.ORPHAN_UPLOAD_AGE_MILLIS - 1000));

            Path bStaging;
            try (TestPlatform b = serve(url, dir, config(4), now::get)) {
                bStaging = staging.resolve(b.service().instanceId());
                assertTrue(Files.exists(inFlight), "a live process's staged upload stays, however old");
                assertTrue(Files.isDirectory(staging.resolve(b.service().instanceId())));
                assertFalse(Files.exists(dead), "a dead process's staging directory goes");
                assertFalse(Files.exists(oldLoose));
                assertTrue(Files.exists(freshLoose));
                assertTrue(Files.exists(justRenamed), "a fresh upload file may be committed any moment: it stays");
                assertFalse(Files.exists(orphan), "an upload file no row names goes once it is old");
            }
            assertFalse(Files.exists(bStaging), "a process's staging directory goes when it stops");
            assertTrue(Files.exists(inFlight));
        }
    }

    @Test
    void oneProcessFusesAndAnotherTakesOverOnlyWhenItIsGoneOrSilent(@TempDir Path tmp) throws Exception {
        String url = TestDatabases.sqlite(tmp);
        Path dir = tmp.resolve("platform");
        AtomicLong now = new AtomicLong(System.currentTimeMillis());
        try (Database db = Database.open(url)) {
            PlatformStore store = new PlatformStore(db);
            TestPlatform a = serve(url, dir, config(4), now::get);
            try (TestPlatform b = serve(url, dir, config(4), now::get)) {
                assertTrue(a.service().claimFusion(false), "a claims fusion (and would fuse and beat)");
                assertFalse(b.service().claimFusion(false), "one fusion at a time");
                now.addAndGet(PlatformService.FUSION_TIMEOUT_MILLIS - 1);
                b.service().recover();
                assertFalse(b.service().takeOverStaleFusion(), "a is alive and its heartbeat recent");
                assertEquals(a.service().instanceId(), store.fusion().state().owner());
                assertEquals(FusionState.RUNNING, store.fusion().state().state());

                now.addAndGet(2);
                assertTrue(b.service().takeOverStaleFusion(), "a's heartbeat is older than the timeout: b takes over");
                assertEquals(b.service().instanceId(), store.fusion().state().owner());
                assertFalse(store.fusion().heartbeat(a.service().instanceId(), now.get()), "a no longer owns it");
                // b's run has nothing accepted to fuse: it fails, recorded by b, its owner
                for (int i = 0; i < 100 && store.fusion().state().state() == FusionState.RUNNING; i++) {
                    Thread.sleep(50);
                }
                assertEquals(FusionState.FAILED, store.fusion().state().state());
                assertEquals(b.service().instanceId(), store.fusion().state().owner());

                assertTrue(b.service().claimFusion(false), "b claims again and stays silent");
                assertFalse(a.service().takeOverStaleFusion(), "b is alive and its heartbeat recent");
            } // b stops: its staging lock goes with it
            assertTrue(a.service().takeOverStaleFusion(), "the owner is gone (its lock is free): no need to wait for the timeout");
            assertEquals(a.service().instanceId(), store.fusion().state().owner());
            a.close();
        }
    }
}
