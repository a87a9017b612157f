package ai.coopt.platform.server;

import ai.coopt.collab.PriorReport;
import ai.coopt.optimize.Uniformity;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.api.Accepted;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Shard;
import ai.coopt.platform.db.SharedOutput;
import ai.coopt.platform.db.SharedResult;
import ai.coopt.platform.db.Upload;
import ai.coopt.platform.db.UploadResult;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Where an upload is judged: a participant's outputs on S, and its outputs on a shard it leased. Each is staged and
 * checked ({@link Receiver}), renamed into {@code uploads/}, and only then committed to the database in one
 * transaction; a crash before the commit leaves a file no row names, removed at a later start. So whatever the
 * database says is accepted is on disk, and nothing half-written is ever counted. An accepted shard upload is
 * audited later on a sample drawn now ({@link Auditor#sample}).
 */
final class UploadIntake {
    private final RoundFiles files;
    private final PlatformStore store;
    private final Receiver receiver;
    private final RateLimiter rateLimits;
    private final LongSupplier clock;
    /** Asks the referee to look again: an accepted upload may complete the round or change the screening. */
    private final Runnable settle;
    private final SecureRandom random = new SecureRandom();

    UploadIntake(RoundFiles files, PlatformStore store, Receiver receiver, RateLimiter rateLimits, LongSupplier clock,
                 Runnable settle) {
        this.files = files;
        this.store = store;
        this.receiver = receiver;
        this.rateLimits = rateLimits;
        this.clock = clock;
        this.settle = settle;
    }

    /** A participant's outputs on the shared subset (with its prior's report in the metadata). */
    Accepted uploadShared(String participant, InputStream body, long length, String declaredSha)
            throws Refusal, IOException {
        Access.refuseQuarantined(store, participant); // before reading a byte of the body
        rateLimits.require(participant, RateLimiter.Kind.REFUSED_UPLOAD);
        long[] sharedIds = files.sharedIds();
        UploadCheck.Checked c = receiver.stage(participant, null, body, length, sharedIds, declaredSha);
        PriorReport prior = Uploads.prior(c.metadata());
        if (prior == null || prior.outputDim() != c.dim() || prior.uniformitySubset() != sharedIds.length) {
            Files.deleteIfExists(c.file());
            return receiver.refuse(participant, null, length, Refusal.Kind.UNACCEPTABLE, "the metadata's 'prior' must be"
                    + " the prior's report (JSON) with output_dim " + c.dim() + " and uniformity_subset " + sharedIds.length);
        }
        String name = "shared-" + participant + "-" + c.sha256().substring(0, 16) + ".safetensors";
        Path file = files.commitUpload(c.file(), name);
        // the uniformity is the platform's own, computed from the outputs; the one the participant reported is not used
        double uniformity = Uniformity.ofOutputs(files.readShared(name).values(), sharedIds.length, c.dim());
        // recorded (database, status, manifest) without the participant's local paths, whatever its client sent
        SharedResult o = store.uploads().acceptShared(participant, name, c.sha256(), c.dim(), Uploads.priorMetadata(
                prior.withoutPaths()).get(Uploads.PRIOR), uniformity, clock.getAsLong());
        if (o == SharedResult.CONFLICT) {
            deleteUnlessInUse(file);
            return receiver.refuse(participant, null, length, Refusal.Kind.CONFLICT,
                    "different outputs on the shared subset were already accepted from you");
        }
        if (o == SharedResult.ACCEPTED) {
            settle.run();
        }
        return new Accepted(o == SharedResult.ACCEPTED, 0, c.sha256());
    }

    /** A participant's outputs on a shard it leased. */
    Accepted uploadShard(String participant, int shard, String token, InputStream body, long length, String declaredSha)
            throws Refusal, IOException {
        rateLimits.require(participant, RateLimiter.Kind.REFUSED_UPLOAD);
        files.requireShard(shard);
        Shard row = Leases.shardRow(store, shard);
        if (!participant.equals(row.leaseHolder()) && !participant.equals(acceptedFrom(row))) {
            return receiver.refuse(participant, shard, length, Refusal.Kind.FORBIDDEN,
                    "shard " + shard + " is leased to another participant");
        }
        Optional<SharedOutput> shared = store.uploads().sharedOutput(participant);
        if (shared.isEmpty()) {
            return receiver.refuse(participant, shard, length, Refusal.Kind.CONFLICT,
                    "send your outputs on the shared subset first");
        }
        long[] ids = files.shardIds(shard);
        UploadCheck.Checked c = receiver.stage(participant, shard, body, length, ids, declaredSha);
        if (c.dim() != shared.get().dim()) {
            Files.deleteIfExists(c.file());
            return receiver.refuse(participant, shard, length, Refusal.Kind.UNACCEPTABLE, "outputs are " + c.dim()
                    + " wide; your prior's outputs on the shared subset are " + shared.get().dim());
        }
        String name = RoundFiles.shardFile(shard).replace(".safetensors", "") + "-" + participant + "-"
                + c.sha256().substring(0, 16) + ".safetensors";
        Path file = files.commitUpload(c.file(), name);
        long now = clock.getAsLong();
        PlatformConfig.Audits audits = files.config().audits();
        UploadResult o = store.uploads().acceptShard(participant, shard, token, name, c.sha256(), length, c.rows(),
                c.dim(), now, Auditor.sample(ids, files.sharedIds(), audits, random), now + audits.seconds() * 1000L);
        if (o instanceof UploadResult.Refused refused) {
            rateLimits.spend(participant, RateLimiter.Kind.REFUSED_UPLOAD);
            deleteUnlessInUse(file);
            // the store put this refusal on the audit trail in the same transaction
            throw new Refusal(Refusal.Kind.CONFLICT, refused.reason());
        }
        boolean created = o instanceof UploadResult.Accepted;
        long id = o instanceof UploadResult.Accepted a ? a.uploadId() : ((UploadResult.Already) o).uploadId();
        if (created) {
            settle.run();
        }
        return new Accepted(created, id, c.sha256());
    }

    /**
     * Removes a file of {@code uploads/} that a refused upload committed, unless a row of any round names it: names
     * carry the content's checksum, so an identical upload accepted before (this round or an earlier one) is that file.
     */
    private void deleteUnlessInUse(Path file) throws IOException {
        if (!store.uploads().filesInUse().contains(file.getFileName().toString())) {
            Files.deleteIfExists(file);
        }
    }

    /** The participant whose upload of this shard was accepted, or null. */
    private String acceptedFrom(Shard row) {
        if (row.acceptedUpload() == null) {
            return null;
        }
        return store.uploads().get(row.acceptedUpload()).map(Upload::participantId).orElse(null);
    }
}
