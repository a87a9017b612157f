package ai.coopt.platform;

import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.auth.OperatorToken;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.auth.Sha256;
import ai.coopt.platform.client.PlatformClient;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformServer;
import ai.coopt.platform.server.PlatformService;
import ai.coopt.store.Json;
import ai.coopt.util.ProgressListener;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who may read the dashboard, status, round and dataset: enrolled participants in good standing (signed requests) and
 * the operator (its bearer token, or the session cookie its login sets); nobody else, unless serve opened the
 * dashboard or the dataset on purpose.
 */
class AccessTest {
    /** The routes that hold participants' data: the dashboard, status, round and dataset. */
    private static final List<String> PROTECTED = List.of("/", "/v1/status", "/v1/round", "/v1/dataset",
            "/v1/dataset/manifest.json", "/v1/dataset?round=1", "/v1/status/", "/v1/dataset/");
    /** The same routes spelled otherwise: percent-encoded, doubled slashes, another case. None may get through. */
    private static final List<String> SPELLED_OTHERWISE = List.of("/v1/%73tatus", "/%761/dataset",
            "/v1/dataset/manifest%2Ejson", "//v1/status", "/v1//status", "/V1/STATUS", "/v1/./status",
            "/v1/x/../status", "/v1/status;x=1", "/index.html");
    private static ImageSet images;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeAll
    static void load() {
        images = DatasetSpec.parse("fashion-mnist").load("train", 300);
    }

    /** A platform serving on loopback with these public flags; its operator token in its directory. */
    private record Running(TestPlatform platform, String token) implements AutoCloseable {
        String url() {
            return platform.url();
        }

        @Override
        public void close() {
            platform.close();
        }
    }

    private static Running start(Path tmp, boolean publicDashboard, boolean publicDataset) {
        Path dir = tmp.resolve("platform");
        Database db = Database.open(TestDatabases.sqlite(tmp));
        PlatformStore store = new PlatformStore(db);
        PlatformService service = PlatformService.open(dir, store, TestPlatform.config(images), images,
                System::currentTimeMillis, ProgressListener.NONE);
        String token = OperatorToken.loadOrCreate(dir);
        PlatformServer server = PlatformServer.start(service, System::currentTimeMillis, "test", "127.0.0.1", 0, null,
                PlatformServer.Limits.DEFAULT, token, publicDashboard, publicDataset);
        return new Running(new TestPlatform(db, store, service, server), token);
    }

