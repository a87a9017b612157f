package ai.coopt.platform;

import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.optimize.Matrix;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.ShardState;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.store.Json;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a careless or malicious client can send: unsigned, foreign-keyed, stale or replayed requests, another
 * participant's shard, and uploads that are not what they claim (truncated, a 2^60-byte header, wrong dtype or shape,
 * NaN/Inf, missing, repeated or foreign ids, an oversized body, pickle or TorchScript bytes). Each gets a 4xx with a
 * reason, and nothing is stored: no accepted row, no file in uploads/ or staging/.
 */
class HostileRequestsTest {
    private static final int DIM = 8;
    @TempDir
    Path tmp;
    private TestPlatform running;
    private PlatformStore store;
    private String url;
    private KeyFile alice;
    private KeyFile bob;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", 300);
        PlatformConfig c = TestPlatform.config(images);
        running = TestPlatform.start(TestDatabases.sqlite(tmp), tmp, c, images, null);
        store = running.store();
        url = running.url();
        alice = enroll("alice");
        bob = enroll("bob");
        for (KeyFile k : List.of(alice, bob)) {
            Path f = tmp.resolve(k.participantId() + "-shared.safetensors");
            Uploads.write(f, sharedIds(), new Matrix(TestPlatform.gaussian(20 * DIM, 1), 20, DIM), Uploads.priorMetadata(TestPlatform.report(DIM)));
            assertEquals(201, send(k, "POST", "/v1/shared", Files.readAllBytes(f)).statusCode());
        }
    }

    @AfterEach
    void stop() {
        running.close();
    }

    private KeyFile enroll(String name) {
        KeyFile k = KeyFile.create(tmp.resolve(name + ".key"));
        String invite = store.participants().createInvite(name, System.currentTimeMillis(), 60_000);
        new PlatformClient(url, null, k, Duration.ofSeconds(5), m -> { })
                .post("/v1/enroll", Map.of("invite", invite, "public_key", k.publicKeyBase64()), k);
        return k;
    }

    private long[] sharedIds() throws Exception {
        JsonNode r = Json.mapper().readTree(http.send(HttpRequest.newBuilder(URI.create(url + "/v1/round"))
                .header("Authorization", "Bearer " + running.operatorToken()).build(),
                HttpResponse.BodyHandlers.ofByteArray()).body());
        long[] ids = new long[r.path("shared_ids").size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.path("shared_ids").get(i).asLong();
        }
        return ids;
    }


    private HttpResponse<String> send(KeyFile signer, String method, String path, byte[] body) throws Exception {
        return send(signer, signer.participantId(), method, path, body, System.currentTimeMillis());
    }

    private HttpResponse<String> send(KeyFile signer, String claimed, String method, String path, byte[] body, long time)
            throws Exception {
        Map<String, String> h = new LinkedHashMap<>(RequestSignature.sign(signer.participantId(), signer.privateKey(),
                method, path, time, sha256(body)));
        h.put(RequestSignature.PARTICIPANT, claimed);
        return send(h, method, path, body);
    }

    private HttpResponse<String> send(Map<String, String> headers, String method, String path, byte[] body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).method(method,
                HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(b::header);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private JsonNode lease(KeyFile k) throws Exception {
        HttpResponse<String> r = send(k, "POST", "/v1/lease", "{}".getBytes(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), r.body());
        return Json.mapper().readTree(r.body());
    }

    private static long[] ids(JsonNode lease) {
        long[] ids = new long[lease.path("ids").size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = lease.path("ids").get(i).asLong();
        }
        return ids;
    }

    /** A safetensors upload built by hand, so that any part of it can be wrong. */
    private static byte[] upload(String outputsDtype, long rows, long dim, long[] ids, float[] values) throws Exception {
        long idBytes = 8L * ids.length;
        long outBytes = 4L * values.length;
        String header = "{\"ids\":{\"dtype\":\"I64\",\"shape\":[" + ids.length + "],\"data_offsets\":[0," + idBytes + "]},"
                + "\"outputs\":{\"dtype\":\"" + outputsDtype + "\",\"shape\":[" + rows + "," + dim + "],\"data_offsets\":["
                + idBytes + "," + (idBytes + outBytes) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate((int) (8 + h.length + idBytes + outBytes)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (long id : ids) {
            b.putLong(id);
        }
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    private void refused(int status, KeyFile k, String path, byte[] body, String reasonPart) throws Exception {
        HttpResponse<String> r = send(k, "POST", path, body);
        assertEquals(status, r.statusCode(), r.body());
        String reason = Json.mapper().readTree(r.body()).path("error").asText();
        assertTrue(reason.contains(reasonPart), "reason '" + reason + "' should mention '" + reasonPart + "'");
    }

    /** Revoked by the operator (or quarantined by a check), a participant gets nothing more: not even the shared images. */
    @Test
    void aQuarantinedParticipantGetsNothing() throws Exception {
        byte[] none = new byte[0];
        assertEquals(200, send(alice, "GET", "/v1/shared/images", none).statusCode());
        JsonNode lease = lease(alice);
        assertTrue(store.audits().quarantine(alice.participantId(), "revoked by the operator: key leaked", System.currentTimeMillis()));
        for (String path : List.of("/v1/shared/images", "/v1/shards/" + lease.path("shard").asInt() + "/images")) {
            HttpResponse<String> r = send(alice, "GET", path, none);
            assertEquals(403, r.statusCode(), path + ": " + r.body());
            assertTrue(r.body().contains("you are quarantined: revoked by the operator: key leaked"), r.body());
        }
        refused(403, alice, "/v1/lease", "{}".getBytes(StandardCharsets.UTF_8), "you are quarantined");
    }

    @Test
    void forgedStaleAndReplayedRequestsAreRefused() throws Exception {
        byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
        assertEquals(401, send(Map.of(), "POST", "/v1/lease", body).statusCode(), "unsigned");
        KeyFile stranger = KeyFile.create(tmp.resolve("stranger.key"));
        assertEquals(401, send(stranger, "POST", "/v1/lease", body).statusCode(), "unknown key");
        assertEquals(401, send(bob, alice.participantId(), "POST", "/v1/lease", body, System.currentTimeMillis())
                .statusCode(), "alice's id signed with bob's key");
        assertEquals(401, send(alice, alice.participantId(), "POST", "/v1/lease", body,
                System.currentTimeMillis() - 5 * 60_000).statusCode(), "a timestamp five minutes old");
        Map<String, String> once = RequestSignature.sign(alice.participantId(), alice.privateKey(), "POST", "/v1/lease",
                System.currentTimeMillis(), sha256(body));
        assertEquals(200, send(once, "POST", "/v1/lease", body).statusCode());
        HttpResponse<String> replay = send(once, "POST", "/v1/lease", body);
        assertEquals(401, replay.statusCode());
        assertTrue(replay.body().contains("replay"), replay.body());
        assertEquals(400, send(once, "POST", "/v1/lease", "{ }".getBytes(StandardCharsets.UTF_8)).statusCode(),
                "a body other than the signed one");
    }

    @Test
    void malformedUploadsAreRefusedAndNothingIsStored() throws Exception {
        JsonNode lease = lease(alice);
        int shard = lease.path("shard").asInt();
        long[] ids = ids(lease);
        int n = ids.length;
        String path = "/v1/shards/" + shard + "/upload?token=" + lease.path("token").asText();
        float[] good = TestPlatform.gaussian(n * DIM, 2);

        assertEquals(403, send(bob, "POST", path, upload("F32", n, DIM, ids, good)).statusCode(), "bob on alice's shard");
        byte[] whole = upload("F32", n, DIM, ids, good);
        refused(400, alice, path, java.util.Arrays.copyOf(whole, whole.length - 100), "header describes");
        byte[] huge = whole.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 60);
        refused(400, alice, path, huge, "header length");
        refused(422, alice, path, upload("F16", n, DIM, ids, good), "F32");
        refused(422, alice, path, upload("F32", n - 1, DIM, java.util.Arrays.copyOf(ids, n - 1),
                java.util.Arrays.copyOf(good, (n - 1) * DIM)), "rows");
        float[] nan = good.clone();
        nan[7] = Float.NaN;
        refused(422, alice, path, upload("F32", n, DIM, ids, nan), "finite");
        float[] inf = good.clone();
        inf[n * DIM - 1] = Float.POSITIVE_INFINITY;
        refused(422, alice, path, upload("F32", n, DIM, ids, inf), "finite");
        long[] repeated = ids.clone();
        repeated[1] = repeated[0];
        refused(422, alice, path, upload("F32", n, DIM, repeated, good), "ids");
        long[] foreign = ids.clone();
        foreign[n - 1] = 299_999;
        refused(422, alice, path, upload("F32", n, DIM, foreign, good), "ids");
        byte[] pickle = new byte[200];
        pickle[0] = (byte) 0x80;
        pickle[1] = 4;
        pickle[2] = (byte) 0x95;
        refused(400, alice, path, pickle, "safetensors");
        byte[] torchscript = new byte[200];
        System.arraycopy("PK\u0003\u0004archive/data.pkl".getBytes(StandardCharsets.ISO_8859_1), 0, torchscript, 0, 20);
        refused(400, alice, path, torchscript, "safetensors");
        assertEquals(413, oversized(path), "a body declared larger than any upload of this shard");

        assertTrue(store.uploads().all().stream().noneMatch(u -> u.accepted() && u.shard() != null), "nothing accepted");
        assertTrue(store.uploads().all().stream().filter(u -> !u.accepted()).count() >= 12, "each refusal is on record");
        try (Stream<Path> files = Files.list(tmp.resolve("platform").resolve("uploads"))) {
            assertEquals(2, files.count(), "only the two shared-subset uploads are stored");
        }
        assertEquals(List.of(), TestPlatform.stagedFiles(tmp.resolve("platform")), "no staged leftovers");
        assertEquals(ShardState.LEASED, store.rounds().shard(shard).orElseThrow().state());

        HttpResponse<String> ok = send(alice, "POST", path, whole);
        assertEquals(201, ok.statusCode(), ok.body());
        HttpResponse<String> again = send(alice, "POST", path, whole);
        assertEquals(200, again.statusCode(), "a repeat of an accepted upload is idempotent: " + again.body());
        assertEquals(1, store.uploads().all().stream().filter(u -> u.accepted() && u.shard() != null).count());
    }

    /** A safetensors file whose header is the given JSON text, followed by {@code data} bytes. */
    private static byte[] withHeader(String header, int data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    /**
     * Audits cannot be read, answered or dodged by anyone but their participant, and a malformed answer is refused
     * without settling the audit; each refusal is a 4xx with a reason.
     */
    @Test
    void auditsCannotBeDodgedOrAnsweredForSomeoneElse() throws Exception {
        JsonNode lease = lease(alice);
        int shard = lease.path("shard").asInt();
        long[] ids = ids(lease);
        String path = "/v1/shards/" + shard + "/upload?token=" + lease.path("token").asText();
        assertEquals(201, send(alice, "POST", path, upload("F32", ids.length, DIM, ids, TestPlatform.gaussian(ids.length * DIM, 2)))
                .statusCode());
        byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> listed = send(alice, "POST", "/v1/audits", empty);
        assertEquals(200, listed.statusCode(), listed.body());
        JsonNode audit = Json.mapper().readTree(listed.body()).path("audits").get(0);
        long id = audit.path("id").asLong();
        int rows = audit.path("rows").asInt();
        assertEquals(Math.min(ids.length, PlatformConfig.Audits.DEFAULT.rows()) + 20, rows,
                "128 rows of the shard (or all of a smaller one) and all 20 rows of S");
        String answer = "/v1/audits/" + id;
        long[] positions = new long[rows];
        java.util.Arrays.setAll(positions, i -> i);
        float[] values = TestPlatform.gaussian(rows * DIM, 3);
        int cases = 0;

        assertEquals(0, Json.mapper().readTree(send(bob, "POST", "/v1/audits", empty).body()).path("audits").size(),
                "bob sees none of alice's audits");
        cases++;
        assertEquals(404, send(bob, "GET", answer + "/images", new byte[0]).statusCode(), "bob reads alice's audit");
        cases++;
        refused(404, bob, answer, upload("F32", rows, DIM, positions, values), "no audit");
        cases++;
        assertEquals(401, send(Map.of(), "POST", "/v1/audits", empty).statusCode(), "unsigned list");
        cases++;
        assertEquals(401, send(Map.of(), "GET", answer + "/images", new byte[0]).statusCode(), "unsigned images");
        cases++;
        assertEquals(401, send(Map.of(), "POST", answer, upload("F32", rows, DIM, positions, values)).statusCode(),
                "unsigned answer");
        cases++;
        assertEquals(401, send(alice, alice.participantId(), "POST", answer, upload("F32", rows, DIM, positions, values),
                System.currentTimeMillis() - 5 * 60_000).statusCode(), "a stale answer");
        cases++;
        assertEquals(404, send(alice, "GET", "/v1/audits/abc/images", new byte[0]).statusCode(), "not a number");
        cases++;
        assertEquals(404, send(alice, "GET", "/v1/audits/999999/images", new byte[0]).statusCode(), "no such audit");
        cases++;
        long[] wrongIds = positions.clone();
        wrongIds[0] = ids[0];
        refused(422, alice, answer, upload("F32", rows, DIM, wrongIds, values), "ids");
        cases++;
        refused(422, alice, answer, upload("F16", rows, DIM, positions, values), "F32");
        cases++;
        float[] nan = values.clone();
        nan[5] = Float.NaN;
        refused(422, alice, answer, upload("F32", rows, DIM, positions, nan), "finite");
        cases++;
        refused(422, alice, answer, upload("F32", rows - 1, DIM, java.util.Arrays.copyOf(positions, rows - 1),
                java.util.Arrays.copyOf(values, (rows - 1) * DIM)), "rows");
        cases++;
        byte[] whole = upload("F32", rows, DIM, positions, values);
        refused(400, alice, answer, java.util.Arrays.copyOf(whole, whole.length - 64), "header describes");
        cases++;
        byte[] huge = whole.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 60);
        refused(400, alice, answer, huge, "header length");
        cases++;
        // JSON header bombs: 20,000 nested arrays, and 5,000 tensors, both inside the 64 KiB header limit
        refused(400, alice, answer, withHeader("[".repeat(20_000) + "]".repeat(20_000), 0), "safetensors");
        cases++;
        StringBuilder many = new StringBuilder("{");
        for (int i = 0; i < 5000; i++) {
            many.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
        }
        HttpResponse<String> bomb = send(alice, "POST", answer, withHeader(many.append('}').toString(), 0));
        assertTrue(bomb.statusCode() == 400 || bomb.statusCode() == 413 || bomb.statusCode() == 422, bomb.body());
        cases++;
        byte[] pickle = new byte[200];
        pickle[0] = (byte) 0x80;
        pickle[1] = 4;
        refused(400, alice, answer, pickle, "safetensors");
        cases++;
        assertEquals(413, oversized(answer), "a body declared larger than any answer of this audit");
        cases++;
        assertEquals("pending", store.audits().all().get(0).state().name().toLowerCase(), "no malformed answer settles it");
        assertFalse(store.participants().get(alice.participantId()).orElseThrow().quarantined());

        // a well-formed answer with other numbers fails the audit: alice is quarantined, and stays so
        HttpResponse<String> wrong = send(alice, "POST", answer, whole);
        assertEquals(422, wrong.statusCode(), wrong.body());
        assertTrue(wrong.body().contains("rows differ"), wrong.body());
        cases++;
        refused(409, alice, answer, whole, "failed");
        cases++;
        HttpResponse<String> leaseAgain = send(alice, "POST", "/v1/lease", empty);
        assertEquals(403, leaseAgain.statusCode(), leaseAgain.body());
        assertTrue(leaseAgain.body().contains("quarantined"), leaseAgain.body());
        cases++;
        assertTrue(store.uploads().all().stream().noneMatch(u -> u.accepted() && u.shard() != null), "her shard was withdrawn");
        assertEquals(ShardState.OPEN, store.rounds().shard(shard).orElseThrow().state(), "and is open again");
        assertEquals(22, cases);
    }

    /** A participant calling faster than its limit gets 429 with a reason and Retry-After; others are not limited. */
    @Test
    void aParticipantOverItsLimitGets429WithRetryAfter() throws Exception {
        byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> last = null;
        for (int i = 0; i < 40 && (last == null || last.statusCode() == 200); i++) {
            last = send(alice, "POST", "/v1/audits", empty);
        }
        assertEquals(429, last.statusCode(), last.body());
        assertTrue(Json.mapper().readTree(last.body()).path("error").asText().contains("too many audit requests"),
                last.body());
        assertTrue(last.headers().firstValue("Retry-After").orElse("").matches("[1-9][0-9]*"), last.headers().map().toString());
        assertEquals(200, send(bob, "POST", "/v1/audits", empty).statusCode(), "another participant is not limited");
    }

    /** A request whose Content-Length is a terabyte, over a raw socket: refused from the headers alone. */
    private int oversized(String path) throws Exception {
        byte[] body = new byte[0];
        Map<String, String> h = RequestSignature.sign(alice.participantId(), alice.privateKey(), "POST", path,
                System.currentTimeMillis(), sha256(body));
        URI u = URI.create(url);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(10_000);
            StringBuilder req = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: 1000000000000\r\n");
            h.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
            req.append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[4096]);
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) != -1 && c != '\n') {
                line.write(c);
            }
            String status = line.toString(StandardCharsets.US_ASCII);
            return Integer.parseInt(status.split(" ")[1]);
        }
    }
}
