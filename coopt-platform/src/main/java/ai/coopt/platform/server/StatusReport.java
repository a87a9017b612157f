package ai.coopt.platform.server;

import ai.coopt.collab.RoundEngine;
import ai.coopt.collab.RoundLedger;
import ai.coopt.collab.PriorReport;
import ai.coopt.collab.Screening;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.api.Status;
import ai.coopt.platform.db.Event;
import ai.coopt.platform.db.EventKind;
import ai.coopt.platform.db.Fusion;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Round;
import ai.coopt.platform.db.Shard;
import ai.coopt.platform.db.ShardState;
import ai.coopt.platform.db.SharedOutput;
import ai.coopt.platform.db.Upload;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/** Everything the dashboard and {@code GET /v1/status} show, gathered from the database; no secret is in it. */
final class StatusReport {
    /** How many of the newest uploads and events the status shows (with the upload totals). */
    static final int STATUS_UPLOADS = 200;
    static final int STATUS_EVENTS = 300;

    private final RoundFiles files;
    private final PlatformStore store;
    private final RoundEngine engine;
    private final RoundLedger ledger;
    private final LongSupplier clock;

    StatusReport(RoundFiles files, PlatformStore store, RoundEngine engine, RoundLedger ledger, LongSupplier clock) {
        this.files = files;
        this.store = store;
        this.engine = engine;
        this.ledger = ledger;
        this.clock = clock;
    }

    Status status(String version) {
        long now = clock.getAsLong();
        PlatformConfig config = files.config();
        List<SharedOutput> shared = store.uploads().sharedOutputs();
        Map<String, String> priors = new LinkedHashMap<>();
        for (SharedOutput s : shared) {
            PriorReport p = Uploads.prior(Map.of(Uploads.PRIOR, s.priorJson()));
            priors.put(s.participantId(), p == null ? "?" : p.prior());
        }
        // bounded whatever the tables hold: accepted uploads (at most one per shard and participant on S, plus
        // withdrawn ones), the newest STATUS_UPLOADS uploads and STATUS_EVENTS events
        Map<Long, String> uploader = new LinkedHashMap<>();
        Map<String, Integer> shardsOf = new LinkedHashMap<>();
        for (Upload u : store.uploads().accepted()) {
            uploader.put(u.id(), u.participantId());
            if (u.accepted() && u.shard() != null) {
                shardsOf.merge(u.participantId(), 1, Integer::sum);
            }
        }
        List<Status.ParticipantView> participants = store.participants().all().stream().map(p -> new Status.ParticipantView(
                p.id(), p.name(), p.enrolledAt(), priors.get(p.id()), shardsOf.getOrDefault(p.id(), 0),
                p.quarantineReason(), p.quarantinedAt())).toList();
        List<Status.AuditView> audits = store.audits().all().stream().map(a -> new Status.AuditView(a.id(), a.participantId(),
                a.shard(), a.uploadId(), a.sample().length, a.state().name().toLowerCase(Locale.ROOT), a.reason(),
                a.createdAt(), a.deadline(), a.answeredAt())).toList();
        Map<String, Integer> byState = new LinkedHashMap<>();
        byState.put("open", 0);
        byState.put("leased", 0);
        byState.put("accepted", 0);
        List<Status.ShardView> shards = new ArrayList<>();
        for (Shard r : store.rounds().shards()) {
            String state = r.state().name().toLowerCase(Locale.ROOT);
            byState.merge(state, 1, Integer::sum);
            boolean leased = r.state() == ShardState.LEASED;
            shards.add(new Status.ShardView(r.shard(), r.images(), r.sha256(), state, leased ? r.leaseHolder() : null,
                    leased ? r.leaseExpires() : null, r.acceptedUpload() == null ? null : uploader.get(r.acceptedUpload())));
        }
        List<Status.UploadView> uploadViews = store.uploads().recent(STATUS_UPLOADS).stream().map(u -> new Status.UploadView(u.id(), u.participantId(),
                u.shard(), u.accepted() ? "accepted" : "refused", u.reason(), u.bytes(), u.rows(), u.dim(), u.sha256(),
                u.receivedAt())).toList();
        Screening.Result judgedNow = shared.isEmpty() ? null : engine.judge(ledger);
        String reference = judgedNow == null || judgedNow.reference() < 0 ? null
                : judgedNow.verdicts().get(judgedNow.reference()).participant();
        List<SharedOutput> ranked = new ArrayList<>(shared);
        ranked.sort((a, b) -> Double.compare(a.uniformity(), b.uniformity()));
        List<Status.Rank> ranking = new ArrayList<>();
        for (int i = 0; i < ranked.size(); i++) {
            SharedOutput r = ranked.get(i);
            boolean isReference = r.participantId().equals(reference);
            ranking.add(new Status.Rank(i + 1, r.participantId(), priors.get(r.participantId()), r.uniformity(),
                    isReference, isReference && judgedNow.referenceVerified(), judgedNow.samePriorAs(r.participantId())));
        }
        Round current = store.rounds().current().orElseThrow(() -> new IllegalStateException("the platform has no round"));
        Fusion f = store.fusion().state();
        FusionRunner.Detail d = f.detailJson() == null ? null : FusionRunner.Detail.parse(f.detailJson());
        List<Event> recent = store.events().recent(STATUS_EVENTS);
        Long started = store.events().lastAt(EventKind.FUSION_STARTED, current.id()).orElse(null);
        boolean finished = f.state() == FusionState.DONE || f.state() == FusionState.FAILED;
        Status.Fusion fusionView = new Status.Fusion(f.state().name().toLowerCase(Locale.ROOT), f.forced(),
                f.state() == FusionState.WAITING ? null : started, finished ? f.updatedAt() : null,
                d == null ? null : d.count(), d == null ? null : d.dim(),
                d == null || d.residuals() == null ? Map.of() : d.residuals(),
                f.state() == FusionState.DONE ? "/v1/dataset" : null, d == null ? null : d.error());
        List<Status.Event> events = recent.stream().map(e -> new Status.Event(e.at(),
                e.kind().name().toLowerCase(Locale.ROOT), e.participantId(), e.shard(), e.detail())).toList();
        List<Status.RoundRow> rounds = store.rounds().all().stream().map(r -> new Status.RoundRow(r.id(), r.createdAt(),
                r.shards(), r.accepted(), r.fusion().name().toLowerCase(Locale.ROOT), r.fusionAt(),
                r.finished() ? "/v1/dataset?round=" + r.id() : null)).toList();
        return new Status(version, now, new Status.Round(current.id(), config.data(), config.split(), config.count(),
                config.fingerprint(), config.shards(), files.sharedIds().length, config.seed(), config.leaseSeconds(),
                config.align(), current.createdAt()), rounds, participants, byState, shards, uploadViews,
                store.uploads().counts(), audits,
                ranking, fusionView, events);
    }
}
