package ai.coopt.platform.client;

import ai.coopt.UserException;
import ai.coopt.platform.auth.KeyFile;
import ai.coopt.platform.auth.Sha256;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Checksums;
import ai.coopt.store.Json;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * HTTP to a platform: JSON and file transfers, each request signed with the participant's key (a fresh timestamp
 * on every attempt), and retried with exponential backoff while the platform is unreachable or answers 5xx — for at
 * most {@code retryFor}, so a platform that restarts after a crash finds its participants still there. A 4xx is the
 * platform's answer, not an outage: it is raised at once as a {@link Refusal}; so is a certificate or host name that
 * does not verify (one line). Requests are signed over https://, or over plain http:// only to loopback. The
 * signing, trust and retries are {@link Transport}'s; this class holds the calls.
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

    private final Transport transport;
    /** The participant's keys: what POSTs and uploads are signed with unless told otherwise; null for none. */
    private final KeyFile keys;

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
        this.transport = new Transport(platformUrl, caCert, keys, operatorToken, retryFor, log);
        this.keys = keys;
    }

    public String url() {
        return transport.base().toString();
    }

    /** GET a JSON document: signed with the participant's keys, else with the operator's token, else anonymous. */
    public JsonNode get(String path) {
        HttpResponse<byte[]> r = transport.send(path, () -> transport.authorized(transport.request(path)
                .timeout(Duration.ofSeconds(60)).GET(), path, false), HttpResponse.BodyHandlers.ofByteArray());
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
        HttpResponse<byte[]> r = transport.send(path, () -> transport.signed(transport.request(path)
                        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)), "POST", path, sha, signer),
                HttpResponse.BodyHandlers.ofByteArray());
        return parseJson(r.body());
    }

    /** POST a file as the body (an upload), signed; returns the platform's JSON answer. */
    public JsonNode upload(String path, Path file) {
        String sha = Checksums.sha256(file);
        HttpResponse<byte[]> r = transport.send(path, () -> {
            try {
                return transport.signed(transport.request(path).header("Content-Type", "application/octet-stream")
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
        transport.send(path, () -> {
            HttpRequest.Builder b = transport.request(path).GET();
            long have = partialBytes(temp);
            if (have > 0) {
                b.header("Range", "bytes=" + have + "-");
            }
            return transport.authorized(b, path, sign);
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

    private static long partialBytes(Path temp) {
        try {
            return Files.isRegularFile(temp) ? Files.size(temp) : 0;
        } catch (IOException e) {
            return 0;
        }
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