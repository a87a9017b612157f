package ai.coopt.platform;

import ai.coopt.UserException;
import ai.coopt.collab.Lease;
import ai.coopt.collab.LocalParticipant;
import ai.coopt.collab.ParticipantLoop;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.CachingParticipant;
import ai.coopt.platform.client.DatasetDownload;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.client.RemotePlatform;
import ai.coopt.platform.db.Round;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.platform.server.PlatformService;
import ai.coopt.store.Checksums;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.Scratch;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two rounds of one platform over loopback HTTP: round 1 with two participants, fused; round 2 opened beside the
 * running server (which picks it up without a restart) over the same shards, one participant bringing another prior
 * and the other the same one (so its outputs on S, and their file, are identical to round 1's); then both rounds'
 * datasets are downloaded and verified, and they differ in the priors their manifests name.
 */
class RoundsOverHttpTest {
    private static final int N = 300;
    private static final String FIRST = "zoo:convnet-s-byol-300s";
    private static final String SECOND = "zoo:resnet-s-byol-90s";
    private static final String BOBS = "random:convnet-s:3";

    @Test
    void roundTwoOverTheSameDataWithAnotherPriorAndBothDatasetsStayDownloadable(@TempDir Path tmp) throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", N);
        PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", N, null, N,
                images.fingerprint(), 0, 4, null, 30, 3, 60, "ridge", 0, Instant.now().toString(), "test",
                List.of("coopt", "platform", "serve"));
        Path dir = tmp.resolve("platform");
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, config, images, null)) {
            String url = running.url();
            PlatformClient operator = running.operator();
            Enrolled alice = enroll(running, tmp, "alice");
            Enrolled bob = enroll(running, tmp, "bob");

            UserException early = assertThrows(UserException.class,
                    () -> PlatformService.nextRound(dir, running.store(), System.currentTimeMillis()));
            assertTrue(early.getMessage().contains("round 1 is not finished"), early.getMessage());

            assertEquals(4, runRound(Map.of(alice, FIRST, bob, BOBS)));
            JsonNode first = NetworkedRoundTest.awaitFusion(running);
            assertEquals(1, first.path("round").path("id").asInt());
            assertTrue(OptimizedDataset.looksLikeOptimizedDataset(dir.resolve("fused")), "round 1 stays in fused/");
            String firstManifest = Checksums.sha256(dir.resolve("fused").resolve(OptimizedDataset.MANIFEST_FILE));

            RemotePlatform late = new RemotePlatform(alice.client(), alice.key().participantId(), alice.work(), null);
            Round second = PlatformService.nextRound(dir, running.store(), System.currentTimeMillis());
            assertEquals(new Lease.Done(), late.lease(alice.key().participantId()),
                    "a participant still in round 1 when round 2 opens is done with round 1");
            assertEquals(2, second.id());
            JsonNode opened = operator.get("/v1/status");
            assertEquals(2, opened.path("round").path("id").asInt(), "the running server serves round 2 at once");
            assertEquals("waiting", opened.path("fusion").path("state").asText());
            assertEquals(4, opened.path("shards_by_state").path("open").asInt());
            assertTrue(opened.path("uniformity").isEmpty(), "no outputs on S yet in round 2");
            opened.path("participants").forEach(p -> assertTrue(p.path("prior").isNull(), "its prior is reported again"));
            assertEquals(1, operator.get("/v1/dataset").path("round").asInt(), "the newest finished round's");
            assertEquals(404, assertThrows(PlatformClient.Refusal.class, () -> operator.get("/v1/dataset?round=2")).status());
            assertEquals(404, assertThrows(PlatformClient.Refusal.class, () -> operator.get("/v1/dataset?round=3")).status());
            assertEquals(400, assertThrows(PlatformClient.Refusal.class, () -> operator.get("/v1/dataset?round=x")).status());
            assertTrue(Files.isDirectory(dir.resolve("shards")));

            assertEquals(4, runRound(Map.of(alice, SECOND, bob, BOBS)), "round 2's shards lease anew");
            JsonNode done = NetworkedRoundTest.awaitFusion(running);
            assertEquals(2, done.path("round").path("id").asInt());
            assertEquals(List.of("done", "done"), List.of(done.path("rounds").path(0).path("fusion").asText(),
                    done.path("rounds").path(1).path("fusion").asText()));
            assertEquals(4, done.path("rounds").path(1).path("accepted").asInt());
            assertTrue(OptimizedDataset.looksLikeOptimizedDataset(dir.resolve("rounds/2/fused")));
            assertEquals(firstManifest, Checksums.sha256(dir.resolve("fused").resolve(OptimizedDataset.MANIFEST_FILE)),
                    "round 1's dataset is untouched");
            String dashboard = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(url + "/")).header("Authorization", "Bearer " + running.operatorToken()).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(dashboard.contains("<a href=\"/v1/dataset?round=1\">") && dashboard.contains("<a href=\"/v1/dataset?round=2\">"),
                    "the dashboard links both rounds' datasets");

            DatasetDownload.Result one = DatasetDownload.fetch(operator, tmp.resolve("round1"), 1);
            DatasetDownload.Result two = DatasetDownload.fetch(operator, tmp.resolve("round2"), 2);
            DatasetDownload.Result newest = DatasetDownload.fetch(operator, tmp.resolve("newest"), null);
            assertEquals(List.of(1, 2, 2), List.of(one.round(), two.round(), newest.round()));
            OptimizedDataset d1 = OptimizedDataset.read(tmp.resolve("round1"));
            OptimizedDataset d2 = OptimizedDataset.read(tmp.resolve("round2"));
            assertEquals(N, d1.count());
            assertEquals(N, d2.count());
            assertArrayEquals(d1.ids(), d2.ids(), "the same data");
            // a zoo: prior is recorded as the model directory it resolved to
            assertEquals(2, priors(d1).size(), priors(d1).toString());
            assertEquals(2, priors(d2).size(), priors(d2).toString());
            assertTrue(priors(d1).contains(BOBS) && priors(d2).contains(BOBS), priors(d1) + " " + priors(d2));
            assertTrue(priors(d1).stream().anyMatch(p -> p.endsWith(FIRST.substring(4))), priors(d1).toString());
            assertTrue(priors(d2).stream().anyMatch(p -> p.endsWith(SECOND.substring(4))), priors(d2).toString());
            assertNotEquals(priors(d1), priors(d2));
            assertNotEquals(Checksums.sha256(tmp.resolve("round1").resolve(OptimizedDataset.MANIFEST_FILE)),
                    Checksums.sha256(tmp.resolve("round2").resolve(OptimizedDataset.MANIFEST_FILE)));
            assertTrue(d2.provenance().created().commandLine().contains("(platform round 2)"),
                    d2.provenance().created().commandLine().toString());
            assertFalse(d1.provenance().created().commandLine().toString().contains("platform round"));
        }
    }

    private static List<String> priors(OptimizedDataset d) {
        return d.provenance().participants().stream().map(ManifestProvenance.Participant::prior).distinct().toList();
    }

    private record Enrolled(KeyFile key, PlatformClient client, Path work) {}

    private static Enrolled enroll(TestPlatform running, Path tmp, String name) {
        KeyFile key = KeyFile.create(tmp.resolve(name + ".key"));
        PlatformClient client = new PlatformClient(running.url(), null, key, Duration.ofSeconds(30), System.err::println);
        client.post("/v1/enroll", Map.of("invite", running.store().participants().createInvite(name, System.currentTimeMillis(), 60_000),
                "public_key", key.publicKeyBase64()), key);
        return new Enrolled(key, client, tmp.resolve(name + ".work"));
    }

    /** The participants do the current round at once, each with its prior; returns how many shards they did in all. */
    private static int runRound(Map<Enrolled, String> priors) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(priors.size());
        try {
            List<Future<ParticipantLoop.Summary>> runs = new ArrayList<>();
            priors.forEach((p, prior) -> runs.add(pool.submit(() -> run(p, prior))));
            int shards = 0;
            for (Future<ParticipantLoop.Summary> f : runs) {
                shards += f.get(5, TimeUnit.MINUTES).shards();
            }
            return shards;
        } finally {
            pool.shutdownNow();
        }
    }

    private static ParticipantLoop.Summary run(Enrolled p, String prior) {
        RemotePlatform remote = new RemotePlatform(p.client(), p.key().participantId(), p.work(), null);
        try (Scratch scratch = Scratch.beside(p.work().resolve("embed"));
             LocalParticipant inner = new LocalParticipant(p.key().participantId(), prior, remote.shared(), Device.cpu(),
                     128, ProgressListener.NONE, scratch);
             CachingParticipant c = new CachingParticipant(inner, inner.weightsSha256(), remote::outputsFile)) {
            return ParticipantLoop.run(remote, c, 0, Thread::sleep);
        }
    }
}
