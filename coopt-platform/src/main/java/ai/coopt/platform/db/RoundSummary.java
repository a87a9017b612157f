package ai.coopt.platform.db;

/**
 * One round as the rounds table shows it.
 *
 * @param id        1 for the first round
 * @param createdAt when it was opened, epoch millis
 * @param shards    how many shards it has
 * @param accepted  how many of them are accepted
 * @param fusion    its fusion state; DONE means its fused dataset is written
 * @param fusionAt  when its fusion state last changed, epoch millis
 */
public record RoundSummary(int id, long createdAt, int shards, int accepted, FusionState fusion, long fusionAt) {
    /** A round is finished once its fused dataset is written (fusion DONE): the next one may open then. */
    public boolean finished() {
        return fusion == FusionState.DONE;
    }
}
