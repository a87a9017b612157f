package ai.coopt.platform.server;

import io.javalin.http.Context;

import java.util.function.BiConsumer;

/**
 * The security headers every response carries, as HTTP headers (a {@code <meta>} CSP cannot say
 * {@code frame-ancestors}): the dashboard's Content-Security-Policy (no script, no framing by any page),
 * {@code X-Content-Type-Options: nosniff}, no referrer, and under TLS Strict-Transport-Security. The TLS cipher suites
 * the platform offers are here too: AEAD only (TLS 1.3's, and ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2).
 */
final class SecurityHeaders {
    static final String CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
            + "base-uri 'none'; frame-ancestors 'none'";
    /** One year, as browsers' preload lists ask. */
    static final String HSTS = "max-age=31536000";
    /** Cipher suites offered, as Jetty include patterns (regular expressions). */
    static final String[] AEAD_SUITES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)"};

    private SecurityHeaders() {}

    static void apply(Context ctx, boolean tls) {
        apply(ctx::header, tls);
    }

    /** The same headers, for a response written outside Javalin ({@link WholeBodies}). */
    static void apply(BiConsumer<String, String> header, boolean tls) {
        header.accept("Content-Security-Policy", CSP);
        header.accept("X-Content-Type-Options", "nosniff");
        header.accept("Referrer-Policy", "no-referrer");
        if (tls) {
            header.accept("Strict-Transport-Security", HSTS);
        }
    }
}
