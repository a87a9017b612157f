package ai.coopt.platform.api;

/**
 * What {@code POST /v1/lease} and {@code /v1/lease/renew} answer.
 *
 * @param state granted, wait or done
 */
public record LeaseView(String state, Integer shard, long[] ids, String token, Long expiresAt, String sha256,
                        Integer count, Long waitMs) {}
