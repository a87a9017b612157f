package ai.coopt.platform;

import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.platform.db.Database;
import ai.coopt.platform.db.DatabaseUrl;
import ai.coopt.platform.db.TestDatabases;
import ai.coopt.platform.server.PlatformConfig;
import ai.coopt.prior.Zoo;
import ai.coopt.store.Json;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 23's acceptance case: a platform started with a database URL that carries a password, a participant whose
 * prior lives under a private local directory, a round run to fusion; then neither the password nor the local path
 * is in any file under the platform directory, any public HTTP response, any database row, or the log.
 */
class SecretsNeverRecordedTest {
    private static final int N = 300;
    private static final String SECRET = "pw-Zr8q4kT2vN";
    private static final String PRIVATE_DIR = "home-alice-Kp3wQ";

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgresql"})
    void aDatabasePasswordAndAPriorsLocalPathAreNowhere(String vendor, @TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("platform");
        Files.createDirectories(dir);
        String dbUrl;
        String secret;
        String served;
        if (vendor.equals("sqlite")) {
            // SQLite takes no password: the serve command line carries one for a PostgreSQL database, as users type it
            dbUrl = "sqlite:" + dir.resolve("platform.db");
            secret = SECRET;
            served = "postgresql://db.example.org:5432/coopt?user=coopt&password=" + secret;
        } else {
            String fresh = TestDatabases.postgresqlFreshSchema();
            String given = DatabaseUrl.parse(fresh).password();
            secret = given != null ? given : SECRET;
            // under trust authentication the server never asks for the password; it is still on the command line
            dbUrl = given != null ? fresh : fresh + "&password=" + secret;
            served = dbUrl;
        }
        Path prior = copyPrior(tmp.resolve(PRIVATE_DIR).resolve("priors").resolve("convnet"));
        ImageSet images = DatasetSpec.parse("fashion-mnist").load("train", N);
        PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, "fashion-mnist", "train", N, null, N,
                images.fingerprint(), 0, 2, null, 20, 1, 60, "ridge", 0, Instant.now().toString(), "test",
                List.of("coopt", "platform", "serve", "--dir", dir.toString(), "--db", served, "--data", "fashion-mnist"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = System.out;
        PrintStream err = System.err;
        System.setOut(new PrintStream(new Tee(out, log), true));
        System.setErr(new PrintStream(new Tee(err, log), true));
        List<String> responses = new ArrayList<>();
        String rows;
        String priorShown;
        try (TestPlatform running = TestPlatform.startIn(dbUrl, dir, config, images, null, System::currentTimeMillis)) {
            String url = running.url();
            NetworkedRoundTest.runParticipant(url, running.store(), tmp.resolve("alice.key"), "alice",
                    "model:" + prior, 0);
            priorShown = NetworkedRoundTest.awaitFusion(running).path("participants").get(0).path("prior").asText();
            for (String route : List.of("/", "/health", "/openapi.json", "/v1/status", "/v1/round", "/v1/dataset")) {
                responses.add(route + " " + get(url + route, running.operatorToken()));
            }
            JsonNode listing = Json.mapper().readTree(get(url + "/v1/dataset", running.operatorToken()));
            assertTrue(listing.path("files").size() > 0);
            for (JsonNode f : listing.path("files")) {
                String route = "/v1/dataset/" + f.path("name").asText();
                responses.add(route + " " + get(url + route, running.operatorToken()));
            }
            rows = dump(running.db());
        } finally {
            System.setOut(out);
            System.setErr(err);
            if (vendor.equals("postgresql")) {
                TestDatabases.dropSchema(dbUrl);
            }
        }
        assertTrue(rows.contains("rounds:"), "the dump reads the rows");
        for (String leak : List.of(secret, PRIVATE_DIR)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    assertFalse(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(leak),
                            f + " holds '" + leak + "'");
                }
            }
            for (String r : responses) {
                assertFalse(r.contains(leak), "the response of " + r.substring(0, r.indexOf(' ')) + " holds '" + leak + "'");
            }
            assertFalse(rows.contains(leak), "a database row holds '" + leak + "'");
        }
        assertFalse(log.toString(StandardCharsets.ISO_8859_1).contains(secret), "the log holds the password");
        assertEquals("model:convnet", priorShown, "the prior is named, without its directories");
    }

    private static Path copyPrior(Path to) throws IOException {
        Path from = Zoo.dir("convnet-s-byol-300s");
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, to.resolve(f.getFileName().toString()));
            }
        }
        return to;
    }

    /** A GET as the operator: what it reads is what the platform shows to anyone it lets in. */
    private static String get(String url, String operatorToken) throws Exception {
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + operatorToken).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), url);
        return new String(r.body(), StandardCharsets.ISO_8859_1);
    }

    /** Every row of every table of the platform's database, as text. */
    private static String dump(Database db) {
        return db.transaction(c -> {
            StringBuilder all = new StringBuilder();
            DatabaseMetaData meta = c.getMetaData();
            List<String> tables = new ArrayList<>();
            try (ResultSet t = meta.getTables(null, db.url().schema(), "%", new String[] {"TABLE"})) {
                while (t.next()) {
                    tables.add(t.getString("TABLE_NAME"));
                }
            }
            assertTrue(tables.contains("rounds"), tables.toString());
            for (String table : tables) {
                try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT * FROM \"" + table + "\"")) {
                    ResultSetMetaData m = r.getMetaData();
                    while (r.next()) {
                        all.append(table).append(':');
                        for (int i = 1; i <= m.getColumnCount(); i++) {
                            byte[] bytes = r.getBytes(i);
                            all.append(' ').append(bytes == null ? "null" : new String(bytes, StandardCharsets.ISO_8859_1));
                        }
                        all.append('\n');
                    }
                }
            }
            return all.toString();
        });
    }

    /** Writes to the console and to the captured log. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
