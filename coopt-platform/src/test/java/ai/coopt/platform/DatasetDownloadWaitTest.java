package ai.coopt.platform;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.client.DatasetDownload;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code platform download --wait}: asked before fusion has finished, the download waits for it (bounded). */
class DatasetDownloadWaitTest {
    private static final int N = 300;

    @Test
    void aDownloadStartedBeforeFusionWaitsForItAndOneThatRunsOutOfTimeIsOneLine(@TempDir Path tmp) throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", N);
        PlatformConfig c = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", N, null, N,
                images.fingerprint(), 0, 2, null, 20, 1, 60, "ridge", 0, Instant.now().toString(), "test", List.of("t"));
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, c, images, null)) {
            String url = running.url();
            PlatformClient client = running.operator();
            // without --wait: at once, as before
            UserException now = assertThrows(UserException.class, () -> DatasetDownload.fetch(client, tmp.resolve("a")));
            assertTrue(now.getMessage().contains("not ready"), now.getMessage());
            // a bounded wait that runs out: one line saying so, after about that long
            long t0 = System.nanoTime();
            UserException late = assertThrows(UserException.class, () -> DatasetDownload.fetch(client, tmp.resolve("b"),
                    null, Duration.ofSeconds(2), m -> { }));
            double took = (System.nanoTime() - t0) / 1e9;
            assertTrue(late.getMessage().contains("waited 2 s (--wait)") && !late.getMessage().contains("\n"),
                    late.getMessage());
            assertTrue(took >= 1.9 && took < 20, "took " + took + " s");
            assertFalse(Files.exists(tmp.resolve("b")));
            // started before any participant: it waits through the round and fetches the fused dataset
            List<String> log = new CopyOnWriteArrayList<>();
            CompletableFuture<DatasetDownload.Result> waiting = CompletableFuture.supplyAsync(() ->
                    DatasetDownload.fetch(client, tmp.resolve("c"), null, Duration.ofSeconds(300), log::add));
            Thread.sleep(1500);
            assertFalse(waiting.isDone(), "nothing is fused yet");
            NetworkedRoundTest.runParticipant(url, running.store(), tmp.resolve("alice.key"), "alice",
                    "zoo:convnet-s-byol-300s", 0);
            DatasetDownload.Result r = waiting.get(5, TimeUnit.MINUTES);
            assertEquals(N, r.count());
            assertEquals(1, log.size(), log.toString());
            assertTrue(log.get(0).contains("waiting up to 300 s"), log.toString());
        }
    }
}
