package ai.coopt.platform.db;

import org.jdbi.v3.core.Handle;

import static ai.coopt.platform.db.StoreValues.lower;
import static ai.coopt.platform.db.StoreValues.parse;

/**
 * Each round's fusion state ({@code fusion}): who fuses, since when, with what outcome. Its moves decide here and
 * record their events in the same transaction.
 */
public final class FusionRepository {

    private final Database db;

    FusionRepository(Database db) {
        this.db = db;
    }

    /** The current round's fusion state. */
    public Fusion state() {
        return db.inTransaction(h -> of(h, RoundRepository.currentId(h)));
    }

    /** Round {@code round}'s fusion state, in the transaction of {@code h}. */
    static Fusion of(Handle h, int round) {
        return h.createQuery("SELECT state, forced, detail_json, updated_at, owner, heartbeat_at FROM fusion WHERE round_id = ?")
                .bind(0, round)
                .map(r -> new Fusion(parse(FusionState.class, r.getColumn(1, String.class)), r.getColumn(2, Integer.class) != 0,
                        r.getColumn(3, String.class), r.getColumn(4, Long.class), r.getColumn(5, String.class),
                        r.getColumn(6, Long.class)))
                .findOne()
                .orElseThrow(() -> new IllegalStateException("round " + round + " has no fusion state"));
    }

    /** A new round's fusion state: waiting (in the transaction that opens the round). */
    static void open(Handle h, int round, long now) {
        h.createUpdate("INSERT INTO fusion (round_id, state, forced, updated_at) VALUES (?, 'waiting', 0, ?)")
                .bind(0, round).bind(1, now).execute();
    }

    /**
     * Moves the fusion state: WAITING or FAILED to RUNNING, claimed by {@code owner} (the instance id of the process
     * that will fuse; its heartbeat starts at {@code now}) and recording {@code forced} (started with what was there
     * rather than every shard); RUNNING to DONE or FAILED by its owner only. Returns false and changes nothing for
     * any other move, so that of several processes (or threads) claiming at once exactly one runs fusion, and a
     * process whose run was taken over (see {@link #abandon}) cannot record its outcome.
     */
    public boolean set(FusionState to, String owner, boolean forced, String detailJson, long now) {
        if (owner == null || owner.isEmpty() || owner.length() > 64) {
            throw new IllegalArgumentException("a fusion owner is 1 to 64 characters: " + owner);
        }
        return db.inTransaction(h -> {
            int round = RoundRepository.currentId(h);
            Fusion current = of(h, round);
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
            if (h.createUpdate("UPDATE fusion SET state = ?, forced = ?, detail_json = ?, updated_at = ?, owner = ?, heartbeat_at = ?"
                            + " WHERE round_id = ? AND state = ?")
                    .bind(0, lower(to)).bind(1, recordForced ? 1 : 0).bind(2, detailJson).bind(3, now).bind(4, owner)
                    .bind(5, heartbeat).bind(6, round).bind(7, lower(current.state())).execute() != 1) {
                throw new IllegalStateException("the fusion state changed inside a transaction");
            }
            EventKind kind = switch (to) {
                case RUNNING -> EventKind.FUSION_STARTED;
                case DONE -> EventKind.FUSION_FINISHED;
                default -> EventKind.FUSION_FAILED;
            };
            EventRepository.record(h, round, now, kind, null, null, null, to == FusionState.RUNNING && forced ? "forced" : null);
            return true;
        });
    }

    /** The owner of a running fusion says it is still at work; false when it no longer owns a running fusion. */
    public boolean heartbeat(String owner, long now) {
        return db.inTransaction(h -> h.createUpdate("UPDATE fusion SET heartbeat_at = ? WHERE round_id = ? AND state = 'running' AND owner = ?")
                .bind(0, now).bind(1, RoundRepository.currentId(h)).bind(2, owner).execute() == 1);
    }

    /**
     * Records the fusion that {@code owner} runs (null: a run from before owners were recorded) as FAILED with
     * {@code detailJson} when its last heartbeat is older than {@code heartbeatBefore} ({@link Long#MAX_VALUE} when the
     * caller knows the owner is gone), so that it can be claimed again; false, changing nothing, when no fusion runs,
     * another owner's does (it was claimed anew meanwhile) or the heartbeat is recent.
     */
    public boolean abandon(String owner, long heartbeatBefore, String detailJson, long now) {
        return db.inTransaction(h -> {
            int round = RoundRepository.currentId(h);
            String sameOwner = owner == null ? "owner IS NULL" : "owner = ?";
            var update = h.createUpdate("UPDATE fusion SET state = 'failed', detail_json = ?, updated_at = ?, heartbeat_at = NULL"
                    + " WHERE round_id = ? AND state = 'running' AND heartbeat_at < ? AND " + sameOwner)
                    .bind(0, detailJson).bind(1, now).bind(2, round).bind(3, heartbeatBefore);
            if (owner != null) {
                update.bind(4, owner);
            }
            if (update.execute() != 1) {
                return false;
            }
            EventRepository.record(h, round, now, EventKind.FUSION_FAILED, null, null, null, "its owner " + owner + " is gone");
            return true;
        });
    }
}
