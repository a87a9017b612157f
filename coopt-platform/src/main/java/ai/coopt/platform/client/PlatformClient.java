package ai.coopt.platform.client;

import ai.coopt.UserException;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.auth.RequestSignature;
import ai.coopt.platform.auth.Sha256;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Checksums;
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
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
 * HTTP to a platform: JSON and file transfers, each request signed with the participant's key (a fresh timestamp
 * on every attempt), and retried with exponential backoff while the platform is unreachable or answers 5xx — for at
 * most {@code retryFor}, so a platform that restarts after a crash finds its participants still there. A 4xx is the
 * platform's answer, not an outage: it is raised at once as a {@link Refusal}; so is a certificate or host name that
 * does not verify (one line). Requests are signed over https://, or over plain http:// only to loopback.
 */
public final class PlatformClient {
    /** The platform refused a request; {@code status} is the HTTP status, the message its reason. */
    public static final class Refusal extends RuntimeException {
        private final int status;

        public Refusal(int status, String reason) {
            super(reason);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    private final URI base;
    /** Plain http:// to a host that is not loopback: nothing is signed there (a signature is not privacy). */
    private final boolean plainRemote;
    private final HttpClient http;
    private final KeyFile keys;
    /** The operator's bearer token (status, dataset) when there are no keys; null for none. */
    private final String operatorToken;
    private final Duration retryFor;
    private final Consumer<String> log;

    /**
     * @param caCert a PEM certificate (or chain) to trust for an https platform with a self-signed certificate; null =
     *               the JVM's default trust store
     * @param keys the participant's keys; null for the unsigned, read-only routes
     * @param log where retries are reported (stderr in the CLI)
     */
    public PlatformClient(String platformUrl, Path caCert, KeyFile keys, Duration retryFor, Consumer<String> log) {
        this(platformUrl, caCert, keys, null, retryFor, log);
    }

    /**
     * As {@link #PlatformClient(String, Path, KeyFile, Duration, Consumer)}, the operator's: {@code operatorToken} is
     * sent as {@code Authorization: Bearer} on every GET (the dashboard's data, status, round, dataset), never over
     * plain http:// to another machine.
     */
    public PlatformClient(String platformUrl, Path caCert, KeyFile keys, String operatorToken, Duration retryFor,
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

    public String url() {
        return base.toString();
    }

    /** GET a JSON document: signed with the participant's keys, else with the operator's token, else anonymous. */
    public JsonNode get(String path) {
        HttpResponse<byte[]> r = send(path, () -> authorized(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60))
                .GET(), path, false), HttpResponse.BodyHandlers.ofByteArray());
        return parseJson(r.body());
    }

    /** POST a JSON body, signed with {@code signer} (the participant's keys unless given). */
    public JsonNode post(String path, Object body) {
        return post(path, body, keys);
    }

    /** POST a JSON body signed with {@code signer}: enrolment signs with the key being registered. */
    public JsonNode post(String path, Object body, KeyFile signer) {
        byte[] bytes = toJson(body);
        String sha = Sha256.hex(bytes);
        HttpResponse<byte[]> r = send(path, () -> signed(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(bytes)),
                "POST", path, sha, signer), HttpResponse.BodyHandlers.ofByteArray());
        return parseJson(r.body());
    }

    /** POST a file as the body (an upload), signed; returns the platform's JSON answer. */
    public JsonNode upload(String path, Path file) {
        String sha = Checksums.sha256(file);
        HttpResponse<byte[]> r = send(path, () -> {
            try {
                return signed(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/octet-stream")
                        .POST(HttpRequest.BodyPublishers.ofFile(file)), "POST", path, sha, keys);
            } catch (IOException e) {
                throw new UserException(file + ": cannot read: " + e.getMessage());
            }
        }, HttpResponse.BodyHandlers.ofByteArray());
        return parseJson(r.body());
    }

