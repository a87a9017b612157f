package ai.coopt.platform.db;

import ai.coopt.store.Json;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowViewMapper;

import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

import static ai.coopt.platform.db.StoreValues.oneLine;
import static ai.coopt.platform.db.StoreValues.parse;

/**
 * The audits of accepted uploads ({@code audits}) and what a failed one leads to: quarantine. {@link #quarantine}
 * decides here for the whole platform state in one transaction: it marks the participant, withdraws its accepted
 * uploads, opens the shards they filled and the ones it holds, fails its pending audits and records the event. An
 * upload's audit is created by {@link UploadRepository} in the upload's transaction ({@link #request}).
 */
public final class AuditRepository {

    private static final String AUDIT_SELECT = "SELECT id, upload_id, participant_id, shard, sample_json, state, reason,"
            + " created_at, deadline, answered_at FROM audits";

    private static final RowViewMapper<AuditRecord> AUDIT = r -> new AuditRecord(r.getColumn(1, Long.class),
            r.getColumn(2, Long.class), r.getColumn(3, String.class), r.getColumn(4, Integer.class),
            parseIds(r.getColumn(5, String.class)), parse(AuditState.class, r.getColumn(6, String.class)),
            r.getColumn(7, String.class), r.getColumn(8, Long.class), r.getColumn(9, Long.class),
            r.getColumn(10, Long.class));

    private final Database db;

    AuditRepository(Database db) {
        this.db = db;
    }

    /** Every audit of the current round, oldest first. */
    public List<AuditRecord> all() {
        return db.inTransaction(h -> h.createQuery(AUDIT_SELECT + " WHERE round_id = ? ORDER BY id")
                .bind(0, RoundRepository.currentId(h)).map(AUDIT).list());
    }

    /** One audit of the current round, or empty. */
    public Optional<AuditRecord> get(long id) {
        return db.inTransaction(h -> get(h, RoundRepository.currentId(h), id));
    }

    private static Optional<AuditRecord> get(Handle h, int round, long id) {
        return h.createQuery(AUDIT_SELECT + " WHERE round_id = ? AND id = ?").bind(0, round).bind(1, id).map(AUDIT).findOne();
    }

    /** This participant's pending audits, oldest first. */
    public List<AuditRecord> pending(String participantId) {
        return db.inTransaction(h -> h.createQuery(AUDIT_SELECT + " WHERE round_id = ? AND participant_id = ? AND state = 'pending'"
                        + " ORDER BY id")
                .bind(0, RoundRepository.currentId(h)).bind(1, participantId).map(AUDIT).list());
    }

    /** Whether an audit of round {@code round} is pending (in the transaction of {@code h}). */
    static boolean anyPending(Handle h, int round) {
        return !h.createQuery("SELECT id FROM audits WHERE round_id = ? AND state = 'pending' LIMIT 1")
                .bind(0, round).mapTo(Long.class).list().isEmpty();
    }

    /** Creates an accepted upload's audit, pending until {@code deadline}, in the upload's transaction. */
    static void request(Handle h, int round, long uploadId, String participantId, int shard, long[] sample, long now,
                        long deadline) {
        h.createUpdate("INSERT INTO audits (round_id, upload_id, participant_id, shard, sample_json, state, created_at,"
                        + " deadline) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)")
                .bind(0, round).bind(1, uploadId).bind(2, participantId).bind(3, shard).bind(4, idsJson(sample))
                .bind(5, now).bind(6, deadline).execute();
        EventRepository.record(h, round, now, EventKind.AUDIT_REQUESTED, participantId, shard, uploadId, sample.length + " rows");
    }

    /**
     * Settles a pending audit: PASSED, or FAILED with a reason, which quarantines its participant in the same
     * transaction. False (nothing changes) when the audit is not pending any more.
     */
    public boolean finish(long id, boolean passed, String reason, long now) {
        if (!passed && (reason == null || reason.isBlank())) {
            throw new IllegalArgumentException("a failed audit needs a reason");
        }
        return db.inTransaction(h -> {
            int round = RoundRepository.currentId(h);
            Optional<AuditRecord> a = get(h, round, id);
            if (a.isEmpty() || a.get().state() != AuditState.PENDING) {
                return false;
            }
            String line = passed ? null : oneLine(reason);
            h.createUpdate("UPDATE audits SET state = ?, reason = ?, answered_at = ? WHERE id = ? AND state = 'pending'")
                    .bind(0, passed ? "passed" : "failed").bind(1, line).bind(2, now).bind(3, id).execute();
            EventRepository.record(h, round, now, passed ? EventKind.AUDIT_PASSED : EventKind.AUDIT_FAILED,
                    a.get().participantId(), a.get().shard(), a.get().uploadId(), line);
            if (!passed) {
                quarantine(h, round, a.get().participantId(), "audit of shard " + a.get().shard() + " failed: " + line, now);
            }
            return true;
        });
    }

