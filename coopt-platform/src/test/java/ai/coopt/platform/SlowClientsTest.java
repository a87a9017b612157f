package ai.coopt.platform;

import ai.coopt.optimize.Matrix;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.server.PlatformServer;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slow clients cannot exhaust the server: 300 connections send their bodies a byte at a time (half enrolments, half
 * signed requests with a junk signature for an enrolled participant), reconnecting when the server drops them, while
 * {@code /health} is polled and an honest participant enrols, uploads its outputs on S, leases a shard and uploads
 * it. The server runs with its default thread pool (250 threads, fewer than the slow connections); a JSON body's
 * deadline is shortened to 1 s so the test ends in seconds. Loopback only; the attack stops after at most 20 s.
 */
class SlowClientsTest {
    private static final int DIM = 8;
    private static final int SLOW = 300;
    private static final PlatformServer.Limits LIMITS = new PlatformServer.Limits(250, 10_000, 8, 4, 1_000, 1_000, 1024);

    @TempDir
    Path tmp;

    @Test
    void slowBodiesNeitherStallHealthNorStopAnHonestParticipant() throws Exception {
        try (TestPlatform running = TestPlatform.small(tmp, null, System::currentTimeMillis, LIMITS)) {
            String url = running.url();
            KeyFile alice = KeyFile.create(tmp.resolve("alice.key"));
            client(url, alice).post("/v1/enroll", Map.of("invite", invite(running, "alice"),
                    "public_key", alice.publicKeyBase64()), alice);
            KeyFile carol = KeyFile.create(tmp.resolve("carol.key"));
            String carolInvite = invite(running, "carol");
            URI u = URI.create(url);

            List<Socket> slow = new ArrayList<>();
            for (int i = 0; i < SLOW; i++) {
                slow.add(open(u, i, alice.participantId()));
            }
            Thread trickle = new Thread(() -> trickle(u, slow, alice.participantId()), "slow-clients");
            trickle.setDaemon(true);
            trickle.start();
            try {
                Thread.sleep(500);
                CompletableFuture<JsonNode> honest = CompletableFuture.supplyAsync(() -> honestRound(url, carol, carolInvite));
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                List<Long> millis = new ArrayList<>();
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                // poll /health for at least 5 s and until the honest participant is done (at most 20 s)
                long minEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (System.nanoTime() < end && (System.nanoTime() < minEnd || !honest.isDone())) {
                    long t0 = System.nanoTime();
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/health"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    millis.add((System.nanoTime() - t0) / 1_000_000);
                    assertEquals(200, r.statusCode(), r.body());
                    Thread.sleep(50);
                }
                Collections.sort(millis);
                System.err.println("SlowClientsTest: /health " + millis.size() + " polls, median "
                        + millis.get(millis.size() / 2) + " ms, slowest " + millis.get(millis.size() - 1) + " ms");
                long p99 = millis.get((int) Math.ceil(0.99 * millis.size()) - 1);
                assertTrue(p99 < 1000, "/health p99 " + p99 + " ms over " + millis.size() + " polls; slowest "
                        + millis.get(millis.size() - 1) + " ms");
                JsonNode accepted = honest.get(1, TimeUnit.SECONDS);
                assertTrue(accepted.path("id").asLong() > 0, accepted.toString());
                assertTrue(running.store().uploads().all().stream().anyMatch(x -> x.accepted() && x.shard() != null),
                        "the honest participant's shard was accepted");
            } finally {
                trickle.interrupt();
                trickle.join(5_000);
                synchronized (slow) {
                    for (Socket s : slow) {
                        s.close();
                    }
                }
            }
        }
    }

