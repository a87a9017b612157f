package ai.coopt.platform.db;

import org.jdbi.v3.core.Handle;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

import static ai.coopt.platform.db.StoreValues.parse;
import static ai.coopt.platform.db.StoreValues.randomId;

/**
 * Who works on which shard of the current round: the lease columns of {@code shards}. A lease is granted, renewed,
 * retaken or given up at its cap here, with its event, in one transaction; {@link UploadRepository} decides on an
 * upload under the same row lock ({@link #lockShard}) and lease check ({@link #leaseRefusal}).
 *
 * <p>Leases, renewals and shard uploads run at READ COMMITTED on PostgreSQL and lock the rows they decide on, so
 * that several serve processes on one database hand out different shards instead of failing each other's
 * serializable transactions and retrying. Why that is as safe as SERIALIZABLE here:
 * <ul>
 * <li>a participant's own lease requests (say one to each of two servers at once) take turns: each locks the
 *    participant's row first (FOR NO KEY UPDATE, which does not block the foreign-key checks of inserts that
 *    name the participant), so two of them cannot both find no lease held and both take a shard;
 * <li>the shard a decision is about is locked before it is read for that decision (FOR UPDATE), and at READ
 *    COMMITTED a statement that waited for a row lock re-reads the row's newest committed version and tests its
 *    WHERE again: a takeover, renewal or acceptance committed meanwhile is seen, never overwritten;
 * <li>a free shard is found with FOR UPDATE SKIP LOCKED: a shard another transaction is leasing right now is
 *    passed over (it is not free for us anyway) rather than waited for;
 * <li>every UPDATE repeats in its WHERE what it expects of the row (still free; still this holder and lease id)
 *    and must change exactly one row, and the partial unique indexes (one lease per holder, one accepted upload
 *    per shard) hold whatever the isolation.
 * </ul>
 * SQLite has no row locks (the lock clauses are left out): its IMMEDIATE transactions run one at a time.
 */
public final class LeaseRepository {

    /** The worker name of a participant that runs one process (and of every caller that names none). */
    public static final String SOLE_WORKER = "";
    /** No bound on how long a lease is held (the store's callers without one; {@code serve} always sets one). */
    public static final long NO_LEASE_CAP = Long.MAX_VALUE / 4;
    /** How long a participant is asked to wait while the round settles (audits, screening) before fusion. */
    static final long SETTLING_WAIT_MILLIS = 1000;

    /** A worker name: what a client may call one of its processes (letters, digits, '.', '_', '-'). */
    private static final Pattern WORKER = Pattern.compile("[A-Za-z0-9._-]{0,64}");
    private static final int LEASE_ID_BYTES = 24;
    private static final int MAX_LEASE_ID_LENGTH = 128;
    private static final String FREE = " (state = 'open' OR (state = 'leased' AND lease_expires <= ?))";

    private final Database db;

    LeaseRepository(Database db) {
        this.db = db;
    }

    /** {@code clause} on PostgreSQL, nothing on SQLite (which has no row locks and no such syntax). */
    private String rowLock(String clause) {
        return db.vendor() == DatabaseUrl.Vendor.POSTGRESQL ? " " + clause : "";
    }

    /** Checks the participant is enrolled and, on PostgreSQL, locks its row until the transaction ends. */
    private void lockParticipant(Handle h, String participantId) {
        if (participantId == null || h.createQuery("SELECT id FROM participants WHERE id = ?" + rowLock("FOR NO KEY UPDATE"))
                .bind(0, participantId).mapTo(String.class).list().isEmpty()) {
            throw new IllegalArgumentException("no enrolled participant " + participantId);
        }
    }

    /** Locks the shard's row (PostgreSQL) before anything is decided about it; nothing when there is no such shard. */
    void lockShard(Handle h, int round, int shard) {
        h.createQuery("SELECT shard FROM shards WHERE round_id = ? AND shard = ?" + rowLock("FOR UPDATE"))
                .bind(0, round).bind(1, shard).mapTo(Integer.class).list();
    }