    private HttpResponse<String> get(String url, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static KeyFile enroll(Running r, Path tmp, String name) {
        KeyFile k = KeyFile.create(tmp.resolve(name + ".key"));
        String invite = r.platform().store().participants().createInvite(name, System.currentTimeMillis(), 60_000);
        new PlatformClient(r.url(), null, k, Duration.ofSeconds(5), m -> { })
                .post("/v1/enroll", Map.of("invite", invite, "public_key", k.publicKeyBase64()), k);
        return k;
    }

    /** The signature headers of a GET of {@code path} by {@code k}, made now. */
    private static String[] signed(KeyFile k, String path) {
        return RequestSignature.sign(k.participantId(), k.privateKey(), "GET", path, System.currentTimeMillis(),
                Sha256.EMPTY).entrySet().stream().flatMap(e -> Stream.of(e.getKey(), e.getValue()))
                .toArray(String[]::new);
    }

    private static void refused(HttpResponse<String> r, int status, String what) throws Exception {
        assertEquals(status, r.statusCode(), what + ": " + r.body());
        JsonNode body = Json.mapper().readTree(r.body());
        assertTrue(body.hasNonNull("error") && body.size() == 1, what + ": a reason and nothing else: " + r.body());
    }

    @Test
    void anonymousRequestsGetA401WithAReasonAndNoData(@TempDir Path tmp) throws Exception {
        try (Running r = start(tmp, false, false)) {
            enroll(r, tmp, "alice");
            for (String path : PROTECTED) {
                HttpResponse<String> resp = get(r.url() + path);
                refused(resp, 401, path);
                assertTrue(resp.body().contains("operator") && resp.body().contains("participant"), resp.body());
                assertFalse(resp.body().contains("alice") || resp.body().contains("shared_ids"), resp.body());
            }
            for (String path : SPELLED_OTHERWISE) {
                HttpResponse<String> resp = get(r.url() + path);
                assertTrue(resp.statusCode() >= 400, path + ": " + resp.statusCode());
                assertFalse(resp.body().contains("alice") || resp.body().contains("shared_ids"), path + ": " + resp.body());
            }
            // what anyone may still read
            assertEquals(200, get(r.url() + "/health").statusCode());
            assertEquals(200, get(r.url() + "/openapi.json").statusCode());
            // a bearer token that is not the operator's, or another scheme, is refused too
            refused(get(r.url() + "/v1/status", "Authorization", "Bearer " + "x".repeat(43)), 401, "wrong token");
            refused(get(r.url() + "/", "Authorization", "Basic " + r.token()), 401, "another scheme");
            refused(get(r.url() + "/v1/dataset", "Cookie", "coopt_session=forged"), 401, "a forged session");
        }
    }

    @Test
    void aParticipantsSignedRequestIsLetInAndAQuarantinedOneGets403(@TempDir Path tmp) throws Exception {
        try (Running r = start(tmp, false, false)) {
            KeyFile alice = enroll(r, tmp, "alice");
            PlatformClient client = new PlatformClient(r.url(), null, alice, Duration.ofSeconds(5), m -> { });
            JsonNode status = client.get("/v1/status");
            assertEquals("alice", status.path("participants").get(0).path("name").asText());
            assertEquals("participants and operator", status.path("access").path("dashboard").asText());
            assertEquals("participants and operator", status.path("access").path("dataset").asText());
            assertEquals(20, client.get("/v1/round").path("shared_ids").size());
            HttpResponse<String> dashboard = get(r.url() + "/", signed(alice, "/"));
            assertEquals(200, dashboard.statusCode());
            assertTrue(dashboard.body().contains("alice"));
            // let in: the dataset answers for itself (not fused yet)
            refused(get(r.url() + "/v1/dataset", signed(alice, "/v1/dataset")), 404, "dataset not ready");
            // a signature of another path, or an unknown key, is no way in
            refused(get(r.url() + "/v1/status", signed(alice, "/v1/round")), 401, "signature of another path");
            KeyFile stranger = KeyFile.create(tmp.resolve("stranger.key"));
            refused(get(r.url() + "/v1/status", signed(stranger, "/v1/status")), 401, "unknown key");

            assertTrue(r.platform().store().audits().quarantine(alice.participantId(), "revoked by the operator: test",
                    System.currentTimeMillis()));
            for (String path : PROTECTED) {
                HttpResponse<String> resp = get(r.url() + path, signed(alice, path));
                refused(resp, 403, path);
                assertTrue(resp.body().contains("quarantined"), resp.body());
            }
        }
    }

    @Test
    void theOperatorsTokenAndItsLoginCookieAreLetIn(@TempDir Path tmp) throws Exception {
        try (Running r = start(tmp, false, false)) {
            enroll(r, tmp, "alice");
            Path file = tmp.resolve("platform").resolve(OperatorToken.FILE);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            assertEquals(r.token(), OperatorToken.loadOrCreate(tmp.resolve("platform")), "made once, reused");
            assertTrue(r.token().length() >= 43, "256 bits");
            String bearer = "Bearer " + r.token();
            assertEquals(200, get(r.url() + "/", "Authorization", bearer).statusCode());
            JsonNode status = Json.mapper().readTree(get(r.url() + "/v1/status", "Authorization", bearer).body());
            assertEquals("alice", status.path("participants").get(0).path("name").asText());
            assertEquals(200, get(r.url() + "/v1/round", "Authorization", bearer).statusCode());
            refused(get(r.url() + "/v1/dataset", "Authorization", bearer), 404, "dataset not ready");
            assertEquals("alice", new PlatformClient(r.url(), null, null, r.token(), Duration.ofSeconds(5), m -> { })
                    .get("/v1/status").path("participants").get(0).path("name").asText());

            // the browser's login: a wrong token sets nothing
            HttpResponse<String> wrong = get(r.url() + "/login?token=" + "A".repeat(43));
            refused(wrong, 401, "wrong login");
            assertTrue(wrong.headers().firstValue("Set-Cookie").isEmpty());
            refused(get(r.url() + "/login"), 401, "login without a token");
            HttpResponse<String> login = get(r.url() + "/login?token=" + r.token());
            assertEquals(303, login.statusCode(), login.body());
            assertEquals("/", login.headers().firstValue("Location").orElse(""), "away from the token in the address");
            String cookie = login.headers().firstValue("Set-Cookie").orElse("");
            assertTrue(cookie.startsWith("coopt_session=") && cookie.contains("HttpOnly")
                    && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"), cookie);
            String session = cookie.substring(0, cookie.indexOf(';'));
            assertFalse(session.contains(r.token()), "the cookie holds a session id, not the token");
            HttpResponse<String> page = get(r.url() + "/", "Cookie", session);
            assertEquals(200, page.statusCode(), page.body());
            assertTrue(page.body().contains("alice"));
            refused(get(r.url() + "/v1/dataset", "Cookie", session), 404, "dataset not ready, with the cookie");
            String another = get(r.url() + "/login?token=" + r.token()).headers().firstValue("Set-Cookie").orElse("");
            assertNotEquals(session, another.substring(0, another.indexOf(';')), "a new session each login");

            // the token is nowhere else in the platform directory
            try (Stream<Path> files = Files.walk(tmp.resolve("platform"))) {
                for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.equals(file)).toList()) {
                    assertFalse(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1)
                            .contains(r.token()), f.toString());
                }
            }
        }
    }

    @Test
    void publicDashboardOpensTheDashboardAndStatusOnly(@TempDir Path tmp) throws Exception {
        try (Running r = start(tmp, true, false)) {
            enroll(r, tmp, "alice");
            assertEquals(200, get(r.url() + "/").statusCode());
            JsonNode status = Json.mapper().readTree(get(r.url() + "/v1/status").body());
            assertEquals("public", status.path("access").path("dashboard").asText());
            assertEquals("participants and operator", status.path("access").path("dataset").asText());
            refused(get(r.url() + "/v1/dataset"), 401, "dataset");
            refused(get(r.url() + "/v1/dataset/manifest.json"), 401, "dataset file");
            refused(get(r.url() + "/v1/round"), 401, "round");
        }
    }

    @Test
    void publicDatasetOpensTheDatasetOnly(@TempDir Path tmp) throws Exception {
        try (Running r = start(tmp, false, true)) {
            refused(get(r.url() + "/v1/dataset"), 404, "dataset: let in, not fused yet");
            refused(get(r.url() + "/v1/dataset/manifest.json"), 404, "dataset file: let in, not fused yet");
            refused(get(r.url() + "/"), 401, "dashboard");
            refused(get(r.url() + "/v1/status"), 401, "status");
            refused(get(r.url() + "/v1/round"), 401, "round");
            JsonNode status = Json.mapper().readTree(get(r.url() + "/v1/status", "Authorization",
                    "Bearer " + r.token()).body());
            assertEquals("public", status.path("access").path("dataset").asText());
        }
    }
}
