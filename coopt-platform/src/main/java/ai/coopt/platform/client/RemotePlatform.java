package ai.coopt.platform.client;

import ai.coopt.UserException;
import ai.coopt.collab.Audit;
import ai.coopt.collab.Lease;
import ai.coopt.collab.Platform;
import ai.coopt.collab.RoundInfo;
import ai.coopt.collab.ShardOutputs;
import ai.coopt.collab.SharedOutputs;
import ai.coopt.data.ImageSet;
import ai.coopt.optimize.Matrix;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.api.AuditView;
import ai.coopt.platform.api.Audits;
import ai.coopt.platform.api.LeaseView;
import ai.coopt.platform.api.RoundView;
import ai.coopt.platform.api.Status;
import ai.coopt.platform.api.Wire;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Checksums;
import ai.coopt.store.PackedImages;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A networked platform seen from a participant: the {@link Platform} interface over {@link PlatformClient}. Images
 * come as packed-images files downloaded into the work directory (checked against the sha256 the platform
 * announces), or, with a local copy of the data, cut from it and checked byte for byte against the same checksum.
 * Uploads are files of the work directory too, so a participant killed at any point resumes where it was.
 */
public final class RemotePlatform implements Platform {
    private final PlatformClient client;
    private final String participant;
    private final Path work;
    private final ImageSet local;
    private final RoundInfo round;
    /** The platform's round this participant works on (1 from a platform before rounds). */
    private final int roundNumber;
    private final String sharedSha256;
    private final Map<Integer, String> shardSha = new HashMap<>();
    private final Map<Long, String> auditSha = new HashMap<>();

    /**
     * @param local the participant's own copy of the platform's data (same spec, split, limit, image size), or null
     *              to download the images
     */
    /**
     * This process's name for itself, random per process: several {@code participant run} processes with one key (an
     * organisation's machines) each hold a lease of their own.
     */
    private final String worker = HexFormat.of().formatHex(randomBytes());

