package ai.coopt.platform.db;

import ai.coopt.UserException;
import ai.coopt.platform.auth.Ed25519Keys;
import ai.coopt.platform.auth.Sha256;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowViewMapper;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import static ai.coopt.platform.db.StoreValues.randomId;

/**
 * The participants ({@code participants}) and their one-time invites ({@code invites}, only their sha256 stored).
 * Enrolment records its event in the same transaction. Quarantining a participant is an audit's decision (see
 * {@link AuditRepository#quarantine}).
 */
public final class ParticipantRepository {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final int TOKEN_BYTES = 32;
    private static final int MAX_TOKEN_LENGTH = 128;

    private static final String PARTICIPANT_COLUMNS = "id, name, public_key, enrolled_at, quarantined_at, quarantine_reason";

    private static final RowViewMapper<Participant> PARTICIPANT = r -> new Participant(r.getColumn(1, String.class),
            r.getColumn(2, String.class), r.getColumn(3, String.class), r.getColumn(4, Long.class),
            r.getColumn(5, Long.class), r.getColumn(6, String.class));

    private final Database db;

    ParticipantRepository(Database db) {
        this.db = db;
    }

    /** Thrown inside a transaction to roll it back and answer {@code result} instead. */
    private static final class Rollback extends RuntimeException {
        final transient Redemption result;

        Rollback(Redemption result) {
            super(null, null, false, false);
            this.result = result;
        }
    }

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
        String token = randomId(TOKEN_BYTES);
        db.inTransaction(h -> {
            if (nameTaken(h, name)) {
                throw new UserException("a participant named '" + name + "' is already enrolled");
            }
            h.createUpdate("INSERT INTO invites (token_sha256, name, created_at, expires_at) VALUES (?, ?, ?, ?)")
                    .bind(0, Sha256.hex(token)).bind(1, name).bind(2, now).bind(3, Math.addExact(now, ttlMillis)).execute();
            return null;
        });
        return token;
    }

    private static boolean nameTaken(Handle h, String name) {
        return !h.createQuery("SELECT id FROM participants WHERE name = ?").bind(0, name).mapTo(String.class).list().isEmpty();
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
        try {
            return db.inTransaction(h -> {
                record Invite(long id, String name, long expires, Long used) {
                }
                Optional<Invite> found = h.createQuery("SELECT id, name, expires_at, used_at FROM invites WHERE token_sha256 = ?")
                        .bind(0, tokenHash)
                        .map(r -> new Invite(r.getColumn(1, Long.class), r.getColumn(2, String.class),
                                r.getColumn(3, Long.class), r.getColumn(4, Long.class)))
                        .findOne();
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
                if (!h.createQuery("SELECT id FROM participants WHERE public_key = ? OR id = ?").bind(0, key).bind(1, id)
                        .mapTo(String.class).list().isEmpty()) {
                    return refused(Redemption.Reason.KEY_REGISTERED);
                }
                if (nameTaken(h, invite.name())) {
                    return refused(Redemption.Reason.NAME_TAKEN);
                }
                h.createUpdate("INSERT INTO participants (id, name, public_key, enrolled_at) VALUES (?, ?, ?, ?)")
                        .bind(0, id).bind(1, invite.name()).bind(2, key).bind(3, now).execute();
                if (h.createUpdate("UPDATE invites SET used_at = ?, participant_id = ? WHERE id = ? AND used_at IS NULL")
                        .bind(0, now).bind(1, id).bind(2, invite.id()).execute() != 1) {
                    throw new Rollback(new Redemption.Refused(Redemption.Reason.ALREADY_USED));
                }
                EventRepository.record(h, null, now, EventKind.PARTICIPANT_ENROLLED, id, null, null, invite.name());
                return (Redemption) new Redemption.Enrolled(new Participant(id, invite.name(), key, now));
            });
        } catch (Rollback r) {
            return r.result;
        }
    }

    private static Redemption refused(Redemption.Reason reason) {
        return new Redemption.Refused(reason);
    }

    /** The enrolled participants, in order of enrolment. */
    public List<Participant> all() {
        return db.inTransaction(h -> all(h));
    }

    /** The enrolled participants in the transaction of {@code h}, in order of enrolment. */
    static List<Participant> all(Handle h) {
        return h.createQuery("SELECT " + PARTICIPANT_COLUMNS + " FROM participants ORDER BY enrolled_at, id")
                .map(PARTICIPANT).list();
    }

    /** One participant by id, or empty when no such participant is enrolled. */
    public Optional<Participant> get(String id) {
        if (id == null || id.length() > 64) {
            return Optional.empty();
        }
        return db.inTransaction(h -> h.createQuery("SELECT " + PARTICIPANT_COLUMNS + " FROM participants WHERE id = ?")
                .bind(0, id).map(PARTICIPANT).findOne());
    }

    /** {@link IllegalArgumentException} unless the participant is enrolled (in the transaction of {@code h}). */
    static void require(Handle h, String participantId) {
        if (participantId == null || h.createQuery("SELECT id FROM participants WHERE id = ?").bind(0, participantId)
                .mapTo(String.class).list().isEmpty()) {
            throw new IllegalArgumentException("no enrolled participant " + participantId);
        }
    }

    /** Why this participant is quarantined, or empty (in the transaction of {@code h}). */
    static Optional<String> quarantineReason(Handle h, String participantId) {
        return h.createQuery("SELECT quarantine_reason FROM participants WHERE id = ? AND quarantined_at IS NOT NULL")
                .bind(0, participantId).mapTo(String.class).findOne();
    }
}
