package ai.coopt.platform.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Consistency rules the platform's database must keep whatever happened (a crash between any two operations). */
final class Invariants {

    private Invariants() {
    }

    /** Each rule, and a query that counts what breaks it. */
    private static final String[][] RULES = {
        {"an accepted shard without exactly one accepted upload of its own",
            "SELECT COUNT(*) FROM shards s WHERE s.state = 'accepted' AND 1 <> (SELECT COUNT(*) FROM uploads u"
                + " WHERE u.round_id = s.round_id AND u.shard = s.shard AND u.status = 'accepted' AND u.id = s.accepted_upload)"},
        {"an accepted upload whose shard is not accepted from it",
            "SELECT COUNT(*) FROM uploads u WHERE u.status = 'accepted' AND NOT EXISTS (SELECT 1 FROM shards s"
                + " WHERE s.round_id = u.round_id AND s.shard = u.shard AND s.state = 'accepted' AND s.accepted_upload = u.id)"},
        {"a shard with two accepted uploads",
            "SELECT COUNT(*) FROM (SELECT round_id, shard FROM uploads WHERE status = 'accepted' GROUP BY round_id, shard HAVING COUNT(*) > 1) x"},
        {"a leased shard without holder, lease id or expiry, or a lease on a shard that is not leased",
            "SELECT COUNT(*) FROM shards WHERE (state = 'leased') <> (lease_holder IS NOT NULL AND lease_id IS NOT NULL AND lease_expires IS NOT NULL)"
                + " OR (state <> 'leased' AND (lease_holder IS NOT NULL OR lease_id IS NOT NULL OR lease_expires IS NOT NULL))"},
        {"one worker of a participant holding two leases",
            "SELECT COUNT(*) FROM (SELECT round_id, lease_holder, lease_worker FROM shards WHERE lease_holder IS NOT NULL GROUP BY round_id, lease_holder, lease_worker HAVING COUNT(*) > 1) x"},
        {"a lease without its worker",
            "SELECT COUNT(*) FROM shards WHERE lease_holder IS NOT NULL AND lease_worker IS NULL"},
        {"a lease held by a participant that is not enrolled",
            "SELECT COUNT(*) FROM shards s WHERE s.lease_holder IS NOT NULL AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.id = s.lease_holder)"},
        {"accepted uploads (with those a quarantine withdrew) and upload_accepted events differ in number",
            "SELECT ABS((SELECT COUNT(*) FROM uploads WHERE status = 'accepted' OR reason LIKE 'quarantined: %')"
                + " - (SELECT COUNT(*) FROM events WHERE kind = 'upload_accepted'))"},
        {"refused uploads and upload_refused events differ in number",
            "SELECT ABS((SELECT COUNT(*) FROM uploads WHERE status = 'refused' AND reason NOT LIKE 'quarantined: %')"
                + " - (SELECT COUNT(*) FROM events WHERE kind = 'upload_refused'))"},
        {"an upload withdrawn from a participant that is not quarantined",
            "SELECT COUNT(*) FROM uploads u JOIN participants p ON p.id = u.participant_id"
                + " WHERE u.reason LIKE 'quarantined: %' AND p.quarantined_at IS NULL"},
        // earlier rounds are fused and published: a quarantine withdraws the uploads of the round it happens in
        {"an accepted upload of a quarantined participant in the round it was quarantined in or later",
            "SELECT COUNT(*) FROM uploads u JOIN participants p ON p.id = u.participant_id"
                + " WHERE u.status = 'accepted' AND p.quarantined_at IS NOT NULL AND u.round_id >= (SELECT MIN(e.round_id)"
                + " FROM events e WHERE e.kind = 'participant_quarantined' AND e.participant_id = p.id)"},
        {"an audit of another participant's upload, or of no shard upload",
            "SELECT COUNT(*) FROM audits a WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.id = a.upload_id"
                + " AND u.participant_id = a.participant_id AND u.shard = a.shard)"},
        {"a pending audit of a quarantined participant",
            "SELECT COUNT(*) FROM audits a JOIN participants p ON p.id = a.participant_id"
                + " WHERE a.state = 'pending' AND p.quarantined_at IS NOT NULL"},
        {"a refused upload without a reason or an accepted one with a reason",
            "SELECT COUNT(*) FROM uploads WHERE (status = 'refused') <> (reason IS NOT NULL)"},
        {"a participant not enrolled by exactly one used invite",
            "SELECT COUNT(*) FROM participants p WHERE 1 <> (SELECT COUNT(*) FROM invites i WHERE i.participant_id = p.id AND i.used_at IS NOT NULL)"},
        {"participants and enrolment events differ in number",
            "SELECT ABS((SELECT COUNT(*) FROM participants) - (SELECT COUNT(*) FROM events WHERE kind = 'participant_enrolled'))"},
        {"a running fusion without a heartbeat, or a heartbeat on a fusion that does not run",
            "SELECT COUNT(*) FROM fusion WHERE (state = 'running') <> (heartbeat_at IS NOT NULL)"},
        {"a round whose shards differ from round 1's (every round is over the same data)",
            "SELECT COUNT(*) FROM shards s WHERE NOT EXISTS (SELECT 1 FROM shards f WHERE f.round_id = 1"
                + " AND f.shard = s.shard AND f.images = s.images AND f.sha256 = s.sha256)"},
        {"a round opened before the previous one was fused",
            "SELECT COUNT(*) FROM rounds r JOIN fusion f ON f.round_id = r.id - 1 WHERE f.state <> 'done'"},
        {"a round without its shards or fusion state",
            "SELECT COUNT(*) FROM rounds r WHERE NOT EXISTS (SELECT 1 FROM shards s WHERE s.round_id = r.id)"
                + " OR NOT EXISTS (SELECT 1 FROM fusion f WHERE f.round_id = r.id)"},
    };

    /** Every violated rule, as one line each (empty when the database is consistent). */
    static List<String> violations(Database db) {
        return db.transaction(c -> {
            List<String> found = new ArrayList<>();
            for (String[] rule : RULES) {
                violation(found, c, rule[0], rule[1]);
            }
            return found;
        });
    }

    private static void violation(List<String> found, Connection c, String rule, String countSql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(countSql)) {
            rs.next();
            long n = rs.getLong(1);
            if (n != 0) {
                found.add(rule + " (" + n + ")");
            }
        }
    }
}
