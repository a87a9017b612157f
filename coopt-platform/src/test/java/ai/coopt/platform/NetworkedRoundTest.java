package ai.coopt.platform;

import ai.coopt.UserException;
import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.collab.LocalParticipant;
import ai.coopt.collab.ParticipantLoop;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.CachingParticipant;
import ai.coopt.platform.client.DatasetDownload;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.client.RemotePlatform;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.platform.server.PlatformServer;
import ai.coopt.store.Checksums;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.RowFile;
import ai.coopt.store.Scratch;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import ai.coopt.platform.db.TestDatabases;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A whole round over loopback HTTP, in one JVM: a platform on real Fashion-MNIST images, participants enrolled with
 * invites and signed requests, shards leased, embedded, uploaded and checked, fusion, and the download.
 */
class NetworkedRoundTest {
    private static final int N = 1200;
    private static final String ZOO = "zoo:convnet-s-byol-300s";

    private static ImageSet fashion() {
        return DatasetSpec.parse("fashion-mnist").load("train", N);
    }

    private static PlatformConfig config(ImageSet images, int shards) {
        return new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", N, null, images.count(),
                images.fingerprint(), 0, shards, null, 60, 5, 60, "ridge", 0, Instant.now().toString(), "test",
                List.of("coopt", "platform", "serve"));
    }

    /** One participant doing every shard makes the same targets as the in-process pipeline with that one prior. */
    @Test
    void oneParticipantOverHttpMatchesTheInProcessRun(@TempDir Path tmp) throws Exception {
        ImageSet images = fashion();
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, config(images, 3), images, null)) {
            PlatformStore store = running.store();
            String url = running.url();
            runParticipant(url, store, tmp.resolve("alice.key"), "alice", ZOO, 0);
            awaitFusion(running);
            DatasetDownload.Result r = DatasetDownload.fetch(running.operator(), tmp.resolve("downloaded"));
            assertEquals(N, r.count());
            datasetRequestsReadNoData(running, tmp.resolve("platform"));
}
        CollaborativeOptimization.run(DatasetSpec.parse("fashion-mnist"), "train", N, List.of(ZOO), tmp.resolve("local"),
                new CollaborativeOptimization.Settings(1, null, 60, "ridge", 0, 256, 5), Device.cpu(), ProgressListener.NONE,
                new ManifestProvenance.Created(Instant.now(), "test", List.of("coopt", "collab"), 5));
        OptimizedDataset net = OptimizedDataset.read(tmp.resolve("downloaded"));
        OptimizedDataset local = OptimizedDataset.read(tmp.resolve("local"));
        assertArrayEquals(local.ids(), net.ids());
        assertEquals(local.dim(), net.dim());
        try (RowFile a = local.targets(); RowFile b = net.targets()) {
            float[] x = new float[N * a.dim()];
            float[] y = new float[N * b.dim()];
            a.read(0, N, x, 0);
            b.read(0, N, y, 0);
            double worst = 0;
            for (int i = 0; i < x.length; i++) {
                worst = Math.max(worst, Math.abs(x[i] - y[i]));
            }
            assertTrue(worst < 1e-3, "largest difference " + worst);
        }
    }

    /**
     * Dataset requests read the checksums fusion recorded, never the data: with the largest file rewritten afterwards
     * (same size, zeros) the listing still names fusion's sha256, and a 404 name touches nothing. A file comes whole
     * or from a byte range (206, Content-Range; 416 past its end), and a partial download is resumed.
     */
    private static void datasetRequestsReadNoData(TestPlatform running, Path platformDir) throws Exception {
        Path fused = platformDir.resolve("fused");
        String url = running.url();
        String bearer = "Bearer " + running.operatorToken();
        PlatformClient operator = running.operator();
        JsonNode before = operator.get("/v1/dataset").path("files");
        JsonNode biggest = before.get(0);
        for (JsonNode f : before) {
            biggest = f.path("bytes").asLong() > biggest.path("bytes").asLong() ? f : biggest;
        }
        Files.write(fused.resolve(biggest.path("name").asText()), new byte[biggest.path("bytes").asInt()]);
        assertEquals(before, operator.get("/v1/dataset").path("files"), "listed from the checksums taken at fusion");
        assertEquals(404, assertThrows(PlatformClient.Refusal.class,
                () -> operator.get("/v1/dataset/no-such-file.bin")).status());

        byte[] manifest = Files.readAllBytes(fused.resolve(OptimizedDataset.MANIFEST_FILE));
        HttpClient http = HttpClient.newHttpClient();
        URI manifestUrl = URI.create(url + "/v1/dataset/" + OptimizedDataset.MANIFEST_FILE);
        HttpResponse<byte[]> part = http.send(HttpRequest.newBuilder(manifestUrl).header("Range", "bytes=10-")
                .header("Authorization", bearer).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(206, part.statusCode());
        assertEquals("bytes 10-" + (manifest.length - 1) + "/" + manifest.length,
                part.headers().firstValue("Content-Range").orElse(""));
        assertArrayEquals(Arrays.copyOfRange(manifest, 10, manifest.length), part.body());
        assertEquals(416, http.send(HttpRequest.newBuilder(manifestUrl).header("Range", "bytes=" + manifest.length + "-")
                .header("Authorization", bearer).build(), HttpResponse.BodyHandlers.ofByteArray()).statusCode());

        Path into = platformDir.resolveSibling("resumed").resolve(OptimizedDataset.MANIFEST_FILE);
        Files.createDirectories(into.getParent());
        Files.write(into.resolveSibling("." + OptimizedDataset.MANIFEST_FILE + ".download"), Arrays.copyOf(manifest, 100));
        operator.download("/v1/dataset/" + OptimizedDataset.MANIFEST_FILE, into, Checksums.sha256(
                fused.resolve(OptimizedDataset.MANIFEST_FILE)), false);
        assertArrayEquals(manifest, Files.readAllBytes(into));
        // a partial file that is no prefix of this one (another round's, say): fetched again from the start
        Path again = into.resolveSibling("again").resolve(OptimizedDataset.MANIFEST_FILE);
        Files.createDirectories(again.getParent());
        Files.write(again.resolveSibling("." + OptimizedDataset.MANIFEST_FILE + ".download"), new byte[100]);
        operator.download("/v1/dataset/" + OptimizedDataset.MANIFEST_FILE, again, Checksums.sha256(
                fused.resolve(OptimizedDataset.MANIFEST_FILE)), false);
        assertArrayEquals(manifest, Files.readAllBytes(again));
    }

    /**
     * Three participants with different priors share the shards; every shard is accepted once and fused. The same
     * round against SQLite and against PostgreSQL (a fresh schema of the test database, which CI starts).
     */
    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void threeParticipantsShareTheShardsAndFuse(String vendor, @TempDir Path tmp) throws Exception {
        ImageSet images = fashion();
        String url = vendor.equals("sqlite") ? TestDatabases.sqlite(tmp) : TestDatabases.postgresqlFreshSchema();
        try (TestPlatform running = TestPlatform.start(url, tmp, config(images, 6), images, null)) {
            PlatformStore store = running.store();
            String platform = running.url();
            List<String> priors = List.of(ZOO, "zoo:resnet-s-byol-90s", "random:convnet-s:3");
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<ParticipantLoop.Summary>> runs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int k = i;
                runs.add(pool.submit(() -> runParticipant(platform, store, tmp.resolve("p" + k + ".key"), "p" + k,
                        priors.get(k), 0)));
            }
            int shards = 0;
            for (Future<ParticipantLoop.Summary> f : runs) {
                shards += f.get(10, TimeUnit.MINUTES).shards();
            }
            pool.shutdown();
            assertEquals(6, shards, "every shard is accepted exactly once");
            JsonNode status = awaitFusion(running);
            assertEquals(6, status.path("shards_by_state").path("accepted").asInt());
            assertEquals(3, status.path("uniformity").size());
            DatasetDownload.Result r = DatasetDownload.fetch(running.operator(), tmp.resolve("downloaded"));
            assertEquals(N, r.count());
            OptimizedDataset d = OptimizedDataset.read(tmp.resolve("downloaded"));
            assertEquals(N, d.provenance().participants().stream().mapToInt(p -> p.shard().count()).sum());
} finally {
            if (vendor.equals("postgresql")) {
                TestDatabases.dropSchema(url);
            }
        }
    }

    /**
     * A participant with its own copy of the data cuts its shards from it instead of downloading them, checked byte
     * for byte against the platform's checksums; a copy that is not the platform's data is refused before any work.
     */
    @Test
    void aLocalCopyOfTheDataIsUsedAndCheckedAgainstThePlatforms(@TempDir Path tmp) throws Exception {
        ImageSet images = fashion();
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, config(images, 2), images, null)) {
            PlatformStore store = running.store();
            String url = running.url();
            String invite = store.participants().createInvite("local", System.currentTimeMillis(), 60_000);
            KeyFile keys = KeyFile.create(tmp.resolve("local.key"));
            PlatformClient client = new PlatformClient(url, null, keys, Duration.ofSeconds(30), System.err::println);
            client.post("/v1/enroll", Map.of("invite", invite, "public_key", keys.publicKeyBase64()), keys);
            UserException wrong = assertThrows(UserException.class, () -> new RemotePlatform(client,
                    keys.participantId(), tmp.resolve("w0"), DatasetSpec.parse("fashion-mnist").load("train", N - 1)));
            assertTrue(wrong.getMessage().contains("fingerprint"), wrong.getMessage());
            Path work = tmp.resolve("work");
            RemotePlatform remote = new RemotePlatform(client, keys.participantId(), work, fashion());
            ImageSet shared = remote.shared();
            try (Scratch scratch = Scratch.beside(work.resolve("embed"));
                 LocalParticipant inner = new LocalParticipant(keys.participantId(), ZOO, shared, Device.cpu(), 128,
                         ProgressListener.NONE, scratch);
                 CachingParticipant p = new CachingParticipant(inner, inner.weightsSha256(), remote::outputsFile)) {
                assertEquals(2, ParticipantLoop.run(remote, p, 0, Thread::sleep).shards());
            }
            awaitFusion(running);
            assertEquals(0, store.events().all().stream().filter(e -> e.kind().name().equals("UPLOAD_REFUSED")).count());
}
    }

    /** Over TLS with a self-signed certificate the participant trusts by --ca-cert; plain HTTP to it fails. */
    @Test
    void tlsWithASelfSignedCertificate(@TempDir Path tmp) throws Exception {
        Path keystore = tmp.resolve("platform.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-alias", "coopt", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "s3cret-pass", "-dname",
                "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost");
        Path pem = tmp.resolve("platform.pem");
        run(keytool, "-exportcert", "-rfc", "-alias", "coopt", "-keystore", keystore.toString(), "-storepass",
                "s3cret-pass", "-file", pem.toString());
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", 300);
        PlatformConfig c = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", 300, null, 300,
                images.fingerprint(), 0, 2, null, 20, 1, 60, "ridge", 0, Instant.now().toString(), "test", List.of("t"));
        try (TestPlatform running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, c, images,
                new PlatformServer.Tls(keystore, "s3cret-pass".toCharArray()))) {
            PlatformStore store = running.store();
            String url = running.url();
            assertTrue(url.startsWith("https://"), url);
            PlatformClient trusting = new PlatformClient(url, pem, null, Duration.ofSeconds(5), System.err::println);
            assertEquals("ok", trusting.get("/health").path("status").asText());
            PlatformClient untrusting = new PlatformClient(url, null, null, Duration.ofSeconds(2), m -> { });
            assertThrows(RuntimeException.class, () -> untrusting.get("/health"),
                    "a certificate nobody vouched for is refused");
            String invite = store.participants().createInvite("tls", System.currentTimeMillis(), 60_000);
            KeyFile keys = KeyFile.create(tmp.resolve("tls.key"));
            PlatformClient signed = new PlatformClient(url, pem, keys, Duration.ofSeconds(5), System.err::println);
            assertEquals(keys.participantId(), signed.post("/v1/enroll", Map.of("invite", invite, "public_key",
                    keys.publicKeyBase64()), keys).path("participant_id").asText());
}
    }

    static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    static ParticipantLoop.Summary runParticipant(String url, PlatformStore store, Path keyFile, String name,
                                                  String prior, int maxShards) {
        String invite = store.participants().createInvite(name, System.currentTimeMillis(), 60_000);
        KeyFile keys = KeyFile.create(keyFile);
        PlatformClient client = new PlatformClient(url, null, keys, Duration.ofSeconds(30), System.err::println);
        client.post("/v1/enroll", Map.of("invite", invite, "public_key", keys.publicKeyBase64()), keys);
        Path work = keyFile.resolveSibling(name + ".work");
        RemotePlatform remote = new RemotePlatform(client, keys.participantId(), work, null);
        ImageSet shared = remote.shared();
        try (Scratch scratch = Scratch.beside(work.resolve("embed"));
             LocalParticipant inner = new LocalParticipant(keys.participantId(), prior, shared, Device.cpu(), 128,
                     ProgressListener.NONE, scratch);
             CachingParticipant p = new CachingParticipant(inner, inner.weightsSha256(), remote::outputsFile)) {
            return ParticipantLoop.run(remote, p, maxShards, Thread::sleep);
        }
    }

    /** The status once fused, read as the operator. */
    static JsonNode awaitFusion(TestPlatform running) throws InterruptedException {
        PlatformClient client = running.operator();
        for (int i = 0; i < 600; i++) {
            JsonNode s = client.get("/v1/status");
            String state = s.path("fusion").path("state").asText();
            if (state.equals("done")) {
                return s;
            }
            if (state.equals("failed")) {
                throw new AssertionError("fusion failed: " + s.path("fusion"));
            }
            Thread.sleep(200);
        }
        throw new AssertionError("fusion did not finish in 2 minutes");
    }
}
