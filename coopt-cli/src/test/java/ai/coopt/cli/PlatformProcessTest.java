package ai.coopt.cli;

import ai.coopt.store.Json;
import ai.coopt.store.OptimizedDataset;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import ai.coopt.collab.LocalParticipant;
import ai.coopt.collab.ParticipantLoop;
import ai.coopt.collab.PriorReport;
import ai.coopt.optimize.Matrix;
import ai.coopt.platform.TestPlatform;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.client.RemotePlatform;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.EventKind;
import ai.coopt.platform.db.Fusion;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformService;
import ai.coopt.store.Checksums;
import ai.coopt.store.ManifestProvenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The networked platform as users run it: separate processes on loopback, killed with SIGKILL at awkward moments.
 * A participant killed while it holds a lease, and the platform killed twice during the round and restarted on the
 * same directory: the round still completes, every shard accepted exactly once, and the fused dataset verifies.
 */
class PlatformProcessTest {
    private static final String PRIOR = "zoo:convnet-s-byol-300s";
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private Process start(Path dir, String name, String... args) throws IOException {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        java.addAll(List.of(args));
        Process p = new ProcessBuilder(java).redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        started.add(p);
        return p;
    }

    /** A serve process on {@code db}, or (null) on the default database, platform.db in the platform's directory. */
    private Process serve(Path tmp, String name, int port, String db) throws Exception {
        List<String> args = new ArrayList<>(List.of("platform", "serve", "--dir", tmp.resolve("platform").toString()));
        if (db != null) {
            args.addAll(List.of("--db", db));
        }
        args.addAll(List.of("--data", "fashion-mnist", "--limit", "1500", "--shards", "4", "--shared-count", "60", "--seed",
                "3", "--port", Integer.toString(port), "--lease-seconds", "4", "--threads", "1", "--json"));
        Process p = start(tmp, name, args.toArray(String[]::new));
        Path out = tmp.resolve(name + ".out");
        for (int i = 0; i < 1200; i++) {
            if (Files.exists(out) && Files.readString(out).contains("\"url\"")) {
                operatorToken = OperatorToken.read(tmp.resolve("platform").resolve(OperatorToken.FILE));
                return p;
            }
            if (!p.isAlive()) {
                throw new AssertionError("the platform exited: " + Files.readString(tmp.resolve(name + ".err")));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the platform did not start in 2 minutes");
    }

    /** A loopback port free now, for a platform that must come back on the same one after a kill. */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The operator's token, which the last {@link #serve} made (or reused) in its platform directory. */
    private String operatorToken;

    private JsonNode status(String url) throws Exception {
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/v1/status"))
                .header("Authorization", "Bearer " + operatorToken).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        return Json.mapper().readTree(r.body());
    }

    private JsonNode await(String url, Predicate<JsonNode> condition, String what) throws Exception {
        for (int i = 0; i < 1800; i++) {
            try {
                JsonNode s = status(url);
                if (condition.test(s)) {
                    return s;
                }
            } catch (IOException e) {
                // the platform is restarting
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    /**
     * The platform SIGKILLed in the middle of an upload's body: after the restart nothing of it is stored or counted,
     * and the participant's retry (a new signature, the same bytes) is accepted once.
     */
    @Test
    void platformKilledMidUploadKeepsNothingAndTheRetryIsAcceptedOnce(@TempDir Path tmp) throws Exception {
        int port = freePort();
        String url = "http://127.0.0.1:" + port;
        String db = TestDatabases.sqlite(tmp);
        Process platform = serve(tmp, "serve1", port, db);
        // serve says where the operator's token is, never the token itself
        Path tokenPath = tmp.resolve("platform").resolve(OperatorToken.FILE);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenPath)));
        String served = Files.readString(tmp.resolve("serve1.err")) + Files.readString(tmp.resolve("serve1.out"));
        assertTrue(served.contains(tokenPath.toString()) && served.contains("/login?token="), served);
        assertFalse(served.contains(operatorToken), "the token is not printed");
        enroll(tmp, "alice", url);
        KeyFile alice = KeyFile.read(tmp.resolve("alice.key"));
        PlatformClient client = new PlatformClient(url, null, alice, Duration.ofSeconds(60), m -> { });
        JsonNode round = client.get("/v1/round");
        long[] shared = PlatformClient.longs(round.path("shared_ids"));
        int dim = 8;
        Path sharedFile = tmp.resolve("shared.safetensors");
        float[] onShared = new float[shared.length * dim];
        java.util.SplittableRandom random = new java.util.SplittableRandom(4);
        for (int i = 0; i < onShared.length; i++) {
            onShared[i] = (float) random.nextGaussian(); // not constant: a constant participant is quarantined at once
        }
        Uploads.write(sharedFile, shared, new Matrix(onShared, shared.length, dim),
                Uploads.priorMetadata(new PriorReport("random:convnet-s:1", "random", "0".repeat(64),
                        new ManifestProvenance.Input(1, 28, 28, List.of(0.5), List.of(0.25), "none"), dim, -1.0,
                        shared.length)));
        client.upload("/v1/shared", sharedFile);
        JsonNode lease = client.post("/v1/lease", Map.of());
        int shard = lease.path("shard").asInt();
        long[] ids = PlatformClient.longs(lease.path("ids"));
        Path upload = tmp.resolve("shard.safetensors");
        Uploads.write(upload, ids, new Matrix(new float[ids.length * dim], ids.length, dim), Map.of());
        byte[] body = Files.readAllBytes(upload);
        String path = "/v1/shards/" + shard + "/upload?token=" + lease.path("token").asText();

        // half the body, then the platform dies while it waits for the rest
        Map<String, String> h = RequestSignature.sign(alice.participantId(), alice.privateKey(), "POST", path,
                System.currentTimeMillis(), Checksums.sha256(upload));
        try (Socket socket = new Socket("127.0.0.1", port)) {
            StringBuilder req = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: " + body.length + "\r\n");
            h.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
            OutputStream out = socket.getOutputStream();
            out.write(req.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            out.write(body, 0, body.length / 2);
            out.flush();
            Path platformDir = tmp.resolve("platform");
            for (int i = 0; i < 100 && TestPlatform.stagedFiles(platformDir).isEmpty(); i++) {
                Thread.sleep(50);
            }
            assertFalse(TestPlatform.stagedFiles(platformDir).isEmpty(), "the upload is being staged");
            platform.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        platform = serve(tmp, "serve2", port, db);
        assertEquals(List.of(), TestPlatform.stagedFiles(tmp.resolve("platform")),
                "the half-received upload is gone (the killed process's staging directory with it)");
        JsonNode before = status(url);
        assertEquals(0, before.path("shards_by_state").path("accepted").asInt(), "nothing half-written is counted");

        JsonNode accepted = client.upload(path, upload);
        assertTrue(accepted.path("created").asBoolean(), "the retry is a new acceptance: " + accepted);
        JsonNode after = status(url);
        assertEquals(1, after.path("shards_by_state").path("accepted").asInt());
        long count = 0;
        for (JsonNode u : after.path("uploads")) {
            if (u.path("status").asText().equals("accepted") && u.path("shard").asInt(-1) == shard) {
                count++;
            }
        }
        assertEquals(1, count, "accepted exactly once");
        assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/health")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode());
        client.upload(path, upload);
        assertEquals(1, status(url).path("shards_by_state").path("accepted").asInt(), "a repeat changes nothing");

        // the next round waits for this one's fused dataset: one line, exit 2
        var early = CooptProcess.run(60, null, Map.of(), tmp, "platform", "next-round", "--dir",
                tmp.resolve("platform").toString());
        assertEquals(2, early.exit(), early.stderr());
        assertTrue(early.stderr().contains("round 1 is not finished: its fusion is waiting"), early.stderr());
        assertEquals(1, early.stderr().strip().lines().count(), early.stderr());

        // fusion forced with what is there, from another process beside the serving one
        var fuse = CooptProcess.run(120, null, Map.of(), tmp, "platform", "fuse", "--dir",
                tmp.resolve("platform").toString(), "--json");
        assertEquals(0, fuse.exit(), fuse.stderr());
        JsonNode fused = status(url).path("fusion");
        assertEquals("done", fused.path("state").asText());
        assertTrue(fused.path("forced").asBoolean());
        assertEquals(ids.length, fused.path("count").asInt(), "only the accepted shard's rows");
        var again = CooptProcess.run(120, null, Map.of(), tmp, "platform", "fuse", "--dir",
                tmp.resolve("platform").toString());
        assertEquals(2, again.exit(), "fusion is done already: " + again.stderr());

        // round 2 opens beside the running server, which serves it without a restart
        var next = CooptProcess.run(60, null, Map.of(), tmp, "platform", "next-round", "--dir",
                tmp.resolve("platform").toString(), "--json");
        assertEquals(0, next.exit(), next.stderr());
        JsonNode opened = Json.mapper().readTree(next.stdout());
        assertEquals(2, opened.path("round").asInt());
        assertEquals(1, opened.path("previous").asInt());
        JsonNode second = status(url);
        // the status is the operator's (and the participants'): without the token one line, exit 2; with it, read
        String tokenFile = tmp.resolve("platform").resolve(OperatorToken.FILE).toString();
        var refused = CooptProcess.run(60, null, Map.of(), tmp, "platform", "status", "--platform", url);
        assertEquals(2, refused.exit(), refused.stderr());
        assertEquals(1, refused.stderr().strip().lines().count(), refused.stderr());
        assertTrue(refused.stderr().contains("HTTP 401") && refused.stderr().contains("operator"), refused.stderr());
        var asOperator = CooptProcess.run(60, null, Map.of(), tmp, "platform", "status", "--platform", url,
                "--operator-token-file", tokenFile, "--json");
        assertEquals(0, asOperator.exit(), asOperator.stderr());
        assertEquals(2, Json.mapper().readTree(asOperator.stdout()).path("round").path("id").asInt());
        var noDataset = CooptProcess.run(60, null, Map.of(), tmp, "platform", "download", "--platform", url,
                "--round", "1", "--out", tmp.resolve("refused").toString());
        assertEquals(2, noDataset.exit(), noDataset.stderr());
        assertTrue(noDataset.stderr().contains("HTTP 401"), noDataset.stderr());
        assertEquals(2, second.path("round").path("id").asInt());
        assertEquals(2, second.path("rounds").size());
        assertEquals("done", second.path("rounds").path(0).path("fusion").asText());
        assertEquals("/v1/dataset?round=1", second.path("rounds").path(0).path("dataset").asText());
        assertEquals("waiting", second.path("fusion").path("state").asText());
        assertEquals(0, second.path("shards_by_state").path("accepted").asInt());
        assertEquals(round.path("shards").asInt(), second.path("shards_by_state").path("open").asInt(), "every shard open");
        assertEquals(2, client.get("/v1/round").path("round").asInt());
        PlatformClient.Refusal noShared = assertThrows(PlatformClient.Refusal.class, () -> client.post("/v1/lease", Map.of()));
        assertEquals(409, noShared.status(), "outputs on S are sent again each round (another prior may come)");
        var third = CooptProcess.run(60, null, Map.of(), tmp, "platform", "next-round", "--dir",
                tmp.resolve("platform").toString());
        assertEquals(2, third.exit(), third.stderr());
        assertTrue(third.stderr().contains("round 2 is not finished"), third.stderr());
        // round 1's dataset stays downloadable
        var download = CooptProcess.run(120, null, Map.of(), tmp, "platform", "download", "--platform", url,
                "--operator-token-file", tmp.resolve("platform").resolve(OperatorToken.FILE).toString(),
                "--round", "1", "--out", tmp.resolve("round1").toString(), "--json");
        assertEquals(0, download.exit(), download.stderr());
        assertEquals(1, Json.mapper().readTree(download.stdout()).path("round").asInt());
        assertEquals(ids.length, OptimizedDataset.read(tmp.resolve("round1")).count());
        var notYet = CooptProcess.run(60, null, Map.of(), tmp, "platform", "download", "--platform", url,
                "--operator-token-file", tmp.resolve("platform").resolve(OperatorToken.FILE).toString(),
                "--round", "2", "--out", tmp.resolve("round2").toString());
        assertEquals(2, notYet.exit(), notYet.stderr());
        assertTrue(notYet.stderr().contains("round 2's fused dataset is not ready (fusion: waiting)"), notYet.stderr());

        // the operator revokes alice beside the running server, which refuses her from then on
        String platformDir = tmp.resolve("platform").toString();
        var revoke = CooptProcess.run(60, null, Map.of(), tmp, "platform", "revoke", "--dir", platformDir,
                "--participant", alice.participantId(), "--reason", "left the federation", "--json");
        assertEquals(0, revoke.exit(), revoke.stderr());
        JsonNode revoked = Json.mapper().readTree(revoke.stdout());
        assertTrue(revoked.path("revoked").asBoolean());
        assertEquals("revoked by the operator: left the federation", revoked.path("reason").asText());
        PlatformClient.Refusal gone = assertThrows(PlatformClient.Refusal.class, () -> client.upload("/v1/shared", sharedFile));
        assertEquals(403, gone.status());
        assertTrue(gone.getMessage().contains("revoked by the operator: left the federation"), gone.getMessage());
        var twice = CooptProcess.run(60, null, Map.of(), tmp, "platform", "revoke", "--dir", platformDir,
                "--participant", alice.participantId(), "--reason", "again");
        assertEquals(0, twice.exit(), twice.stderr());
        assertTrue(twice.stdout().contains("was already quarantined: revoked by the operator: left the federation"),
                twice.stdout());
        var nobody = CooptProcess.run(60, null, Map.of(), tmp, "platform", "revoke", "--dir", platformDir,
                "--participant", "p-nobody", "--reason", "x");
        assertEquals(2, nobody.exit(), nobody.stderr());
        assertEquals(1, nobody.stderr().strip().lines().count(), nobody.stderr());
        assertTrue(nobody.stderr().contains("--participant p-nobody: no such participant"), nobody.stderr());
        platform.destroy();
        platform.waitFor(30, TimeUnit.SECONDS);
    }

    private static boolean hasChromium() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, "chromium")) || Files.isExecutable(Path.of(dir, "chromium-browser"))) {
                return true;
            }
        }
        return false;
    }

    private String dashboardHtml(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url + "/"))
                        .header("Authorization", "Bearer " + operatorToken).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String enroll(Path tmp, String name, String url) throws Exception {
        var invite = CooptProcess.run(60, null, Map.of(), tmp, "platform", "invite", "--dir",
                tmp.resolve("platform").toString(), "--name", name, "--json");
        assertEquals(0, invite.exit(), invite.stderr());
        String token = Json.mapper().readTree(invite.stdout()).path("invite").asText();
        var enrolled = CooptProcess.run(60, null, Map.of(), tmp, "participant", "enroll", "--platform", url, "--invite",
                token, "--key", tmp.resolve(name + ".key").toString(), "--json");
        assertEquals(0, enrolled.exit(), enrolled.stderr());
        return Json.mapper().readTree(enrolled.stdout()).path("participant_id").asText();
    }

    /**
     * A serve process on the default database (platform.db in its directory) sees what other processes write to it: an
     * invite made by {@code coopt platform invite} after the server started enrols. The server used to make its
     * directory private after opening the database, and changing the file's mode dropped SQLite's locks on it in that
     * process, which then read a stale database ("unknown invite token"; the load benchmark's SQLite case failed so).
     */
    @Test
    void aServeOnItsDefaultSqliteDatabaseSeesInvitesOtherProcessesWrite(@TempDir Path tmp) throws Exception {
        int port = freePort();
        Process platform = serve(tmp, "serve1", port, null);
        try {
            String url = "http://127.0.0.1:" + port;
            assertTrue(Files.isRegularFile(tmp.resolve("platform").resolve("platform.db")));
            for (String name : List.of("ada", "bob")) {
                assertFalse(enroll(tmp, name, url).isEmpty(), name);
            }
        } finally {
            platform.destroyForcibly().waitFor();
        }
    }

    /**
     * The platform SIGKILLed while an audit is pending (its participant is still computing the answer) and restarted:
     * the audit survives with its full time again, nothing is fused while it is pending, and the participant's answer
     * (retried across the restart) passes it; then the round completes with every audit passed.
     */
    @Test
    void platformKilledMidAuditResumesTheAuditAndFusesNothingUnaudited(@TempDir Path tmp) throws Exception {
        int port = freePort();
        String url = "http://127.0.0.1:" + port;
        String db = TestDatabases.sqlite(tmp);
        Process platform = serve(tmp, "serve1", port, db);
        String carol = enroll(tmp, "carol", url);
        java.util.concurrent.CountDownLatch answer = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        Thread participant = new Thread(() -> {
            try {
                PlatformClient client = new PlatformClient(url, null, KeyFile.read(tmp.resolve("carol.key")),
                        Duration.ofMinutes(3), m -> { });
                Path work = Files.createDirectories(tmp.resolve("carol-work"));
                RemotePlatform remote = new RemotePlatform(client, carol, work, null);
                try (ai.coopt.store.Scratch scratch = ai.coopt.store.Scratch.beside(work.resolve("scratch"));
                     LocalParticipant local = new LocalParticipant(carol, PRIOR, remote.shared(), ai.djl.Device.cpu(),
                             128, ai.coopt.util.ProgressListener.NONE, scratch)) {
                    ai.coopt.collab.Participant slow = new ai.coopt.collab.Participant() {
                        @Override public String id() { return carol; }
                        @Override public ai.coopt.collab.SharedOutputs embedShared(ai.coopt.data.ImageSet im) { return local.embedShared(im); }
                        @Override public ai.coopt.collab.ShardOutputs embedShard(int k, ai.coopt.data.ImageSet im, long[] ids) {
                            return local.embedShard(k, im, ids);
                        }
                        @Override public float[] embedImages(ai.coopt.data.ImageSet im) {
                            try {
                                answer.await(); // the first answer waits until the platform was killed and restarted
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            return local.embedImages(im);
                        }
                        @Override public void close() { }
                    };
                    ParticipantLoop.run(remote, slow, 0, Thread::sleep);
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "carol");
        participant.start();
        JsonNode before = await(url, st -> st.path("audits").size() == 1
                && "pending".equals(st.path("audits").get(0).path("state").asText()), "a pending audit");
        long firstDeadline = before.path("audits").get(0).path("deadline").asLong();
        platform.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        Thread.sleep(1500);
        platform = serve(tmp, "serve2", port, db);
        JsonNode after = status(url);
        assertEquals("pending", after.path("audits").get(0).path("state").asText(), "the audit survived the kill");
        assertTrue(after.path("audits").get(0).path("deadline").asLong() > firstDeadline,
                "the platform was down: the audit got its full time again");
        assertEquals("waiting", after.path("fusion").path("state").asText(), "nothing fused while an audit is pending");
        answer.countDown();
        participant.join(TimeUnit.MINUTES.toMillis(5));
        assertTrue(!participant.isAlive() && failed.get() == null, "carol finished: " + failed.get());
        JsonNode done = await(url, x -> "done".equals(x.path("fusion").path("state").asText()), "fusion");
        assertEquals(4, done.path("audits").size());
        java.util.Set<Long> audited = new java.util.HashSet<>();
        for (JsonNode a : done.path("audits")) {
            assertEquals("passed", a.path("state").asText(), a.toString());
            audited.add(a.path("upload").asLong());
        }
        for (JsonNode u : done.path("uploads")) {
            if (u.path("status").asText().equals("accepted") && !u.path("shard").isNull()) {
                assertTrue(audited.contains(u.path("id").asLong()), "upload " + u.path("id") + " fused without a passed audit");
            }
        }
        platform.destroy();
        platform.waitFor(30, TimeUnit.SECONDS);
    }

    /**
     * Two serve processes on one directory and database: the one that joins leaves the live one's staging directory
     * and running fusion alone, and takes the fusion over as soon as that process is SIGKILLed (its lock is free), well
     * before the heartbeat timeout.
     */
    @Test
    void aSecondServeProcessLeavesALiveOnesWorkAloneAndTakesOverAKilledOnesFusion(@TempDir Path tmp) throws Exception {
        String db = TestDatabases.sqlite(tmp);
        Process first = serve(tmp, "first", 0, db);
        Path staging = tmp.resolve("platform").resolve("staging");
        List<Path> dirs;
        try (var list = Files.list(staging)) {
            dirs = list.toList();
        }
        assertEquals(1, dirs.size(), dirs.toString());
        String firstId = dirs.get(0).getFileName().toString();
        try (Database database = Database.open(db)) {
            PlatformStore store = new PlatformStore(database);
            // as if the first process had started fusing (its heartbeat is fresh, it is alive)
            assertTrue(store.fusion().set(FusionState.RUNNING, firstId, true, null, System.currentTimeMillis()));
            serve(tmp, "second", 0, db);
            assertTrue(Files.isDirectory(staging.resolve(firstId)), "a live process's staging directory stays");
            Thread.sleep(2 * PlatformService.FUSION_HEARTBEAT_MILLIS);
            assertEquals(firstId, store.fusion().state().owner(), "a live owner's fusion is left to it");
            assertEquals(FusionState.RUNNING, store.fusion().state().state());

            long killed = System.currentTimeMillis();
            first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            Fusion f = store.fusion().state();
            for (int i = 0; i < 300 && (firstId.equals(f.owner()) || f.state() == FusionState.RUNNING); i++) {
                Thread.sleep(100);
                f = store.fusion().state();
            }
            assertNotEquals(firstId, f.owner(), "the second process took the fusion over: " + f);
            assertTrue(System.currentTimeMillis() - killed < PlatformService.FUSION_TIMEOUT_MILLIS,
                    "without waiting for the heartbeat timeout");
            // nothing is accepted in this round, so the second process's run fails, recorded by it
            assertEquals(FusionState.FAILED, f.state(), f.toString());
            assertTrue(f.detailJson().contains("no shard is accepted"), f.detailJson());
            assertTrue(store.events().all().stream().anyMatch(e -> e.kind() == EventKind.FUSION_FAILED
                    && e.detail() != null && e.detail().contains(firstId)), "the takeover is on the timeline");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void killedParticipantAndKilledPlatformStillCompleteTheRound(String vendor, @TempDir Path tmp) throws Exception {
        String db = vendor.equals("sqlite") ? TestDatabases.sqlite(tmp) : TestDatabases.postgresqlFreshSchema();
        try {
            round(tmp, db);
        } finally {
            if (vendor.equals("postgresql")) {
                killLeftovers();
                TestDatabases.dropSchema(db);
            }
        }
    }

    private void round(Path tmp, String db) throws Exception {
        int port = freePort();
        String url = "http://127.0.0.1:" + port;
        Process platform = serve(tmp, "serve1", port, db);
        String alice = enroll(tmp, "alice", url);
        String bob = enroll(tmp, "bob", url);

        // alice takes a shard and is killed while she holds it
        Process a = start(tmp, "alice-run", "participant", "run", "--platform", url, "--key",
                tmp.resolve("alice.key").toString(), "--prior", PRIOR, "--threads", "1");
        await(url, s -> {
            for (JsonNode shard : s.path("shards")) {
                if (alice.equals(shard.path("lease_holder").asText(null))) {
                    return true;
                }
            }
            return false;
        }, "alice to hold a lease");
        a.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

        // the platform is killed and restarted on the same directory
        platform.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        platform = serve(tmp, "serve2", port, db);

        // bob does the whole round, waiting out alice's lease; the platform is killed once more under him
        // bob runs another prior than alice: the same one would send a copy of her outputs on S, and be excluded
        Process b = start(tmp, "bob-run", "participant", "run", "--platform", url, "--key",
                tmp.resolve("bob.key").toString(), "--prior", "zoo:resnet-s-byol-90s", "--threads", "1", "--json");
        await(url, s -> s.path("shards_by_state").path("accepted").asInt() >= 1, "a first accepted shard");
        platform.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        platform = serve(tmp, "serve3", port, db);
        assertTrue(b.waitFor(5, TimeUnit.MINUTES), "bob finishes");
        assertEquals(0, b.exitValue(), Files.readString(tmp.resolve("bob-run.err")));

        JsonNode s = await(url, x -> "done".equals(x.path("fusion").path("state").asText()), "fusion");
        assertEquals(4, s.path("shards_by_state").path("accepted").asInt());
        int accepted = 0;
        for (JsonNode u : s.path("uploads")) {
            if (u.path("status").asText().equals("accepted") && !u.path("shard").isNull()) {
                accepted++;
                assertEquals(bob, u.path("participant").asText());
            }
        }
        assertEquals(4, accepted, "each shard accepted exactly once");

        var download = CooptProcess.run(120, null, Map.of(), tmp, "platform", "download", "--platform", url,
                "--operator-token-file", tmp.resolve("platform").resolve(OperatorToken.FILE).toString(), "--out",
                tmp.resolve("fused").toString(), "--json");
        assertEquals(0, download.exit(), download.stderr());
        OptimizedDataset d = OptimizedDataset.read(tmp.resolve("fused"));
        assertEquals(1500, d.count());
        var inspect = CooptProcess.run(120, null, Map.of(), tmp, "inspect", tmp.resolve("fused").toString());
        assertEquals(0, inspect.exit(), inspect.stderr());

        // the dashboard of the running platform, in a real browser (CI installs chromium)
        if (System.getenv("CI") == null) {
            org.junit.jupiter.api.Assumptions.assumeTrue(hasChromium(), "chromium is not installed");
        }
        Path script = ai.coopt.util.ProjectHome.resolve("scripts/check_dashboard.sh").orElseThrow();
        Process check = new ProcessBuilder("bash", script.toString(), "--participants", "2",
                "--operator-token-file", tmp.resolve("platform").resolve(OperatorToken.FILE).toString(), url,
                tmp.resolve("dashboard.png").toString()).redirectErrorStream(true).start();
        String log = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(120, TimeUnit.SECONDS), "chromium hung");
        assertEquals(0, check.exitValue(), log);
        String dom = dashboardHtml(url);
        assertTrue(dom.contains("alice") && dom.contains("bob") && dom.contains("/v1/dataset"), "names and the download link");
        platform.destroy();
        platform.waitFor(30, TimeUnit.SECONDS);
        assertTrue(Files.readString(tmp.resolve("serve3.err"), StandardCharsets.UTF_8).contains("serving"));
    }
}