    /**
     * GET a file (signed) into {@code file}, unless it is already there with {@code sha256}; the download goes to a
     * temporary sibling and is renamed only when its checksum matches. A partial temporary file (a connection lost
     * mid-download, then retried, or a download interrupted earlier) is resumed with a Range request; a server that
     * answers with the whole file (200) has it rewritten from the start.
     */
    public void download(String path, Path file, String sha256, boolean sign) {
        if (Files.isRegularFile(file) && Checksums.sha256(file).equals(sha256)) {
            return;
        }
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new UserException(file.getParent() + ": cannot create: " + e.getMessage());
        }
        Path temp = file.resolveSibling("." + file.getFileName() + ".download");
        boolean resumed = partialBytes(temp) > 0;
        try {
            fetchInto(path, temp, sign);
        } catch (Refusal e) {
            if (e.status() != 416) {
                throw e;
            }
            // the partial file is no prefix the platform can continue (as long as the file, or longer)
            AtomicFiles.deleteQuietly(temp);
            fetchInto(path, temp, sign);
        }
        String actual = Checksums.sha256(temp);
        if (!actual.equals(sha256) && resumed) {
            // the partial file was of another version of this file (or damaged): once more from the start
            AtomicFiles.deleteQuietly(temp);
            fetchInto(path, temp, sign);
            actual = Checksums.sha256(temp);
        }
        if (!actual.equals(sha256)) {
            AtomicFiles.deleteQuietly(temp);
            throw new UserException(path + ": the download's sha256 is " + actual + ", the platform announced " + sha256);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UserException(file + ": cannot write: " + e.getMessage());
        }
    }

    /** GETs {@code path} into {@code temp}, continuing a partial {@code temp} with a Range request. */
    private void fetchInto(String path, Path temp, boolean sign) {
        send(path, () -> {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).GET();
            long have = partialBytes(temp);
            if (have > 0) {
                b.header("Range", "bytes=" + have + "-");
            }
            return authorized(b, path, sign);
        }, info -> info.statusCode() == 206
                ? HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofFile(temp, StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, StandardOpenOption.APPEND), Object.class::cast)
                : info.statusCode() < 300 ? HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofFile(temp,
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING),
                        Object.class::cast)
                // a refusal's body is its reason, not the file: read, so that the Refusal says why (a bare "HTTP 403"
                // could not tell "you are quarantined" from "not leased to you")
                : HttpResponse.BodySubscribers.mapping(HttpResponse.BodySubscribers.ofByteArray(), Object.class::cast));
    }

    /** The Retry-After of a response in milliseconds (seconds form, at most a minute), or 0. */
    private static long retryAfterMillis(HttpResponse<?> r) {
        String v = r.headers().firstValue("Retry-After").orElse("");
        return v.matches("[0-9]{1,5}") ? Math.min(60, Long.parseLong(v)) * 1000 : 0;
    }

    private static long partialBytes(Path temp) {
        try {
            return Files.isRegularFile(temp) ? Files.size(temp) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private interface RequestMaker {
        HttpRequest make();
    }

    private <T> HttpResponse<T> send(String path, RequestMaker request, HttpResponse.BodyHandler<T> handler) {
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
                    throw new Refusal(r.statusCode(), reason(r));
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
    private HttpRequest authorized(HttpRequest.Builder b, String path, boolean sign) {
        if (sign || keys != null) {
            return signed(b, "GET", path, Sha256.EMPTY, keys);
        }
        if (operatorToken != null) {
            b.header("Authorization", "Bearer " + operatorToken);
        }
        return b.build();
    }

    private HttpRequest signed(HttpRequest.Builder b, String method, String path, String bodySha, KeyFile signer) {
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

    private URI uri(String path) {
        return URI.create(base + path);
    }

    private static JsonNode parseJson(byte[] body) {
        try {
            return Json.mapper().readTree(body);
        } catch (IOException e) {
            throw new UserException("the platform answered with malformed JSON");
        }
    }

    private static byte[] toJson(Object body) {
        try {
            return Json.mapper().writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A JSON array of integers (ids) as longs. */
    public static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
