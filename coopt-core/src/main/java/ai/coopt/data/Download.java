package ai.coopt.data;

import ai.coopt.UserException;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Downloads one file over HTTP into a directory, verifying its SHA-256. The bytes go to a
 * temporary file beside the target, which is renamed atomically onto the target only once
 * complete and verified; on any failure the temporary file is deleted, so the target is
 * either absent or whole.
 */
final class Download {
    private final HttpClient client;

    Download() {
        this.client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(20))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    /**
     * Fetches {@code url} into {@code target}.
     *
     * @throws IOException   when the server cannot be reached or answers other than 200
     * @throws UserException when the downloaded bytes do not have {@code sha256}
     */
    void fetch(URI url, Path target, String sha256, KnownDatasets.Progress progress) throws IOException {
        String file = target.getFileName().toString();
        Path partial = target.resolveSibling("." + file + "." + UUID.randomUUID() + ".part");
        try {
            HttpResponse<InputStream> response = send(url);
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new IOException("HTTP " + response.statusCode());
                }
                long total = response.headers().firstValueAsLong("Content-Length").orElse(-1);
                String actual = copy(body, partial, file, total, progress);
                if (!actual.equals(sha256)) {
                    throw new UserException("checksum mismatch for " + url + ": expected sha256 " + sha256
                            + ", got " + actual + "; nothing was kept");
                }
            }
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    private HttpResponse<InputStream> send(URI url) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(60)).GET().build();
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    /** Copies {@code body} to {@code out}, reporting progress, and returns the SHA-256 of the bytes. */
    private static String copy(InputStream body, Path out, String file, long total, KnownDatasets.Progress progress)
            throws IOException {
        MessageDigest digest = sha256();
        byte[] buffer = new byte[1 << 16];
        long done = 0;
        progress.update(file, 0, total);
        try (OutputStream sink = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW)) {
            for (int n; (n = body.read(buffer)) >= 0; ) {
                sink.write(buffer, 0, n);
                digest.update(buffer, 0, n);
                done += n;
                if (done != total) {
                    progress.update(file, done, total);
                }
            }
        }
        progress.update(file, done, done);
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
