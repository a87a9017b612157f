package ai.coopt.collab;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.data.ShardPlan;
import ai.coopt.store.Rows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The platform inside this process ({@code coopt collab}): it holds the split's images, leases shards (a lease never
 * expires: everyone here finishes or the run fails) and keeps the accepted outputs in memory (the shard rows stay in
 * their scratch files). A participant may be given a preferred shard, so that K participants with one shard each
 * always pair up the same way, whatever order their threads ask in.
 */
public final class InProcessPlatform implements Platform, RoundLedger {
    private final ImageSet data;
    private final ShardPlan plan;
    private final Map<String, Integer> preferred;
    private final Map<String, SharedOutputs> shared = new LinkedHashMap<>();
    private final ShardOutputs[] accepted;
    private final String[] holders;
    private final Map<Integer, String> tokens = new HashMap<>();
    private final Map<String, String> excluded = new LinkedHashMap<>();

    /** @param preferred participant id → the shard it is offered first (may be empty) */
    public InProcessPlatform(ImageSet data, ShardPlan plan, Map<String, Integer> preferred) {
        this.data = data;
        this.plan = plan;
        this.preferred = Map.copyOf(preferred);
        this.accepted = new ShardOutputs[plan.participants()];
        this.holders = new String[plan.participants()];
    }

    @Override
    public RoundInfo round() {
        return new RoundInfo(plan.participants(), data.sourceIds(plan.shared()), plan.seed(), data.fingerprint());
    }

    @Override
    public ImageSet shared() {
        return data.subset(plan.shared());
    }

    @Override
    public synchronized boolean hasShared(String participant) {
        return shared.containsKey(participant);
    }

    @Override
    public synchronized void submitShared(SharedOutputs s) {
        if (s.values().length != (long) plan.shared().length * s.dim()) {
            throw new IllegalArgumentException(s.participant() + " uploaded " + s.values().length
                    + " values on the shared subset, not " + plan.shared().length + " rows of " + s.dim());
        }
        if (!allFinite(s.values(), s.values().length)) {
            throw nonFinite(s.participant(), s.prior().prior());
        }
        shared.putIfAbsent(s.participant(), s);
    }

    @Override
    public synchronized Lease lease(String participant) {
        if (excluded.containsKey(participant)) {
            throw new IllegalStateException(participant + " is excluded from this round");
        }
        for (int k = 0; k < holders.length; k++) {
            if (participant.equals(holders[k]) && accepted[k] == null) {
                return granted(k);
            }
        }
        Integer first = preferred.get(participant);
        if (first != null && first >= 0 && first < holders.length && holders[first] == null) {
            return take(first, participant);
        }
        for (int k = 0; k < holders.length; k++) {
            if (holders[k] == null) {
                return take(k, participant);
            }
        }
        return Arrays.stream(accepted).allMatch(a -> a != null) ? new Lease.Done() : new Lease.Wait(100);
    }

    private Lease.Granted take(int k, String participant) {
        holders[k] = participant;
        tokens.put(k, UUID.randomUUID().toString());
        return granted(k);
    }

    private Lease.Granted granted(int k) {
        return new Lease.Granted(k, data.sourceIds(plan.shard(k)), tokens.get(k), Long.MAX_VALUE);
    }

    @Override
    public synchronized Lease.Granted renew(String participant, Lease.Granted lease) {
        check(participant, lease);
        return lease;
    }

    @Override
    public ImageSet shard(Lease.Granted lease) {
        return data.subset(plan.shard(lease.shard()));
    }

    @Override
    public synchronized void upload(Lease.Granted lease, ShardOutputs c) {
        check(c.participant(), lease);
        SharedOutputs s = shared.get(c.participant());
        if (s == null) {
            throw new IllegalStateException(c.participant() + " uploaded a shard before its outputs on the shared subset");
        }
        int rows = plan.shard(lease.shard()).length;
        if (c.shard() != lease.shard() || !Arrays.equals(c.ids(), lease.ids()) || c.rows().count() != rows
                || c.rows().dim() != s.dim()) {
            throw new IllegalArgumentException(c.participant() + " uploaded outputs of the wrong shape for shard "
                    + lease.shard());
        }
        c.rows().forEachBlock(Rows.blockRows(s.dim()), (first, n, values) -> {
            if (!allFinite(values, n * s.dim())) {
                throw nonFinite(c.participant(), s.prior().prior());
            }
        });
        if (accepted[lease.shard()] == null) {
            accepted[lease.shard()] = c;
        }
    }

    /** In process every participant is the platform's own code: nothing to audit (its shards are still screened). */
    @Override
    public List<Audit> audits(String participant) {
        return List.of();
    }

    @Override
    public ImageSet auditImages(String participant, Audit audit) {
        throw new IllegalStateException("the in-process platform audits nobody");
    }

    @Override
    public void answerAudit(String participant, Audit audit, float[] outputs, int dim) {
        throw new IllegalStateException("the in-process platform audits nobody");
    }

    private void check(String participant, Lease.Granted lease) {
        if (!participant.equals(holders[lease.shard()]) || !lease.token().equals(tokens.get(lease.shard()))) {
            throw new IllegalStateException(participant + " does not hold shard " + lease.shard());
        }
    }

    private static boolean allFinite(float[] values, int n) {
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(values[i])) {
                return false;
            }
        }
        return true;
    }

    private static UserException nonFinite(String participant, String prior) {
        return new UserException(participant + " (" + prior + ") uploaded a non-finite output; its prior is unusable on this data");
    }

    @Override
    public synchronized List<SharedOutputs> sharedOutputs() {
        // participants with a preferred shard first, in that order, then by arrival
        List<SharedOutputs> out = new ArrayList<>();
        preferred.entrySet().stream().sorted(Map.Entry.comparingByValue())
                .map(e -> shared.get(e.getKey())).filter(o -> o != null).forEach(out::add);
        shared.values().stream().filter(o -> !preferred.containsKey(o.participant())).forEach(out::add);
        return out;
    }

    /** The accepted shards, in shard order. */
    @Override
    public synchronized List<ShardOutputs> shardOutputs() {
        return Arrays.stream(accepted).filter(a -> a != null).toList();
    }

    @Override
    public synchronized Map<String, String> excluded() {
        return new LinkedHashMap<>(excluded);
    }

    @Override
    public synchronized List<Integer> exclude(String participant, String reason) {
        List<Integer> reopened = new ArrayList<>();
        if (excluded.putIfAbsent(participant, reason) != null) {
            return reopened;
        }
        for (int k = 0; k < holders.length; k++) {
            if (participant.equals(holders[k])) {
                accepted[k] = null;
                holders[k] = null;
                tokens.remove(k);
                reopened.add(k);
            }
        }
        return reopened;
    }

    /** Leases the open shard to this participant (its next lease returns it). */
    @Override
    public synchronized void offer(int shard, String participant) {
        if (holders[shard] != null || excluded.containsKey(participant)) {
            throw new IllegalStateException("shard " + shard + " is not open, or " + participant + " is excluded");
        }
        take(shard, participant);
    }

    /** Nobody is audited here and fusion follows in the same process: only the shards count. */
    @Override
    public synchronized Progress progress() {
        return new Progress(holders.length, (int) Arrays.stream(accepted).filter(a -> a != null).count(), 0, true);
    }
}
