package ai.coopt.collab;

import ai.coopt.store.Rows;

/**
 * A participant's prior run on one shard (phase 2, uploaded in phase 4).
 *
 * @param ids the shard's sample ids, ascending, one per row
 * @param rows {@code ids.length} rows of the prior's output width: on disk for a shard of any size
 * @param seconds embedding the shard
 */
public record ShardOutputs(String participant, int shard, long[] ids, Rows rows, double seconds) {}
