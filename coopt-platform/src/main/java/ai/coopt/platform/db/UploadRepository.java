package ai.coopt.platform.db;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowViewMapper;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static ai.coopt.platform.db.StoreValues.checkSha256;
import static ai.coopt.platform.db.StoreValues.oneLine;

/**
 * What participants uploaded: shard uploads, accepted and refused ({@code uploads}), and their outputs on the shared
 * subset S ({@code shared_outputs}). Accepting a shard upload decides here, in one transaction, under the shard's lock
 * and lease check of {@link LeaseRepository}: the upload row, the shard accepted from it, its audit
 * ({@link AuditRepository#request}) and the events.
 */
public final class UploadRepository {

    private static final String UPLOAD_SELECT = "SELECT id, round_id, shard, participant_id, status, reason, file, sha256,"
            + " bytes, row_count, dim, received_at FROM uploads";

    private static final RowViewMapper<Upload> UPLOAD = r -> new Upload(r.getColumn(1, Long.class), r.getColumn(2, Integer.class),
            r.getColumn(3, Integer.class), r.getColumn(4, String.class), "accepted".equals(r.getColumn(5, String.class)),
            r.getColumn(6, String.class), r.getColumn(7, String.class), r.getColumn(8, String.class),
            r.getColumn(9, Long.class), r.getColumn(10, Integer.class), r.getColumn(11, Integer.class),
            r.getColumn(12, Long.class));

    private static final String SHARED_SELECT =
            "SELECT participant_id, file, sha256, dim, prior_json, uniformity, accepted_at FROM shared_outputs";

    private static final RowViewMapper<SharedOutput> SHARED = r -> new SharedOutput(r.getColumn(1, String.class),
            r.getColumn(2, String.class), r.getColumn(3, String.class), r.getColumn(4, Integer.class), r.getColumn(5, String.class),
            r.getColumn(6, Double.class), r.getColumn(7, Long.class));

    private final Database db;
    private final LeaseRepository leases;

    UploadRepository(Database db, LeaseRepository leases) {
        this.db = db;
        this.leases = leases;
    }

    /**
     * Accepts the participant's validated, durably stored upload for {@code shard} in one transaction: the
     * upload is recorded and the shard becomes accepted from it. ALREADY when this participant's upload with
     * the same sha256 was accepted for the shard before (a retry). REFUSED, recorded in the audit trail with
     * its reason, when the shard is accepted from another upload, leased to someone else, not leased, or the
     * lease id is not the current one; an expired lease that nobody took over still counts.
     */
    public UploadResult acceptShard(String participantId, int shard, String leaseId, String file, String sha256,
                                    long bytes, int rows, int dim, long now) {
        return acceptShard(participantId, shard, leaseId, file, sha256, bytes, rows, dim, now, null, 0);
    }

