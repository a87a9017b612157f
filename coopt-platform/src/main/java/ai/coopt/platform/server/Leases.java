package ai.coopt.platform.server;

import ai.coopt.platform.api.LeaseView;
import ai.coopt.platform.db.LeaseResult;
import ai.coopt.platform.db.LeaseRepository;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Renewal;
import ai.coopt.platform.db.Shard;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Where a shard is leased: a participant in good standing that sent its outputs on S gets a shard (or is told to
 * wait, or that all are taken), renews it, and fetches its images; the store grants leases atomically, so no shard
 * is held twice however many processes serve.
 */
final class Leases {
    /**
     * The longest a participant is told to wait before asking again: the shard it waits for may be accepted (or a
     * quarantine may open shards) long before the lease that blocks it would expire.
     */
    static final long MAX_WAIT_MILLIS = 2_000;
    /** How long a lease may be held without an upload unless {@link #capLeases(Duration)} says otherwise. */
    static final Duration DEFAULT_MAX_LEASE = Duration.ofHours(24);
    /** How many leases one participant's workers may hold at once unless {@link #capLeasesPerParticipant} says otherwise. */
    static final int DEFAULT_MAX_LEASES_PER_PARTICIPANT = 4;

    private final RoundFiles files;
    private final PlatformStore store;
    private final RateLimiter rateLimits;
    private final LongSupplier clock;
    private volatile long maxLeaseMillis = DEFAULT_MAX_LEASE.toMillis();
    private volatile int maxLeasesPerParticipant = DEFAULT_MAX_LEASES_PER_PARTICIPANT;

    Leases(RoundFiles files, PlatformStore store, RateLimiter rateLimits, LongSupplier clock) {
        this.files = files;
        this.store = store;
        this.rateLimits = rateLimits;
        this.clock = clock;
    }

    /**
     * Bounds how long one lease may be held, renewals included, without an upload ({@code serve --max-lease-hours}):
     * then the shard is open again, so a participant that renews and never uploads cannot squat it.
     */
    void capLeases(Duration max) {
        if (max.isNegative() || max.isZero()) {
            throw new IllegalArgumentException("the longest lease must be positive, not " + max);
        }
        maxLeaseMillis = max.toMillis();
    }

    /**
     * Bounds how many leases the processes (workers) of one participant hold at once ({@code serve
     * --max-leases-per-participant}): an organisation runs {@code participant run} with one key on several machines.
     */
    void capLeasesPerParticipant(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("a participant must be allowed at least one lease, not " + max);
        }
        maxLeasesPerParticipant = max;
    }

    /**
     * A lease for one of the participant's workers ({@code worker}: the process's own name for itself, letters,
     * digits, '.', '_' or '-', at most 64; null for a participant that runs one process). The same worker asking
     * again gets its lease back; another worker gets another shard while the participant holds fewer than the bound.
     */
    LeaseView lease(String participant, String worker) throws Refusal {
        String w = worker == null ? LeaseRepository.SOLE_WORKER : worker;
        if (!LeaseRepository.isWorkerName(w)) {
            throw new Refusal(Refusal.Kind.MALFORMED, "'worker' must be at most 64 letters, digits, '.', '_' or '-'");
        }
        rateLimits.take(participant, RateLimiter.Kind.LEASE);
        Access.refuseQuarantined(store, participant);
        if (store.uploads().sharedOutput(participant).isEmpty()) {
            throw new Refusal(Refusal.Kind.CONFLICT, "send your outputs on the shared subset (POST /v1/shared) before leasing a shard");
        }
        return view(store.leases().lease(participant, w, clock.getAsLong(), files.config().leaseSeconds() * 1000L, maxLeaseMillis,
                maxLeasesPerParticipant, null));
    }

    LeaseView renew(String participant, int shard, String token) throws Refusal {
        rateLimits.take(participant, RateLimiter.Kind.RENEW);
        files.requireShard(shard);
        Renewal r = store.leases().renew(participant, shard, token, clock.getAsLong(), files.config().leaseSeconds() * 1000L,
                maxLeaseMillis);
        if (r instanceof Renewal.Refused refused) {
            throw new Refusal(Refusal.Kind.FORBIDDEN, refused.reason());
        }
        return view(new LeaseResult.Leased(shard, token, ((Renewal.Renewed) r).expires(), true));
    }

    private LeaseView view(LeaseResult r) {
        if (r instanceof LeaseResult.Leased l) {
            Shard row = shardRow(store, l.shard());
            return new LeaseView("granted", l.shard(), files.shardIds(l.shard()),
                    l.leaseId(), l.expires(), row.sha256(), row.images(), null);
        }
        if (r instanceof LeaseResult.Wait w) {
            return new LeaseView("wait", null, null, null, null, null, null,
                    Math.max(100, Math.min(MAX_WAIT_MILLIS, w.until() - clock.getAsLong())));
        }
        return new LeaseView("done", null, null, null, null, null, null, null);
    }

    /** The shared images, for a participant in good standing: a quarantined one gets nothing more from the platform. */
    Path sharedImages(String participant) throws Refusal {
        Access.refuseQuarantined(store, participant);
        return files.sharedImages();
    }

    /** The images of a shard, for its lease holder only. */
    Path shardImages(String participant, int shard) throws Refusal {
        Access.refuseQuarantined(store, participant);
        files.requireShard(shard);
        if (!participant.equals(shardRow(store, shard).leaseHolder())) {
            throw new Refusal(Refusal.Kind.FORBIDDEN, "shard " + shard + " is not leased to you");
        }
        return files.shardImages(shard);
    }

    /** A shard's row, which exists for every shard of the plan. */
    static Shard shardRow(PlatformStore store, int shard) {
        return store.rounds().shard(shard).orElseThrow(() -> new IllegalArgumentException("no shard " + shard));
    }
}