    /** Fails every pending audit whose deadline has passed (quarantining its participant); returns how many. */
    public int expire(long now) {
        return db.inTransaction(h -> {
            int round = RoundRepository.currentId(h);
            List<AuditRecord> late = h.createQuery(AUDIT_SELECT + " WHERE round_id = ? AND state = 'pending' AND deadline <= ?"
                    + " ORDER BY id").bind(0, round).bind(1, now).map(AUDIT).list();
            for (AuditRecord a : late) {
                String reason = "not answered by its deadline";
                h.createUpdate("UPDATE audits SET state = 'failed', reason = ?, answered_at = ? WHERE id = ?")
                        .bind(0, reason).bind(1, now).bind(2, a.id()).execute();
                EventRepository.record(h, round, now, EventKind.AUDIT_FAILED, a.participantId(), a.shard(), a.uploadId(), reason);
                quarantine(h, round, a.participantId(), "audit of shard " + a.shard() + " failed: " + reason, now);
            }
            return late.size();
        });
    }

    /** Moves every pending audit's deadline to {@code deadline} (after the platform was down: not the participants' fault). */
    public int extendPending(long deadline) {
        return db.inTransaction(h -> h.createUpdate("UPDATE audits SET deadline = ? WHERE round_id = ? AND state = 'pending'"
                        + " AND deadline < ?")
                .bind(0, deadline).bind(1, RoundRepository.currentId(h)).bind(2, deadline).execute());
    }

    /**
     * Quarantines a participant, in one transaction: it is marked with the reason, its accepted uploads are
     * withdrawn (recorded as refused, "quarantined: ..."), the shards they filled and any shard it holds are open
     * again, its pending audits fail. False when it was quarantined already (nothing changes).
     */
    public boolean quarantine(String participantId, String reason, long now) {
        return quarantineOpening(participantId, reason, now).isPresent();
    }

    /**
     * As {@link #quarantine}, returning the shards it opened again (in shard order), or empty when the participant was
     * quarantined already.
     */
    public Optional<List<Integer>> quarantineOpening(String participantId, String reason, long now) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a quarantine needs a reason");
        }
        return db.inTransaction(h -> {
            ParticipantRepository.require(h, participantId);
            int round = RoundRepository.currentId(h);
            List<Integer> opened = h.createQuery("SELECT shard FROM shards WHERE round_id = ? AND (lease_holder = ?"
                            + " OR accepted_upload IN (SELECT id FROM uploads WHERE round_id = ? AND participant_id = ?"
                            + " AND status = 'accepted')) ORDER BY shard")
                    .bind(0, round).bind(1, participantId).bind(2, round).bind(3, participantId).mapTo(Integer.class).list();
            return quarantine(h, round, participantId, oneLine(reason), now) ? Optional.of(opened) : Optional.empty();
        });
    }

    private static boolean quarantine(Handle h, int round, String participantId, String reason, long now) {
        if (h.createUpdate("UPDATE participants SET quarantined_at = ?, quarantine_reason = ? WHERE id = ? AND quarantined_at IS NULL")
                .bind(0, now).bind(1, reason).bind(2, participantId).execute() != 1) {
            return false;
        }
        h.createUpdate("UPDATE shards SET state = 'open', accepted_upload = NULL WHERE round_id = ? AND accepted_upload IN"
                        + " (SELECT id FROM uploads WHERE round_id = ? AND participant_id = ? AND status = 'accepted')")
                .bind(0, round).bind(1, round).bind(2, participantId).execute();
        h.createUpdate("UPDATE uploads SET status = 'refused', reason = ? WHERE round_id = ? AND participant_id = ? AND status = 'accepted'")
                .bind(0, oneLine("quarantined: " + reason)).bind(1, round).bind(2, participantId).execute();
        h.createUpdate("UPDATE shards SET state = 'open', lease_holder = NULL, lease_id = NULL, lease_expires = NULL"
                        + " WHERE round_id = ? AND lease_holder = ?")
                .bind(0, round).bind(1, participantId).execute();
        // every round's: an audit left pending in a round fused without waiting for it (forced) fails too
        h.createUpdate("UPDATE audits SET state = 'failed', reason = 'its participant was quarantined', answered_at = ?"
                        + " WHERE participant_id = ? AND state = 'pending'")
                .bind(0, now).bind(1, participantId).execute();
        EventRepository.record(h, round, now, EventKind.PARTICIPANT_QUARANTINED, participantId, null, null, reason);
        return true;
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
}
