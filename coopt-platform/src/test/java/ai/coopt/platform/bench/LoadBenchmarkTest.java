package ai.coopt.platform.bench;

import ai.coopt.collab.PriorReport;
import ai.coopt.collab.Screening;
import ai.coopt.collab.SharedOutputs;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;
import ai.coopt.data.Sharding;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.TestPlatform;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.Rows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many participants at once against one platform: no shard leased or accepted twice, none left behind. */
class LoadBenchmarkTest {
    private static final int PARTICIPANTS = 12;
    private static final int DIM = 16;
    /**
     * The size of S. It must let the platform's screening recognise the simulated participants as honest: their outputs
     * are 16-wide linear images of a 16-wide latent, and the agreement rule fits a ridge map on 4/5 of S and tests it
     * on the rest, which predicts nothing when S has fewer rows than that width. With S of 10 (8 rows per fit) an
     * honest simulated participant was quarantined by the referee whenever the draw was unlucky, its shard was leased
     * again and its download of that shard refused (403): the flake this test had.
     */
    private static final int SHARED = 40;

    private static ImageSet images() {
        return DatasetSpec.parse("fashion-mnist").load("train", 400);
    }

    private static PlatformConfig round(ImageSet images) {
        return new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 400, null, 400,
                images.fingerprint(), 0, 40, null, SHARED, 2, 60, "ridge", 0, Instant.now().toString(), "test", List.of("t"));
    }

    @Test
    void twelveConcurrentParticipantsShareFortyShardsExactlyOnce(@TempDir Path tmp) throws Exception {
        ImageSet images = images();
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, round(images), images, null)) {
            PlatformStore store = running.store();
            LoadBenchmark.Result r = LoadBenchmark.run(running.url(), store, running.operatorToken(), PARTICIPANTS, DIM,
                    tmp.resolve("work"), System.err::println);
            assertTrue(r.acceptedOnce(), "every shard accepted exactly once: " + r);
            assertEquals(0, r.refusals());
            assertEquals(0, r.doubleLeases());
            assertEquals(40, r.upload().count());
            assertEquals(40, r.auditsPassed(), "every accepted shard audited, and passed: " + r);
            assertEquals(0, r.quarantined(), "no simulated (honest) participant quarantined");
            assertEquals(40, store.uploads().all().stream().filter(u -> u.accepted() && u.shard() != null).count());
        }
    }

    /**
     * The referee screens the outputs on S each time one arrives, so whichever participants have sent theirs when it
     * runs must all pass: the first h of them for every h, not only all twelve (a quarantine is for good).
     */
    @Test
    void theSimulatedParticipantsPassTheScreeningOnThisRoundsSharedSubsetAtEveryPoint() {
        ImageSet images = images();
        PlatformConfig c = round(images);
        ShardPlan plan = Sharding.plan(c.count(), c.shards(), c.sharedCount(), c.seed());
        ImageSet shared = images.subset(plan.shared());
        List<SharedOutputs> outputs = new ArrayList<>();
        for (int k = 0; k < PARTICIPANTS; k++) {
            Rows rows = new SimulatedOutputs(k, DIM).rows(shared);
            float[] values = new float[rows.count() * DIM];
            rows.read(0, rows.count(), values, 0);
            outputs.add(new SharedOutputs("p-" + k, new PriorReport("simulated:latent-" + SimulatedOutputs.LATENT + ":" + k,
                    "simulated", "0".repeat(64), new ManifestProvenance.Input(1, 28, 28, List.of(0.5), List.of(0.25), "none"),
                    DIM, -1.0, rows.count()), values, 0, 0));
        }
        for (int h = 1; h <= PARTICIPANTS; h++) {
            Screening.Result r = Screening.screen(outputs.subList(0, h));
            assertEquals(List.of(), r.excluded().stream().map(v -> v.participant() + ": " + v.reason()).toList(),
                    "the first " + h + " simulated participants on S of " + plan.shared().length);
        }
    }
}
