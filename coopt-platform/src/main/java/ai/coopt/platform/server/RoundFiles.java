package ai.coopt.platform.server;

import ai.coopt.UserException;
import ai.coopt.collab.SharedOutputs;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;
import ai.coopt.data.Sharding;
import ai.coopt.platform.PrivateFiles;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.db.NewShard;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Checksums;
import ai.coopt.store.DType;
import ai.coopt.store.PackedImages;
import ai.coopt.store.SafeTensors;
import ai.coopt.store.Tensor;
import ai.coopt.util.ProgressListener;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The round's plan and files in the platform directory: {@code shards/} (one packed-images file per shard and
 * {@value #SHARED_FILE}, written once, with {@value #IDS_FILE} when the images' ids are not their positions),
 * {@code uploads/} (accepted uploads, named by shard, participant and checksum), {@code fused/} and
 * {@code rounds/N/fused/} (see {@link #fusedDir}).
 */
final class RoundFiles {
    static final String SHARED_FILE = "shared.safetensors";
    /** The ids of the round's images, by position, when they are not 0, 1, 2, … (see {@link #sourceIds}). */
    static final String IDS_FILE = "ids.safetensors";

    private final Path dir;
    private final PlatformConfig config;
    private final ShardPlan plan;
    private final long[] sharedIds;
    /**
     * Each image's id (its index in the split) by its position in the round, or null when they are equal: a round
     * drawn by {@code --limit}, or a folder with skipped files, has its own. The plan works on positions; leases,
     * uploads, shard files and the fused dataset carry ids.
     */
    private final long[] sourceIds;
    private final String sharedSha256;

    private RoundFiles(Path dir, PlatformConfig config, String sharedSha256) {
        this.dir = dir;
        this.config = config;
        this.plan = plan(config);
        this.sourceIds = readSourceIds(dir, config.count());
        this.sharedIds = ids(plan.shared());
        this.sharedSha256 = sharedSha256;
    }

    /** The files of a round already written into {@code dir}. */
    static RoundFiles existing(Path dir, PlatformConfig config) {
        return new RoundFiles(dir, config, Checksums.sha256(dir.resolve("shards").resolve(SHARED_FILE)));
    }

    /** Writes a new round's ids and shard files into {@code dir}; returns them and the database rows of its shards. */
    static RoundFiles write(Path dir, PlatformConfig config, ImageSet images, ProgressListener progress,
                            List<NewShard> shardRows) {
        ShardPlan plan = plan(config);
        writeSourceIds(dir, images);
        String sharedSha = writeShards(dir, images, plan, progress);
        for (int k = 0; k < plan.participants(); k++) {
            Path file = dir.resolve("shards").resolve(shardFile(k));
            shardRows.add(new NewShard(k, plan.shard(k).length, Checksums.sha256(file)));
        }
        return new RoundFiles(dir, config, sharedSha);
    }

    /**
     * Where round {@code round}'s fused dataset is written: {@code fused/} for round 1 (where it always was, so platforms
     * from before rounds read the same), {@code rounds/N/fused/} for round N ≥ 2.
     */
    static Path fusedDir(Path dir, int round) {
        if (round < 1) {
            throw new IllegalArgumentException("rounds are numbered from 1, not " + round);
        }
        return round == 1 ? dir.resolve("fused") : dir.resolve("rounds").resolve(Integer.toString(round)).resolve("fused");
    }

    static String shardFile(int k) {
        return String.format(Locale.ROOT, "shard-%05d.safetensors", k + 1);
    }

    /** Writes {@value #IDS_FILE} into {@code dir/shards} when the images' ids are not their positions. */
    private static void writeSourceIds(Path dir, ImageSet images) {
        long[] ids = new long[images.count()];
        boolean identity = true;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = images.sourceId(i);
            identity &= ids[i] == i;
        }
        if (!identity) {
            LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
            t.put("ids", new Tensor.I64(new long[] {ids.length}, ids));
            SafeTensors.write(dir.resolve("shards").resolve(IDS_FILE), t, Map.of());
        }
    }

    /** The ids {@link #writeSourceIds} kept, checked against the round's size, or null when there are none. */
    private static long[] readSourceIds(Path dir, int count) {
        Path file = dir.resolve("shards").resolve(IDS_FILE);
        if (!Files.exists(file)) {
            return null;
        }
        SafeTensors.Layout layout = SafeTensors.layout(file);
        long[] ids = layout.longs(layout.entry("ids", DType.I64, 1, "[count]"));
        if (ids.length != count) {
            throw new UserException(file + ": " + ids.length + " ids for a round of " + count + " images");
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < (i == 0 ? 0 : ids[i - 1] + 1)) {
                throw new UserException(file + ": ids must be non-negative and increasing");
            }
        }
        return ids;
    }

    private static ShardPlan plan(PlatformConfig c) {
        if (c.shards() < 1 || c.shards() > c.count()) {
            throw new UserException("--shards must be between 1 and the number of images (" + c.count() + "), not "
                    + c.shards());
        }
        ShardPlan plan = c.sharedCount() != null ? Sharding.plan(c.count(), c.shards(), c.sharedCount(), c.seed())
                : Sharding.plan(c.count(), c.shards(), c.sharedFraction(), c.seed());
        if (plan.shared().length < 3) {
            throw new UserException("the shared subset has " + plan.shared().length + " samples; alignment needs at least 3 "
                    + "(raise --shared-fraction or set --shared-count)");
        }
        return plan;
    }

    /** Writes every shard's images and S's into {@code dir/shards} (each file atomically); returns S's sha256. */
    private static String writeShards(Path dir, ImageSet images, ShardPlan plan, ProgressListener progress) {
        Path shards = dir.resolve("shards");
        progress.start("writing shards", images.count(), "img");
        long done = 0;
        for (int k = 0; k < plan.participants(); k++) {
            int[] ids = plan.shard(k);
            PackedImages.writeFile(shards.resolve(shardFile(k)), images.subset(ids), images.sourceIds(ids));
            done += ids.length;
            progress.advance(done);
        }
        progress.finish();
        return PackedImages.writeFile(shards.resolve(SHARED_FILE), images.subset(plan.shared()),
                images.sourceIds(plan.shared()));
    }

    /** The ids of the images at {@code positions} of the round. */
    private long[] ids(int[] positions) {
        long[] out = new long[positions.length];
        for (int k = 0; k < positions.length; k++) {
            out[k] = sourceIds == null ? positions[k] : sourceIds[positions[k]];
        }
        return out;
    }

    Path dir() {
        return dir;
    }

    PlatformConfig config() {
        return config;
    }

    /** How many shards the round has. */
    int shards() {
        return plan.participants();
    }

    /** Whether {@code shard} names one of the round's shards. */
    boolean hasShard(int shard) {
        return shard >= 0 && shard < plan.participants();
    }

    /** A refusal unless {@code shard} names one of the round's shards. */
    void requireShard(int shard) throws Refusal {
        if (!hasShard(shard)) {
            throw new Refusal(Refusal.Kind.NOT_FOUND, "no shard " + shard);
        }
    }

    /** The ids of a shard's images, increasing. */
    long[] shardIds(int shard) {
        return ids(plan.shard(shard));
    }

    /** The ids of the shared subset's images, increasing. */
    long[] sharedIds() {
        return sharedIds;
    }

    String sharedSha256() {
        return sharedSha256;
    }

    Path shardImages(int shard) {
        return dir.resolve("shards").resolve(shardFile(shard));
    }

    Path sharedImages() {
        return dir.resolve("shards").resolve(SHARED_FILE);
    }

    /** An accepted upload's file, by the name its row records. */
    Path upload(String name) {
        return dir.resolve("uploads").resolve(name);
    }

    /** Renames a checked staging file into {@code uploads/} and makes the rename durable. */
    Path commitUpload(Path staged, String name) throws IOException {
        Path uploads = dir.resolve("uploads");
        Files.createDirectories(uploads);
        Path target = uploads.resolve(name);
        try {
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING);
        }
        AtomicFiles.syncDirectory(uploads);
        PrivateFiles.restrict(uploads);
        PrivateFiles.restrict(target);
        return target;
    }

    /** An accepted upload of outputs on S, with the prior's report from its metadata. */
    SharedOutputs readShared(String name) {
        try (Uploads.Opened o = Uploads.open(upload(name))) {
            float[] values = new float[Math.multiplyExact(o.rows().count(), o.rows().dim())];
            o.rows().read(0, o.rows().count(), values, 0);
            return new SharedOutputs("?", Uploads.prior(o.metadata()), values, 0, 0);
        }
    }
}
