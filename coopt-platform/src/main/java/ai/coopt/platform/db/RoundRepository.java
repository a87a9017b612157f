package ai.coopt.platform.db;

import ai.coopt.UserException;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowViewMapper;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static ai.coopt.platform.db.StoreValues.checkSha256;
import static ai.coopt.platform.db.StoreValues.lower;
import static ai.coopt.platform.db.StoreValues.parse;

/**
 * The rounds ({@code rounds}) and their shards ({@code shards}). Opening a round also opens its fusion state and, for
 * every round after the first, records its event: one transaction, decided here. Operations of the other repositories
 * act on the current (newest) round ({@link #currentId}).
 */
public final class RoundRepository {

    private static final String SHARD_SELECT =
            "SELECT shard, images, sha256, state, lease_holder, lease_expires, accepted_upload FROM shards";

    private static final RowViewMapper<Shard> SHARD = r -> new Shard(r.getColumn(1, Integer.class), r.getColumn(2, Integer.class),
            r.getColumn(3, String.class), parse(ShardState.class, r.getColumn(4, String.class)), r.getColumn(5, String.class),
            r.getColumn(6, Long.class), r.getColumn(7, Long.class));

    private final Database db;

    RoundRepository(Database db) {
        this.db = db;
    }

    /**
     * Creates round 1 with its configuration, shards (numbered 0..K-1, all open) and fusion state (waiting), in
     * one transaction; when a round exists already nothing changes. Returns the stored round, whose config the
     * caller compares with its own when resuming.
     */
    public Round init(String configJson, List<NewShard> shards, long now) {
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
        return db.inTransaction(h -> {
            Optional<Round> existing = current(h);
            if (existing.isPresent()) {
                return existing.get();
            }
            int round = 1;
            insertRound(h, round, configJson, now);
            for (NewShard s : shards) {
                h.createUpdate("INSERT INTO shards (round_id, shard, images, sha256, state) VALUES (?, ?, ?, ?, 'open')")
                        .bind(0, round).bind(1, s.shard()).bind(2, s.images()).bind(3, s.sha256()).execute();
            }
            FusionRepository.open(h, round, now);
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
    public Round next(long now) {
        return db.inTransaction(h -> {
            Round current = current(h).orElseThrow(() -> new UserException(
                    "the platform has no round yet (start one with coopt platform serve)"));
            FusionState state = FusionRepository.of(h, current.id()).state();
            if (state != FusionState.DONE) {
                throw new UserException("round " + current.id() + " is not finished: its fusion is "
                        + lower(state) + " and its fused dataset is not written yet (a round must be fused before the"
                        + " next opens; coopt platform fuse forces it)");
            }
            int round = current.id() + 1;
            insertRound(h, round, current.configJson(), now);
            int copied = h.createUpdate("INSERT INTO shards (round_id, shard, images, sha256, state) SELECT ?, shard, images,"
                    + " sha256, 'open' FROM shards WHERE round_id = ?").bind(0, round).bind(1, current.id()).execute();
            FusionRepository.open(h, round, now);
            EventRepository.record(h, round, now, EventKind.ROUND_OPENED, null, null, null,
                    "round " + round + " over round " + current.id() + "'s data (" + copied + " shards)");
            return new Round(round, current.configJson(), now);
        });
    }

    private static void insertRound(Handle h, int round, String configJson, long now) {
        h.createUpdate("INSERT INTO rounds (id, config_json, created_at) VALUES (?, ?, ?)")
                .bind(0, round).bind(1, configJson).bind(2, now).execute();
    }

    /** Every round, oldest first, with its shards accepted and its fusion state. */
    public List<RoundSummary> all() {
        return db.inTransaction(h -> h.createQuery("SELECT r.id, r.created_at, COUNT(s.shard),"
                        + " SUM(CASE WHEN s.state = 'accepted' THEN 1 ELSE 0 END), f.state, f.updated_at FROM rounds r"
                        + " JOIN shards s ON s.round_id = r.id JOIN fusion f ON f.round_id = r.id"
                        + " GROUP BY r.id, r.created_at, f.state, f.updated_at ORDER BY r.id")
                .map(r -> new RoundSummary(r.getColumn(1, Integer.class), r.getColumn(2, Long.class), r.getColumn(3, Integer.class),
                        r.getColumn(4, Integer.class), parse(FusionState.class, r.getColumn(5, String.class)),
                        r.getColumn(6, Long.class)))
                .list());
    }

    /** The current round, or empty before {@link #init}. */
    public Optional<Round> current() {
        return db.inTransaction(h -> current(h));
    }

    /** The current round in the transaction of {@code h}, or empty before {@link #init}. */
    static Optional<Round> current(Handle h) {
        return h.createQuery("SELECT id, config_json, created_at FROM rounds ORDER BY id DESC LIMIT 1")
                .map(r -> new Round(r.getColumn(1, Integer.class), r.getColumn(2, String.class), r.getColumn(3, Long.class)))
                .findOne();
    }

    /** The current round's id in the transaction of {@code h}; {@link IllegalStateException} before {@link #init}. */
    static int currentId(Handle h) {
        return current(h).orElseThrow(() -> new IllegalStateException("the platform has no round yet")).id();
    }

    /** The current round's shards by number. */
    public List<Shard> shards() {
        return db.inTransaction(h -> shards(h, currentId(h)));
    }

    /** One shard of the current round, or empty when there is no such shard. */
    public Optional<Shard> shard(int shard) {
        return db.inTransaction(h -> h.createQuery(SHARD_SELECT + " WHERE round_id = ? AND shard = ?")
                .bind(0, currentId(h)).bind(1, shard).map(SHARD).findOne());
    }

    /** Round {@code round}'s shards by number, in the transaction of {@code h}. */
    static List<Shard> shards(Handle h, int round) {
        return h.createQuery(SHARD_SELECT + " WHERE round_id = ? ORDER BY shard").bind(0, round).map(SHARD).list();
    }
}
