package ai.coopt.platform.db;

/**
 * A round of the platform.
 *
 * @param id         1 for the first round
 * @param configJson the round's configuration (data spec, seed, shards, shared ids, fingerprints), opaque here
 * @param createdAt  epoch millis
 */
public record Round(int id, String configJson, long createdAt) {
}
