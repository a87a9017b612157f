package ai.coopt.collab;

import ai.coopt.data.ImageSet;
import ai.coopt.util.DaemonThreads;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One participant's side of a round, written against {@link Platform} and {@link Participant} only: send the
 * outputs on S unless the platform has them, then lease a shard, embed it, upload it, until the platform says every
 * shard is accepted or {@code maxShards} were done, answering the platform's audits after each upload, while it waits
 * and before it leaves. While a shard is embedded its lease is renewed in the
 * background at a third of its remaining time.
 */
public final class ParticipantLoop {
    /** What this participant did. */
    public record Summary(String participant, int shards, long images, double seconds, double sharedSeconds,
                          double uniformitySeconds, int audits) {}

    /** How the loop waits while others hold the remaining shards; tests and the CLI pass their own. */
    public interface Waiter {
        void sleep(long millis) throws InterruptedException;
    }

    private ParticipantLoop() {}

    /** @param maxShards at most this many shards (0 = until every shard is accepted) */
    public static Summary run(Platform platform, Participant participant, int maxShards, Waiter waiter) {
        long t0 = System.nanoTime();
        double sharedSeconds = 0;
        double uniformitySeconds = 0;
        if (!platform.hasShared(participant.id())) {
            SharedOutputs s = participant.embedShared(platform.shared());
            platform.submitShared(s);
            sharedSeconds = s.seconds();
            uniformitySeconds = s.uniformitySeconds();
        }
        int shards = 0;
        long images = 0;
        int audits = 0;
        ScheduledExecutorService renewals = Executors.newSingleThreadScheduledExecutor(
                DaemonThreads.named("coopt-lease-renewal"));
        try {
            while (maxShards == 0 || shards < maxShards) {
                Lease lease = platform.lease(participant.id());
                if (lease instanceof Lease.Done) {
                    break;
                }
                if (lease instanceof Lease.Wait w) {
                    audits += answerAudits(platform, participant);
                    try {
                        waiter.sleep(Math.max(1, w.millis()));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while waiting for a shard", e);
                    }
                    continue;
                }
                Lease.Granted granted = (Lease.Granted) lease;
                AtomicReference<Lease.Granted> held = new AtomicReference<>(granted);
                ScheduledFuture<?> renewal = scheduleRenewal(renewals, platform, participant.id(), held);
                ShardOutputs out;
                try {
                    ImageSet images0 = platform.shard(granted);
                    out = participant.embedShard(granted.shard(), images0, granted.ids());
                } finally {
                    if (renewal != null) {
                        renewal.cancel(false);
                    }
                }
                platform.upload(held.get(), out);
                shards++;
                images += granted.ids().length;
                audits += answerAudits(platform, participant);
            }
            audits += answerAudits(platform, participant);
        } finally {
            renewals.shutdownNow();
        }
        return new Summary(participant.id(), shards, images, (System.nanoTime() - t0) / 1e9, sharedSeconds,
                uniformitySeconds, audits);
    }

    /** Answers every audit the platform holds for this participant; returns how many. */
    private static int answerAudits(Platform platform, Participant participant) {
        int answered = 0;
        for (Audit audit : platform.audits(participant.id())) {
            ImageSet images = platform.auditImages(participant.id(), audit);
            float[] outputs = participant.embedImages(images);
            platform.answerAudit(participant.id(), audit, outputs, outputs.length / Math.max(1, images.count()));
            answered++;
        }
        return answered;
    }

    /** Renews at a third of the time left, again after each renewal; nothing for a lease that never expires. */
    private static ScheduledFuture<?> scheduleRenewal(ScheduledExecutorService pool, Platform platform, String id,
                                                      AtomicReference<Lease.Granted> held) {
        long left = held.get().expiresAtMillis() - System.currentTimeMillis();
        if (held.get().expiresAtMillis() == Long.MAX_VALUE || left <= 0) {
            return null;
        }
        long period = Math.max(1000, left / 3);
        return pool.scheduleAtFixedRate(() -> {
            try {
                held.set(platform.renew(id, held.get()));
            } catch (RuntimeException e) {
                // a failed renewal is not fatal: the upload may still be accepted while nobody else took the shard
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }
}