    /**
     * As above, and when {@code auditSample} is not null the upload's audit (pending until {@code auditDeadline}) is
     * created in the same transaction, so that no accepted upload is ever without its audit. A quarantined
     * participant's upload is refused.
     */
    public UploadResult acceptShard(String participantId, int shard, String leaseId, String file, String sha256,
                                    long bytes, int rows, int dim, long now, long[] auditSample, long auditDeadline) {
        checkSha256(sha256);
        if (file == null || bytes < 0 || rows <= 0 || dim <= 0) {
            throw new IllegalArgumentException("an upload needs a file, bytes >= 0, rows > 0 and dim > 0");
        }
        return db.inTransaction(Database.Isolation.READ_COMMITTED, h -> {
            ParticipantRepository.require(h, participantId);
            int round = RoundRepository.currentId(h);
            leases.lockShard(h, round, shard); // see LeaseRepository: decided on the locked row, at READ COMMITTED
            record Accepted(long id, String participant, String sha256) {
            }
            Optional<Accepted> accepted = h.createQuery("SELECT u.id, u.participant_id, u.sha256 FROM shards s"
                            + " JOIN uploads u ON u.id = s.accepted_upload WHERE s.round_id = ? AND s.shard = ?")
                    .bind(0, round).bind(1, shard)
                    .map(r -> new Accepted(r.getColumn(1, Long.class), r.getColumn(2, String.class), r.getColumn(3, String.class)))
                    .findOne();
            if (accepted.isPresent() && accepted.get().participant().equals(participantId) && accepted.get().sha256().equals(sha256)) {
                return new UploadResult.Already(accepted.get().id());
            }
            Optional<String> refusal = accepted.isPresent()
                    ? Optional.of("shard " + shard + " is already accepted from another upload")
                    : LeaseRepository.leaseRefusal(h, round, participantId, shard, leaseId);
            if (refusal.isEmpty()) {
                refusal = ParticipantRepository.quarantineReason(h, participantId).map(r -> "you are quarantined: " + r);
            }
            if (refusal.isPresent()) {
                Integer knownShard = h.createQuery("SELECT shard FROM shards WHERE round_id = ? AND shard = ?")
                        .bind(0, round).bind(1, shard).mapTo(Integer.class).list().isEmpty() ? null : shard;
                insertRefused(h, round, participantId, knownShard, refusal.get(), sha256, bytes, now);
                return new UploadResult.Refused(refusal.get());
            }
            long id = h.createQuery("INSERT INTO uploads (round_id, shard, participant_id, status, file, sha256, bytes,"
                            + " row_count, dim, received_at) VALUES (?, ?, ?, 'accepted', ?, ?, ?, ?, ?, ?) RETURNING id")
                    .bind(0, round).bind(1, shard).bind(2, participantId).bind(3, file).bind(4, sha256).bind(5, bytes)
                    .bind(6, rows).bind(7, dim).bind(8, now).mapTo(long.class).one();
            int updated = h.createUpdate("UPDATE shards SET state = 'accepted', accepted_upload = ?, lease_holder = NULL, lease_id = NULL,"
                            + " lease_expires = NULL WHERE round_id = ? AND shard = ? AND state = 'leased' AND lease_holder = ?")
                    .bind(0, id).bind(1, round).bind(2, shard).bind(3, participantId).execute();
            if (updated != 1) {
                throw new IllegalStateException("shard " + shard + " changed while it was locked");
            }
            EventRepository.record(h, round, now, EventKind.UPLOAD_ACCEPTED, participantId, shard, id, null);
            if (auditSample != null) {
                AuditRepository.request(h, round, id, participantId, shard, auditSample, now, auditDeadline);
            }
            return (UploadResult) new UploadResult.Accepted(id);
        });
    }

