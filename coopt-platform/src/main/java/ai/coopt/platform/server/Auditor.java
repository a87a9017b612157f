package ai.coopt.platform.server;

import ai.coopt.collab.Screening;
import ai.coopt.collab.SharedOutputs;
import ai.coopt.data.ImageSet;
import ai.coopt.data.Randomness;
import ai.coopt.platform.PrivateFiles;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.api.AuditOutcome;
import ai.coopt.platform.api.AuditView;
import ai.coopt.platform.db.AuditRecord;
import ai.coopt.platform.db.AuditState;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.SharedOutput;
import ai.coopt.platform.db.Upload;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Checksums;
import ai.coopt.store.PackedImages;
import ai.coopt.store.Rows;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * Where accepted shard uploads are audited: each is asked again, within a deadline, for a sample of its rows (and of
 * S's) shown as images without their ids; the answer must match what was uploaded, and the shard must agree with
 * the participant's own outputs on S. A failed or unanswered audit quarantines the participant (the referee acts on
 * it).
 */
final class Auditor {
    /** Relative tolerance of an audit row: priors are deterministic in eval mode, to about 1e-5 across batchings. */
    static final double AUDIT_TOLERANCE = 1e-3;

    private final RoundFiles files;
    private final PlatformStore store;
    private final Receiver receiver;
    private final RateLimiter rateLimits;
    private final LongSupplier clock;
    /** Asks the referee to look again: an answer may pass the last audit or quarantine a participant. */
    private final Runnable settle;

    Auditor(RoundFiles files, PlatformStore store, Receiver receiver, RateLimiter rateLimits, LongSupplier clock,
            Runnable settle) {
        this.files = files;
        this.store = store;
        this.receiver = receiver;
        this.rateLimits = rateLimits;
        this.clock = clock;
        this.settle = settle;
    }

    /**
     * An audit's sample: {@code audits.rows()} of the shard's rows and {@code audits.sharedRows()} of S's (all of them
     * when there are fewer), each uniform without replacement, shuffled together. With a {@link SecureRandom} nobody
     * can foresee it; a shard with a fraction f of poisoned rows escapes with probability about (1 − f)^rows.
     */
    static long[] sample(long[] shardRows, long[] sharedIds, PlatformConfig.Audits audits, RandomGenerator random) {
        int fromShard = Math.min(shardRows.length, audits.rows());
        int fromShared = Math.min(sharedIds.length, audits.sharedRows());
        long[] sample = new long[fromShard + fromShared];
        int[] a = Randomness.permutationPrefix(shardRows.length, fromShard, random);
        for (int i = 0; i < fromShard; i++) {
            sample[i] = shardRows[a[i]];
        }
        int[] b = Randomness.permutationPrefix(sharedIds.length, fromShared, random);
        for (int i = 0; i < fromShared; i++) {
            sample[fromShard + i] = sharedIds[b[i]];
        }
        for (int i = sample.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = sample[i];
            sample[i] = sample[j];
            sample[j] = t;
        }
        return sample;
    }

    List<AuditView> audits(String participant) throws Refusal {
        rateLimits.take(participant, RateLimiter.Kind.AUDIT);
        List<AuditView> out = new ArrayList<>();
        for (AuditRecord a : store.audits().pending(participant)) {
            out.add(new AuditView(a.id(), a.sample().length, a.deadline(), Checksums.sha256(auditImages(participant, a.id()))));
        }
        return out;
    }

    /** This participant's pending audit, or a refusal. */
    private AuditRecord pendingAudit(String participant, long id) throws Refusal {
        Optional<AuditRecord> a = store.audits().get(id);
        if (a.isEmpty() || !a.get().participantId().equals(participant)) {
            throw new Refusal(Refusal.Kind.NOT_FOUND, "no audit " + id + " of yours");
        }
        if (a.get().state() != AuditState.PENDING) {
            throw new Refusal(Refusal.Kind.CONFLICT, "audit " + id + " is " + a.get().state().name().toLowerCase(Locale.ROOT)
                    + (a.get().reason() == null ? "" : ": " + a.get().reason()));
        }
        return a.get();
    }

    private Path imagesFile(long id) {
        return files.dir().resolve("audits").resolve("audit-" + id + ".safetensors");
    }

