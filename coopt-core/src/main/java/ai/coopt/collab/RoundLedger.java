package ai.coopt.collab;

import java.util.List;
import java.util.Map;

/**
 * What a platform keeps of one round, as the {@link RoundEngine} reads and changes it: the accepted outputs, who was
 * left out and why, and how far the round is. The in-process platform keeps it in memory ({@link InProcessPlatform});
 * the networked platform keeps it in its database and round directory.
 */
public interface RoundLedger {
    /**
     * How far a round is: its shards, those accepted from participants in good standing, the accepted shards whose
     * audit has not passed (a ledger may count them only once every shard is accepted), and whether fusion waits.
     */
    record Progress(int shards, int accepted, int unaudited, boolean fusionWaiting) {}

    /** The accepted outputs on S, every time in the same order (the screening's result depends on it). */
    List<SharedOutputs> sharedOutputs();

    /**
     * The accepted shards whose rows the policy compares with their participant's own outputs on S: every one in
     * process. The networked platform returns none: its shards live on other machines' word, and it audits them instead
     * (re-running the prior on samples).
     */
    List<ShardOutputs> shardOutputs();

    /** Participants already left out of the round, with why (they take no part in the next judgement). */
    Map<String, String> excluded();

    /**
     * Leaves a participant out of the round: the shards accepted from it or held by it are open again, and it leases no
     * more. Returns the shards opened, in shard order.
     */
    List<Integer> exclude(String participant, String reason);

    /**
     * Asks that an open shard go to this participant first. The in-process platform leases it to that participant;
     * the networked platform cannot schedule another machine's work and leaves the shard to the first participant in
     * good standing that asks for one.
     */
    void offer(int shard, String participant);

    /** Where the round stands now. */
    Progress progress();
}
