package ai.coopt.platform;

import ai.coopt.platform.server.PlatformServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Security headers are HTTP headers on every response (pages, JSON, refusals, unknown routes): a CSP that forbids
 * framing, nosniff, and HSTS under TLS. TLS 1.2 offers AEAD suites only: a client offering only a CBC suite is refused
 * in the handshake.
 */
class ServerHardeningTest {
    @TempDir
    Path tmp;

    private TestPlatform start(PlatformServer.Tls tls) {
        return TestPlatform.small(tmp, tls, System::currentTimeMillis, PlatformServer.Limits.DEFAULT);
    }

    @Test
    void everyResponseCarriesTheSecurityHeaders() throws Exception {
        try (TestPlatform running = start(null)) {
            HttpClient http = HttpClient.newHttpClient();
            for (String[] r : new String[][]{{"GET", "/"}, {"GET", "/health"}, {"GET", "/v1/status"},
                    {"GET", "/no/such/route"}, {"POST", "/v1/lease"}, {"GET", "/v1/dataset/x"}}) {
                HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(running.url() + r[1]))
                        .method(r[0], HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                String what = r[0] + " " + r[1] + " (" + resp.statusCode() + ")";
                String csp = resp.headers().firstValue("Content-Security-Policy").orElse("");
                assertTrue(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), what + ": " + csp);
                assertEquals("nosniff", resp.headers().firstValue("X-Content-Type-Options").orElse(""), what);
                assertTrue(resp.headers().firstValue("Strict-Transport-Security").isEmpty(), what + ": no HSTS over http");
            }
        }
    }

    @Test
    void tlsHasHstsAndRefusesCbcSuites() throws Exception {
        Path keystore = tmp.resolve("platform.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "coopt", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "hardening", "-dname",
                "CN=localhost", "-ext", "SAN=ip:127.0.0.1").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool");
        try (TestPlatform running = start(new PlatformServer.Tls(keystore, "hardening".toCharArray()))) {
            SSLContext trustAll = SSLContext.getInstance("TLS");
            trustAll.init(null, new TrustManager[]{new X509TrustManager() {
                @Override public void checkClientTrusted(X509Certificate[] c, String a) { }
                @Override public void checkServerTrusted(X509Certificate[] c, String a) { }
                @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
            }}, new SecureRandom());
            HttpResponse<String> health = HttpClient.newBuilder().sslContext(trustAll).build().send(
                    HttpRequest.newBuilder(URI.create(running.url() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertTrue(health.headers().firstValue("Strict-Transport-Security").orElse("").startsWith("max-age="),
                    health.headers().map().toString());

            assertEquals("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                    handshake(trustAll, running.server().port(), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"));
            for (String cbc : List.of("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384")) {
                assertThrows(SSLHandshakeException.class, () -> handshake(trustAll, running.server().port(), cbc), cbc);
            }
        }
    }

    /** A TLS 1.2 handshake offering only {@code suite}; returns the suite agreed. */
    private static String handshake(SSLContext context, int port, String suite) throws Exception {
        try (SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.setEnabledProtocols(new String[]{"TLSv1.2"});
            s.setEnabledCipherSuites(new String[]{suite});
            s.startHandshake();
            return s.getSession().getCipherSuite();
        }
    }
}
