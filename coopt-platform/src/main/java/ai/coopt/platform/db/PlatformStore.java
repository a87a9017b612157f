package ai.coopt.platform.db;

import ai.coopt.UserException;
import ai.coopt.platform.auth.Ed25519Keys;
import ai.coopt.platform.auth.Sha256;
import ai.coopt.store.Json;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The state of one platform, in its {@link Database}: the round and its shards, participants and their
 * invites, leases, uploads, the shared outputs, replay protection, the timeline of events and the
 * fusion state. The HTTP server is its only user.
 *
 * <p>Every method is one transaction (see {@link Database#transaction}): it is thread-safe, and a process
 * killed between two calls leaves the database consistent. Times are epoch milliseconds passed in by the
 * caller. Operations act on the current (newest) round; {@link #nextRound} opens the next one once the current one
 * is finished (fused), and earlier rounds' rows are kept as they were.
 *
 * <p>Arguments that come from a participant's request (tokens, keys, shard numbers, lease ids) are checked
 * here and refused with a reason; arguments the platform computes itself (hashes, sizes) must be well
 * formed, else {@link IllegalArgumentException}.
 */
public final class PlatformStore {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final int TOKEN_BYTES = 32;
    private static final int LEASE_ID_BYTES = 24;
    private static final int MAX_TOKEN_LENGTH = 128;
    private static final int MAX_LEASE_ID_LENGTH = 128;
    private static final int MAX_REASON_LENGTH = 2000;

    /** How long a participant is asked to wait while the round settles (audits, screening) before fusion. */
    static final long SETTLING_WAIT_MILLIS = 1000;

    private final Database db;
    private final SecureRandom random = new SecureRandom();

    public PlatformStore(Database db) {
        this.db = db;
    }

    /** The database this store works in. */
    public Database database() {
        return db;
    }

    /** Thrown inside a transaction to roll it back and answer {@code result} instead. */
    private static final class Rollback extends RuntimeException {
        final transient Object result;

        Rollback(Object result) {
            super(null, null, false, false);
            this.result = result;
        }
    }

    private <T> T transaction(Database.Work<T> work) {
        return transaction(Database.Isolation.SERIALIZABLE, work);
    }

    @SuppressWarnings("unchecked")
    private <T> T transaction(Database.Isolation isolation, Database.Work<T> work) {
        try {
            return db.transaction(isolation, work);
        } catch (Rollback r) {
            return (T) r.result;
        }
    }

    // ---------------------------------------------------------------- round and shards

    /**
     * Creates round 1 with its configuration, shards (numbered 0..K-1, all open) and fusion state (waiting), in
     * one transaction; when a round exists already nothing changes. Returns the stored round, whose config the
     * caller compares with its own when resuming.
     */
    public Round initRound(String configJson, List<NewShard> shards, long now) {
        if (configJson == null) {
            throw new IllegalArgumentException("no round configuration");
        }
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("a round needs at least one shard");
        }
        Set<Integer> numbers = new HashSet<>();
        for (NewShard s : shards) {
            if (s.shard() < 0 || s.shard() >= shards.size() || !numbers.add(s.shard())) {
                throw new IllegalArgumentException("shards must be numbered 0.." + (shards.size() - 1) + " once each; got " + s.shard());
            }
            if (s.images() < 0) {
                throw new IllegalArgumentException("shard " + s.shard() + " has a negative image count");
            }
            checkSha256(s.sha256());
        }
        return transaction(c -> {
            Optional<Round> existing = currentRound(c);
            if (existing.isPresent()) {
                return existing.get();
            }
            int round = 1;
            update(c, "INSERT INTO rounds (id, config_json, created_at) VALUES (?, ?, ?)", round, configJson, now);
            for (NewShard s : shards) {
                update(c, "INSERT INTO shards (round_id, shard, images, sha256, state) VALUES (?, ?, ?, ?, 'open')",
                        round, s.shard(), s.images(), s.sha256());
            }
            update(c, "INSERT INTO fusion (round_id, state, forced, updated_at) VALUES (?, 'waiting', 0, ?)", round, now);
            return new Round(round, configJson, now);
        });
    }

    /**
     * Opens round r+1 over the same data as the current round r, in one transaction: the same configuration, the same
     * shards (numbers, image counts, checksums) all open again, and fusion waiting; r's rows stay as they are. Refused
     * with a {@link UserException} when there is no round yet or r is not finished: its fused dataset is written only
     * when fusion is DONE (WAITING, RUNNING and FAILED are not finished: a failed fusion is retried, or forced with
     * {@code coopt platform fuse}). Returns the new round.
     */
    public Round nextRound(long now) {
        return transaction(c -> {
            Round current = currentRound(c).orElseThrow(() -> new UserException(
                    "the platform has no round yet (start one with coopt platform serve)"));
            FusionState state = fusion(c, current.id()).state();
            if (state != FusionState.DONE) {
                throw new UserException("round " + current.id() + " is not finished: its fusion is "
                        + lower(state) + " and its fused dataset is not written yet (a round must be fused before the"
                        + " next opens; coopt platform fuse forces it)");
            }
            int round = current.id() + 1;
            update(c, "INSERT INTO rounds (id, config_json, created_at) VALUES (?, ?, ?)", round, current.configJson(), now);
            int copied = update(c, "INSERT INTO shards (round_id, shard, images, sha256, state) SELECT ?, shard, images,"
                    + " sha256, 'open' FROM shards WHERE round_id = ?", round, current.id());
            update(c, "INSERT INTO fusion (round_id, state, forced, updated_at) VALUES (?, 'waiting', 0, ?)", round, now);
            event(c, round, now, EventKind.ROUND_OPENED, null, null, null,
                    "round " + round + " over round " + current.id() + "'s data (" + copied + " shards)");
            return new Round(round, current.configJson(), now);
        });
    }

    /** Every round, oldest first, with its shards accepted and its fusion state. */
    public List<RoundSummary> rounds() {
        return transaction(c -> query(c, "SELECT r.id, r.created_at, COUNT(s.shard),"
                        + " SUM(CASE WHEN s.state = 'accepted' THEN 1 ELSE 0 END), f.state, f.updated_at FROM rounds r"
                        + " JOIN shards s ON s.round_id = r.id JOIN fusion f ON f.round_id = r.id"
                        + " GROUP BY r.id, r.created_at, f.state, f.updated_at ORDER BY r.id",
                rs -> new RoundSummary(rs.getInt(1), rs.getLong(2), rs.getInt(3), rs.getInt(4),
                        parse(FusionState.class, rs.getString(5)), rs.getLong(6))));
    }

    /**
     * The files of {@code uploads/} that rows of any round name (accepted shard uploads and outputs on S): a file's name
     * carries its content's checksum, so rounds may share one, and none of them may be removed.
     */
    public Set<String> filesInUse() {
        return transaction(c -> {
            Set<String> files = new HashSet<>(query(c, "SELECT file FROM uploads WHERE status = 'accepted'",
                    rs -> rs.getString(1)));
            files.addAll(query(c, "SELECT file FROM shared_outputs", rs -> rs.getString(1)));
            return files;
        });
    }

    /** The current round, or empty before {@link #initRound}. */
    public Optional<Round> round() {
        return transaction(PlatformStore::currentRound);
    }

    private static Optional<Round> currentRound(Connection c) throws SQLException {
        return one(query(c, "SELECT id, config_json, created_at FROM rounds ORDER BY id DESC LIMIT 1",
                rs -> new Round(rs.getInt(1), rs.getString(2), rs.getLong(3))));
    }

    private static int roundId(Connection c) throws SQLException {
        return currentRound(c).orElseThrow(() -> new IllegalStateException("the platform has no round yet")).id();
    }

    /** The current round's shards by number. */
    public List<Shard> shards() {
        return transaction(c -> shards(c, roundId(c)));
    }

    /** One shard of the current round, or empty when there is no such shard. */
    public Optional<Shard> shard(int shard) {
        return transaction(c -> one(query(c, SHARD_SELECT + " WHERE round_id = ? AND shard = ?", PlatformStore::shardRow,
                roundId(c), shard)));
    }

    private static final String SHARD_SELECT =
            "SELECT shard, images, sha256, state, lease_holder, lease_expires, accepted_upload FROM shards";

    private static List<Shard> shards(Connection c, int round) throws SQLException {
        return query(c, SHARD_SELECT + " WHERE round_id = ? ORDER BY shard", PlatformStore::shardRow, round);
    }

    private static Shard shardRow(ResultSet rs) throws SQLException {
        return new Shard(rs.getInt(1), rs.getInt(2), rs.getString(3), parse(ShardState.class, rs.getString(4)),
                rs.getString(5), nullableLong(rs, 6), nullableLong(rs, 7));
    }

    // ---------------------------------------------------------------- participants and invites

    /**
     * Creates a one-time invite for a participant called {@code name}, valid for {@code ttlMillis}; returns the
     * token (32 random bytes, base64url), which is not stored (only its sha256 is) and cannot be shown again.
     * A malformed name, a name already enrolled or a non-positive lifetime is a {@link UserException}.
     */
    public String createInvite(String name, long now, long ttlMillis) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new UserException("participant name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        if (ttlMillis <= 0) {
            throw new UserException("an invite must be valid for a positive time");
        }
        byte[] bytes = new byte[TOKEN_BYTES];
        random.nextBytes(bytes);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        transaction(c -> {
            if (!query(c, "SELECT id FROM participants WHERE name = ?", rs -> rs.getString(1), name).isEmpty()) {
                throw new UserException("a participant named '" + name + "' is already enrolled");
            }
            update(c, "INSERT INTO invites (token_sha256, name, created_at, expires_at) VALUES (?, ?, ?, ?)",
                    Sha256.hex(token), name, now, Math.addExact(now, ttlMillis));
            return null;
        });
        return token;
    }

    /**
     * Redeems an invite token for the raw Ed25519 public key given in base64: enrolls the participant (id from
     * {@link Ed25519Keys#participantId}, name from the invite) and uses the invite up, or refuses with a
     * reason and stores nothing. An invite is redeemed once, also when requests race.
     */
    public Redemption redeemInvite(String token, String publicKeyBase64, long now) {
        if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
            return new Redemption.Refused(Redemption.Reason.UNKNOWN);
        }
        String tokenHash = Sha256.hex(token);
        byte[] raw = Ed25519Keys.decodeRawPublicKey(publicKeyBase64);
        return transaction(c -> {
            record Invite(long id, String name, long expires, Long used) {
            }
            Optional<Invite> found = one(query(c, "SELECT id, name, expires_at, used_at FROM invites WHERE token_sha256 = ?",
                    rs -> new Invite(rs.getLong(1), rs.getString(2), rs.getLong(3), nullableLong(rs, 4)), tokenHash));
            if (found.isEmpty()) {
                return refused(Redemption.Reason.UNKNOWN);
            }
            Invite invite = found.get();
            if (invite.used() != null) {
                return refused(Redemption.Reason.ALREADY_USED);
            }
            if (now >= invite.expires()) {
                return refused(Redemption.Reason.EXPIRED);
            }
            if (raw == null) {
                return refused(Redemption.Reason.MALFORMED_KEY);
            }
            String key = Ed25519Keys.base64(raw);
            String id = Ed25519Keys.participantId(raw);
            if (!query(c, "SELECT id FROM participants WHERE public_key = ? OR id = ?", rs -> rs.getString(1), key, id).isEmpty()) {
                return refused(Redemption.Reason.KEY_REGISTERED);
            }
            if (!query(c, "SELECT id FROM participants WHERE name = ?", rs -> rs.getString(1), invite.name()).isEmpty()) {
                return refused(Redemption.Reason.NAME_TAKEN);
            }
            update(c, "INSERT INTO participants (id, name, public_key, enrolled_at) VALUES (?, ?, ?, ?)", id, invite.name(), key, now);
            if (update(c, "UPDATE invites SET used_at = ?, participant_id = ? WHERE id = ? AND used_at IS NULL", now, id, invite.id()) != 1) {
                throw new Rollback(new Redemption.Refused(Redemption.Reason.ALREADY_USED));
            }
            event(c, null, now, EventKind.PARTICIPANT_ENROLLED, id, null, null, invite.name());
            return (Redemption) new Redemption.Enrolled(new Participant(id, invite.name(), key, now));
        });
    }

    private static Redemption refused(Redemption.Reason reason) {
        return new Redemption.Refused(reason);
    }

    /** The enrolled participants, in order of enrolment. */
    public List<Participant> participants() {
        return transaction(PlatformStore::participants);
    }

    private static List<Participant> participants(Connection c) throws SQLException {
        return query(c, "SELECT " + PARTICIPANT_COLUMNS + " FROM participants ORDER BY enrolled_at, id",
                PlatformStore::participantRow);
    }

    /** One participant by id, or empty when no such participant is enrolled. */
    public Optional<Participant> participant(String id) {
        if (id == null || id.length() > 64) {
            return Optional.empty();
        }
        return transaction(c -> one(query(c, "SELECT " + PARTICIPANT_COLUMNS + " FROM participants WHERE id = ?",
                PlatformStore::participantRow, id)));
    }

    private static final String PARTICIPANT_COLUMNS = "id, name, public_key, enrolled_at, quarantined_at, quarantine_reason";

    private static Participant participantRow(ResultSet rs) throws SQLException {
        return new Participant(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), nullableLong(rs, 5),
                rs.getString(6));
    }

    private static void requireParticipant(Connection c, String participantId) throws SQLException {
        if (participantId == null
                || query(c, "SELECT id FROM participants WHERE id = ?", rs -> rs.getString(1), participantId).isEmpty()) {
            throw new IllegalArgumentException("no enrolled participant " + participantId);
        }
    }

    // ---------------------------------------------------------------- leases

    /*
     * Leases, renewals and shard uploads run at READ COMMITTED on PostgreSQL and lock the rows they decide on, so
     * that several serve processes on one database hand out different shards instead of failing each other's
     * serializable transactions and retrying. Why that is as safe as SERIALIZABLE here:
     *  - a participant's own lease requests (say one to each of two servers at once) take turns: each locks the
     *    participant's row first (FOR NO KEY UPDATE, which does not block the foreign-key checks of inserts that
     *    name the participant), so two of them cannot both find no lease held and both take a shard;
     *  - the shard a decision is about is locked before it is read for that decision (FOR UPDATE), and at READ
     *    COMMITTED a statement that waited for a row lock re-reads the row's newest committed version and tests its
     *    WHERE again: a takeover, renewal or acceptance committed meanwhile is seen, never overwritten;
     *  - a free shard is found with FOR UPDATE SKIP LOCKED: a shard another transaction is leasing right now is
     *    passed over (it is not free for us anyway) rather than waited for;
     *  - every UPDATE repeats in its WHERE what it expects of the row (still free; still this holder and lease id)
     *    and must change exactly one row, and the partial unique indexes (one lease per holder, one accepted upload
     *    per shard) hold whatever the isolation.
     * SQLite has no row locks (the lock clauses are left out): its IMMEDIATE transactions run one at a time.
     */

    /** {@code clause} on PostgreSQL, nothing on SQLite (which has no row locks and no such syntax). */
    private String rowLock(String clause) {
        return db.vendor() == DatabaseUrl.Vendor.POSTGRESQL ? " " + clause : "";
    }

    /** Checks the participant is enrolled and, on PostgreSQL, locks its row until the transaction ends. */
    private void lockParticipant(Connection c, String participantId) throws SQLException {
        if (participantId == null || query(c, "SELECT id FROM participants WHERE id = ?" + rowLock("FOR NO KEY UPDATE"),
                rs -> rs.getString(1), participantId).isEmpty()) {
            throw new IllegalArgumentException("no enrolled participant " + participantId);
        }
    }

    /** Locks the shard's row (PostgreSQL) before anything is decided about it; nothing when there is no such shard. */
    private void lockShard(Connection c, int round, int shard) throws SQLException {
        query(c, "SELECT shard FROM shards WHERE round_id = ? AND shard = ?" + rowLock("FOR UPDATE"), rs -> rs.getInt(1),
                round, shard);
    }

    private static final String FREE = " (state = 'open' OR (state = 'leased' AND lease_expires <= ?))";

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
        return transaction(Database.Isolation.READ_COMMITTED, c -> {
            lockParticipant(c, participantId);
            int round = roundId(c);
            record Held(int shard, String leaseId, Long takenAt) {
            }
            Optional<Held> held = one(query(c, "SELECT shard, lease_id, lease_taken_at FROM shards WHERE round_id = ?"
                    + " AND lease_holder = ? AND lease_worker = ?" + rowLock("FOR UPDATE"),
                    rs -> new Held(rs.getInt(1), rs.getString(2), nullableLong(rs, 3)), round, participantId, worker));
            if (held.isPresent() && capReached(held.get().takenAt(), now, maxLeaseMillis)) {
                giveUpCapped(c, round, held.get().shard(), participantId, now, maxLeaseMillis);
                held = Optional.empty();
            }
            if (held.isPresent()) {
                long expires = cappedExpiry(held.get().takenAt(), now, leaseMillis, maxLeaseMillis);
                if (update(c, "UPDATE shards SET lease_expires = ? WHERE round_id = ? AND shard = ? AND lease_holder = ? AND lease_id = ?",
                        expires, round, held.get().shard(), participantId, held.get().leaseId()) != 1) {
                    throw new IllegalStateException("the lease of shard " + held.get().shard() + " changed while it was locked");
                }
                // a renewal updates the lease row only: no event, so polling cannot grow the timeline
                return new LeaseResult.Leased(held.get().shard(), held.get().leaseId(), expires, true);
            }
            long expires = cappedExpiry(now, now, leaseMillis, maxLeaseMillis);
            // the participant's other workers (processes, machines) hold leases of their own, up to the bound
            Optional<Long> othersExpire = one(query(c, "SELECT MIN(lease_expires) FROM shards WHERE round_id = ?"
                    + " AND lease_holder = ? AND lease_expires > ? HAVING COUNT(*) >= ?",
                    rs -> nullableLong(rs, 1), round, participantId, now, maxLeases)).filter(v -> v != null);
            if (othersExpire.isPresent()) {
                return new LeaseResult.Wait(othersExpire.get());
            }
            record Free(int shard, String previousHolder) {
            }
            String free = "SELECT shard, lease_holder FROM shards WHERE round_id = ? AND" + FREE;
            Optional<Free> chosen = Optional.empty();
            if (preferredShard != null) {
                chosen = one(query(c, free + " AND shard = ?" + rowLock("FOR UPDATE SKIP LOCKED"),
                        rs -> new Free(rs.getInt(1), rs.getString(2)), round, now, preferredShard));
            }
            if (chosen.isEmpty()) {
                // a shard this participant held to the cap comes last: it goes to someone else when anyone else asks
                chosen = one(query(c, free + " ORDER BY CASE WHEN capped_holder = ? THEN 1 ELSE 0 END, shard LIMIT 1"
                                + rowLock("FOR UPDATE SKIP LOCKED"),
                        rs -> new Free(rs.getInt(1), rs.getString(2)), round, now, participantId));
            }
            if (chosen.isEmpty()) {
                if (!query(c, "SELECT shard FROM shards WHERE round_id = ? AND" + FREE + " LIMIT 1", rs -> rs.getInt(1),
                        round, now).isEmpty()) {
                    return new LeaseResult.Wait(now); // free shards exist, locked by others' leases in progress
                }
                Optional<Long> until = one(query(c, "SELECT MIN(lease_expires) FROM shards WHERE round_id = ? AND state = 'leased'",
                        rs -> nullableLong(rs, 1), round)).filter(v -> v != null);
                if (until.isPresent()) {
                    return new LeaseResult.Wait(until.get());
                }
                // every shard is accepted: the round is done once no audit is pending and fusion has begun (or
                // failed); until then a quarantine may still open shards again
                boolean pending = !query(c, "SELECT id FROM audits WHERE round_id = ? AND state = 'pending' LIMIT 1",
                        rs -> rs.getLong(1), round).isEmpty();
                if (pending || fusion(c, round).state() == FusionState.WAITING) {
                    return new LeaseResult.Wait(now + SETTLING_WAIT_MILLIS);
                }
                return new LeaseResult.Done();
            }
            Free shard = chosen.get();
            String leaseId = randomId(LEASE_ID_BYTES);
            int updated = update(c, "UPDATE shards SET state = 'leased', lease_holder = ?, lease_worker = ?, lease_id = ?,"
                            + " lease_expires = ?, lease_taken_at = ? WHERE round_id = ? AND shard = ? AND" + FREE,
                    participantId, worker, leaseId, expires, now, round, shard.shard(), now);
            if (updated != 1) {
                throw new IllegalStateException("shard " + shard.shard() + " changed while it was locked");
            }
            if (shard.previousHolder() == null) {
                event(c, round, now, EventKind.LEASE_TAKEN, participantId, shard.shard(), null, null);
            } else {
                event(c, round, now, EventKind.LEASE_RETAKEN, participantId, shard.shard(), null,
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
        return transaction(Database.Isolation.READ_COMMITTED, c -> {
            requireParticipant(c, participantId);
            int round = roundId(c);
            lockShard(c, round, shard);
            Optional<String> refusal = leaseRefusal(c, round, participantId, shard, leaseId);
            if (refusal.isPresent()) {
                return new Renewal.Refused(refusal.get());
            }
            Long takenAt = one(query(c, "SELECT lease_taken_at FROM shards WHERE round_id = ? AND shard = ?",
                    rs -> nullableLong(rs, 1), round, shard)).orElse(null);
            if (capReached(takenAt, now, maxLeaseMillis)) {
                giveUpCapped(c, round, shard, participantId, now, maxLeaseMillis);
                return new Renewal.Refused(cappedReason(shard, maxLeaseMillis));
            }
            long expires = cappedExpiry(takenAt, now, leaseMillis, maxLeaseMillis);
            if (update(c, "UPDATE shards SET lease_expires = ? WHERE round_id = ? AND shard = ? AND state = 'leased'"
                    + " AND lease_holder = ? AND lease_id = ?", expires, round, shard, participantId, leaseId) != 1) {
                throw new IllegalStateException("the lease of shard " + shard + " changed while it was locked");
            }
            // the lease row only: an event per renewal grew the timeline without bound
            return (Renewal) new Renewal.Renewed(expires);
        });
    }

    /** The worker name of a participant that runs one process (and of every caller that names none). */
    public static final String SOLE_WORKER = "";
    /** A worker name: what a client may call one of its processes (letters, digits, '.', '_', '-'). */
    private static final Pattern WORKER = Pattern.compile("[A-Za-z0-9._-]{0,64}");

    /** Whether {@code worker} is a name a participant's process may give itself. */
    public static boolean isWorkerName(String worker) {
        return worker != null && WORKER.matcher(worker).matches();
    }

    private static void checkWorker(String worker) {
        if (!isWorkerName(worker)) {
            throw new IllegalArgumentException("a worker name is at most 64 letters, digits, '.', '_' or '-'");
        }
    }

    /** No bound on how long a lease is held (the store's callers without one; {@code serve} always sets one). */
    public static final long NO_LEASE_CAP = Long.MAX_VALUE / 4;

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
    private static void giveUpCapped(Connection c, int round, int shard, String participantId, long now,
                                     long maxLeaseMillis) throws SQLException {
        if (update(c, "UPDATE shards SET state = 'open', lease_holder = NULL, lease_id = NULL, lease_expires = NULL,"
                + " lease_taken_at = NULL, capped_holder = ? WHERE round_id = ? AND shard = ? AND state = 'leased'"
                + " AND lease_holder = ?", participantId, round, shard, participantId) != 1) {
            throw new IllegalStateException("the lease of shard " + shard + " changed while it was locked");
        }
        event(c, round, now, EventKind.LEASE_CAPPED, participantId, shard, null, cappedReason(shard, maxLeaseMillis));
    }

    /** Why this participant's lease id does not hold {@code shard} now, or empty when it does. */
    private static Optional<String> leaseRefusal(Connection c, int round, String participantId, int shard, String leaseId)
            throws SQLException {
        record Lease(ShardState state, String holder, String leaseId) {
        }
        Optional<Lease> found = one(query(c, "SELECT state, lease_holder, lease_id FROM shards WHERE round_id = ? AND shard = ?",
                rs -> new Lease(parse(ShardState.class, rs.getString(1)), rs.getString(2), rs.getString(3)), round, shard));
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

    // ---------------------------------------------------------------- uploads

    /**
     * Records the participant's outputs on the shared subset (once per participant and round): ACCEPTED,
     * ALREADY when the same sha256 was accepted before (idempotent), CONFLICT when different content was.
     */
    public SharedResult acceptShared(String participantId, String file, String sha256, int dim, String priorJson,
                                     double uniformity, long now) {
        checkSha256(sha256);
        if (file == null || priorJson == null || dim <= 0 || !Double.isFinite(uniformity)) {
            throw new IllegalArgumentException("shared outputs need a file, a prior description, dim > 0 and a finite uniformity");
        }
        return transaction(c -> {
            requireParticipant(c, participantId);
            int round = roundId(c);
            Optional<String> existing = one(query(c, "SELECT sha256 FROM shared_outputs WHERE round_id = ? AND participant_id = ?",
                    rs -> rs.getString(1), round, participantId));
            if (existing.isPresent()) {
                return existing.get().equals(sha256) ? SharedResult.ALREADY : SharedResult.CONFLICT;
            }
            update(c, "INSERT INTO shared_outputs (round_id, participant_id, file, sha256, dim, prior_json, uniformity, accepted_at)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", round, participantId, file, sha256, dim, priorJson, uniformity, now);
            event(c, round, now, EventKind.SHARED_ACCEPTED, participantId, null, null, null);
            return SharedResult.ACCEPTED;
        });
    }

    /** The accepted shared outputs of the current round, by participant id. */
    public List<SharedOutput> sharedOutputs() {
        return transaction(c -> sharedOutputs(c, roundId(c)));
    }

    private static List<SharedOutput> sharedOutputs(Connection c, int round) throws SQLException {
        return query(c, SHARED_SELECT + " WHERE round_id = ? ORDER BY participant_id", PlatformStore::sharedRow, round);
    }

    /** This participant's accepted outputs on the shared subset of the current round, or empty. */
    public Optional<SharedOutput> sharedOutput(String participantId) {
        return transaction(c -> one(query(c, SHARED_SELECT + " WHERE round_id = ? AND participant_id = ?",
                PlatformStore::sharedRow, roundId(c), participantId)));
    }

    private static final String SHARED_SELECT =
            "SELECT participant_id, file, sha256, dim, prior_json, uniformity, accepted_at FROM shared_outputs";

    private static SharedOutput sharedRow(ResultSet rs) throws SQLException {
        return new SharedOutput(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(5),
                rs.getDouble(6), rs.getLong(7));
    }

    /**
     * Accepts the participant's validated, durably stored upload for {@code shard} in one transaction: the
     * upload is recorded and the shard becomes accepted from it. ALREADY when this participant's upload with
     * the same sha256 was accepted for the shard before (a retry). REFUSED, recorded in the audit trail with
     * its reason, when the shard is accepted from another upload, leased to someone else, not leased, or the
     * lease id is not the current one; an expired lease that nobody took over still counts.
     */
    public UploadResult acceptShardUpload(String participantId, int shard, String leaseId, String file, String sha256,
                                          long bytes, int rows, int dim, long now) {
        return acceptShardUpload(participantId, shard, leaseId, file, sha256, bytes, rows, dim, now, null, 0);
    }

    /**
     * As above, and when {@code auditSample} is not null the upload's audit (pending until {@code auditDeadline}) is
     * created in the same transaction, so that no accepted upload is ever without its audit. A quarantined
     * participant's upload is refused.
     */
    public UploadResult acceptShardUpload(String participantId, int shard, String leaseId, String file, String sha256,
                                          long bytes, int rows, int dim, long now, long[] auditSample,
                                          long auditDeadline) {
        checkSha256(sha256);
        if (file == null || bytes < 0 || rows <= 0 || dim <= 0) {
            throw new IllegalArgumentException("an upload needs a file, bytes >= 0, rows > 0 and dim > 0");
        }
        return transaction(Database.Isolation.READ_COMMITTED, c -> {
            requireParticipant(c, participantId);
            int round = roundId(c);
            lockShard(c, round, shard); // see "leases" above: decided on the locked row, at READ COMMITTED
            record Accepted(long id, String participant, String sha256) {
            }
            Optional<Accepted> accepted = one(query(c, "SELECT u.id, u.participant_id, u.sha256 FROM shards s"
                            + " JOIN uploads u ON u.id = s.accepted_upload WHERE s.round_id = ? AND s.shard = ?",
                    rs -> new Accepted(rs.getLong(1), rs.getString(2), rs.getString(3)), round, shard));
            if (accepted.isPresent() && accepted.get().participant().equals(participantId) && accepted.get().sha256().equals(sha256)) {
                return new UploadResult.Already(accepted.get().id());
            }
            Optional<String> refusal = accepted.isPresent()
                    ? Optional.of("shard " + shard + " is already accepted from another upload")
                    : leaseRefusal(c, round, participantId, shard, leaseId);
            if (refusal.isEmpty()) {
                refusal = quarantine(c, participantId).map(r -> "you are quarantined: " + r);
            }
            if (refusal.isPresent()) {
                Integer knownShard = query(c, "SELECT shard FROM shards WHERE round_id = ? AND shard = ?", rs -> rs.getInt(1), round, shard)
                        .isEmpty() ? null : shard;
                insertRefused(c, round, participantId, knownShard, refusal.get(), sha256, bytes, now);
                return new UploadResult.Refused(refusal.get());
            }
            long id = insertReturningId(c, "INSERT INTO uploads (round_id, shard, participant_id, status, file, sha256, bytes,"
                    + " row_count, dim, received_at) VALUES (?, ?, ?, 'accepted', ?, ?, ?, ?, ?, ?) RETURNING id",
                    round, shard, participantId, file, sha256, bytes, rows, dim, now);
            int updated = update(c, "UPDATE shards SET state = 'accepted', accepted_upload = ?, lease_holder = NULL, lease_id = NULL,"
                    + " lease_expires = NULL WHERE round_id = ? AND shard = ? AND state = 'leased' AND lease_holder = ?",
                    id, round, shard, participantId);
            if (updated != 1) {
                throw new IllegalStateException("shard " + shard + " changed while it was locked");
            }
            event(c, round, now, EventKind.UPLOAD_ACCEPTED, participantId, shard, id, null);
            if (auditSample != null) {
                update(c, "INSERT INTO audits (round_id, upload_id, participant_id, shard, sample_json, state, created_at,"
                        + " deadline) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)", round, id, participantId, shard,
                        idsJson(auditSample), now, auditDeadline);
                event(c, round, now, EventKind.AUDIT_REQUESTED, participantId, shard, id, auditSample.length + " rows");
            }
            return (UploadResult) new UploadResult.Accepted(id);
        });
    }

    /**
     * Records an upload refused before it reached {@link #acceptShardUpload} (bad signature, size, format,
     * values) in the audit trail, with an UPLOAD_REFUSED event; returns its id. {@code participantId} is an
     * enrolled participant or null (unauthenticated); {@code shard} is null when unknown.
     */
    public long recordRefusedUpload(String participantId, Integer shard, String reason, long bytes, long now) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a refusal needs a reason");
        }
        return transaction(c -> {
            if (participantId != null) {
                requireParticipant(c, participantId);
            }
            return insertRefused(c, roundId(c), participantId, shard, reason, null, Math.max(0, bytes), now);
        });
    }

    private static long insertRefused(Connection c, int round, String participantId, Integer shard, String reason,
                                      String sha256, long bytes, long now) throws SQLException {
        String line = oneLine(reason);
        long id = insertReturningId(c, "INSERT INTO uploads (round_id, shard, participant_id, status, reason, sha256, bytes, received_at)"
                + " VALUES (?, ?, ?, 'refused', ?, ?, ?, ?) RETURNING id", round, shard, participantId, line, sha256, bytes, now);
        event(c, round, now, EventKind.UPLOAD_REFUSED, participantId, shard, id, line);
        return id;
    }

    /** Every upload of the current round, accepted and refused, in the order received. */
    public List<Upload> uploads() {
        return transaction(c -> uploads(c, roundId(c)));
    }

    private static List<Upload> uploads(Connection c, int round) throws SQLException {
        return query(c, UPLOAD_SELECT + " WHERE round_id = ? ORDER BY id", PlatformStore::uploadRow, round);
    }

    /** The current round's {@code limit} newest uploads, accepted and refused, oldest first. */
    public List<Upload> recentUploads(int limit) {
        List<Upload> newest = transaction(c -> query(c, UPLOAD_SELECT + " WHERE round_id = ? ORDER BY id DESC LIMIT ?",
                PlatformStore::uploadRow, roundId(c), limit));
        List<Upload> out = new ArrayList<>(newest);
        Collections.reverse(out);
        return out;
    }

    /** The current round's accepted uploads (at most one per shard and participant on S, plus withdrawn ones). */
    public List<Upload> acceptedUploads() {
        return transaction(c -> query(c, UPLOAD_SELECT + " WHERE round_id = ? AND status = 'accepted' ORDER BY id",
                PlatformStore::uploadRow, roundId(c)));
    }

    /** How many uploads of the current round were accepted and refused: status → count. */
    public Map<String, Long> uploadCounts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        counts.put("accepted", 0L);
        counts.put("refused", 0L);
        transaction(c -> query(c, "SELECT status, COUNT(*) FROM uploads WHERE round_id = ? GROUP BY status",
                rs -> counts.put(rs.getString(1), rs.getLong(2)), roundId(c)));
        return counts;
    }

    /** One upload of the current round by id, or empty. */
    public Optional<Upload> upload(long id) {
        return transaction(c -> one(query(c, UPLOAD_SELECT + " WHERE round_id = ? AND id = ?", PlatformStore::uploadRow,
                roundId(c), id)));
    }

    private static final String UPLOAD_SELECT = "SELECT id, round_id, shard, participant_id, status, reason, file, sha256,"
            + " bytes, row_count, dim, received_at FROM uploads";

    private static Upload uploadRow(ResultSet rs) throws SQLException {
        return new Upload(rs.getLong(1), rs.getInt(2), nullableInt(rs, 3), rs.getString(4), "accepted".equals(rs.getString(5)),
                rs.getString(6), rs.getString(7), rs.getString(8), rs.getLong(9), nullableInt(rs, 10), nullableInt(rs, 11),
                rs.getLong(12));
    }

    // ---------------------------------------------------------------- audits and quarantine

    private static final String AUDIT_SELECT = "SELECT id, upload_id, participant_id, shard, sample_json, state, reason,"
            + " created_at, deadline, answered_at FROM audits";

    private static AuditRecord auditRow(ResultSet rs) throws SQLException {
        return new AuditRecord(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getInt(4), parseIds(rs.getString(5)),
                parse(AuditState.class, rs.getString(6)), rs.getString(7), rs.getLong(8), rs.getLong(9), nullableLong(rs, 10));
    }

    /** Every audit of the current round, oldest first. */
    public List<AuditRecord> audits() {
        return transaction(c -> query(c, AUDIT_SELECT + " WHERE round_id = ? ORDER BY id", PlatformStore::auditRow, roundId(c)));
    }

    /** One audit of the current round, or empty. */
    public Optional<AuditRecord> audit(long id) {
        return transaction(c -> one(query(c, AUDIT_SELECT + " WHERE round_id = ? AND id = ?", PlatformStore::auditRow,
                roundId(c), id)));
    }

    /** This participant's pending audits, oldest first. */
    public List<AuditRecord> pendingAudits(String participantId) {
        return transaction(c -> query(c, AUDIT_SELECT + " WHERE round_id = ? AND participant_id = ? AND state = 'pending'"
                + " ORDER BY id", PlatformStore::auditRow, roundId(c), participantId));
    }

    /**
     * Settles a pending audit: PASSED, or FAILED with a reason, which quarantines its participant in the same
     * transaction. False (nothing changes) when the audit is not pending any more.
     */
    public boolean finishAudit(long id, boolean passed, String reason, long now) {
        if (!passed && (reason == null || reason.isBlank())) {
            throw new IllegalArgumentException("a failed audit needs a reason");
        }
        return transaction(c -> {
            int round = roundId(c);
            Optional<AuditRecord> a = one(query(c, AUDIT_SELECT + " WHERE round_id = ? AND id = ?", PlatformStore::auditRow,
                    round, id));
            if (a.isEmpty() || a.get().state() != AuditState.PENDING) {
                return false;
            }
            String line = passed ? null : oneLine(reason);
            update(c, "UPDATE audits SET state = ?, reason = ?, answered_at = ? WHERE id = ? AND state = 'pending'",
                    passed ? "passed" : "failed", line, now, id);
            event(c, round, now, passed ? EventKind.AUDIT_PASSED : EventKind.AUDIT_FAILED, a.get().participantId(),
                    a.get().shard(), a.get().uploadId(), line);
            if (!passed) {
                quarantine(c, round, a.get().participantId(), "audit of shard " + a.get().shard() + " failed: " + line, now);
            }
            return true;
        });
    }

    /** Fails every pending audit whose deadline has passed (quarantining its participant); returns how many. */
    public int expireAudits(long now) {
        return transaction(c -> {
            int round = roundId(c);
            List<AuditRecord> late = query(c, AUDIT_SELECT + " WHERE round_id = ? AND state = 'pending' AND deadline <= ?"
                    + " ORDER BY id", PlatformStore::auditRow, round, now);
            for (AuditRecord a : late) {
                String reason = "not answered by its deadline";
                update(c, "UPDATE audits SET state = 'failed', reason = ?, answered_at = ? WHERE id = ?", reason, now, a.id());
                event(c, round, now, EventKind.AUDIT_FAILED, a.participantId(), a.shard(), a.uploadId(), reason);
                quarantine(c, round, a.participantId(), "audit of shard " + a.shard() + " failed: " + reason, now);
            }
            return late.size();
        });
    }

    /** Moves every pending audit's deadline to {@code deadline} (after the platform was down: not the participants' fault). */
    public int extendPendingAudits(long deadline) {
        return transaction(c -> update(c, "UPDATE audits SET deadline = ? WHERE round_id = ? AND state = 'pending'"
                + " AND deadline < ?", deadline, roundId(c), deadline));
    }

    /**
     * Quarantines a participant, in one transaction: it is marked with the reason, its accepted uploads are
     * withdrawn (recorded as refused, "quarantined: ..."), the shards they filled and any shard it holds are open
     * again, its pending audits fail. False when it was quarantined already (nothing changes).
     */
    public boolean quarantine(String participantId, String reason, long now) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a quarantine needs a reason");
        }
        return transaction(c -> {
            requireParticipant(c, participantId);
            return quarantine(c, roundId(c), participantId, oneLine(reason), now);
        });
    }

    private static boolean quarantine(Connection c, int round, String participantId, String reason, long now)
            throws SQLException {
        if (update(c, "UPDATE participants SET quarantined_at = ?, quarantine_reason = ? WHERE id = ? AND quarantined_at IS NULL",
                now, reason, participantId) != 1) {
            return false;
        }
        update(c, "UPDATE shards SET state = 'open', accepted_upload = NULL WHERE round_id = ? AND accepted_upload IN"
                + " (SELECT id FROM uploads WHERE round_id = ? AND participant_id = ? AND status = 'accepted')",
                round, round, participantId);
        update(c, "UPDATE uploads SET status = 'refused', reason = ? WHERE round_id = ? AND participant_id = ? AND status = 'accepted'",
                oneLine("quarantined: " + reason), round, participantId);
        update(c, "UPDATE shards SET state = 'open', lease_holder = NULL, lease_id = NULL, lease_expires = NULL"
                + " WHERE round_id = ? AND lease_holder = ?", round, participantId);
        // every round's: an audit left pending in a round fused without waiting for it (forced) fails too
        update(c, "UPDATE audits SET state = 'failed', reason = 'its participant was quarantined', answered_at = ?"
                + " WHERE participant_id = ? AND state = 'pending'", now, participantId);
        event(c, round, now, EventKind.PARTICIPANT_QUARANTINED, participantId, null, null, reason);
        return true;
    }

    /** Why this participant is quarantined, or empty. */
    private static Optional<String> quarantine(Connection c, String participantId) throws SQLException {
        return one(query(c, "SELECT quarantine_reason FROM participants WHERE id = ? AND quarantined_at IS NOT NULL",
                rs -> rs.getString(1), participantId));
    }

    private static String oneLine(String reason) {
        String line = reason.replaceAll("[\\r\\n]+", " ");
        return line.length() > MAX_REASON_LENGTH ? line.substring(0, MAX_REASON_LENGTH) : line;
    }

    private static String idsJson(long[] ids) {
        try {
            return Json.mapper().writeValueAsString(ids);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long[] parseIds(String json) throws SQLException {
        try {
            return Json.mapper().readValue(json, long[].class);
        } catch (java.io.IOException e) {
            throw new SQLException("an audit's sample is not a JSON list of ids", e);
        }
    }

    // ---------------------------------------------------------------- replay protection

    /**
     * Remembers a verified signed request by its replay key ({@code RequestSignature.SignedHeaders.replayKey});
     * false when it was seen before: a replay. Requests whose timestamp lies more than {@code windowMillis}
     * before {@code now} are forgotten, so the caller must refuse such timestamps before asking (as
     * {@code RequestSignature.verify} does) and use the same window.
     */
    public boolean recordSignature(String participantId, String requestSha256, long timestamp, long now, long windowMillis) {
        checkSha256(requestSha256);
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("the window must be positive");
        }
        // READ COMMITTED: a replay is told by the primary key (INSERT .. ON CONFLICT DO NOTHING inserts once, whoever
        // races), not by anything read, and forgetting old requests twice is harmless; SERIALIZABLE would only make
        // two serve processes' requests fail each other over that DELETE
        return transaction(Database.Isolation.READ_COMMITTED, c -> {
            requireParticipant(c, participantId);
            update(c, "DELETE FROM seen_requests WHERE request_time < ?", now - windowMillis);
            return update(c, "INSERT INTO seen_requests (request_sha256, participant_id, request_time, seen_at) VALUES (?, ?, ?, ?)"
                    + " ON CONFLICT (request_sha256) DO NOTHING", requestSha256, participantId, timestamp, now) == 1;
        });
    }

    // ---------------------------------------------------------------- events and fusion

    /** The whole timeline, oldest first. */
    public List<Event> events() {
        return events(0, Integer.MAX_VALUE);
    }

    /** The {@code limit} newest events, oldest first. */
    public List<Event> recentEvents(int limit) {
        List<Event> newest = transaction(c -> query(c, EVENT_SELECT + " ORDER BY id DESC LIMIT ?", PlatformStore::eventRow,
                limit));
        List<Event> out = new ArrayList<>(newest);
        Collections.reverse(out);
        return out;
    }

    /** When the last event of {@code kind} in round {@code round} happened, or empty. */
    public Optional<Long> lastEventAt(EventKind kind, int round) {
        return transaction(c -> one(query(c, "SELECT MAX(happened_at) FROM events WHERE kind = ? AND round_id = ?",
                rs -> nullableLong(rs, 1), lower(kind), round))).filter(v -> v != null);
    }

    private static final String EVENT_SELECT = "SELECT id, round_id, happened_at, kind, participant_id, shard, upload_id,"
            + " detail FROM events";

    private static Event eventRow(ResultSet rs) throws SQLException {
        return new Event(rs.getLong(1), nullableInt(rs, 2), rs.getLong(3), parse(EventKind.class, rs.getString(4)),
                rs.getString(5), nullableInt(rs, 6), nullableLong(rs, 7), rs.getString(8));
    }

    /** At most {@code limit} events with an id above {@code afterId}, oldest first (for paging). */
    public List<Event> events(long afterId, int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive");
        }
        return transaction(c -> query(c, EVENT_SELECT + " WHERE id > ? ORDER BY id LIMIT ?", PlatformStore::eventRow,
                afterId, limit));
    }

    /** The current round's fusion state. */
    public Fusion fusionState() {
        return transaction(c -> fusion(c, roundId(c)));
    }

    private static Fusion fusion(Connection c, int round) throws SQLException {
        return one(query(c, "SELECT state, forced, detail_json, updated_at, owner, heartbeat_at FROM fusion WHERE round_id = ?",
                rs -> new Fusion(parse(FusionState.class, rs.getString(1)), rs.getInt(2) != 0, rs.getString(3), rs.getLong(4),
                        rs.getString(5), nullableLong(rs, 6)), round))
                .orElseThrow(() -> new IllegalStateException("round " + round + " has no fusion state"));
    }

    /**
     * Moves the fusion state: WAITING or FAILED to RUNNING, claimed by {@code owner} (the instance id of the process
     * that will fuse; its heartbeat starts at {@code now}) and recording {@code forced} (started with what was there
     * rather than every shard); RUNNING to DONE or FAILED by its owner only. Returns false and changes nothing for
     * any other move, so that of several processes (or threads) claiming at once exactly one runs fusion, and a
     * process whose run was taken over (see {@link #abandonStaleFusion}) cannot record its outcome.
     */
    public boolean setFusion(FusionState to, String owner, boolean forced, String detailJson, long now) {
        if (owner == null || owner.isEmpty() || owner.length() > 64) {
            throw new IllegalArgumentException("a fusion owner is 1 to 64 characters: " + owner);
        }
        return transaction(c -> {
            int round = roundId(c);
            Fusion current = fusion(c, round);
            boolean allowed = switch (to) {
                case RUNNING -> current.state() == FusionState.WAITING || current.state() == FusionState.FAILED;
                case DONE, FAILED -> current.state() == FusionState.RUNNING && owner.equals(current.owner());
                case WAITING -> false;
            };
            if (!allowed) {
                return false;
            }
            boolean recordForced = to == FusionState.RUNNING ? forced : current.forced();
            Long heartbeat = to == FusionState.RUNNING ? now : null;
            if (update(c, "UPDATE fusion SET state = ?, forced = ?, detail_json = ?, updated_at = ?, owner = ?, heartbeat_at = ?"
                            + " WHERE round_id = ? AND state = ?", lower(to), recordForced ? 1 : 0, detailJson, now, owner,
                    heartbeat, round, lower(current.state())) != 1) {
                throw new IllegalStateException("the fusion state changed inside a transaction");
            }
            EventKind kind = switch (to) {
                case RUNNING -> EventKind.FUSION_STARTED;
                case DONE -> EventKind.FUSION_FINISHED;
                default -> EventKind.FUSION_FAILED;
            };
            event(c, round, now, kind, null, null, null, to == FusionState.RUNNING && forced ? "forced" : null);
            return true;
        });
    }

    /** The owner of a running fusion says it is still at work; false when it no longer owns a running fusion. */
    public boolean heartbeatFusion(String owner, long now) {
        return transaction(c -> update(c, "UPDATE fusion SET heartbeat_at = ? WHERE round_id = ? AND state = 'running' AND owner = ?",
                now, roundId(c), owner) == 1);
    }

    /**
     * Records the fusion that {@code owner} runs (null: a run from before owners were recorded) as FAILED with
     * {@code detailJson} when its last heartbeat is older than {@code heartbeatBefore} ({@link Long#MAX_VALUE} when the
     * caller knows the owner is gone), so that it can be claimed again; false, changing nothing, when no fusion runs,
     * another owner's does (it was claimed anew meanwhile) or the heartbeat is recent.
     */
    public boolean abandonFusion(String owner, long heartbeatBefore, String detailJson, long now) {
        return transaction(c -> {
            int round = roundId(c);
            String sameOwner = owner == null ? "owner IS NULL" : "owner = ?";
            Object[] args = owner == null ? new Object[] {detailJson, now, round, heartbeatBefore}
                    : new Object[] {detailJson, now, round, heartbeatBefore, owner};
            if (update(c, "UPDATE fusion SET state = 'failed', detail_json = ?, updated_at = ?, heartbeat_at = NULL"
                    + " WHERE round_id = ? AND state = 'running' AND heartbeat_at < ? AND " + sameOwner, args) != 1) {
                return false;
            }
            event(c, round, now, EventKind.FUSION_FAILED, null, null, null, "its owner " + owner + " is gone");
            return true;
        });
    }

    /** Round, shards, participants, uploads, shared outputs and fusion state, read in one transaction. */
    public Snapshot snapshot() {
        return transaction(c -> {
            Round round = currentRound(c).orElseThrow(() -> new IllegalStateException("the platform has no round yet"));
            return new Snapshot(round, shards(c, round.id()), participants(c), uploads(c, round.id()),
                    sharedOutputs(c, round.id()), fusion(c, round.id()));
        });
    }

    private static void event(Connection c, Integer round, long now, EventKind kind, String participantId, Integer shard,
                              Long uploadId, String detail) throws SQLException {
        update(c, "INSERT INTO events (round_id, happened_at, kind, participant_id, shard, upload_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                round, now, lower(kind), participantId, shard, uploadId, detail);
    }

    // ---------------------------------------------------------------- helpers

    private String randomId(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static void checkSha256(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a lowercase hex sha256: " + sha256);
        }
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String sql) {
        return Enum.valueOf(type, sql.toUpperCase(Locale.ROOT));
    }

    @FunctionalInterface
    private interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) {
                ps.setNull(i + 1, Types.NULL);
            } else if (a instanceof Integer v) {
                ps.setInt(i + 1, v);
            } else if (a instanceof Long v) {
                ps.setLong(i + 1, v);
            } else if (a instanceof Double v) {
                ps.setDouble(i + 1, v);
            } else if (a instanceof String v) {
                ps.setString(i + 1, v);
            } else {
                throw new IllegalArgumentException("cannot bind " + a.getClass());
            }
        }
    }

    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        }
    }

    private static long insertReturningId(Connection c, String sql, Object... args) throws SQLException {
        return one(query(c, sql, rs -> rs.getLong(1), args)).orElseThrow(() -> new SQLException("INSERT returned no id"));
    }

    private static <T> List<T> query(Connection c, String sql, RowMapper<T> mapper, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                List<T> rows = new ArrayList<>();
                while (rs.next()) {
                    rows.add(mapper.map(rs));
                }
                return rows;
            }
        }
    }

    private static <T> Optional<T> one(List<T> rows) {
        if (rows.size() > 1) {
            throw new IllegalStateException("expected at most one row, got " + rows.size());
        }
        return rows.isEmpty() ? Optional.empty() : Optional.ofNullable(rows.get(0));
    }

    private static Long nullableLong(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    private static Integer nullableInt(ResultSet rs, int column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? null : v;
    }
}
