package ai.coopt.collab;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** The method's round policy ({@link RoundPolicy#screened}). */
record ScreenedRound(Alignment alignment) implements RoundPolicy {
    ScreenedRound {
        Objects.requireNonNull(alignment, "alignment");
    }

    @Override
    public Screening.Result judge(List<SharedOutputs> shared, List<ShardOutputs> shards, Map<String, String> excluded) {
        Map<String, String> reasons = new LinkedHashMap<>(excluded);
        for (ShardOutputs shard : shards) {
            if (reasons.containsKey(shard.participant())) {
                continue;
            }
            SharedOutputs own = shared.stream().filter(o -> o.participant().equals(shard.participant())).findFirst()
                    .orElseThrow(() -> new IllegalStateException(shard.participant()
                            + " has a shard accepted but no outputs on the shared subset"));
            Screening.shardDisagreement(own, shard.rows())
                    .ifPresent(r -> reasons.put(shard.participant(), "shard " + shard.shard() + ": " + r));
        }
        return Screening.screen(shared, reasons);
    }

    @Override
    public Map<Integer, String> heirs(List<Integer> reopened, List<String> trusted) {
        Map<Integer, String> out = new LinkedHashMap<>();
        if (trusted.isEmpty()) {
            return out;
        }
        for (int j = 0; j < reopened.size(); j++) {
            out.put(reopened.get(j), trusted.get(j % trusted.size()));
        }
        return out;
    }

    @Override
    public boolean readyToFuse(RoundLedger.Progress p) {
        return p.fusionWaiting() && p.accepted() == p.shards() && p.unaudited() == 0;
    }
}