    /**
     * Records an upload refused before it reached {@link #acceptShard} (bad signature, size, format,
     * values) in the audit trail, with an UPLOAD_REFUSED event; returns its id. {@code participantId} is an
     * enrolled participant or null (unauthenticated); {@code shard} is null when unknown.
     */
    public long recordRefused(String participantId, Integer shard, String reason, long bytes, long now) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a refusal needs a reason");
        }
        return db.inTransaction(h -> {
            if (participantId != null) {
                ParticipantRepository.require(h, participantId);
            }
            return insertRefused(h, RoundRepository.currentId(h), participantId, shard, reason, null, Math.max(0, bytes), now);
        });
    }

    private static long insertRefused(Handle h, int round, String participantId, Integer shard, String reason,
                                      String sha256, long bytes, long now) {
        String line = oneLine(reason);
        long id = h.createQuery("INSERT INTO uploads (round_id, shard, participant_id, status, reason, sha256, bytes, received_at)"
                        + " VALUES (?, ?, ?, 'refused', ?, ?, ?, ?) RETURNING id")
                .bind(0, round).bind(1, shard).bind(2, participantId).bind(3, line).bind(4, sha256).bind(5, bytes)
                .bind(6, now).mapTo(long.class).one();
        EventRepository.record(h, round, now, EventKind.UPLOAD_REFUSED, participantId, shard, id, line);
        return id;
    }

    /** Every upload of the current round, accepted and refused, in the order received. */
    public List<Upload> all() {
        return db.inTransaction(h -> all(h, RoundRepository.currentId(h)));
    }

    /** Every upload of round {@code round} in the order received, in the transaction of {@code h}. */
    static List<Upload> all(Handle h, int round) {
        return h.createQuery(UPLOAD_SELECT + " WHERE round_id = ? ORDER BY id").bind(0, round).map(UPLOAD).list();
    }

    /** The current round's {@code limit} newest uploads, accepted and refused, oldest first. */
    public List<Upload> recent(int limit) {
        List<Upload> newest = db.inTransaction(h -> h.createQuery(UPLOAD_SELECT + " WHERE round_id = ? ORDER BY id DESC LIMIT ?")
                .bind(0, RoundRepository.currentId(h)).bind(1, limit).map(UPLOAD).list());
        List<Upload> out = new ArrayList<>(newest);
        Collections.reverse(out);
        return out;
    }

    /** The current round's accepted uploads (at most one per shard and participant on S, plus withdrawn ones). */
    public List<Upload> accepted() {
        return db.inTransaction(h -> h.createQuery(UPLOAD_SELECT + " WHERE round_id = ? AND status = 'accepted' ORDER BY id")
                .bind(0, RoundRepository.currentId(h)).map(UPLOAD).list());
    }

    /** How many uploads of the current round were accepted and refused: status → count. */
    public Map<String, Long> counts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        counts.put("accepted", 0L);
        counts.put("refused", 0L);
        db.inTransaction(h -> h.createQuery("SELECT status, COUNT(*) FROM uploads WHERE round_id = ? GROUP BY status")
                .bind(0, RoundRepository.currentId(h))
                .map(r -> counts.put(r.getColumn(1, String.class), r.getColumn(2, Long.class))).list());
        return counts;
    }

    /** One upload of the current round by id, or empty. */
    public Optional<Upload> get(long id) {
        return db.inTransaction(h -> h.createQuery(UPLOAD_SELECT + " WHERE round_id = ? AND id = ?")
                .bind(0, RoundRepository.currentId(h)).bind(1, id).map(UPLOAD).findOne());
    }

    /**
     * The files of {@code uploads/} that rows of any round name (accepted shard uploads and outputs on S): a file's name
     * carries its content's checksum, so rounds may share one, and none of them may be removed.
     */
    public Set<String> filesInUse() {
        return db.inTransaction(h -> {
            Set<String> files = new HashSet<>(h.createQuery("SELECT file FROM uploads WHERE status = 'accepted'")
                    .mapTo(String.class).list());
            files.addAll(h.createQuery("SELECT file FROM shared_outputs").mapTo(String.class).list());
            return files;
        });
    }

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
        return db.inTransaction(h -> {
            ParticipantRepository.require(h, participantId);
            int round = RoundRepository.currentId(h);
            Optional<String> existing = h.createQuery("SELECT sha256 FROM shared_outputs WHERE round_id = ? AND participant_id = ?")
                    .bind(0, round).bind(1, participantId).mapTo(String.class).findOne();
            if (existing.isPresent()) {
                return existing.get().equals(sha256) ? SharedResult.ALREADY : SharedResult.CONFLICT;
            }
            h.createUpdate("INSERT INTO shared_outputs (round_id, participant_id, file, sha256, dim, prior_json, uniformity, accepted_at)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                    .bind(0, round).bind(1, participantId).bind(2, file).bind(3, sha256).bind(4, dim).bind(5, priorJson)
                    .bind(6, uniformity).bind(7, now).execute();
            EventRepository.record(h, round, now, EventKind.SHARED_ACCEPTED, participantId, null, null, null);
            return SharedResult.ACCEPTED;
        });
    }

    /** The accepted shared outputs of the current round, by participant id. */
    public List<SharedOutput> sharedOutputs() {
        return db.inTransaction(h -> sharedOutputs(h, RoundRepository.currentId(h)));
    }

    /** Round {@code round}'s accepted shared outputs by participant id, in the transaction of {@code h}. */
    static List<SharedOutput> sharedOutputs(Handle h, int round) {
        return h.createQuery(SHARED_SELECT + " WHERE round_id = ? ORDER BY participant_id").bind(0, round).map(SHARED).list();
    }

    /** This participant's accepted outputs on the shared subset of the current round, or empty. */
    public Optional<SharedOutput> sharedOutput(String participantId) {
        return db.inTransaction(h -> h.createQuery(SHARED_SELECT + " WHERE round_id = ? AND participant_id = ?")
                .bind(0, RoundRepository.currentId(h)).bind(1, participantId).map(SHARED).findOne());
    }
}
