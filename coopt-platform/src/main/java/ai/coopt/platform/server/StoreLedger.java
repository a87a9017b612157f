package ai.coopt.platform.server;

import ai.coopt.collab.RoundLedger;
import ai.coopt.collab.ShardOutputs;
import ai.coopt.collab.SharedOutputs;
import ai.coopt.platform.db.AuditState;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.Participant;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Shard;
import ai.coopt.platform.db.ShardState;
import ai.coopt.platform.db.SharedOutput;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The networked platform's {@link RoundLedger}: the round as its database and round directory hold it. Outputs on S are
 * read from disk only when the set of accepted ones changed (the same objects are handed back otherwise, so that the
 * {@link ai.coopt.collab.RoundEngine} judges them once). Shards are not compared here: the {@link Auditor} checks them
 * by re-running the prior on samples.
 */
final class StoreLedger implements RoundLedger {
    private record Loaded(List<String> key, List<SharedOutputs> outputs) {}

    private final RoundFiles files;
    private final PlatformStore store;
    private final LongSupplier clock;
    private volatile Loaded loaded = new Loaded(List.of(), List.of());

    StoreLedger(RoundFiles files, PlatformStore store, LongSupplier clock) {
        this.files = files;
        this.store = store;
        this.clock = clock;
    }

    /** Every accepted output on S, oldest first (ties by participant id). */
    @Override
    public List<SharedOutputs> sharedOutputs() {
        List<SharedOutput> rows = new ArrayList<>(store.uploads().sharedOutputs());
        rows.sort((x, y) -> x.acceptedAt() != y.acceptedAt() ? Long.compare(x.acceptedAt(), y.acceptedAt())
                : x.participantId().compareTo(y.participantId()));
        List<String> key = rows.stream().map(r -> r.participantId() + ":" + r.sha256()).toList();
        Loaded last = loaded;
        if (last.key().equals(key)) {
            return last.outputs();
        }
        List<SharedOutputs> outputs = new ArrayList<>();
        for (SharedOutput r : rows) {
            SharedOutputs o = files.readShared(r.file());
            outputs.add(new SharedOutputs(r.participantId(), o.prior(), o.values(), 0, 0));
        }
        loaded = new Loaded(key, List.copyOf(outputs));
        return loaded.outputs();
    }

    @Override
    public List<ShardOutputs> shardOutputs() {
        return List.of();
    }

    /** The quarantined participants, each with "quarantined: " and its reason. */
    @Override
    public Map<String, String> excluded() {
        Map<String, String> quarantined = new LinkedHashMap<>();
        store.participants().all().stream().filter(Participant::quarantined)
                .forEach(p -> quarantined.put(p.id(), "quarantined: " + p.quarantineReason()));
        return quarantined;
    }

    /** Quarantines the participant (see {@link ai.coopt.platform.db.AuditRepository#quarantine}). */
    @Override
    public List<Integer> exclude(String participant, String reason) {
        return store.audits().quarantineOpening(participant, reason, clock.getAsLong()).orElse(List.of());
    }

    /** Nothing: the first participant in good standing that asks leases an open shard. */
    @Override
    public void offer(int shard, String participant) {}

    /**
     * The audits are counted only once every shard is accepted and fusion waits (before that no policy can start
     * fusion, and the referee asks every second): until then {@code unaudited} is 0.
     */
    @Override
    public Progress progress() {
        List<Shard> shards = store.rounds().shards();
        int accepted = (int) shards.stream().filter(s -> s.state() == ShardState.ACCEPTED).count();
        boolean waiting = store.fusion().state().state() == FusionState.WAITING;
        if (!waiting || accepted < shards.size()) {
            return new Progress(shards.size(), accepted, 0, waiting);
        }
        Map<Long, AuditState> audited = new LinkedHashMap<>();
        store.audits().all().forEach(a -> audited.put(a.uploadId(), a.state()));
        int unaudited = (int) store.uploads().all().stream().filter(u -> u.accepted() && u.shard() != null)
                .filter(u -> audited.get(u.id()) != AuditState.PASSED).count();
        return new Progress(shards.size(), accepted, unaudited, waiting);
    }
}
