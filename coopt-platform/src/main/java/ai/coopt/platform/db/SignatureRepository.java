package ai.coopt.platform.db;

import static ai.coopt.platform.db.StoreValues.checkSha256;

/** Replay protection: the signed requests seen lately ({@code seen_requests}). */
public final class SignatureRepository {

    private final Database db;

    SignatureRepository(Database db) {
        this.db = db;
    }

    /**
     * Remembers a verified signed request by its replay key ({@code RequestSignature.SignedHeaders.replayKey});
     * false when it was seen before: a replay. Requests whose timestamp lies more than {@code windowMillis}
     * before {@code now} are forgotten, so the caller must refuse such timestamps before asking (as
     * {@code RequestSignature.verify} does) and use the same window.
     */
    public boolean record(String participantId, String requestSha256, long timestamp, long now, long windowMillis) {
        checkSha256(requestSha256);
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("the window must be positive");
        }
        // READ COMMITTED: a replay is told by the primary key (INSERT .. ON CONFLICT DO NOTHING inserts once, whoever
        // races), not by anything read, and forgetting old requests twice is harmless; SERIALIZABLE would only make
        // two serve processes' requests fail each other over that DELETE
        return db.inTransaction(Database.Isolation.READ_COMMITTED, h -> {
            ParticipantRepository.require(h, participantId);
            h.createUpdate("DELETE FROM seen_requests WHERE request_time < ?").bind(0, now - windowMillis).execute();
            return h.createUpdate("INSERT INTO seen_requests (request_sha256, participant_id, request_time, seen_at) VALUES (?, ?, ?, ?)"
                            + " ON CONFLICT (request_sha256) DO NOTHING")
                    .bind(0, requestSha256).bind(1, participantId).bind(2, timestamp).bind(3, now).execute() == 1;
        });
    }
}
