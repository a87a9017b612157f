package ai.coopt.platform.client;

import ai.coopt.UserException;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.auth.Sha256;
import ai.coopt.store.Json;
import com.fasterxml.jackson.databind.JsonNode;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@link PlatformClient}'s transport: the platform's URL and trust, each request signed with the participant's key (a
 * fresh timestamp on every attempt) or carrying the operator's token, and retried with exponential backoff while the
 * platform is unreachable or answers 5xx (408 and 429 too) — for at most {@code retryFor}. A 4xx is raised at once as
 * a {@link PlatformClient.Refusal}; so is a certificate or host name that does not verify (one line). Requests are
 * signed over https://, or over plain http:// only to loopback.
 */
final class Transport {
    private final URI base;
    /** Plain http:// to a host that is not loopback: nothing is signed there (a signature is not privacy). */
    private final boolean plainRemote;
    private final HttpClient http;
    private final KeyFile keys;
    /** The operator's bearer token (status, dataset) when there are no keys; null for none. */
    private final String operatorToken;
    private final Duration retryFor;
    private final Consumer<String> log;

    /** As {@link PlatformClient#PlatformClient(String, Path, KeyFile, String, Duration, Consumer)}. */
    Transport(String platformUrl, Path caCert, KeyFile keys, String operatorToken, Duration retryFor,
              Consumer<String> log) {
        this.base = parse(platformUrl);
        this.plainRemote = "http".equals(base.getScheme()) && !loopback(base.getHost());
        if (keys != null) {
            refuseSigningInPlain();
        }
        if (operatorToken != null && plainRemote) {
            throw new UserException("--platform " + base + ": the operator token goes over https:// only (plain http://"
                    + " only to this machine: 127.0.0.1, ::1, localhost); use the platform's https:// URL");
        }
        this.operatorToken = operatorToken;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER);
        if (caCert != null) {
            b.sslContext(trusting(caCert));
        }
        this.http = b.build();
        this.keys = keys;
        this.retryFor = retryFor;
        this.log = log;
    }

    private static URI parse(String url) {
        try {
            URI u = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException();
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new UserException("--platform must be an http:// or https:// URL, not '" + url + "'");
        }
    }

    /** 127.0.0.0/8, ::1 or localhost, told from the URL alone (no name is looked up). */
    static boolean loopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!h.matches("[0-9.]+") && !h.contains(":")) {
            return false;
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private void refuseSigningInPlain() {
        if (plainRemote) {
            throw new UserException("--platform " + base + ": signed requests go over https:// only (plain http:// only"
                    + " to this machine: 127.0.0.1, ::1, localhost); use the platform's https:// URL");
        }
    }

    /**
     * A certificate or host name that did not verify: {@code e} or one of its causes is a certificate failure. Waiting
     * does not change that, so it is not retried.
     */
    private static boolean certificateFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertificateException || t instanceof CertPathValidatorException
                    || t instanceof SSLPeerUnverifiedException) {
                return true;
            }
        }
        return false;
    }

    private static SSLContext trusting(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new UserException(pem + ": no certificate in it");
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException e) {
            throw new UserException(pem + ": cannot read the CA certificate: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new UserException(pem + ": not a PEM certificate: " + e.getMessage());
        }
    }

    URI base() {
        return base;
    }

    /** The Retry-After of a response in milliseconds (seconds form, at most a minute), or 0. */
    private static long retryAfterMillis(HttpResponse<?> r) {
        String v = r.headers().firstValue("Retry-After").orElse("");
        return v.matches("[0-9]{1,5}") ? Math.min(60, Long.parseLong(v)) * 1000 : 0;
    }

    interface RequestMaker {
        HttpRequest make();
    }

    <T> HttpResponse<T> send(String path, RequestMaker request, HttpResponse.BodyHandler<T> handler) {
        long deadline = System.nanoTime() + retryFor.toNanos();
        long backoff = 500;
        while (true) {
            String problem;
            try {
                HttpResponse<T> r = http.send(request.make(), handler);
                if (r.statusCode() < 300) {
                    return r;
                }
                // 408: the server timed out an idle connection this client had pooled; the request itself was not
                // considered, so it is sent again (signed anew) like after a 5xx
                // 429: over this participant's rate limit; sent again after the Retry-After the platform names
                if (r.statusCode() < 500 && r.statusCode() != 408 && r.statusCode() != 429) {
                    throw new PlatformClient.Refusal(r.statusCode(), reason(r));
                }
                problem = "HTTP " + r.statusCode();
                backoff = Math.max(backoff, retryAfterMillis(r));
            } catch (ConnectException e) {
                problem = "cannot connect";
            } catch (IOException e) {
                if (certificateFailure(e)) {
                    throw new UserException("the platform at " + base + " failed the certificate check ("
                            + String.valueOf(e.getMessage()).replaceAll("\\s+", " ") + "): give its certificate with "
                            + "--ca-cert PEM, and a --platform host name the certificate is for");
                }
                problem = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserException("interrupted while talking to the platform");
            }
            if (System.nanoTime() + backoff * 1_000_000 > deadline) {
                throw new UserException("the platform at " + base + " did not answer " + path + " (" + problem
                        + ") for " + retryFor.toSeconds() + " s; giving up");
            }
            log.accept("platform " + path + ": " + problem + "; retrying in " + backoff / 1000.0 + " s");
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserException("interrupted while waiting to retry");
            }
            backoff = Math.min(backoff * 2, 15_000);
        }
    }

    private static String reason(HttpResponse<?> r) {
        Object body = r.body();
        if (body instanceof byte[] bytes) {
            try {
                JsonNode n = Json.mapper().readTree(bytes);
                if (n != null && n.hasNonNull("error")) {
                    return n.get("error").asText();
                }
            } catch (IOException ignored) {
                // not JSON: fall through to the status
            }
        }
        return "HTTP " + r.statusCode();
    }

    /**
     * A GET as whoever this client is: signed when it has keys (or {@code sign} demands it), else with the operator's
     * token, else anonymous.
     */
    HttpRequest authorized(HttpRequest.Builder b, String path, boolean sign) {
        if (sign || keys != null) {
            return signed(b, "GET", path, Sha256.EMPTY, keys);
        }
        if (operatorToken != null) {
            b.header("Authorization", "Bearer " + operatorToken);
        }
        return b.build();
    }

    HttpRequest signed(HttpRequest.Builder b, String method, String path, String bodySha, KeyFile signer) {
        if (signer == null) {
            throw new IllegalStateException("a signed request needs the participant's key");
        }
        refuseSigningInPlain();
        for (Map.Entry<String, String> h : RequestSignature.sign(signer.participantId(), signer.privateKey(), method,
                path, System.currentTimeMillis(), bodySha).entrySet()) {
            b.header(h.getKey(), h.getValue());
        }
        return b.build();
    }

    /** A request to {@code path} on the platform. */
    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path));
    }
}
