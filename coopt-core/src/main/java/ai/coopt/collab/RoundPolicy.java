package ai.coopt.collab;

import java.util.List;
import java.util.Map;

/**
 * A round's decisions, in one place, for {@code coopt collab} and for the networked platform alike ({@link RoundEngine}
 * applies them to either platform's {@link RoundLedger}): whom to trust and which prior is the reference, where an
 * excluded participant's shards go, when fusion may start, and how the trusted outputs are aligned. {@link #screened}
 * is the method's policy; a variant overrides one decision.
 */
public interface RoundPolicy {
    /**
     * Judges the round's outputs: the outputs on S ({@link Screening}), each shard against its participant's own
     * outputs on S ({@link Screening#shardDisagreement}), and the participants already left out (they take no part).
     */
    Screening.Result judge(List<SharedOutputs> shared, List<ShardOutputs> shards, Map<String, String> excluded);

    /** Who is offered each reopened shard (shard → participant), drawn from the trusted participants only. */
    Map<Integer, String> heirs(List<Integer> reopened, List<String> trusted);

    /** Whether fusion may start now. */
    boolean readyToFuse(RoundLedger.Progress progress);

    /** How the trusted participants' outputs are brought into the reference's space. */
    Alignment alignment();

    /**
     * The method's policy: the screening of {@link Screening} plus each shard's agreement with its own outputs on S;
     * an excluded participant's shards are offered to the trusted ones round-robin, in their order; fusion starts once
     * every shard is accepted from a participant in good standing and every audit passed.
     */
    static RoundPolicy screened(Alignment alignment) {
        return new ScreenedRound(alignment);
    }
}
