package ai.coopt.platform;

import ai.coopt.UserException;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.client.PlatformClient;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the participant's client refuses at once instead of retrying for --retry-seconds: a platform whose certificate
 * or host name does not verify, and signing anything over plain http:// to a host that is not this machine.
 */
class ClientRefusalsTest {
    private static final String PASS = "s3cret-pass";

    /** A loopback HTTPS server answering /health, with a self-signed certificate for {@code san}. */
    private static HttpsServer server(Path tmp, String name, String san) throws Exception {
        Path keystore = tmp.resolve(name + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        NetworkedRoundTest.run(keytool, "-genkeypair", "-alias", "coopt", "-keyalg", "EC", "-groupname", "secp256r1",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", PASS,
                "-dname", "CN=" + name, "-ext", "SAN=" + san);
        NetworkedRoundTest.run(keytool, "-exportcert", "-rfc", "-alias", "coopt", "-keystore", keystore.toString(),
                "-storepass", PASS, "-file", tmp.resolve(name + ".pem").toString());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, PASS.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASS.toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        HttpsServer s = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.setHttpsConfigurator(new HttpsConfigurator(ctx));
        s.createContext("/health", ex -> {
            byte[] body = "{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        s.start();
        return s;
    }

    /** With a 600 s retry budget, as participant run has by default: the failure comes within seconds, in one line. */
    private static UserException refusedAtOnce(PlatformClient client) throws Exception {
        CompletableFuture<Object> call = CompletableFuture.supplyAsync(() -> client.get("/health"));
        Throwable t = assertThrows(Exception.class, () -> call.get(30, TimeUnit.SECONDS)).getCause();
        UserException e = assertInstanceOf(UserException.class, t, String.valueOf(t));
        assertTrue(e.getMessage().contains("certificate") && !e.getMessage().contains("\n"), e.getMessage());
        return e;
    }

    @Test
    void anUntrustedCertificateOrAWrongHostNameEndsTheClientAtOnce(@TempDir Path tmp) throws Exception {
        HttpsServer selfSigned = server(tmp, "localhost", "ip:127.0.0.1,dns:localhost");
        HttpsServer otherHost = server(tmp, "other", "dns:other.example.org");
        try {
            String url = "https://127.0.0.1:" + selfSigned.getAddress().getPort();
            // trusted by --ca-cert: it answers
            assertEquals("ok", new PlatformClient(url, tmp.resolve("localhost.pem"), null, Duration.ofSeconds(5),
                    m -> { }).get("/health").path("status").asText());
            // not trusted: no retries
            List<String> retries = new java.util.concurrent.CopyOnWriteArrayList<>();
            refusedAtOnce(new PlatformClient(url, null, null, Duration.ofSeconds(600), retries::add));
            assertEquals(List.of(), retries);
            // trusted, but for another host name than the URL's
            String other = "https://127.0.0.1:" + otherHost.getAddress().getPort();
            refusedAtOnce(new PlatformClient(other, tmp.resolve("other.pem"), null, Duration.ofSeconds(600), retries::add));
            assertEquals(List.of(), retries);
        } finally {
            selfSigned.stop(0);
            otherHost.stop(0);
        }
    }

    @Test
    void signingOverPlainHttpIsOnlyForLoopback(@TempDir Path tmp) {
        KeyFile keys = KeyFile.create(tmp.resolve("k.key"));
        for (String remote : List.of("http://192.0.2.1:8470", "http://platform.example.org", "http://[2001:db8::1]:8470")) {
            UserException e = assertThrows(UserException.class,
                    () -> new PlatformClient(remote, null, keys, Duration.ofSeconds(1), m -> { }));
            assertTrue(e.getMessage().contains("https://"), e.getMessage());
            // enrolment signs with the key being registered: refused before anything is sent
            PlatformClient unsigned = new PlatformClient(remote, null, null, Duration.ofSeconds(1), m -> { });
            UserException enrol = assertThrows(UserException.class, () -> unsigned.post("/v1/enroll",
                    Map.of("invite", "x"), keys));
            assertTrue(enrol.getMessage().contains("https://"), enrol.getMessage());
        }
        for (String local : List.of("http://127.0.0.1:9", "http://127.1.2.3:9", "http://localhost:9", "http://[::1]:9",
                "https://platform.example.org")) {
            new PlatformClient(local, null, keys, Duration.ofSeconds(1), m -> { });
        }
    }
}
