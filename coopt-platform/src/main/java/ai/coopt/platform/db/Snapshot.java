package ai.coopt.platform.db;

import java.util.List;

/** The platform's state read in one transaction (for status and the dashboard): never a secret in it. */
public record Snapshot(Round round, List<Shard> shards, List<Participant> participants, List<Upload> uploads,
                       List<SharedOutput> sharedOutputs, Fusion fusion) {
}
