package ai.coopt.platform;

import ai.coopt.collab.LocalParticipant;
import ai.coopt.collab.ParticipantLoop;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.client.RemotePlatform;
import ai.coopt.platform.db.AuditState;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.store.Scratch;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The other half of the adversarial suite: honest participants with real priors (three pre-trained ones shipped in
 * {@code priors/} and randomly initialised networks of two architectures, with different seeds) over twenty rounds of
 * different data, shards and shared subsets. Their audits must all pass and none may be quarantined: a screening that
 * excluded honest work would be as bad as one that let poison in.
 */
class HonestRunsTest {
    private static final int ROUNDS = 20;
    private static final int PARTICIPANTS = 4;
    private static final int N = 400;

    private static List<String> priors(int round) {
        List<String> pool = List.of("zoo:convnet-s-byol-300s", "random:convnet-s:" + (100 + round),
                "zoo:resnet-s-byol-90s", "random:resnet-s:" + (200 + round), "zoo:convnet-s-simclr-20s",
                "random:convnet-s:" + (300 + round));
        List<String> chosen = new ArrayList<>();
        for (int i = 0; i < PARTICIPANTS; i++) {
            chosen.add(pool.get((round + i) % pool.size()));
        }
        return chosen;
    }

    @Test
    void twentyRoundsOfHonestParticipantsAreNeverQuarantined(@TempDir Path tmp) throws Exception {
        ImageSet all = DatasetSpec.parse("fashion-mnist").load("train", N * 4);
        int honestRuns = 0;
        for (int round = 0; round < ROUNDS; round++) {
            // a different quarter of the data every fifth round, different shards and S every round
            int[] rows = new int[N];
            for (int i = 0; i < N; i++) {
                rows[i] = (round % 4) * N + i;
            }
            ImageSet quarter = all.subset(rows);
            // a data set of its own: ids 0..N-1, as a platform started on these N images would give them
            ImageSet images = new ImageSet("quarter " + (round % 4), quarter.copyPixels(), N, quarter.channels(),
                    quarter.height(), quarter.width(), quarter.labels());
            Path dir = Files.createDirectories(tmp.resolve("round-" + round));
            PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", N, null, N,
                    images.fingerprint(), 0, PARTICIPANTS, null, 40, round, 120, "ridge", 0, Instant.now().toString(),
                    "test", List.of("t"));
            List<String> priors = priors(round);
            long started = System.nanoTime();
            try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(dir), dir, config, images, null)) {
                PlatformStore store = running.store();
                Map<String, Throwable> failed = new ConcurrentHashMap<>();
                List<Thread> threads = new ArrayList<>();
                for (int p = 0; p < PARTICIPANTS; p++) {
                    String name = "p" + p;
                    String spec = priors.get(p);
                    KeyFile key = KeyFile.create(dir.resolve(name + ".key"));
                    PlatformClient client = new PlatformClient(running.url(), null, key, Duration.ofSeconds(30), m -> { });
                    client.post("/v1/enroll", Map.of("invite", store.participants().createInvite(name, System.currentTimeMillis(), 60_000),
                            "public_key", key.publicKeyBase64()), key);
                    Path work = Files.createDirectories(dir.resolve("work-" + name));
                    Thread t = new Thread(() -> {
                        RemotePlatform remote = new RemotePlatform(client, key.participantId(), work, null);
                        try (Scratch scratch = Scratch.beside(work.resolve("scratch"));
                             LocalParticipant participant = new LocalParticipant(key.participantId(), spec,
                                     remote.shared(), Device.cpu(), 128, ProgressListener.NONE, scratch)) {
                            ParticipantLoop.run(remote, participant, 0, Thread::sleep);
                        } catch (Throwable e) {
                            failed.put(spec, e);
                        }
                    }, "round-" + round + "-" + name);
                    threads.add(t);
                    t.start();
                }
                for (Thread t : threads) {
                    t.join(300_000);
                    assertFalse(t.isAlive(), t.getName() + " did not finish");
                }
                assertTrue(failed.isEmpty(), "round " + round + " " + priors + ": " + failed);
                long until = System.currentTimeMillis() + 120_000;
                while (store.fusion().state().state() != FusionState.DONE) {
                    assertTrue(store.fusion().state().state() != FusionState.FAILED, store.fusion().state().toString());
                    assertTrue(System.currentTimeMillis() < until, "round " + round + ": fusion did not finish");
                    Thread.sleep(100);
                }
                for (var p : store.participants().all()) {
                    assertFalse(p.quarantined(), "round " + round + " " + priors + ": " + p.name() + " was quarantined: "
                            + p.quarantineReason());
                    honestRuns++;
                }
                assertTrue(store.audits().all().stream().allMatch(a -> a.state() == AuditState.PASSED), store.audits().all().toString());
                assertEquals(PARTICIPANTS, store.audits().all().size(), "one audit per shard");
            }
            System.out.printf("honest round %d %s: none quarantined, %.1f s%n", round, priors,
                    (System.nanoTime() - started) / 1e9);
        }
        assertEquals(ROUNDS * PARTICIPANTS, honestRuns);
    }
}
