package ai.coopt.platform.client;

import ai.coopt.collab.Participant;
import ai.coopt.collab.ShardOutputs;
import ai.coopt.collab.SharedOutputs;
import ai.coopt.data.ImageSet;
import ai.coopt.platform.Uploads;
import ai.coopt.store.AtomicFiles;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * A participant that keeps each shard's outputs as the upload file in its work directory, written atomically as
 * soon as the prior has run: after a kill, a shard whose outputs are already there (same ids, same prior) is uploaded
 * again without running the prior.
 */
public final class CachingParticipant implements Participant {
    private final Participant inner;
    private final String priorSha256;
    private final IntFunction<Path> outputsFile;
    private final List<Uploads.Opened> open = new ArrayList<>();

    /** @param priorSha256 the prior's weights checksum, recorded in each file so another prior's outputs are not reused */
    public CachingParticipant(Participant inner, String priorSha256, IntFunction<Path> outputsFile) {
        this.inner = inner;
        this.priorSha256 = priorSha256;
        this.outputsFile = outputsFile;
    }

    @Override
    public String id() {
        return inner.id();
    }

    @Override
    public SharedOutputs embedShared(ImageSet shared) {
        return inner.embedShared(shared);
    }

    @Override
    public ShardOutputs embedShard(int shard, ImageSet images, long[] ids) {
        Path file = outputsFile.apply(shard);
        if (Files.isRegularFile(file)) {
            try {
                Uploads.Opened o = Uploads.open(file);
                if (Arrays.equals(o.ids(), ids) && priorSha256.equals(o.metadata().get("weights_sha256"))) {
                    open.add(o);
                    return new ShardOutputs(id(), shard, ids, o.rows(), 0);
                }
                o.close();
            } catch (RuntimeException e) {
                // unreadable or from another run: embed again
            }
            AtomicFiles.deleteQuietly(file);
        }
        ShardOutputs out = inner.embedShard(shard, images, ids);
        Uploads.write(file, ids, out.rows(), Map.of("weights_sha256", priorSha256));
        Uploads.Opened o = Uploads.open(file);
        open.add(o);
        return new ShardOutputs(id(), shard, ids, o.rows(), out.seconds());
    }

    @Override
    public float[] embedImages(ImageSet images) {
        return inner.embedImages(images);
    }

    @Override
    public void close() {
        open.forEach(Uploads.Opened::close);
        inner.close();
    }
}
