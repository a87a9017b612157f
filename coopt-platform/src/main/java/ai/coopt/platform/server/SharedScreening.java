package ai.coopt.platform.server;

import ai.coopt.collab.Screening;
import ai.coopt.collab.SharedOutputs;
import ai.coopt.platform.db.Participant;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.SharedOutput;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The platform's own judgement of the accepted outputs on S as they stand now ({@link Screening}): who is trusted,
 * who is excluded and why, and the reference. The referee acts on it, fusion fuses by it, the status shows it.
 */
final class SharedScreening {
    /** The judgement, and what it was judged on. */
    private record Judged(List<String> key, Screening.Result result) {}

    private final RoundFiles files;
    private final PlatformStore store;
    private volatile Judged judged;

    SharedScreening(RoundFiles files, PlatformStore store) {
        this.files = files;
        this.store = store;
    }

    /**
     * Every accepted output on S, oldest first, with the quarantined participants' reasons given to the screening (they
     * take no part in it). Read from disk only when the set changed since the last call.
     */
    Screening.Result now() {
        List<SharedOutput> rows = new ArrayList<>(store.uploads().sharedOutputs());
        rows.sort((x, y) -> x.acceptedAt() != y.acceptedAt() ? Long.compare(x.acceptedAt(), y.acceptedAt())
                : x.participantId().compareTo(y.participantId()));
        Map<String, String> quarantined = new LinkedHashMap<>();
        store.participants().all().stream().filter(Participant::quarantined)
                .forEach(p -> quarantined.put(p.id(), "quarantined: " + p.quarantineReason()));
        List<String> key = new ArrayList<>();
        rows.forEach(r -> key.add(r.participantId() + ":" + r.sha256() + ":" + quarantined.containsKey(r.participantId())));
        Judged last = judged;
        if (last != null && last.key().equals(key)) {
            return last.result();
        }
        List<SharedOutputs> outputs = new ArrayList<>();
        for (SharedOutput r : rows) {
            SharedOutputs o = files.readShared(r.file());
            outputs.add(new SharedOutputs(r.participantId(), o.prior(), o.values(), 0, 0));
        }
        Screening.Result result = Screening.screen(outputs, quarantined);
        judged = new Judged(key, result);
        return result;
    }
}
