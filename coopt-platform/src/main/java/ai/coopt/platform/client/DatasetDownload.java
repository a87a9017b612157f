package ai.coopt.platform.client;

import ai.coopt.UserException;
import ai.coopt.platform.api.DatasetFile;
import ai.coopt.platform.api.DatasetListing;
import ai.coopt.platform.api.Status;
import ai.coopt.platform.api.Wire;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.OptimizedDataset;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Fetches a platform's fused optimized dataset (the newest finished round's, or a given round's): every listed file
 * checked by sha256, the whole verified, then moved into place.
 */
public final class DatasetDownload {
    /** What was downloaded. */
    public record Result(Path out, int round, int count, int dim, int files, long bytes) {}

    /** The longest pause between two questions while waiting for fusion. */
    static final int MAX_POLL_SECONDS = 15;

    private DatasetDownload() {}

    /** The newest finished round's dataset. */
    public static Result fetch(PlatformClient client, Path out) {
        return fetch(client, out, null);
    }

    /** Round {@code round}'s dataset, or the newest finished round's when {@code round} is null. */
    public static Result fetch(PlatformClient client, Path out, Integer round) {
        return fetch(client, out, round, Duration.ZERO, line -> { });
    }

    /**
     * The same, waiting up to {@code wait} for the dataset while the platform's fusion has not finished: asked again
     * after 1 s, 2 s, 4 s … (at most {@value #MAX_POLL_SECONDS} s apart), the wait reported once to {@code log}. A failed
     * fusion or the time running out is one line.
     */
    public static Result fetch(PlatformClient client, Path out, Integer round, Duration wait, Consumer<String> log) {
        if (round != null && round < 1) {
            throw new UserException("--round must be 1 or more, not " + round);
        }
        AtomicFiles.checkWritable(out, OptimizedDataset.KIND);
        DatasetListing listing = Wire.read(listing(client, round, wait, log), DatasetListing.class, "GET /v1/dataset");
        List<DatasetFile> files = listing.files() == null ? List.of() : listing.files();
        // the round the listing names, so that every file comes from it even if a newer round finishes meanwhile
        int listed = listing.round() > 0 ? listing.round() : round == null ? 1 : round;
        if (round != null && listed != round) {
            throw new UserException("the platform listed round " + listed + "'s dataset when round " + round + "'s was asked for");
        }
        long bytes = 0;
        for (DatasetFile f : files) {
            String name = f == null || f.name() == null ? "" : f.name();
            if (!name.matches("[A-Za-z0-9._-]{1,100}") || name.startsWith(".") || f.sha256() == null) {
                throw new UserException("the platform listed a file named '" + name + "'; refusing it");
            }
            bytes += f.bytes();
        }
        AtomicFiles.writeDirectory(out, OptimizedDataset.KIND, true, tmp -> {
            for (DatasetFile f : files) {
                client.download("/v1/dataset/" + f.name() + "?round=" + listed, tmp.resolve(f.name()), f.sha256(), false);
            }
            OptimizedDataset.read(tmp);
        });
        OptimizedDataset d = OptimizedDataset.read(out);
        return new Result(out, listed, d.count(), d.dim(), files.size(), bytes);
    }

    private static JsonNode listing(PlatformClient client, Integer round, Duration wait, Consumer<String> log) {
        long deadline = System.nanoTime() + wait.toNanos();
        long pause = 1000;
        while (true) {
            String why;
            try {
                return client.get("/v1/dataset" + (round == null ? "" : "?round=" + round));
            } catch (PlatformClient.Refusal e) {
                if (e.status() == 401 || e.status() == 403) {
                    // not let in: waiting changes nothing
                    throw new UserException("the platform refused the dataset (HTTP " + e.status() + "): " + e.getMessage());
                }
                why = (round == null ? "the platform has no fused dataset yet: "
                        : "the platform has no fused dataset of round " + round + ": ") + e.getMessage();
            }
            if (wait.isZero()) {
                throw new UserException(why);
            }
            Status.Fusion fusion = Wire.read(client.get("/v1/status"), Status.class, "GET /v1/status").fusion();
            if (fusion != null && "failed".equals(fusion.state())) {
                throw new UserException(why + "; the fusion failed (see coopt platform status)");
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new UserException(why + "; waited " + wait.toSeconds() + " s (--wait)");
            }
            if (pause == 1000) {
                log.accept("coopt platform: " + why + "; waiting up to " + wait.toSeconds() + " s for it (--wait)");
            }
            try {
                Thread.sleep(Math.min(pause, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserException("interrupted while waiting for the fused dataset");
            }
            pause = Math.min(pause * 2, MAX_POLL_SECONDS * 1000L);
        }
    }
}
