package ai.coopt.collab;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Applies a {@link RoundPolicy} to a platform's {@link RoundLedger}; both {@code coopt collab} and the networked
 * platform's referee settle their rounds here. A settlement judges the outputs, leaves the newly excluded participants
 * out (their shards open again and are offered to the policy's heirs) and says whether fusion may start.
 *
 * <p>The judgement is kept while its inputs are the same objects: a ledger that hands back the outputs it loaded
 * before is judged once, however often it is settled.
 */
public final class RoundEngine {
    /**
     * What one settlement decided.
     *
     * @param judgement the screening (null while no output on S was accepted)
     * @param excludedNow the participants left out by this settlement, with why
     * @param reopened the shards opened again by it, in shard order, each with the participant it was offered to
     *                 (absent when no participant is trusted)
     * @param fuse whether fusion may start
     */
    public record Settlement(Screening.Result judgement, List<Screening.Verdict> excludedNow,
                            Map<Integer, String> reopened, boolean fuse) {}

    private record Inputs(List<SharedOutputs> shared, List<ShardOutputs> shards, Map<String, String> excluded) {}

    private record Judged(Inputs inputs, Screening.Result result) {}

    private final RoundPolicy policy;
    private volatile Judged last;

    public RoundEngine(RoundPolicy policy) {
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    public RoundPolicy policy() {
        return policy;
    }

    /** The policy's judgement of the ledger as it stands (null while no output on S was accepted). */
    public Screening.Result judge(RoundLedger ledger) {
        return judge(ledger, ledger.excluded());
    }

    /** The judgement with the ledger's {@code excluded} participants, read once by the caller. */
    private Screening.Result judge(RoundLedger ledger, Map<String, String> excluded) {
        Inputs in = new Inputs(List.copyOf(ledger.sharedOutputs()), List.copyOf(ledger.shardOutputs()),
                Map.copyOf(excluded));
        if (in.shared().isEmpty()) {
            return null;
        }
        Judged j = last;
        if (j != null && j.inputs().equals(in)) {
            return j.result();
        }
        Screening.Result r = policy.judge(in.shared(), in.shards(), new LinkedHashMap<>(excluded));
        last = new Judged(in, r);
        return r;
    }

    /** Judges the ledger and acts on it (see the class). */
    public synchronized Settlement settle(RoundLedger ledger) {
        Map<String, String> before = ledger.excluded();
        Screening.Result r = judge(ledger, before);
        if (r == null) {
            return new Settlement(null, List.of(), Map.of(), false);
        }
        List<Screening.Verdict> now = r.excluded().stream().filter(v -> !before.containsKey(v.participant())).toList();
        List<Integer> opened = new ArrayList<>();
        for (Screening.Verdict v : now) {
            opened.addAll(ledger.exclude(v.participant(), v.reason()));
        }
        opened.sort(null);
        List<String> trusted = r.verdicts().stream().filter(Screening.Verdict::trusted).map(Screening.Verdict::participant)
                .toList();
        Map<Integer, String> heirs = policy.heirs(opened, trusted);
        heirs.forEach(ledger::offer);
        return new Settlement(r, now, heirs, policy.readyToFuse(ledger.progress()));
    }
}