    /**
     * Gives the participant a shard to work on, in one transaction: the shard it already holds a lease on
     * (renewed, even if it had expired, as long as nobody took it over); else {@code preferredShard} (may be
     * null) when it is open or its lease has expired; else the lowest-numbered open-or-expired shard that no other
     * transaction is leasing at this moment. When none is free: {@link LeaseResult.Wait} until the earliest expiry
     * of the others' leases (or {@code now}, to ask again at once, when the free ones are being taken by others right
     * now), or {@link LeaseResult.Done} when every shard is accepted. A lease has expired when {@code now >= expires}.
     */
    public LeaseResult lease(String participantId, long now, long leaseMillis, Integer preferredShard) {
        return lease(participantId, SOLE_WORKER, now, leaseMillis, NO_LEASE_CAP, 1, preferredShard);
    }

    /**
     * As {@link #lease(String, long, long, Integer)}, for one of the participant's workers ({@link #SOLE_WORKER} for
     * its only process), while its workers hold fewer than {@code maxLeases}, with a lease held at most
     * {@code maxLeaseMillis} from when it was taken: renewals never extend it past that, and a lease that reached it is given up (the shard is open again,
     * {@link EventKind#LEASE_CAPPED}) and a shard the participant was not capped on is chosen first, so a participant
     * that renews without ever uploading cannot hold a shard for good.
     */
    public LeaseResult lease(String participantId, String worker, long now, long leaseMillis, long maxLeaseMillis,
                             int maxLeases, Integer preferredShard) {
        checkLeaseMillis(leaseMillis);
        checkLeaseMillis(maxLeaseMillis);
        checkWorker(worker);
        if (maxLeases < 1) {
            throw new IllegalArgumentException("a participant must be allowed at least one lease, not " + maxLeases);
        }
        return db.inTransaction(Database.Isolation.READ_COMMITTED, h -> {
            lockParticipant(h, participantId);
            int round = RoundRepository.currentId(h);
            record Held(int shard, String leaseId, Long takenAt) {
            }
            Optional<Held> held = h.createQuery("SELECT shard, lease_id, lease_taken_at FROM shards WHERE round_id = ?"
                            + " AND lease_holder = ? AND lease_worker = ?" + rowLock("FOR UPDATE"))
                    .bind(0, round).bind(1, participantId).bind(2, worker)
                    .map(r -> new Held(r.getColumn(1, Integer.class), r.getColumn(2, String.class), r.getColumn(3, Long.class)))
                    .findOne();
            if (held.isPresent() && capReached(held.get().takenAt(), now, maxLeaseMillis)) {
                giveUpCapped(h, round, held.get().shard(), participantId, now, maxLeaseMillis);
                held = Optional.empty();
            }
            if (held.isPresent()) {
                long expires = cappedExpiry(held.get().takenAt(), now, leaseMillis, maxLeaseMillis);
                if (h.createUpdate("UPDATE shards SET lease_expires = ? WHERE round_id = ? AND shard = ? AND lease_holder = ? AND lease_id = ?")
                        .bind(0, expires).bind(1, round).bind(2, held.get().shard()).bind(3, participantId)
                        .bind(4, held.get().leaseId()).execute() != 1) {
                    throw new IllegalStateException("the lease of shard " + held.get().shard() + " changed while it was locked");
                }
                // a renewal updates the lease row only: no event, so polling cannot grow the timeline
                return new LeaseResult.Leased(held.get().shard(), held.get().leaseId(), expires, true);
            }
            long expires = cappedExpiry(now, now, leaseMillis, maxLeaseMillis);
            // the participant's other workers (processes, machines) hold leases of their own, up to the bound
            Optional<Long> othersExpire = h.createQuery("SELECT MIN(lease_expires) FROM shards WHERE round_id = ?"
                            + " AND lease_holder = ? AND lease_expires > ? HAVING COUNT(*) >= ?")
                    .bind(0, round).bind(1, participantId).bind(2, now).bind(3, maxLeases).mapTo(Long.class).findOne();
            if (othersExpire.isPresent()) {
                return new LeaseResult.Wait(othersExpire.get());
            }
            record Free(int shard, String previousHolder) {
            }
            String free = "SELECT shard, lease_holder FROM shards WHERE round_id = ? AND" + FREE;
            Optional<Free> chosen = Optional.empty();
            if (preferredShard != null) {
                chosen = h.createQuery(free + " AND shard = ?" + rowLock("FOR UPDATE SKIP LOCKED"))
                        .bind(0, round).bind(1, now).bind(2, preferredShard)
                        .map(r -> new Free(r.getColumn(1, Integer.class), r.getColumn(2, String.class))).findOne();
            }
            if (chosen.isEmpty()) {
                // a shard this participant held to the cap comes last: it goes to someone else when anyone else asks
                chosen = h.createQuery(free + " ORDER BY CASE WHEN capped_holder = ? THEN 1 ELSE 0 END, shard LIMIT 1"
                                + rowLock("FOR UPDATE SKIP LOCKED"))
                        .bind(0, round).bind(1, now).bind(2, participantId)
                        .map(r -> new Free(r.getColumn(1, Integer.class), r.getColumn(2, String.class))).findOne();
            }
            if (chosen.isEmpty()) {
                if (!h.createQuery("SELECT shard FROM shards WHERE round_id = ? AND" + FREE + " LIMIT 1")
                        .bind(0, round).bind(1, now).mapTo(Integer.class).list().isEmpty()) {
                    return new LeaseResult.Wait(now); // free shards exist, locked by others' leases in progress
                }
                Optional<Long> until = h.createQuery("SELECT MIN(lease_expires) FROM shards WHERE round_id = ? AND state = 'leased'")
                        .bind(0, round).mapTo(Long.class).findOne();
                if (until.isPresent()) {
                    return new LeaseResult.Wait(until.get());
                }
                // every shard is accepted: the round is done once no audit is pending and fusion has begun (or
                // failed); until then a quarantine may still open shards again
                if (AuditRepository.anyPending(h, round) || FusionRepository.of(h, round).state() == FusionState.WAITING) {
                    return new LeaseResult.Wait(now + SETTLING_WAIT_MILLIS);
                }
                return new LeaseResult.Done();
            }
            Free shard = chosen.get();
            String leaseId = randomId(LEASE_ID_BYTES);
            int updated = h.createUpdate("UPDATE shards SET state = 'leased', lease_holder = ?, lease_worker = ?, lease_id = ?,"
                            + " lease_expires = ?, lease_taken_at = ? WHERE round_id = ? AND shard = ? AND" + FREE)
                    .bind(0, participantId).bind(1, worker).bind(2, leaseId).bind(3, expires).bind(4, now).bind(5, round)
                    .bind(6, shard.shard()).bind(7, now).execute();
            if (updated != 1) {
                throw new IllegalStateException("shard " + shard.shard() + " changed while it was locked");
            }
            if (shard.previousHolder() == null) {
                EventRepository.record(h, round, now, EventKind.LEASE_TAKEN, participantId, shard.shard(), null, null);
            } else {
                EventRepository.record(h, round, now, EventKind.LEASE_RETAKEN, participantId, shard.shard(), null,
                        "lease of " + shard.previousHolder() + " had expired");
            }
            return new LeaseResult.Leased(shard.shard(), leaseId, expires, false);
        });
    }

