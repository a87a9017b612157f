package ai.coopt.platform;

import ai.coopt.UserException;
import ai.coopt.collab.LocalParticipant;
import ai.coopt.collab.ParticipantLoop;
import ai.coopt.data.DatasetSpec;
import ai.coopt.data.ImageSet;
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
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two rounds of one platform over loopback HTTP: round 1 with one prior, fused; round 2 opened beside the running
 * server (which picks it up without a restart) over the same shards, the same participant bringing another prior;
 * then both rounds' datasets are downloaded and verified, and they differ in the priors their manifests name.
 */
class RoundsOverHttpTest {
    private static final int N = 300;
    private static final String FIRST = "zoo:convnet-s-byol-300s";
    private static final String SECOND = "zoo:resnet-s-byol-90s";

    @Test
    void roundTwoOverTheSameDataWithAnotherPriorAndBothDatasetsStayDownloadable(@TempDir Path tmp) throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", N);
        PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", N, null, N,
                images.fingerprint(), 0, 2, null, 30, 3, 60, "ridge", 0, Instant.now().toString(), "test",
                List.of("coopt", "platform", "serve"));
        Path dir = tmp.resolve("platform");
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, config, images, null)) {
            String url = running.url();
            PlatformClient anonymous = new PlatformClient(url, null, null, Duration.ofSeconds(10), System.err::println);
            KeyFile key = KeyFile.create(tmp.resolve("alice.key"));
            PlatformClient alice = new PlatformClient(url, null, key, Duration.ofSeconds(30), System.err::println);
            alice.post("/v1/enroll", Map.of("invite", running.store().createInvite("alice", System.currentTimeMillis(),
                    60_000), "public_key", key.publicKeyBase64()), key);

            UserException early = assertThrows(UserException.class,
                    () -> PlatformService.nextRound(dir, running.store(), System.currentTimeMillis()));
            assertTrue(early.getMessage().contains("round 1 is not finished"), early.getMessage());

            assertEquals(2, runRound(alice, key, tmp.resolve("work"), FIRST).shards());
            JsonNode first = NetworkedRoundTest.awaitFusion(url);
            assertEquals(1, first.path("round").path("id").asInt());
            assertTrue(OptimizedDataset.looksLikeOptimizedDataset(dir.resolve("fused")), "round 1 stays in fused/");
            String firstManifest = Checksums.sha256(dir.resolve("fused").resolve(OptimizedDataset.MANIFEST_FILE));

            Round second = PlatformService.nextRound(dir, running.store(), System.currentTimeMillis());
            assertEquals(2, second.id());
            JsonNode opened = anonymous.get("/v1/status");
            assertEquals(2, opened.path("round").path("id").asInt(), "the running server serves round 2 at once");
            assertEquals("waiting", opened.path("fusion").path("state").asText());
            assertEquals(2, opened.path("shards_by_state").path("open").asInt());
            assertTrue(opened.path("uniformity").isEmpty(), "no outputs on S yet in round 2");
            assertTrue(opened.path("participants").path(0).path("prior").isNull(), "its prior is reported again");
            assertEquals(1, anonymous.get("/v1/dataset").path("round").asInt(), "the newest finished round's");
            assertEquals(404, assertThrows(PlatformClient.Refusal.class, () -> anonymous.get("/v1/dataset?round=2")).status());
            assertEquals(404, assertThrows(PlatformClient.Refusal.class, () -> anonymous.get("/v1/dataset?round=3")).status());
            assertEquals(400, assertThrows(PlatformClient.Refusal.class, () -> anonymous.get("/v1/dataset?round=x")).status());
            assertTrue(Files.isDirectory(dir.resolve("shards")));

            assertEquals(2, runRound(alice, key, tmp.resolve("work"), SECOND).shards(), "round 2's shards lease anew");
            JsonNode done = NetworkedRoundTest.awaitFusion(url);
            assertEquals(2, done.path("round").path("id").asInt());
            assertEquals(List.of("done", "done"), List.of(done.path("rounds").path(0).path("fusion").asText(),
                    done.path("rounds").path(1).path("fusion").asText()));
            assertEquals(2, done.path("rounds").path(1).path("accepted").asInt());
            assertTrue(OptimizedDataset.looksLikeOptimizedDataset(dir.resolve("rounds/2/fused")));
            assertEquals(firstManifest, Checksums.sha256(dir.resolve("fused").resolve(OptimizedDataset.MANIFEST_FILE)),
                    "round 1's dataset is untouched");
            String dashboard = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(url + "/")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(dashboard.contains("<a href=\"/v1/dataset?round=1\">") && dashboard.contains("<a href=\"/v1/dataset?round=2\">"),
                    "the dashboard links both rounds' datasets");

            DatasetDownload.Result one = DatasetDownload.fetch(anonymous, tmp.resolve("round1"), 1);
            DatasetDownload.Result two = DatasetDownload.fetch(anonymous, tmp.resolve("round2"), 2);
            DatasetDownload.Result newest = DatasetDownload.fetch(anonymous, tmp.resolve("newest"), null);
            assertEquals(List.of(1, 2, 2), List.of(one.round(), two.round(), newest.round()));
            OptimizedDataset d1 = OptimizedDataset.read(tmp.resolve("round1"));
            OptimizedDataset d2 = OptimizedDataset.read(tmp.resolve("round2"));
            assertEquals(N, d1.count());
            assertEquals(N, d2.count());
            assertArrayEquals(d1.ids(), d2.ids(), "the same data");
            // a zoo: prior is recorded as the model directory it resolved to
            assertEquals(1, priors(d1).size());
            assertEquals(1, priors(d2).size());
            assertTrue(priors(d1).get(0).endsWith(FIRST.substring(4)), priors(d1).toString());
            assertTrue(priors(d2).get(0).endsWith(SECOND.substring(4)), priors(d2).toString());
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

    /** One participant does the current round from start to end with {@code prior}. */
    private static ParticipantLoop.Summary runRound(PlatformClient client, KeyFile key, Path work, String prior) {
        RemotePlatform remote = new RemotePlatform(client, key.participantId(), work, null);
        try (Scratch scratch = Scratch.beside(work.resolve("embed"));
             LocalParticipant inner = new LocalParticipant(key.participantId(), prior, remote.shared(), Device.cpu(), 128,
                     ProgressListener.NONE, scratch);
             CachingParticipant p = new CachingParticipant(inner, inner.weightsSha256(), remote::outputsFile)) {
            return ParticipantLoop.run(remote, p, 0, Thread::sleep);
        }
    }
}
