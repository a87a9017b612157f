package ai.coopt.platform.db;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowViewMapper;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import static ai.coopt.platform.db.StoreValues.lower;
import static ai.coopt.platform.db.StoreValues.parse;

/**
 * The platform's timeline ({@code events}): every change the other repositories make records its event row here,
 * in the change's own transaction ({@link #record}).
 */
public final class EventRepository {

    private static final String EVENT_SELECT = "SELECT id, round_id, happened_at, kind, participant_id, shard, upload_id,"
            + " detail FROM events";

    private static final RowViewMapper<Event> EVENT = r -> new Event(r.getColumn(1, Long.class),
            r.getColumn(2, Integer.class), r.getColumn(3, Long.class), parse(EventKind.class, r.getColumn(4, String.class)),
            r.getColumn(5, String.class), r.getColumn(6, Integer.class), r.getColumn(7, Long.class),
            r.getColumn(8, String.class));

    private final Database db;

    EventRepository(Database db) {
        this.db = db;
    }

    /** The whole timeline, oldest first. */
    public List<Event> all() {
        return after(0, Integer.MAX_VALUE);
    }

    /** The {@code limit} newest events, oldest first. */
    public List<Event> recent(int limit) {
        List<Event> newest = db.inTransaction(h -> h.createQuery(EVENT_SELECT + " ORDER BY id DESC LIMIT ?")
                .bind(0, limit).map(EVENT).list());
        List<Event> out = new ArrayList<>(newest);
        Collections.reverse(out);
        return out;
    }

    /** When the last event of {@code kind} in round {@code round} happened, or empty. */
    public Optional<Long> lastAt(EventKind kind, int round) {
        return db.inTransaction(h -> h.createQuery("SELECT MAX(happened_at) FROM events WHERE kind = ? AND round_id = ?")
                .bind(0, lower(kind)).bind(1, round).mapTo(Long.class).findOne());
    }

    /** At most {@code limit} events with an id above {@code afterId}, oldest first (for paging). */
    public List<Event> after(long afterId, int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive");
        }
        return db.inTransaction(h -> h.createQuery(EVENT_SELECT + " WHERE id > ? ORDER BY id LIMIT ?")
                .bind(0, afterId).bind(1, limit).map(EVENT).list());
    }

    /** Records an event in the transaction of {@code h}; the nulls are bound with their column's type. */
    static void record(Handle h, Integer round, long now, EventKind kind, String participantId, Integer shard,
                       Long uploadId, String detail) {
        h.createUpdate("INSERT INTO events (round_id, happened_at, kind, participant_id, shard, upload_id, detail)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(0, round).bind(1, now).bind(2, lower(kind)).bind(3, participantId).bind(4, shard)
                .bind(5, uploadId).bind(6, detail).execute();
    }
}