    /**
     * Extends the participant's lease on {@code shard} to {@code now + leaseMillis}; refused (with a reason)
     * when the shard is accepted, leased to someone else, not leased, or the lease id is not the current one.
     * An expired lease that nobody took over is renewed.
     */
    public Renewal renew(String participantId, int shard, String leaseId, long now, long leaseMillis) {
        return renew(participantId, shard, leaseId, now, leaseMillis, NO_LEASE_CAP);
    }

    /**
     * As {@link #renew(String, int, String, long, long)}, never past {@code maxLeaseMillis} from when the lease was
     * taken; a lease that reached it is refused and given up (the shard is open again).
     */
    public Renewal renew(String participantId, int shard, String leaseId, long now, long leaseMillis, long maxLeaseMillis) {
        checkLeaseMillis(leaseMillis);
        checkLeaseMillis(maxLeaseMillis);
        return db.inTransaction(Database.Isolation.READ_COMMITTED, h -> {
            ParticipantRepository.require(h, participantId);
            int round = RoundRepository.currentId(h);
            lockShard(h, round, shard);
            Optional<String> refusal = leaseRefusal(h, round, participantId, shard, leaseId);
            if (refusal.isPresent()) {
                return new Renewal.Refused(refusal.get());
            }
            Long takenAt = h.createQuery("SELECT lease_taken_at FROM shards WHERE round_id = ? AND shard = ?")
                    .bind(0, round).bind(1, shard).mapTo(Long.class).findOne().orElse(null);
            if (capReached(takenAt, now, maxLeaseMillis)) {
                giveUpCapped(h, round, shard, participantId, now, maxLeaseMillis);
                return new Renewal.Refused(cappedReason(shard, maxLeaseMillis));
            }
            long expires = cappedExpiry(takenAt, now, leaseMillis, maxLeaseMillis);
            if (h.createUpdate("UPDATE shards SET lease_expires = ? WHERE round_id = ? AND shard = ? AND state = 'leased'"
                            + " AND lease_holder = ? AND lease_id = ?")
                    .bind(0, expires).bind(1, round).bind(2, shard).bind(3, participantId).bind(4, leaseId).execute() != 1) {
                throw new IllegalStateException("the lease of shard " + shard + " changed while it was locked");
            }
            // the lease row only: an event per renewal grew the timeline without bound
            return (Renewal) new Renewal.Renewed(expires);
        });
    }

