package ai.coopt.platform;

import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.platform.server.PlatformService;
import ai.coopt.store.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Issue 23's measurements as a benchmark, not a test (it asserts nothing and runs only with
 * {@code -Dcoopt.bench=true}; BENCHMARKS.md has the command and the numbers): the manifest fetched beside a fused file
 * grown by 400 MB (one at a time and ten at once), and the status after 20,000 junk requests of one participant. It
 * uses only what the code before issue 23's fixes has too, so the same file measures both.
 */
@EnabledIfSystemProperty(named = "coopt.bench", matches = "true")
class ServerBoundsBench {
    @TempDir
    Path tmp;

    @Test
    void manifestBesideA400MbFile() throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", 1200);
        PlatformConfig c = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 1200, null,
                images.count(), images.fingerprint(), 0, 3, null, 60, 5, 60, "ridge", 0, Instant.now().toString(),
                "bench", List.of("bench"));
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, c, images, null)) {
            String url = running.url();
            NetworkedRoundTest.runParticipant(url, running.store(), tmp.resolve("a.key"), "a",
                    "zoo:convnet-s-byol-300s", 0);
            NetworkedRoundTest.awaitFusion(running);
            Path grown = tmp.resolve("platform").resolve("fused").resolve("raw_outputs.safetensors");
            try (OutputStream out = Files.newOutputStream(grown, StandardOpenOption.APPEND)) {
                byte[] mb = new byte[1 << 20];
                for (int i = 0; i < 400; i++) {
                    out.write(mb);
                }
            }
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest manifest = HttpRequest.newBuilder(URI.create(url + "/v1/dataset/manifest.json")).build();
            List<Long> one = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                http.send(manifest, HttpResponse.BodyHandlers.ofByteArray());
                one.add((System.nanoTime() - t0) / 1_000_000);
            }
            ExecutorService pool = Executors.newFixedThreadPool(10);
            List<Future<Long>> ten = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                ten.add(pool.submit(() -> {
                    long t0 = System.nanoTime();
                    http.send(manifest, HttpResponse.BodyHandlers.ofByteArray());
                    return (System.nanoTime() - t0) / 1_000_000;
                }));
            }
            long worst = 0;
            for (Future<Long> f : ten) {
                worst = Math.max(worst, f.get());
            }
            pool.shutdown();
            System.err.println("BENCH manifest beside +400 MB: one at a time " + one + " ms; ten at once, slowest "
                    + worst + " ms");
        }
    }

    @Test
    void statusAfter20000JunkRequests() throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", 300);
        PlatformConfig c = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 300, null, 300,
                images.fingerprint(), 0, 2, null, 20, 1, 60, "ridge", 0, Instant.now().toString(), "bench",
                List.of("bench"));
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, c, images, null)) {
            KeyFile k = KeyFile.create(tmp.resolve("m.key"));
            PlatformClient client = new PlatformClient(running.url(), null, k, Duration.ofSeconds(5), m -> { });
            client.post("/v1/enroll", Map.of("invite", running.store().participants().createInvite("m", System.currentTimeMillis(),
                    60_000), "public_key", k.publicKeyBase64()), k);
            PlatformService service = running.service();
            String who = k.participantId();
            byte[] junk = new byte[200];
            long t0 = System.nanoTime();
            for (int i = 0; i < 20_000; i++) {
                try {
                    if (i % 2 == 0) {
                        service.uploadShard(who, 0, "no-lease", new java.io.ByteArrayInputStream(junk), junk.length,
                                "0".repeat(64));
                    } else {
                        service.uploadShared(who, new java.io.ByteArrayInputStream(junk), junk.length, "0".repeat(64));
                    }
                } catch (Exception refused) {
                    // every one is refused (or limited)
                }
            }
            long junkMillis = (System.nanoTime() - t0) / 1_000_000;
            List<Long> millis = new ArrayList<>();
            int bytes = 0;
            for (int i = 0; i < 11; i++) {
                long s0 = System.nanoTime();
                bytes = Json.mapper().writeValueAsBytes(service.status("bench")).length;
                millis.add((System.nanoTime() - s0) / 1_000_000);
            }
            millis.sort(Long::compare);
            System.err.println("BENCH 20,000 junk uploads in " + junkMillis + " ms: " + running.store().uploads().all().size()
                    + " upload rows, " + running.store().events().all().size() + " events; status " + bytes
                    + " bytes, median " + millis.get(5) + " ms, slowest " + millis.get(10) + " ms (of 11)");
        }
    }
}
