package ai.coopt.platform.server;

import ai.coopt.platform.db.PlatformStore;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.LongSupplier;

/**
 * Receives an upload's body into this process's staging directory and checks it ({@link UploadCheck}). A refusal,
 * here or by the caller's later checks ({@link #refuse}), is put on the audit trail and counted against the
 * participant's allowance of refused uploads.
 */
final class Receiver {
    private final Staging staging;
    private final PlatformStore store;
    private final RateLimiter rateLimits;
    private final LongSupplier clock;

    Receiver(Staging staging, PlatformStore store, RateLimiter rateLimits, LongSupplier clock) {
        this.staging = staging;
        this.store = store;
        this.rateLimits = rateLimits;
        this.clock = clock;
    }

    /** Stages and checks a body of rows for {@code ids} (shard: null for outputs on S). */
    UploadCheck.Checked stage(String participant, Integer shard, InputStream body, long length, long[] ids,
                              String declaredSha) throws Refusal, IOException {
        try {
            return UploadCheck.check(body, length, ids, declaredSha, staging.newFile());
        } catch (Refusal e) {
            rateLimits.spend(participant, RateLimiter.Kind.REFUSED_UPLOAD);
            store.uploads().recordRefused(participant, shard, e.getMessage(), Math.max(0, length), clock.getAsLong());
            throw e;
        }
    }

    /** Refuses an upload that passed {@link #stage} but not the caller's checks; always throws. */
    <T> T refuse(String participant, Integer shard, long length, Refusal.Kind kind, String reason) throws Refusal {
        rateLimits.spend(participant, RateLimiter.Kind.REFUSED_UPLOAD);
        store.uploads().recordRefused(participant, shard, reason, Math.max(0, length), clock.getAsLong());
        throw new Refusal(kind, reason);
    }
}