    /** Whether {@code worker} is a name a participant's process may give itself. */
    public static boolean isWorkerName(String worker) {
        return worker != null && WORKER.matcher(worker).matches();
    }

    private static void checkWorker(String worker) {
        if (!isWorkerName(worker)) {
            throw new IllegalArgumentException("a worker name is at most 64 letters, digits, '.', '_' or '-'");
        }
    }

    /** True when a lease taken at {@code takenAt} (null: taken before leases were capped, counted from now) is at its cap. */
    private static boolean capReached(Long takenAt, long now, long maxLeaseMillis) {
        return takenAt != null && now - takenAt >= maxLeaseMillis;
    }

    /** {@code now + leaseMillis}, but never past the lease's cap. */
    private static long cappedExpiry(Long takenAt, long now, long leaseMillis, long maxLeaseMillis) {
        long expires = Math.addExact(now, leaseMillis);
        return takenAt == null ? expires : Math.min(expires, Math.addExact(takenAt, maxLeaseMillis));
    }

    private static String cappedReason(int shard, long maxLeaseMillis) {
        return "shard " + shard + " was leased to you for the longest a lease may be held without an upload ("
                + Duration.ofMillis(maxLeaseMillis).toString().substring(2).toLowerCase(Locale.ROOT)
                + "); it is open again";
    }

    /** Opens a shard whose lease reached its cap, remembering whose it was; recorded once. */
    private static void giveUpCapped(Handle h, int round, int shard, String participantId, long now, long maxLeaseMillis) {
        if (h.createUpdate("UPDATE shards SET state = 'open', lease_holder = NULL, lease_id = NULL, lease_expires = NULL,"
                        + " lease_taken_at = NULL, capped_holder = ? WHERE round_id = ? AND shard = ? AND state = 'leased'"
                        + " AND lease_holder = ?")
                .bind(0, participantId).bind(1, round).bind(2, shard).bind(3, participantId).execute() != 1) {
            throw new IllegalStateException("the lease of shard " + shard + " changed while it was locked");
        }
        EventRepository.record(h, round, now, EventKind.LEASE_CAPPED, participantId, shard, null, cappedReason(shard, maxLeaseMillis));
    }

    /** Why this participant's lease id does not hold {@code shard} now, or empty when it does. */
    static Optional<String> leaseRefusal(Handle h, int round, String participantId, int shard, String leaseId) {
        record Lease(ShardState state, String holder, String leaseId) {
        }
        Optional<Lease> found = h.createQuery("SELECT state, lease_holder, lease_id FROM shards WHERE round_id = ? AND shard = ?")
                .bind(0, round).bind(1, shard)
                .map(r -> new Lease(parse(ShardState.class, r.getColumn(1, String.class)), r.getColumn(2, String.class),
                        r.getColumn(3, String.class)))
                .findOne();
        if (found.isEmpty()) {
            return Optional.of("there is no shard " + shard);
        }
        Lease lease = found.get();
        if (lease.state() == ShardState.ACCEPTED) {
            return Optional.of("shard " + shard + " is already accepted");
        }
        if (lease.state() == ShardState.OPEN) {
            return Optional.of("shard " + shard + " is not leased to you");
        }
        if (!participantId.equals(lease.holder())) {
            return Optional.of("shard " + shard + " is leased to another participant (your lease expired and it was taken over)");
        }
        if (leaseId == null || leaseId.length() > MAX_LEASE_ID_LENGTH
                || !MessageDigest.isEqual(leaseId.getBytes(StandardCharsets.UTF_8), lease.leaseId().getBytes(StandardCharsets.UTF_8))) {
            return Optional.of("the lease id does not match your current lease of shard " + shard);
        }
        return Optional.empty();
    }

    private static void checkLeaseMillis(long leaseMillis) {
        if (leaseMillis <= 0) {
            throw new IllegalArgumentException("a lease must last a positive time");
        }
    }
}
