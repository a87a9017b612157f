package ai.coopt.platform;

import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.data.ImageSet;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.server.PlatformConfig;

import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/**
 * The round a serve process runs: what its operator asked for, merged with the round its database already holds.
 * A new round takes the request (and the defaults for what it leaves out) and reads its images; a resumed round keeps
 * its recorded configuration, which the request may only repeat ({@link PlatformConfig#resumedWith}).
 */
public final class RoundConfiguration {
    /** Shards of a new round when the request names none. */
    public static final int DEFAULT_SHARDS = 8;

    /**
     * What a serve asks for; {@code null} where it says nothing (a resumed round keeps its own value, a new one takes
     * the default).
     */
    public record Request(String data, String split, int limit, long limitSeed, Integer imageSize, Integer shards,
                          Double sharedFraction, Integer sharedCount, Long seed, int leaseSeconds, String align, int dim,
                          Integer auditRows, Integer auditSeconds) {}

    /**
     * The round to serve.
     *
     * @param images a new round's images, read once ({@code null} for a resumed round: the service reads its shards)
     */
    public record Resolved(PlatformConfig config, ImageSet images, boolean resumed) {}

    private RoundConfiguration() {}

    /**
     * The round {@code store} holds, resumed with {@code request}, or a new one made from it ({@code images} is read
     * only then).
     */
    public static Resolved resolve(PlatformStore store, Request request, Supplier<ImageSet> images, String version,
                                   List<String> commandLine) {
        var current = store.rounds().current();
        Double fraction = request.sharedFraction();
        Integer count = request.sharedCount();
        if (current.isPresent()) {
            PlatformConfig resumed = PlatformConfig.fromJson(current.get().configJson()).resumedWith(
                    new PlatformConfig.Resume(request.data(), request.split(), request.limit(), request.limitSeed(),
                            request.imageSize(), request.shards(), fraction, count, request.seed(), request.leaseSeconds(),
                            request.align(), request.dim()));
            return new Resolved(resumed, null, true);
        }
        if (fraction == null && count == null) {
            fraction = CollaborativeOptimization.DEFAULT_SHARED_FRACTION;
        }
        ImageSet read = images.get();
        PlatformConfig config = new PlatformConfig(PlatformConfig.FORMAT, request.data(), request.split(), request.limit(),
                request.imageSize(), read.count(), read.fingerprint(), read.skipped(),
                request.shards() == null ? DEFAULT_SHARDS : request.shards(), fraction, count,
                request.seed() == null ? 0 : request.seed(), request.leaseSeconds(), request.align(), request.dim(),
                Instant.now().toString(), version, commandLine)
                .withSubset(request.limitSeed(), null);  // the service records the images' draw
        return new Resolved(config.withAudits(audits(request)), read, false);
    }

    /** The audits a new round asks for: S's rows a quarter of the shard's when the rows are given. */
    private static PlatformConfig.Audits audits(Request request) {
        PlatformConfig.Audits d = PlatformConfig.Audits.DEFAULT;
        Integer asked = request.auditRows();
        int rows = asked == null ? d.rows() : asked;
        return new PlatformConfig.Audits(rows, asked == null ? d.sharedRows() : Math.max(1, rows / 4),
                request.auditSeconds() == null ? d.seconds() : request.auditSeconds());
    }
}