    /**
     * The images of a pending audit as a packed-images file whose ids are the positions 0..n-1 (the samples' own ids
     * are not told), written once into {@code audits/}.
     */
    Path auditImages(String participant, long id) throws Refusal {
        AuditRecord a = pendingAudit(participant, id);
        Path file = imagesFile(a.id());
        if (Files.isRegularFile(file)) {
            return file;
        }
        long[] shardRows = files.shardIds(a.shard());
        long[] sharedIds = files.sharedIds();
        ImageSet shard = PackedImages.openFile(files.shardImages(a.shard()), Leases.shardRow(store, a.shard()).sha256(),
                shardRows, "shard " + a.shard());
        ImageSet shared = PackedImages.openFile(files.sharedImages(), files.sharedSha256(), sharedIds, "the shared subset");
        int size = shard.imageSize();
        byte[] pixels = new byte[Math.multiplyExact(a.sample().length, size)];
        for (int i = 0; i < a.sample().length; i++) {
            long sample = a.sample()[i];
            int at = Arrays.binarySearch(shardRows, sample);
            if (at >= 0) {
                shard.readImage(at, pixels, i * size);
            } else {
                shared.readImage(Arrays.binarySearch(sharedIds, sample), pixels, i * size);
            }
        }
        long[] positions = new long[a.sample().length];
        Arrays.setAll(positions, i -> i);
        PackedImages.writeFile(file, new ImageSet("audit " + a.id(), pixels, positions.length, shard.channels(),
                shard.height(), shard.width(), null), positions);
        PrivateFiles.restrict(file.getParent());
        PrivateFiles.restrict(file);
        return file;
    }

    /**
     * Checks an audit's answer: every row must equal, to {@value #AUDIT_TOLERANCE} relative, the row the platform
     * holds for that sample (from the shard upload, and from the outputs on S where the sample is in S), and the
     * shard must agree with the participant's own outputs on S ({@link Screening#shardDisagreement}). A failure
     * quarantines the participant.
     */
    AuditOutcome answerAudit(String participant, long id, InputStream body, long length, String declaredSha)
            throws Refusal, IOException {
        rateLimits.take(participant, RateLimiter.Kind.AUDIT);
        rateLimits.require(participant, RateLimiter.Kind.REFUSED_UPLOAD);
        AuditRecord a = pendingAudit(participant, id);
        long[] positions = new long[a.sample().length];
        Arrays.setAll(positions, i -> i);
        UploadCheck.Checked c = receiver.stage(participant, a.shard(), body, length, positions, declaredSha);
        String reason;
        try (Uploads.Opened answer = Uploads.open(c.file())) {
            reason = failure(a, answer.rows());
        } finally {
            Files.deleteIfExists(c.file());
        }
        store.audits().finish(a.id(), reason == null, reason, clock.getAsLong());
        AtomicFiles.deleteQuietly(imagesFile(a.id()));
        settle.run();
        if (reason != null) {
            throw new Refusal(Refusal.Kind.UNACCEPTABLE, "audit failed, you are quarantined: " + reason);
        }
        return new AuditOutcome(a.id(), "passed", null);
    }

    /** Why an audit's answer fails, or null when it passes. */
    private String failure(AuditRecord a, Rows answer) {
        Upload upload = store.uploads().get(a.uploadId()).orElseThrow();
        SharedOutput sharedRow = store.uploads().sharedOutput(a.participantId()).orElseThrow();
        SharedOutputs onShared = files.readShared(sharedRow.file());
        int d = onShared.dim();
        if (answer.dim() != d) {
            return "the answer is " + answer.dim() + " wide; your outputs are " + d;
        }
        long[] shardRows = files.shardIds(a.shard());
        long[] sharedIds = files.sharedIds();
        float[] got = new float[Math.multiplyExact(answer.count(), d)];
        answer.read(0, answer.count(), got, 0);
        try (Uploads.Opened uploaded = Uploads.open(files.upload(upload.file()))) {
            int differ = 0;
            double worst = 0;
            float[] held = new float[d];
            for (int i = 0; i < a.sample().length; i++) {
                long sample = a.sample()[i];
                int inShard = Arrays.binarySearch(shardRows, sample);
                int inShared = Arrays.binarySearch(sharedIds, sample);
                double relative = 0;
                if (inShard >= 0) {
                    uploaded.rows().read(inShard, 1, held, 0);
                    relative = Math.max(relative, relativeDifference(got, i * d, held, 0, d));
                }
                if (inShared >= 0) {
                    relative = Math.max(relative, relativeDifference(got, i * d, onShared.values(), inShared * d, d));
                }
                worst = Math.max(worst, relative);
                differ += relative > AUDIT_TOLERANCE ? 1 : 0;
            }
            if (differ > 0) {
                return String.format(Locale.ROOT, "%d of the %d audited rows differ from the rows you uploaded (largest "
                        + "relative difference %.3g, tolerance %.0e)", differ, a.sample().length, worst, AUDIT_TOLERANCE);
            }
            return Screening.shardDisagreement(onShared, uploaded.rows()).map(r -> "shard " + a.shard() + ": " + r)
                    .orElse(null);
        }
    }

    /** ||a − b|| / ||b|| over d values (∞ for a non-finite answer; a tiny floor keeps zero rows comparable). */
    private static double relativeDifference(float[] a, int ao, float[] b, int bo, int d) {
        double diff = 0;
        double norm = 0;
        for (int j = 0; j < d; j++) {
            double x = a[ao + j];
            double y = b[bo + j];
            if (!Double.isFinite(x)) {
                return Double.POSITIVE_INFINITY;
            }
            diff += (x - y) * (x - y);
            norm += y * y;
        }
        return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-6 * Math.sqrt(d));
    }
}