    /**
     * An enrolled participant's properly signed upload that trickles (10 bytes/s) is cut off once the grace period is
     * over (here 1 s at 1 KiB/s); while four of its uploads are sending their bodies, a fifth is refused at once with
     * 503 and Retry-After.
     */
    @Test
    void aSlowSignedUploadIsCutOffAndAParticipantsReadersAreBounded() throws Exception {
        Files.createDirectories(tmp.resolve("a"));
        Files.createDirectories(tmp.resolve("b"));
        try (TestPlatform slow = TestPlatform.small(tmp.resolve("a"), null, System::currentTimeMillis, LIMITS);
             TestPlatform patient = TestPlatform.small(tmp.resolve("b"), null, System::currentTimeMillis,
                     new PlatformServer.Limits(250, 30_000, 8, 4, 30_000, 30_000, 1024))) {
            KeyFile k = KeyFile.create(tmp.resolve("slow.key"));
            client(slow.url(), k).post("/v1/enroll", Map.of("invite", invite(slow, "slow"), "public_key",
                    k.publicKeyBase64()), k);
            // a well-formed upload (outputs on S), so that nothing but its pace is wrong
            long[] shared = PlatformClient.longs(client(slow.url(), k).get("/v1/round").path("shared_ids"));
            Path file = tmp.resolve("slow-shared.safetensors");
            Uploads.write(file, shared, new Matrix(TestPlatform.gaussian(shared.length * DIM, 1), shared.length, DIM),
                    Uploads.priorMetadata(TestPlatform.report(DIM)));
            byte[] body = Files.readAllBytes(file);
            try (Socket s = signedUpload(URI.create(slow.url()), k, body, 0)) {
                s.setSoTimeout(10_000);
                long t0 = System.nanoTime();
                String answer = "";
                try {
                    for (int i = 1; i < 100; i++) {
                        s.getOutputStream().write(body[i]);
                        s.getOutputStream().flush();
                        Thread.sleep(100);
                    }
                    answer = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                } catch (IOException closed) {
                    // the platform closed the connection
                }
                long millis = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(millis < 6_000 && !answer.contains(" 20"), "a 10 bytes/s upload ran " + millis
                        + " ms and got '" + answer + "'");
            }

            KeyFile p = KeyFile.create(tmp.resolve("patient.key"));
            client(patient.url(), p).post("/v1/enroll", Map.of("invite", invite(patient, "patient"), "public_key",
                    p.publicKeyBase64()), p);
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    held.add(signedUpload(URI.create(patient.url()), p, body, i + 1));
                }
                Thread.sleep(1_000);
                try (Socket fifth = signedUpload(URI.create(patient.url()), p, body, 9)) {
                    fifth.setSoTimeout(10_000);
                    String head = new String(fifth.getInputStream().readNBytes(400), StandardCharsets.US_ASCII);
                    assertTrue(head.startsWith("HTTP/1.1 503") && head.contains("Retry-After"), head);
                }
            } finally {
                for (Socket h : held) {
                    h.close();
                }
            }
        }
    }

    /**
     * Enrolment bodies that trickle in hold no reader: with one anonymous reader place and 16 threads, 40 enrolments
     * sending a byte every 200 ms do not stop three honest ones (each must succeed at its first try, no retry), and
     * each slow one is answered 408, with a JSON reason, once its 3 s are up.
     */
    @Test
    void tricklingEnrolmentsHoldNoReaderAndAreAnswered408() throws Exception {
        PlatformServer.Limits limits = new PlatformServer.Limits(16, 30_000, 1, 4, 3_000, 3_000, 1024);
        try (TestPlatform running = TestPlatform.small(tmp, null, System::currentTimeMillis, limits)) {
            URI u = URI.create(running.url());
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < 40; i++) {
                    Socket s = open(u, 2 * i, "unused");
                    s.setSoTimeout(10_000);
                    slow.add(s);
                }
                long t0 = System.nanoTime();
                for (int round = 0; round < 5; round++) {
                    for (Socket s : slow) {
                        try {
                            s.getOutputStream().write(' ');
                            s.getOutputStream().flush();
                        } catch (IOException closed) {
                            // answered early: what it was answered is checked below
                        }
                    }
                    Thread.sleep(200);
                }
                for (int i = 0; i < 3; i++) {
                    KeyFile k = KeyFile.create(tmp.resolve("honest" + i + ".key"));
                    JsonNode r = new PlatformClient(running.url(), null, k, Duration.ZERO, m -> { })
                            .post("/v1/enroll", Map.of("invite", invite(running, "honest" + i),
                                    "public_key", k.publicKeyBase64()), k);
                    assertEquals(k.participantId(), r.path("participant_id").asText(), r.toString());
                }
                assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(2_500),
                        "the honest enrolments ran past the slow bodies' deadline, so they prove nothing");
                for (Socket s : slow) {
                    String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(answer.startsWith("HTTP/1.1 408") && answer.contains("\"error\"")
                            && answer.contains("did not arrive within 3.0 s"), answer);
                }
            } finally {
                for (Socket s : slow) {
                    s.close();
                }
            }
        }
    }

    /** A signed POST /v1/shared of {@code body}, of which it sends only the first byte; {@code n} varies the time. */
    private static Socket signedUpload(URI u, KeyFile k, byte[] body, int n) throws Exception {
        StringBuilder head = new StringBuilder("POST /v1/shared HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: " + body.length + "\r\n");
        RequestSignature.sign(k.participantId(), k.privateKey(), "POST", "/v1/shared", System.currentTimeMillis() + n,
                ai.coopt.platform.auth.Sha256.hex(body))
                .forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        Socket s = new Socket(u.getHost(), u.getPort());
        OutputStream out = s.getOutputStream();
        out.write(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        out.write(body[0]);
        out.flush();
        return s;
    }

    private static String invite(TestPlatform running, String name) {
        return running.store().participants().createInvite(name, System.currentTimeMillis(), 600_000);
    }

    private static PlatformClient client(String url, KeyFile k) {
        return new PlatformClient(url, null, k, Duration.ofSeconds(30), m -> { });
    }

    /** Enrols, sends outputs on S, leases a shard and uploads it; returns the upload's acceptance. */
    private JsonNode honestRound(String url, KeyFile k, String invite) {
        PlatformClient client = client(url, k);
        client.post("/v1/enroll", Map.of("invite", invite, "public_key", k.publicKeyBase64()), k);
        long[] shared = PlatformClient.longs(client.get("/v1/round").path("shared_ids"));
        Path s = tmp.resolve("carol-shared.safetensors");
        Uploads.write(s, shared, new Matrix(TestPlatform.gaussian(shared.length * DIM, 1), shared.length, DIM),
                Uploads.priorMetadata(TestPlatform.report(DIM)));
        client.upload("/v1/shared", s);
        JsonNode lease = client.post("/v1/lease", Map.of());
        long[] ids = PlatformClient.longs(lease.path("ids"));
        Path f = tmp.resolve("carol-shard.safetensors");
        Uploads.write(f, ids, new Matrix(TestPlatform.gaussian(ids.length * DIM, 2), ids.length, DIM), Map.of());
        return client.upload("/v1/shards/" + lease.path("shard").asInt() + "/upload?token="
                + lease.path("token").asText(), f);
    }

    /** A connection that sends its request's headers, then nothing of its 200-byte body yet. */
    private static Socket open(URI u, int i, String enrolled) throws IOException {
        boolean enrol = i % 2 == 0;
        SplittableRandom r = new SplittableRandom(i);
        byte[] junk = new byte[64];
        for (int j = 0; j < junk.length; j++) {
            junk[j] = (byte) r.nextInt();
        }
        String participant = enrol ? String.format("p-%016x", r.nextLong()) : enrolled;
        String head = "POST " + (enrol ? "/v1/enroll" : "/v1/lease") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: 200\r\n"
                + RequestSignature.PARTICIPANT + ": " + participant + "\r\n"
                + RequestSignature.TIMESTAMP + ": " + System.currentTimeMillis() + "\r\n"
                + RequestSignature.CONTENT_SHA256 + ": " + "0".repeat(64) + "\r\n"
                + RequestSignature.SIGNATURE + ": " + Base64.getEncoder().encodeToString(junk) + "\r\n\r\n{";
        Socket s = new Socket(u.getHost(), u.getPort());
        s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    /**
     * Every 500 ms, one more byte on every connection; a connection the server closed is opened again (at most 50 a
     * round, so the test measures slow clients rather than a connection flood). Ends when interrupted.
     */
    private static void trickle(URI u, List<Socket> slow, String enrolled) {
        while (!Thread.currentThread().isInterrupted()) {
            int reopened = 0;
            synchronized (slow) {
                for (int i = 0; i < slow.size(); i++) {
                    try {
                        OutputStream out = slow.get(i).getOutputStream();
                        out.write(' ');
                        out.flush();
                    } catch (IOException e) {
                        try {
                            slow.get(i).close();
                            if (reopened++ < 50) {
                                slow.set(i, open(u, i, enrolled));
                            }
                        } catch (IOException ignored) {
                            // the server refused the connection: tried again next round
                        }
                    }
                }
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

}
