package ai.coopt.platform.server;

import ai.coopt.UserException;
import ai.coopt.store.Json;
import ai.coopt.util.Secrets;
import ai.coopt.data.Subset;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A platform's round as it was started: the data (spec and options, and the fingerprint of the exact samples), the
 * plan's parameters (the plan itself is recomputed from them) and the fusion settings. Stored once in the database;
 * a restart with the same directory reads it back and refuses options that contradict it.
 *
 * @param imageSize the {@code --image-size} given, or null
 * @param sharedFraction the share of the data in S, or null when {@code sharedCount} is set
 * @param align ridge or none
 * @param dim target width after fusion (0 = the default rule)
 * @param commandLine the serve command that started the round, secrets masked ({@link Secrets#commandLine})
 * @param limitSeed the {@code --limit-seed} given (0 by default)
 * @param subset how {@code --limit} drew the round's images from the split, or null for the whole split: then an
 *     image's id (its index in the split) differs from its position in the round, see {@link PlatformService}
 */
public record PlatformConfig(String format, String data, String split, int limit,
                             @JsonSetter(nulls = Nulls.SET) Integer imageSize, int count, String fingerprint,
                             int skippedImages, int shards, @JsonSetter(nulls = Nulls.SET) Double sharedFraction,
                             @JsonSetter(nulls = Nulls.SET) Integer sharedCount, long seed, int leaseSeconds, String align, int dim, String createdAt,
                             String toolVersion, List<String> commandLine, @JsonSetter(nulls = Nulls.SET) Audits audits,
                             long limitSeed, @JsonSetter(nulls = Nulls.SET) @JsonInclude(JsonInclude.Include.NON_NULL) Subset subset) {
    public static final String FORMAT = "coopt-platform/1";

    /**
     * How accepted shard uploads are audited.
     *
     * @param rows rows of the shard asked for again (all of them when the shard is smaller)
     * @param sharedRows rows of S asked for again, mixed in
     * @param seconds how long the participant has to answer
     */
    public record Audits(int rows, int sharedRows, int seconds) {
        public static final Audits DEFAULT = new Audits(128, 32, 600);

        public Audits {
            if (rows < 1 || sharedRows < 0 || seconds < 1) {
                throw new UserException("audits need at least 1 row of the shard, no negative count of rows of S and at"
                        + " least 1 second to answer, not " + rows + " / " + sharedRows + " / " + seconds);
            }
        }
    }

    public PlatformConfig {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(split, "split");
        commandLine = Secrets.commandLine(commandLine);
        audits = audits == null ? Audits.DEFAULT : audits;
    }

    /** A round audited by {@link Audits#DEFAULT}. */
    public PlatformConfig(String format, String data, String split, int limit, Integer imageSize, int count,
                          String fingerprint, int skippedImages, int shards, Double sharedFraction, Integer sharedCount,
                          long seed, int leaseSeconds, String align, int dim, String createdAt, String toolVersion,
                          List<String> commandLine) {
        this(format, data, split, limit, imageSize, count, fingerprint, skippedImages, shards, sharedFraction,
                sharedCount, seed, leaseSeconds, align, dim, createdAt, toolVersion, commandLine, null, 0, null);
    }

    /**
     * What {@code serve} is asked for on a platform directory that already holds a round: the options that may be given
     * again, each null where it was not given (the stored value stands then).
     */
    public record Resume(String data, String split, int limit, long limitSeed, Integer imageSize, Integer shards,
                         Double sharedFraction, Integer sharedCount, Long seed, int leaseSeconds, String align, int dim) {}

    /**
     * The configuration a resumed round is asked for: the data, lease time, alignment and width as given now; shards,
     * the shared subset's size and the seed as given now or, where not given, as stored; the images' count,
     * fingerprint, draw and provenance always as stored. {@link PlatformService#open} then checks it against this one.
     */
    public PlatformConfig resumedWith(Resume r) {
        boolean sharedGiven = r.sharedFraction() != null || r.sharedCount() != null;
        return new PlatformConfig(FORMAT, r.data(), r.split(), r.limit(), r.imageSize(), count, fingerprint, skippedImages,
                r.shards() == null ? shards : r.shards(), sharedGiven ? r.sharedFraction() : sharedFraction,
                sharedGiven ? r.sharedCount() : sharedCount, r.seed() == null ? seed : r.seed(), r.leaseSeconds(),
                r.align(), r.dim(), createdAt, toolVersion, commandLine)
                .withSubset(r.limitSeed(), subset);
    }

    /** This round drawn from its split by {@code --limit} with {@code limitSeed}, as {@code subset} records. */
    public PlatformConfig withSubset(long limitSeed, Subset subset) {
        return new PlatformConfig(format, data, split, limit, imageSize, count, fingerprint, skippedImages, shards,
                sharedFraction, sharedCount, seed, leaseSeconds, align, dim, createdAt, toolVersion, commandLine, audits,
                limitSeed, subset);
    }

    /** This round audited by {@code audits} instead. */
    public PlatformConfig withAudits(Audits audits) {
        return new PlatformConfig(format, data, split, limit, imageSize, count, fingerprint, skippedImages, shards,
                sharedFraction, sharedCount, seed, leaseSeconds, align, dim, createdAt, toolVersion, commandLine, audits,
                limitSeed, subset);
    }

    public String toJson() {
        try {
            return Json.mapper().writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static PlatformConfig fromJson(String json) {
        try {
            JsonNode tree = Json.mapper().readTree(json);
            if (tree instanceof ObjectNode o) {
                // rounds stored before --limit drew a seeded subset took the first N samples with no seed
                if (!o.has("limit_seed")) {
                    o.put("limit_seed", 0L);
                }
                if (!o.has("subset")) {
                    o.putNull("subset");
                }
            }
            PlatformConfig c = Json.mapper().treeToValue(tree, PlatformConfig.class);
            if (!FORMAT.equals(c.format())) {
                throw new UserException("the platform's database holds a round of format " + c.format() + ", not " + FORMAT);
            }
            return c;
        } catch (IOException e) {
            throw new UserException("the platform's database holds an unreadable round: " + e.getMessage());
        }
    }

    /**
     * The differences between this (stored) round and the options of a restart; empty when they agree. An option
     * left at its default on the restart is not a difference.
     */
    public List<String> conflicts(PlatformConfig asked) {
        List<String> out = new ArrayList<>();
        differ(out, "--data", data, asked.data);
        differ(out, "--split", split, asked.split);
        differ(out, "--limit", limit, asked.limit);
        differ(out, "--image-size", imageSize, asked.imageSize);
        differ(out, "--shards", shards, asked.shards);
        differ(out, "--shared-fraction", sharedFraction, asked.sharedFraction);
        differ(out, "--shared-count", sharedCount, asked.sharedCount);
        differ(out, "--seed", seed, asked.seed);
        differ(out, "--limit-seed", limitSeed, asked.limitSeed);
        differ(out, "data fingerprint", fingerprint, asked.fingerprint);
        return out;
    }

    private static void differ(List<String> out, String what, Object stored, Object asked) {
        if (!Objects.equals(stored, asked)) {
            out.add(what + " " + asked + " (the round has " + stored + ")");
        }
    }
}