    private static final SecureRandom SECURE = new SecureRandom();

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        SECURE.nextBytes(b);
        return b;
    }

    public RemotePlatform(PlatformClient client, String participant, Path work, ImageSet local) {
        this.client = client;
        this.participant = participant;
        this.work = work;
        this.local = local;
        RoundView r = currentRound();
        this.round = new RoundInfo(r.shards(), r.sharedIds() == null ? new long[0] : r.sharedIds(), r.seed(),
                r.fingerprint());
        this.sharedSha256 = r.sharedSha256();
        this.roundNumber = r.round() > 0 ? r.round() : 1;
        if (local != null && !local.fingerprint().equals(round.fingerprint())) {
            throw new UserException("--data is not the platform's data: its fingerprint is " + local.fingerprint()
                    + ", the platform's " + round.fingerprint() + " (same spec, --split, --limit and --image-size?)");
        }
    }

    @Override
    public RoundInfo round() {
        return round;
    }

    /** Where this participant's files for shard {@code k} live: its images and its outputs. */
    public Path imagesFile(int k) {
        return work.resolve(String.format(Locale.ROOT, "shard-%05d.images.safetensors", k + 1));
    }

    public Path outputsFile(int k) {
        return work.resolve(String.format(Locale.ROOT, "shard-%05d.outputs.safetensors", k + 1));
    }

    @Override
    public ImageSet shared() {
        return images(work.resolve("shared.images.safetensors"), "/v1/shared/images", sharedSha256, round.sharedIds(),
                "the platform's shared subset");
    }

    private ImageSet images(Path file, String path, String sha, long[] ids, String source) {
        if (local != null) {
            if (!(Files.isRegularFile(file) && Checksums.sha256(file).equals(sha))) {
                int[] rows;
                try {
                    rows = local.positionsOf(ids);
                } catch (IllegalArgumentException e) {
                    throw new UserException("--data differs from the platform's data: " + e.getMessage());
                }
                String made = PackedImages.writeFile(file, local.subset(rows), ids);
                if (!made.equals(sha)) {
                    AtomicFiles.deleteQuietly(file);
                    throw new UserException("--data differs from the platform's data: " + source + " packs to sha256 "
                            + made + ", the platform's is " + sha);
                }
            }
        } else {
            client.download(path, file, sha, true);
        }
        return PackedImages.openFile(file, sha, ids, source);
    }

    @Override
    public boolean hasShared(String participant) {
        Status status = Wire.read(client.get("/v1/status"), Status.class, "GET /v1/status");
        return status.participants() != null && status.participants().stream()
                .anyMatch(p -> participant.equals(p.id()) && p.prior() != null);
    }

    @Override
    public void submitShared(SharedOutputs s) {
        Path file = work.resolve("shared.outputs.safetensors");
        Uploads.write(file, round.sharedIds(), new Matrix(s.values(), s.count(), s.dim()), Uploads.priorMetadata(s.prior().withoutPaths()));
        try {
            client.upload("/v1/shared", file);
        } catch (PlatformClient.Refusal e) {
            throw new UserException("the platform refused the outputs on the shared subset: " + e.getMessage());
        }
        AtomicFiles.deleteQuietly(file);
    }

    /**
     * A lease of the current round. When the platform has moved on to a later round meanwhile (it refuses the lease:
     * this participant has sent no outputs on S in the new round), the round this participant joined is over: done.
     */
    @Override
    public Lease lease(String participant) {
        try {
            return lease(client.post("/v1/lease", Map.of("worker", worker)));
        } catch (PlatformClient.Refusal e) {
            if (e.status() == 409 && currentRound().round() > roundNumber) {
                return new Lease.Done();
            }
            throw e;
        }
    }

    private Lease lease(JsonNode answer) {
        LeaseView r = Wire.read(answer, LeaseView.class, "a lease");
        return switch (String.valueOf(r.state())) {
            case "granted" -> {
                if (r.shard() == null || r.ids() == null || r.token() == null || r.expiresAt() == null) {
                    throw new UserException("the platform granted a lease without its shard, ids, token or expiry");
                }
                shardSha.put(r.shard(), r.sha256());
                yield new Lease.Granted(r.shard(), r.ids(), r.token(), r.expiresAt());
            }
            case "wait" -> new Lease.Wait(r.waitMs() == null ? 1000 : r.waitMs());
            case "done" -> new Lease.Done();
            default -> throw new UserException("the platform answered a lease with state '" + r.state() + "'");
        };
    }

    /** {@code GET /v1/round}. */
    private RoundView currentRound() {
        return Wire.read(client.get("/v1/round"), RoundView.class, "GET /v1/round");
    }

    @Override
    public Lease.Granted renew(String participant, Lease.Granted held) {
        Lease l = lease(client.post("/v1/lease/renew", Map.of("shard", held.shard(), "token", held.token())));
        if (!(l instanceof Lease.Granted g)) {
            throw new UserException("the platform did not renew the lease on shard " + held.shard());
        }
        return g;
    }

    @Override
    public ImageSet shard(Lease.Granted lease) {
        String sha = shardSha.get(lease.shard());
        return images(imagesFile(lease.shard()), "/v1/shards/" + lease.shard() + "/images", sha, lease.ids(),
                "shard " + lease.shard() + " of the platform");
    }

    /** Uploads the shard's outputs file (written by {@link CachingParticipant}), then removes the shard's files. */
    @Override
    public void upload(Lease.Granted lease, ShardOutputs outputs) {
        Path file = outputsFile(lease.shard());
        if (!Files.isRegularFile(file)) {
            Uploads.write(file, outputs.ids(), outputs.rows(), Map.of());
        }
        try {
            client.upload("/v1/shards/" + lease.shard() + "/upload?token=" + lease.token(), file);
        } catch (PlatformClient.Refusal e) {
            if (e.status() == 409 || e.status() == 403) {
                // someone else's upload of this shard was accepted (our lease had expired): the work is done anyway
                System.err.println("coopt participant: shard " + lease.shard() + " not taken: " + e.getMessage());
            } else {
                throw new UserException("the platform refused shard " + lease.shard() + ": " + e.getMessage());
            }
        }
        AtomicFiles.deleteQuietly(file);
        AtomicFiles.deleteQuietly(imagesFile(lease.shard()));
    }

    @Override
    public List<Audit> audits(String participant) {
        List<Audit> out = new ArrayList<>();
        Audits pending = Wire.read(client.post("/v1/audits", Map.of()), Audits.class, "POST /v1/audits");
        for (AuditView a : pending.audits() == null ? List.<AuditView>of() : pending.audits()) {
            auditSha.put(a.id(), a.sha256());
            out.add(new Audit(a.id(), a.rows(), a.deadline()));
        }
        return out;
    }

    @Override
    public ImageSet auditImages(String participant, Audit audit) {
        Path file = work.resolve("audit-" + audit.id() + ".images.safetensors");
        String sha = auditSha.get(audit.id());
        if (sha == null) {
            throw new IllegalStateException("audit " + audit.id() + " was not listed by the platform");
        }
        client.download("/v1/audits/" + audit.id() + "/images", file, sha, true);
        return PackedImages.openFile(file, sha, positions(audit.rows()), "audit " + audit.id() + " of the platform");
    }

    /** Sends the audit's answer; the platform says at once whether it passed (a failure quarantines us: exit 2). */
    @Override
    public void answerAudit(String participant, Audit audit, float[] outputs, int dim) {
        Path file = work.resolve("audit-" + audit.id() + ".outputs.safetensors");
        Uploads.write(file, positions(audit.rows()), new Matrix(outputs, audit.rows(), dim), Map.of());
        try {
            client.upload("/v1/audits/" + audit.id(), file);
        } catch (PlatformClient.Refusal e) {
            if (e.status() != 409) { // 409: answered already (a retry after a lost reply)
                throw new UserException("the platform's audit of shard outputs failed: " + e.getMessage());
            }
        } finally {
            AtomicFiles.deleteQuietly(file);
            AtomicFiles.deleteQuietly(work.resolve("audit-" + audit.id() + ".images.safetensors"));
        }
    }

    private static long[] positions(int rows) {
        long[] p = new long[rows];
        for (int i = 0; i < rows; i++) {
            p[i] = i;
        }
        return p;
    }
}
