package ai.coopt.platform.server;

import ai.coopt.UserException;
import ai.coopt.collab.CollaborativeOptimization;
import ai.coopt.collab.PriorReport;
import ai.coopt.collab.Screening;
import ai.coopt.collab.ShardOutputs;
import ai.coopt.collab.SharedOutputs;
import ai.coopt.data.ImageSet;
import ai.coopt.data.Randomness;
import ai.coopt.data.ShardPlan;
import ai.coopt.data.Sharding;
import ai.coopt.optimize.Uniformity;
import ai.coopt.platform.PrivateFiles;
import ai.coopt.platform.Uploads;
import ai.coopt.platform.api.Accepted;
import ai.coopt.platform.api.AuditOutcome;
import ai.coopt.platform.api.AuditView;
import ai.coopt.platform.api.LeaseView;
import ai.coopt.platform.api.RoundView;
import ai.coopt.platform.db.AuditRecord;
import ai.coopt.platform.db.AuditState;
import ai.coopt.platform.db.Event;
import ai.coopt.platform.db.EventKind;
import ai.coopt.platform.db.Fusion;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.LeaseResult;
import ai.coopt.platform.db.NewShard;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Renewal;
import ai.coopt.platform.db.Round;
import ai.coopt.platform.db.RoundSummary;
import ai.coopt.platform.db.Shard;
import ai.coopt.platform.db.ShardState;
import ai.coopt.platform.db.SharedOutput;
import ai.coopt.platform.db.SharedResult;
import ai.coopt.platform.db.Upload;
import ai.coopt.platform.db.UploadResult;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Checksums;
import ai.coopt.store.DType;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.PackedImages;
import ai.coopt.store.Rows;
import ai.coopt.store.SafeTensors;
import ai.coopt.store.Scratch;
import ai.coopt.store.Tensor;
import ai.coopt.util.ProgressListener;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.random.RandomGenerator;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * The platform's state and rules, behind the HTTP routes: the round's plan and shard files in the platform
 * directory, the database (participants, leases, uploads, events), uploads checked and committed crash-safely, and
 * fusion over what was accepted.
 *
 * <p>Directory layout: {@code shards/} (one packed-images file per shard and {@code shared.safetensors}, written
 * once), {@code uploads/} (accepted uploads, named by shard, participant and checksum), {@code staging/ID/} (uploads
 * being received by the process with instance id ID, which holds a lock on {@code staging/ID/.lock} while it runs),
 * {@code fused/} (round 1's optimized dataset once fused), {@code rounds/N/fused/} (round N's, for N ≥ 2: see
 * {@link #fusedDir}).
 *
 * <p>Rounds: {@link #nextRound} opens round r+1 over the same data, shards and shared subset once round r is fused;
 * every request acts on the current (newest) round, read from the database each time, so a serving process picks a
 * new round up at once. Participants send their outputs on S again each round (they may bring another prior), and
 * every finished round's dataset stays downloadable.
 *
 * <p>An upload is staged, checked, flushed, renamed into {@code uploads/} and only then committed to the database in
 * one transaction; a crash before the commit leaves a file no row names, removed at a later start. So whatever the
 * database says is accepted is on disk, and nothing half-written is ever counted.
 *
 * <p>Several processes may serve one round from one directory and one (PostgreSQL) database: each stages in its own
 * directory, start-up cleaning leaves alone what a live process may still commit, and one process at a time fuses
 * (the fusion row names it and its heartbeat; see {@link #recover}).
 */
public final class PlatformService implements AutoCloseable {
    private final Path dir;
    private final PlatformStore store;
    private final PlatformConfig config;
    private final ShardPlan plan;
    private final long[] sharedIds;
    /**
     * Each image's id (its index in the split) by its position in the round, or null when they are equal: a round
     * drawn by {@code --limit}, or a folder with skipped files, has its own. The plan works on positions; leases,
     * uploads, shard files and the fused dataset carry ids.
     */
    private final long[] sourceIds;
    private final String sharedSha256;
    private final LongSupplier clock;
    /** This process's name in the fusion row and its staging directory: random for each start. */
    private final String instanceId = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    private final Path staging;
    private FileChannel stagingLock;
    private final ExecutorService fusion = Executors.newSingleThreadExecutor(r -> daemon(r, "coopt-fusion"));
    /** Fusion heartbeats and the watch for a fusion whose owner went silent. */
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "coopt-fusion-heartbeat"));

    /** How often the process that fuses says so in the database. */
    public static final long FUSION_HEARTBEAT_MILLIS = 5_000;
    /** A running fusion whose heartbeat is older than this is taken to be dead and may be taken over. */
    public static final long FUSION_TIMEOUT_MILLIS = 60_000;
    /**
     * An upload file no accepted row names is removed only when it is older than this: another live process may have
     * just renamed it into {@code uploads/} and be about to commit it (which takes milliseconds; the margin also
     * covers clocks of machines sharing the directory over NFS being minutes apart).
     */
    public static final long ORPHAN_UPLOAD_AGE_MILLIS = 10 * 60_000;
    /** Staging leftovers without a lock file (from a coopt before per-process staging) go when untouched this long. */
    public static final long STALE_STAGING_AGE_MILLIS = 60 * 60_000;
    static final String STAGING_LOCK = ".lock";
    private final ScheduledExecutorService referee = Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "coopt-referee"));
    private final AtomicBoolean refereeStarted = new AtomicBoolean();
    private final FusedChecksums checksums = new FusedChecksums();
    /** Per-participant limits on refused uploads, lease polls, renewals and audit calls. */
    private final RateLimiter rateLimits;
    private final SecureRandom random = new SecureRandom();

    private PlatformService(Path dir, PlatformStore store, PlatformConfig config, ShardPlan plan, String sharedSha256,
                            long[] sourceIds, LongSupplier clock) {
        this.dir = dir;
        this.store = store;
        this.config = config;
        this.plan = plan;
        this.sourceIds = sourceIds;
        this.sharedIds = ids(plan.shared());
        this.sharedSha256 = sharedSha256;
        this.clock = clock;
        this.rateLimits = new RateLimiter(clock);
        this.staging = dir.resolve("staging").resolve(instanceId);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** This process's instance id (random per start): its staging directory's name and its name as fusion owner. */
    public String instanceId() {
        return instanceId;
    }

    /**
     * Starts a new round in {@code dir} (plan, shard files, database rows) or resumes the one there.
     *
     * @param asked the round the options describe; on resume it must agree with the stored one
     * @param images the data (only read when the round is new: its shards are written once)
     */
    public static PlatformService open(Path dir, PlatformStore store, PlatformConfig asked, ImageSet images,
                                       LongSupplier clock, ProgressListener progress) {
        Optional<String> stored = store.round().map(Round::configJson);
        PlatformConfig config;
        String sharedSha;
        if (stored.isPresent()) {
            config = PlatformConfig.fromJson(stored.get());
            if (asked != null) {
                List<String> conflicts = config.conflicts(asked);
                if (!conflicts.isEmpty()) {
                    throw new UserException(dir + " holds a round started differently: " + String.join("; ", conflicts)
                            + " — drop the option or use a new --dir");
                }
            }
            sharedSha = Checksums.sha256(dir.resolve("shards").resolve(SHARED_FILE));
        } else {
            if (asked == null || images == null) {
                throw new UserException(dir + " holds no platform round (start one with coopt platform serve)");
            }
            // the draw is a fact of the images: the fused manifest records it, and bounds the ids by the whole split
            config = asked.withSubset(asked.limitSeed(), images.drawn());
            ShardPlan plan = plan(config);
            writeSourceIds(dir, images);
            sharedSha = writeShards(dir, images, plan, progress);
            List<NewShard> shards = new ArrayList<>();
            for (int k = 0; k < plan.participants(); k++) {
                Path file = dir.resolve("shards").resolve(shardFile(k));
                shards.add(new NewShard(k, plan.shard(k).length, Checksums.sha256(file)));
            }
            store.initRound(config.toJson(), shards, clock.getAsLong());
        }
        PlatformService service = new PlatformService(dir, store, config, plan(config), sharedSha,
                readSourceIds(dir, config.count()), clock);
        // before cleanUp takes this process's staging lock: the JDK changes a mode without following links by opening
        // the file and closing it again, and closing any descriptor of a file drops the process's POSIX lock on it, so
        // restricting the lock file after locking it let a second serve process remove a live one's staging directory
        PrivateFiles.restrictTree(dir);
        service.cleanUp();
        return service;
    }

    /**
     * Where round {@code round}'s fused dataset is written: {@code fused/} for round 1 (where it always was, so platforms
     * from before rounds read the same), {@code rounds/N/fused/} for round N ≥ 2.
     */
    public static Path fusedDir(Path dir, int round) {
        if (round < 1) {
            throw new IllegalArgumentException("rounds are numbered from 1, not " + round);
        }
        return round == 1 ? dir.resolve("fused") : dir.resolve("rounds").resolve(Integer.toString(round)).resolve("fused");
    }

    /**
     * Opens round r+1 over round r's data (see {@link PlatformStore#nextRound}) once round r is finished: its fusion is
     * DONE, which is recorded only after its dataset was written, and the dataset is in {@link #fusedDir}. Works beside
     * a serving process or without one: it touches only the database. A refusal is a {@link UserException}.
     */
    public static Round nextRound(Path dir, PlatformStore store, long now) {
        Round current = store.round().orElseThrow(() -> new UserException(dir
                + " holds no platform round (start one with coopt platform serve)"));
        Path fused = fusedDir(dir, current.id());
        if (store.fusionState().state() == FusionState.DONE && !OptimizedDataset.looksLikeOptimizedDataset(fused)) {
            throw new UserException("round " + current.id() + " is fused but its dataset is not in " + fused
                    + " (moved or removed?): restore it before opening the next round");
        }
        return store.nextRound(now);
    }

    /** Opens an existing platform directory for the administrative commands (invite, fuse). */
    public static PlatformService existing(Path dir, PlatformStore store, LongSupplier clock) {
        return open(dir, store, null, null, clock, ProgressListener.NONE);
    }

    static final String SHARED_FILE = "shared.safetensors";
    /** The ids of the round's images, by position, when they are not 0, 1, 2, … (see {@link #sourceIds}). */
    static final String IDS_FILE = "ids.safetensors";

    /** Writes {@value #IDS_FILE} into {@code dir/shards} when the images' ids are not their positions. */
    private static void writeSourceIds(Path dir, ImageSet images) {
        long[] ids = new long[images.count()];
        boolean identity = true;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = images.sourceId(i);
            identity &= ids[i] == i;
        }
        if (!identity) {
            LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
            t.put("ids", new Tensor.I64(new long[] {ids.length}, ids));
            SafeTensors.write(dir.resolve("shards").resolve(IDS_FILE), t, Map.of());
        }
    }

    /** The ids {@link #writeSourceIds} kept, checked against the round's size, or null when there are none. */
    private static long[] readSourceIds(Path dir, int count) {
        Path file = dir.resolve("shards").resolve(IDS_FILE);
        if (!Files.exists(file)) {
            return null;
        }
        SafeTensors.Layout layout = SafeTensors.layout(file);
        long[] ids = layout.longs(layout.entry("ids", DType.I64, 1, "[count]"));
        if (ids.length != count) {
            throw new UserException(file + ": " + ids.length + " ids for a round of " + count + " images");
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < (i == 0 ? 0 : ids[i - 1] + 1)) {
                throw new UserException(file + ": ids must be non-negative and increasing");
            }
        }
        return ids;
    }

    /** The ids of the images at {@code positions} of the round. */
    private long[] ids(int[] positions) {
        long[] out = new long[positions.length];
        for (int k = 0; k < positions.length; k++) {
            out[k] = sourceIds == null ? positions[k] : sourceIds[positions[k]];
        }
        return out;
    }

    static String shardFile(int k) {
        return String.format(Locale.ROOT, "shard-%05d.safetensors", k + 1);
    }

    private static ShardPlan plan(PlatformConfig c) {
        if (c.shards() < 1 || c.shards() > c.count()) {
            throw new UserException("--shards must be between 1 and the number of images (" + c.count() + "), not "
                    + c.shards());
        }
        ShardPlan plan = c.sharedCount() != null ? Sharding.plan(c.count(), c.shards(), c.sharedCount(), c.seed())
                : Sharding.plan(c.count(), c.shards(), c.sharedFraction(), c.seed());
        if (plan.shared().length < 3) {
            throw new UserException("the shared subset has " + plan.shared().length + " samples; alignment needs at least 3 "
                    + "(raise --shared-fraction or set --shared-count)");
        }
        return plan;
    }

    /** Writes every shard's images and S's into {@code dir/shards} (each file atomically); returns S's sha256. */
    private static String writeShards(Path dir, ImageSet images, ShardPlan plan, ProgressListener progress) {
        Path shards = dir.resolve("shards");
        progress.start("writing shards", images.count(), "img");
        long done = 0;
        for (int k = 0; k < plan.participants(); k++) {
            int[] ids = plan.shard(k);
            PackedImages.writeFile(shards.resolve(shardFile(k)), images.subset(ids), images.sourceIds(ids));
            done += ids.length;
            progress.advance(done);
        }
        progress.finish();
        return PackedImages.writeFile(shards.resolve(SHARED_FILE), images.subset(plan.shared()),
                images.sourceIds(plan.shared()));
    }

    /**
     * Makes this process's staging directory (locked while the process lives), removes the staging directories of
     * processes that are gone, and upload files no accepted row names (left by a crash before a commit) once they are
     * old enough that no live process can still be about to commit them ({@value #ORPHAN_UPLOAD_AGE_MILLIS} ms).
     * Another process's staging directory is gone when its lock is free: the operating system releases the lock of a
     * process that ends in any way, also {@code kill -9} (on NFS the shared directory must support locks: NFSv4 does,
     * a mount with {@code nolock} does not).
     */
    private void cleanUp() {
        try {
            Files.createDirectories(staging);
            PrivateFiles.restrict(staging.getParent());
            PrivateFiles.restrict(staging);
            Path lockFile = staging.resolve(STAGING_LOCK);
            Files.newOutputStream(lockFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND).close();
            PrivateFiles.restrict(lockFile); // before the lock is taken (see open)
            stagingLock = FileChannel.open(lockFile, StandardOpenOption.WRITE);
            stagingLock.lock();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the staging directory " + staging, e);
        }
        long now = clock.getAsLong();
        try (Stream<Path> entries = Files.list(dir.resolve("staging"))) {
            for (Path other : entries.toList()) {
                if (!other.equals(staging) && abandoned(other, now)) {
                    AtomicFiles.deleteQuietly(other);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Set<String> kept = store.filesInUse(); // every round's
        Path uploads = dir.resolve("uploads");
        if (Files.isDirectory(uploads)) {
            try (Stream<Path> files = Files.list(uploads)) {
                for (Path f : files.toList()) {
                    if (!kept.contains(f.getFileName().toString())
                            && now - Files.getLastModifiedTime(f).toMillis() >= ORPHAN_UPLOAD_AGE_MILLIS) {
                        Files.deleteIfExists(f);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Whether an entry of {@code staging/} that is not this process's belongs to no live process: a directory whose
     * lock file nobody holds, or (without a lock file) anything untouched for {@value #STALE_STAGING_AGE_MILLIS} ms.
     */
    private static boolean abandoned(Path other, long now) throws IOException {
        if (Files.isRegularFile(other.resolve(STAGING_LOCK), LinkOption.NOFOLLOW_LINKS)) {
            return !lockHeld(other);
        }
        return now - newestChange(other) >= STALE_STAGING_AGE_MILLIS;
    }

    /** Whether a live process holds the lock of the staging directory {@code staging}. */
    private static boolean lockHeld(Path staging) {
        Path lockFile = staging.resolve(STAGING_LOCK);
        if (!Files.isDirectory(staging, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // held by another platform in this JVM (tests run two)
        } catch (NoSuchFileException e) {
            return false; // another starting process is removing it
        } catch (IOException e) {
            return true; // cannot tell: take it to be alive
        }
    }

    /** The newest modification time of {@code path} and everything under it. */
    private static long newestChange(Path path) throws IOException {
        try (Stream<Path> all = Files.walk(path)) {
            return all.mapToLong(p -> {
                try {
                    return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis();
                } catch (IOException e) {
                    return Long.MAX_VALUE; // vanished or unreadable: do not call it stale
                }
            }).max().orElse(Long.MAX_VALUE);
        }
    }

    public PlatformConfig config() {
        return config;
    }

    public PlatformStore store() {
        return store;
    }

    /** The platform directory. */
    public Path dir() {
        return dir;
    }

    public RoundView round() {
        return new RoundView(currentRound(), config.data(), config.split(), config.limit(), config.limitSeed(),
                config.imageSize(),
                config.count(), plan.participants(), sharedIds, config.seed(), config.fingerprint(), sharedSha256,
                sharedIds.length);
    }

    /** The current round's number (read from the database: another process may have opened the next one). */
    private int currentRound() {
        return current().id();
    }

    /** The current round, read from the database. */
    private Round current() {
        return store.round().orElseThrow(() -> new IllegalStateException("the platform has no round"));
    }

    public Path sharedImages() {
        return dir.resolve("shards").resolve(SHARED_FILE);
    }

    /** The shared images, for a participant in good standing: a quarantined one gets nothing more from the platform. */
    public Path sharedImages(String participant) throws UploadCheck.Refused {
        refuseQuarantined(participant);
        return sharedImages();
    }

    /** The images of a shard, for its lease holder only. */
    public Path shardImages(String participant, int shard) throws UploadCheck.Refused {
        refuseQuarantined(participant);
        if (shard < 0 || shard >= plan.participants()) {
            throw new UploadCheck.Refused(404, "no shard " + shard);
        }
        Shard row = shardRow(shard);
        if (!participant.equals(row.leaseHolder())) {
            throw new UploadCheck.Refused(403, "shard " + shard + " is not leased to you");
        }
        return dir.resolve("shards").resolve(shardFile(shard));
    }

    /**
     * The longest a participant is told to wait before asking again: the shard it waits for may be accepted (or a
     * quarantine may open shards) long before the lease that blocks it would expire.
     */
    static final long MAX_WAIT_MILLIS = 2_000;

    /** How long a lease may be held without an upload unless {@link #capLeases(Duration)} says otherwise. */
    public static final Duration DEFAULT_MAX_LEASE = Duration.ofHours(24);

    private volatile long maxLeaseMillis = DEFAULT_MAX_LEASE.toMillis();

    /**
     * Bounds how long one lease may be held, renewals included, without an upload ({@code serve --max-lease-hours}):
     * then the shard is open again, so a participant that renews and never uploads cannot squat it.
     */
    public void capLeases(Duration max) {
        if (max.isNegative() || max.isZero()) {
            throw new IllegalArgumentException("the longest lease must be positive, not " + max);
        }
        maxLeaseMillis = max.toMillis();
    }

    /** How many leases one participant's workers may hold at once unless {@link #capLeasesPerParticipant(int)} says otherwise. */
    public static final int DEFAULT_MAX_LEASES_PER_PARTICIPANT = 4;

    private volatile int maxLeasesPerParticipant = DEFAULT_MAX_LEASES_PER_PARTICIPANT;

    /**
     * Bounds how many leases the processes (workers) of one participant hold at once ({@code serve
     * --max-leases-per-participant}): an organisation runs {@code participant run} with one key on several machines.
     */
    public void capLeasesPerParticipant(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("a participant must be allowed at least one lease, not " + max);
        }
        maxLeasesPerParticipant = max;
    }

    /** A lease for the participant's only process. */
    public LeaseView lease(String participant) throws UploadCheck.Refused {
        return lease(participant, null);
    }

    /**
     * A lease for one of the participant's workers ({@code worker}: the process's own name for itself, letters,
     * digits, '.', '_' or '-', at most 64; null for a participant that runs one process). The same worker asking
     * again gets its lease back; another worker gets another shard while the participant holds fewer than the bound.
     */
    public LeaseView lease(String participant, String worker) throws UploadCheck.Refused {
        String w = worker == null ? PlatformStore.SOLE_WORKER : worker;
        if (!PlatformStore.isWorkerName(w)) {
            throw new UploadCheck.Refused(400, "'worker' must be at most 64 letters, digits, '.', '_' or '-'");
        }
        rateLimits.take(participant, RateLimiter.Kind.LEASE);
        refuseQuarantined(participant);
        if (store.sharedOutput(participant).isEmpty()) {
            throw new UploadCheck.Refused(409, "send your outputs on the shared subset (POST /v1/shared) before leasing a shard");
        }
        return view(store.lease(participant, w, clock.getAsLong(), config.leaseSeconds() * 1000L, maxLeaseMillis,
                maxLeasesPerParticipant, null));
    }

    public LeaseView renew(String participant, int shard, String token) throws UploadCheck.Refused {
        rateLimits.take(participant, RateLimiter.Kind.RENEW);
        if (shard < 0 || shard >= plan.participants()) {
            throw new UploadCheck.Refused(404, "no shard " + shard);
        }
        Renewal r = store.renew(participant, shard, token, clock.getAsLong(), config.leaseSeconds() * 1000L, maxLeaseMillis);
        if (r instanceof Renewal.Refused refused) {
            throw new UploadCheck.Refused(403, refused.reason());
        }
        return view(new LeaseResult.Leased(shard, token, ((Renewal.Renewed) r).expires(), true));
    }

    private LeaseView view(LeaseResult r) {
        if (r instanceof LeaseResult.Leased l) {
            Shard row = shardRow(l.shard());
            return new LeaseView("granted", l.shard(), ids(plan.shard(l.shard())),
                    l.leaseId(), l.expires(), row.sha256(), row.images(), null);
        }
        if (r instanceof LeaseResult.Wait w) {
            return new LeaseView("wait", null, null, null, null, null, null,
                    Math.max(100, Math.min(MAX_WAIT_MILLIS, w.until() - clock.getAsLong())));
        }
        return new LeaseView("done", null, null, null, null, null, null, null);
    }

    private Shard shardRow(int shard) {
        return store.shard(shard).orElseThrow(() -> new IllegalArgumentException("no shard " + shard));
    }

    /** A participant's outputs on the shared subset (with its prior's report in the metadata). */
    public Accepted uploadShared(String participant, InputStream body, long length, String declaredSha)
            throws UploadCheck.Refused, IOException {
        refuseQuarantined(participant); // before reading a byte of the body
        rateLimits.require(participant, RateLimiter.Kind.REFUSED_UPLOAD);
        UploadCheck.Checked c = stage(participant, null, body, length, sharedIds, declaredSha);
        PriorReport prior = Uploads.prior(c.metadata());
        if (prior == null || prior.outputDim() != c.dim() || prior.uniformitySubset() != sharedIds.length) {
            Files.deleteIfExists(c.file());
            return refuse(participant, null, length, 422, "the metadata's 'prior' must be the prior's report (JSON) with"
                    + " output_dim " + c.dim() + " and uniformity_subset " + sharedIds.length);
        }
        String name = "shared-" + participant + "-" + c.sha256().substring(0, 16) + ".safetensors";
        Path file = commitFile(c.file(), name);
        // the uniformity is the platform's own, computed from the outputs; the one the participant reported is not used
        double uniformity = Uniformity.ofOutputs(readShared(file).values(), sharedIds.length, c.dim());
        // recorded (database, status, manifest) without the participant's local paths, whatever its client sent
        SharedResult o = store.acceptShared(participant, name, c.sha256(), c.dim(), Uploads.priorMetadata(
                prior.withoutPaths()).get(Uploads.PRIOR), uniformity, clock.getAsLong());
        if (o == SharedResult.CONFLICT) {
            deleteUnlessInUse(file);
            return refuse(participant, null, length, 409, "different outputs on the shared subset were already accepted from you");
        }
        if (o == SharedResult.ACCEPTED) {
            requestSettle();
        }
        return new Accepted(o == SharedResult.ACCEPTED, 0, c.sha256());
    }

    /** A participant's outputs on a shard it leased. */
    public Accepted uploadShard(String participant, int shard, String token, InputStream body, long length,
                                String declaredSha) throws UploadCheck.Refused, IOException {
        rateLimits.require(participant, RateLimiter.Kind.REFUSED_UPLOAD);
        if (shard < 0 || shard >= plan.participants()) {
            throw new UploadCheck.Refused(404, "no shard " + shard);
        }
        Shard row = shardRow(shard);
        if (!participant.equals(row.leaseHolder()) && !participant.equals(acceptedFrom(row))) {
            return refuse(participant, shard, length, 403, "shard " + shard + " is leased to another participant");
        }
        Optional<SharedOutput> shared = store.sharedOutput(participant);
        if (shared.isEmpty()) {
            return refuse(participant, shard, length, 409, "send your outputs on the shared subset first");
        }
        long[] ids = ids(plan.shard(shard));
        UploadCheck.Checked c = stage(participant, shard, body, length, ids, declaredSha);
        if (c.dim() != shared.get().dim()) {
            Files.deleteIfExists(c.file());
            return refuse(participant, shard, length, 422, "outputs are " + c.dim() + " wide; your prior's outputs on the"
                    + " shared subset are " + shared.get().dim());
        }
        String name = shardFile(shard).replace(".safetensors", "") + "-" + participant + "-" + c.sha256().substring(0, 16)
                + ".safetensors";
        Path file = commitFile(c.file(), name);
        long now = clock.getAsLong();
        UploadResult o = store.acceptShardUpload(participant, shard, token, name, c.sha256(), length, c.rows(),
                c.dim(), now, auditSample(shard), now + config.audits().seconds() * 1000L);
        if (o instanceof UploadResult.Refused refused) {
            rateLimits.spend(participant, RateLimiter.Kind.REFUSED_UPLOAD);
            deleteUnlessInUse(file);
            // the store put this refusal on the audit trail in the same transaction
            throw new UploadCheck.Refused(409, refused.reason());
        }
        boolean created = o instanceof UploadResult.Accepted;
        long id = o instanceof UploadResult.Accepted a ? a.uploadId() : ((UploadResult.Already) o).uploadId();
        if (created) {
            requestSettle();
        }
        return new Accepted(created, id, c.sha256());
    }

    private UploadCheck.Checked stage(String participant, Integer shard, InputStream body, long length, long[] ids,
                                      String declaredSha) throws UploadCheck.Refused, IOException {
        Files.createDirectories(staging);
        try {
            return UploadCheck.check(body, length, ids, declaredSha, staging.resolve("upload-" + UUID.randomUUID() + ".tmp"));
        } catch (UploadCheck.Refused e) {
            rateLimits.spend(participant, RateLimiter.Kind.REFUSED_UPLOAD);
            store.recordRefusedUpload(participant, shard, e.getMessage(), Math.max(0, length), clock.getAsLong());
            throw e;
        }
    }

    private Accepted refuse(String participant, Integer shard, long length, int status, String reason)
            throws UploadCheck.Refused {
        rateLimits.spend(participant, RateLimiter.Kind.REFUSED_UPLOAD);
        store.recordRefusedUpload(participant, shard, reason, Math.max(0, length), clock.getAsLong());
        throw new UploadCheck.Refused(status, reason);
    }

    /**
     * Removes a file of {@code uploads/} that a refused upload committed, unless a row of any round names it: names
     * carry the content's checksum, so an identical upload accepted before (this round or an earlier one) is that file.
     */
    private void deleteUnlessInUse(Path file) throws IOException {
        if (!store.filesInUse().contains(file.getFileName().toString())) {
            Files.deleteIfExists(file);
        }
    }

    /** Renames a checked staging file into {@code uploads/} and makes the rename durable. */
    private Path commitFile(Path staged, String name) throws IOException {
        Path uploads = dir.resolve("uploads");
        Files.createDirectories(uploads);
        Path target = uploads.resolve(name);
        try {
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING);
        }
        AtomicFiles.syncDirectory(uploads);
        PrivateFiles.restrict(uploads);
        PrivateFiles.restrict(target);
        return target;
    }

    /** The participant whose upload of this shard was accepted, or null. */
    private String acceptedFrom(Shard row) {
        if (row.acceptedUpload() == null) {
            return null;
        }
        return store.upload(row.acceptedUpload()).map(Upload::participantId).orElse(null);
    }

    /**
     * What a (re)starting server does before it serves: a fusion left running by a process that is gone (no heartbeat
     * for {@value #FUSION_TIMEOUT_MILLIS} ms: killed, or cut off from the database) is recorded as failed, and fusion
     * starts again when every shard is accepted but it is not done (the kill came between the last acceptance and
     * the end of fusion). A fusion another live process runs is left to it. {@code platform fuse} beside a serving
     * process does not call this.
     */
    public void recover() {
        takeOverStaleFusion();
        // while the platform was down nobody could answer an audit: every pending one gets its full time again
        store.extendPendingAudits(clock.getAsLong() + config.audits().seconds() * 1000L);
        settle();
    }

    // ---------------------------------------------------------------- audits, screening, quarantine


    /** A 403 for a quarantined participant, with the reason. */
    private void refuseQuarantined(String participant) throws UploadCheck.Refused {
        Optional<ai.coopt.platform.db.Participant> p = store.participant(participant);
        if (p.isPresent() && p.get().quarantined()) {
            throw new UploadCheck.Refused(403, "you are quarantined: " + p.get().quarantineReason());
        }
    }

    /** The ids an accepted upload of {@code shard} is audited on ({@link #auditSample(int[], long[], PlatformConfig.Audits, RandomGenerator)}). */
    private long[] auditSample(int shard) {
        return auditSample(ids(plan.shard(shard)), sharedIds, config.audits(), random);
    }

    /**
     * An audit's sample: {@code audits.rows()} of the shard's rows and {@code audits.sharedRows()} of S's (all of them
     * when there are fewer), each uniform without replacement, shuffled together. With a {@link SecureRandom} nobody
     * can foresee it; a shard with a fraction f of poisoned rows escapes with probability about (1 − f)^rows.
     */
    public static long[] auditSample(long[] shardRows, long[] sharedIds, PlatformConfig.Audits audits,
                                     RandomGenerator random) {
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

    public List<AuditView> audits(String participant) throws UploadCheck.Refused {
        rateLimits.take(participant, RateLimiter.Kind.AUDIT);
        List<AuditView> out = new ArrayList<>();
        for (AuditRecord a : store.pendingAudits(participant)) {
            out.add(new AuditView(a.id(), a.sample().length, a.deadline(), Checksums.sha256(auditImages(participant, a.id()))));
        }
        return out;
    }

    /** This participant's pending audit, or a refusal. */
    private AuditRecord pendingAudit(String participant, long id) throws UploadCheck.Refused {
        Optional<AuditRecord> a = store.audit(id);
        if (a.isEmpty() || !a.get().participantId().equals(participant)) {
            throw new UploadCheck.Refused(404, "no audit " + id + " of yours");
        }
        if (a.get().state() != AuditState.PENDING) {
            throw new UploadCheck.Refused(409, "audit " + id + " is " + a.get().state().name().toLowerCase(Locale.ROOT)
                    + (a.get().reason() == null ? "" : ": " + a.get().reason()));
        }
        return a.get();
    }

    /**
     * The images of a pending audit as a packed-images file whose ids are the positions 0..n-1 (the samples' own ids
     * are not told), written once into {@code audits/}.
     */
    public Path auditImages(String participant, long id) throws UploadCheck.Refused {
        AuditRecord a = pendingAudit(participant, id);
        Path file = dir.resolve("audits").resolve("audit-" + a.id() + ".safetensors");
        if (Files.isRegularFile(file)) {
            return file;
        }
        long[] shardRows = ids(plan.shard(a.shard()));
        Path shardFile = dir.resolve("shards").resolve(shardFile(a.shard()));
        ImageSet shard = PackedImages.openFile(shardFile, shardRow(a.shard()).sha256(), shardRows, "shard " + a.shard());
        ImageSet shared = PackedImages.openFile(sharedImages(), sharedSha256, sharedIds, "the shared subset");
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
    public AuditOutcome answerAudit(String participant, long id, InputStream body, long length, String declaredSha)
            throws UploadCheck.Refused, IOException {
        rateLimits.take(participant, RateLimiter.Kind.AUDIT);
        rateLimits.require(participant, RateLimiter.Kind.REFUSED_UPLOAD);
        AuditRecord a = pendingAudit(participant, id);
        long[] positions = new long[a.sample().length];
        Arrays.setAll(positions, i -> i);
        UploadCheck.Checked c = stage(participant, a.shard(), body, length, positions, declaredSha);
        String reason;
        try (Uploads.Opened answer = Uploads.open(c.file())) {
            reason = auditFailure(a, answer.rows());
        } finally {
            Files.deleteIfExists(c.file());
        }
        store.finishAudit(a.id(), reason == null, reason, clock.getAsLong());
        AtomicFiles.deleteQuietly(dir.resolve("audits").resolve("audit-" + a.id() + ".safetensors"));
        requestSettle();
        if (reason != null) {
            throw new UploadCheck.Refused(422, "audit failed, you are quarantined: " + reason);
        }
        return new AuditOutcome(a.id(), "passed", null);
    }

    /** Relative tolerance of an audit row: priors are deterministic in eval mode, to about 1e-5 across batchings. */
    static final double AUDIT_TOLERANCE = 1e-3;

    /** Why an audit's answer fails, or null when it passes. */
    private String auditFailure(AuditRecord a, Rows answer) {
        Upload upload = store.upload(a.uploadId()).orElseThrow();
        SharedOutput sharedRow = store.sharedOutput(a.participantId()).orElseThrow();
        SharedOutputs onShared = readShared(dir.resolve("uploads").resolve(sharedRow.file()));
        int d = onShared.dim();
        if (answer.dim() != d) {
            return "the answer is " + answer.dim() + " wide; your outputs are " + d;
        }
        long[] shardRows = ids(plan.shard(a.shard()));
        float[] got = new float[Math.multiplyExact(answer.count(), d)];
        answer.read(0, answer.count(), got, 0);
        try (Uploads.Opened uploaded = Uploads.open(dir.resolve("uploads").resolve(upload.file()))) {
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

    private SharedOutputs readShared(Path file) {
        try (Uploads.Opened o = Uploads.open(file)) {
            float[] values = new float[Math.multiplyExact(o.rows().count(), o.rows().dim())];
            o.rows().read(0, o.rows().count(), values, 0);
            return new SharedOutputs("?", Uploads.prior(o.metadata()), values, 0, 0);
        }
    }

    /** The platform's own judgement of the outputs on S as they stand now, and what it was judged on. */
    private record Judged(List<String> key, Screening.Result result) {}

    private volatile Judged judged;

    /**
     * Every accepted output on S, oldest first, with the quarantined participants' reasons given to the screening (they
     * take no part in it). Read from disk only when the set changed since the last call.
     */
    private Screening.Result screening() {
        List<SharedOutput> rows = new ArrayList<>(store.sharedOutputs());
        rows.sort((x, y) -> x.acceptedAt() != y.acceptedAt() ? Long.compare(x.acceptedAt(), y.acceptedAt())
                : x.participantId().compareTo(y.participantId()));
        Map<String, String> quarantined = new LinkedHashMap<>();
        store.participants().stream().filter(ai.coopt.platform.db.Participant::quarantined)
                .forEach(p -> quarantined.put(p.id(), "quarantined: " + p.quarantineReason()));
        List<String> key = new ArrayList<>();
        rows.forEach(r -> key.add(r.participantId() + ":" + r.sha256() + ":" + quarantined.containsKey(r.participantId())));
        Judged last = judged;
        if (last != null && last.key().equals(key)) {
            return last.result();
        }
        List<SharedOutputs> outputs = new ArrayList<>();
        for (SharedOutput r : rows) {
            SharedOutputs o = readShared(dir.resolve("uploads").resolve(r.file()));
            outputs.add(new SharedOutputs(r.participantId(), o.prior(), o.values(), 0, 0));
        }
        Screening.Result result = Screening.screen(outputs, quarantined);
        judged = new Judged(key, result);
        return result;
    }

    /**
     * The platform's referee, run after every accepted output, upload and audit answer, and every second while it
     * serves: audits past their deadline fail; participants the screening of the outputs on S excludes are
     * quarantined (their shards go back to the pool); and once every shard is accepted from a participant in good
     * standing and every audit passed, fusion starts.
     */
    public synchronized void settle() {
        long now = clock.getAsLong();
        store.expireAudits(now);
        if (store.sharedOutputs().isEmpty()) {
            return;
        }
        Screening.Result r = screening();
        for (Screening.Verdict v : r.excluded()) {
            if (!v.reason().startsWith("quarantined: ")) {
                store.quarantine(v.participant(), v.reason(), now);
            }
        }
        if (store.fusionState().state() != FusionState.WAITING
                || !store.shards().stream().allMatch(x -> x.state() == ShardState.ACCEPTED)) {
            return;
        }
        Map<Long, AuditState> audited = new LinkedHashMap<>();
        store.audits().forEach(a -> audited.put(a.uploadId(), a.state()));
        boolean allPassed = store.uploads().stream().filter(u -> u.accepted() && u.shard() != null)
                .allMatch(u -> audited.get(u.id()) == AuditState.PASSED);
        if (allPassed) {
            startFusion(false);
        }
    }

    private final AtomicBoolean settleQueued = new AtomicBoolean();

    /**
     * Runs {@link #settle} soon on the referee's thread (once, however many ask meanwhile): a request that changed
     * what the referee looks at is answered without waiting for the screening or the start of fusion.
     */
    private void requestSettle() {
        if (settleQueued.compareAndSet(false, true)) {
            referee.execute(() -> {
                settleQueued.set(false);
                try {
                    settle();
                } catch (RuntimeException e) {
                    System.err.println("coopt platform: the referee failed: " + e);
                }
            });
        }
    }

    /** Runs {@link #settle} every second in the background (the serving process only). */
    public void startReferee() {
        if (refereeStarted.getAndSet(true)) {
            return;
        }
        referee.scheduleWithFixedDelay(() -> {
            try {
                settle();
            } catch (RuntimeException e) {
                System.err.println("coopt platform: the referee failed: " + e);
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * While this process serves: every {@value #FUSION_HEARTBEAT_MILLIS} ms, looks for a running fusion whose owner
     * went silent and takes it over (so when the process that fuses dies, another one finishes the work).
     */
    public void watchFusion() {
        timer.scheduleWithFixedDelay(() -> {
            try {
                takeOverStaleFusion();
            } catch (RuntimeException e) {
                System.err.println("coopt platform: checking the fusion's heartbeat failed: " + e.getMessage());
            }
        }, FUSION_HEARTBEAT_MILLIS, FUSION_HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Marks a running fusion as failed and starts it here when its owner is gone: its staging lock is free (a
     * process on this directory that ended) or its heartbeat is older than {@value #FUSION_TIMEOUT_MILLIS} ms (a
     * process cut off, or one elsewhere whose lock this machine cannot see); true when it did.
     */
    boolean takeOverStaleFusion() {
        Fusion f = store.fusionState();
        if (f.state() != FusionState.RUNNING || instanceId.equals(f.owner())) {
            return false;
        }
        long now = clock.getAsLong();
        boolean gone = f.owner() == null || !f.owner().matches("[0-9a-f]{16}")
                || !lockHeld(dir.resolve("staging").resolve(f.owner()));
        long heartbeatBefore = gone ? Long.MAX_VALUE : now - FUSION_TIMEOUT_MILLIS;
        if (!store.abandonFusion(f.owner(), heartbeatBefore, fusionDetail(null, null, Map.of(), 0, 0, null,
                "interrupted: the platform process fusing it (" + f.owner() + ") stopped"), now)) {
            return false;
        }
        return startFusion(f.forced());
    }

    /** Claims fusion for this process (see {@link PlatformStore#setFusion}); false when it runs or is done. */
    public boolean claimFusion(boolean forced) {
        return store.setFusion(FusionState.RUNNING, instanceId, forced, null, clock.getAsLong());
    }

    /** Starts fusion in the background unless it is running or done; {@code forced} fuses what is there. */
    public synchronized boolean startFusion(boolean forced) {
        if (!claimFusion(forced)) {
            return false;
        }
        fusion.submit(() -> fuse(forced));
        return true;
    }

    /**
     * Runs fusion in this thread (this process must have claimed it: {@link #claimFusion}) and records the outcome;
     * says every {@value #FUSION_HEARTBEAT_MILLIS} ms that it is still at work. When another process took the run over
     * (these heartbeats did not reach the database in time) it stops at its next progress report (the post-processing
     * passes report; alignment does not) and in any case cannot record its outcome: only the owner can.
     */
    public void fuse(boolean forced) {
        AtomicBoolean lost = new AtomicBoolean();
        ScheduledFuture<?> heartbeat = timer.scheduleWithFixedDelay(() -> {
            try {
                if (!store.heartbeatFusion(instanceId, clock.getAsLong())) {
                    lost.set(true);
                }
            } catch (RuntimeException e) {
                System.err.println("coopt platform: the fusion heartbeat failed: " + e.getMessage());
            }
        }, FUSION_HEARTBEAT_MILLIS, FUSION_HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
        try {
            fuse(forced, lost);
        } finally {
            heartbeat.cancel(false);
        }
    }

    private void fuse(boolean forced, AtomicBoolean lost) {
        ProgressListener abortWhenLost = new ProgressListener() {
            @Override
            public void start(String task, long total, String unit) {
                check();
            }

            @Override
            public void advance(long done) {
                check();
            }

            @Override
            public void finish() {
                check();
            }

            private void check() {
                if (lost.get()) {
                    throw new UserException("fusion was taken over by another platform process (no heartbeat for "
                            + FUSION_TIMEOUT_MILLIS / 1000 + " s)");
                }
            }
        };
        // the round cannot change meanwhile: the next one opens only once this one's fusion is done
        int round = currentRound();
        Path out = fusedDir(dir, round);
        try {
            Files.createDirectories(out.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make " + out.getParent(), e);
        }
        String done = null;
        try (Scratch scratch = Scratch.beside(out)) {
            List<Uploads.Opened> opened = new ArrayList<>();
            List<ShardOutputs> shards = new ArrayList<>();
            try {
                for (Upload u : store.uploads()) {
                    if (u.accepted() && u.shard() != null) {
                        Uploads.Opened o = Uploads.open(dir.resolve("uploads").resolve(u.file()));
                        opened.add(o);
                        shards.add(new ShardOutputs(u.participantId(), u.shard(), o.ids(), o.rows(), 0));
                    }
                }
                if (shards.isEmpty()) {
                    throw new UserException("no shard is accepted yet: nothing to fuse");
                }
                List<String> command = new ArrayList<>(config.commandLine());
                if (round > 1) {
                    command.add("(platform round " + round + ")");
                }
                if (forced) {
                    command.add("(fused by coopt platform fuse with " + shards.size() + " of " + plan.participants()
                            + " shards)");
                }
                CollaborativeOptimization.Written w = CollaborativeOptimization.fuseAndWrite(screening(), shards, sharedIds,
                        config.align(), config.dim(), new ManifestProvenance.Source(config.data(), config.split(),
                                config.count(), config.fingerprint(), config.skippedImages(), config.subset()),
                        new ManifestProvenance.Created(Instant.ofEpochMilli(clock.getAsLong()), config.toolVersion(),
                                command, config.seed()), config.seed(), out, scratch,
                        abortWhenLost);
                FusedChecksums.write(out);
                Map<String, Double> residuals = new LinkedHashMap<>();
                for (int i = 0; i < w.participantIds().size(); i++) {
                    residuals.put(w.participantIds().get(i), w.alignment().residuals().get(i));
                }
                PrivateFiles.restrictTree(out);
                for (Path p = out.getParent(); p.startsWith(dir) && !p.equals(dir); p = p.getParent()) {
                    PrivateFiles.restrict(p); // rounds/ and rounds/N/
                }
                done = fusionDetail(w.count(), w.dim(), residuals, w.alignmentSeconds(), w.fusionSeconds(), w.notes(),
                        null);
            } finally {
                opened.forEach(Uploads.Opened::close);
            }
        } catch (RuntimeException e) {
            store.setFusion(FusionState.FAILED, instanceId, forced, fusionDetail(null, null, Map.of(), 0, 0, null,
                    e.getMessage() == null ? e.toString() : e.getMessage()), clock.getAsLong());
            if (!(e instanceof UserException)) {
                throw e;
            }
        }
        if (done != null) {
            // said once the scratch directory is gone: "done" means the platform directory holds only what it keeps
            store.setFusion(FusionState.DONE, instanceId, forced, done, clock.getAsLong());
        }
    }

    /** What fusion made, kept in the database as JSON. */
    public record FusionDetail(@JsonSetter(nulls = Nulls.SET) Integer count, @JsonSetter(nulls = Nulls.SET) Integer dim,
                               Map<String, Double> residuals, double alignmentSeconds, double fusionSeconds,
                               @JsonSetter(nulls = Nulls.SET) List<String> notes,
                               @JsonSetter(nulls = Nulls.SET) String error) {}

    private static String fusionDetail(Integer count, Integer dim, Map<String, Double> residuals, double alignment,
                                       double fusion, List<String> notes, String error) {
        try {
            return ai.coopt.store.Json.mapper().writeValueAsString(new FusionDetail(count, dim, residuals, alignment,
                    fusion, notes, error));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How many of the newest uploads and events the status shows (with the upload totals). */
    static final int STATUS_UPLOADS = 200;
    static final int STATUS_EVENTS = 300;

    /** Everything the dashboard and {@code GET /v1/status} show; no secret is in it. */
    public Status status(String version) {
        long now = clock.getAsLong();
        List<SharedOutput> shared = store.sharedOutputs();
        Map<String, String> priors = new LinkedHashMap<>();
        for (SharedOutput s : shared) {
            PriorReport p = Uploads.prior(Map.of(Uploads.PRIOR, s.priorJson()));
            priors.put(s.participantId(), p == null ? "?" : p.prior());
        }
        // bounded whatever the tables hold: accepted uploads (at most one per shard and participant on S, plus
        // withdrawn ones), the newest STATUS_UPLOADS uploads and STATUS_EVENTS events
        Map<Long, String> uploader = new LinkedHashMap<>();
        Map<String, Integer> shardsOf = new LinkedHashMap<>();
        for (Upload u : store.acceptedUploads()) {
            uploader.put(u.id(), u.participantId());
            if (u.accepted() && u.shard() != null) {
                shardsOf.merge(u.participantId(), 1, Integer::sum);
            }
        }
        List<Status.ParticipantView> participants = store.participants().stream().map(p -> new Status.ParticipantView(
                p.id(), p.name(), p.enrolledAt(), priors.get(p.id()), shardsOf.getOrDefault(p.id(), 0),
                p.quarantineReason(), p.quarantinedAt())).toList();
        List<Status.AuditView> audits = store.audits().stream().map(a -> new Status.AuditView(a.id(), a.participantId(),
                a.shard(), a.uploadId(), a.sample().length, a.state().name().toLowerCase(Locale.ROOT), a.reason(),
                a.createdAt(), a.deadline(), a.answeredAt())).toList();
        Map<String, Integer> byState = new LinkedHashMap<>();
        byState.put("open", 0);
        byState.put("leased", 0);
        byState.put("accepted", 0);
        List<Status.ShardView> shards = new ArrayList<>();
        for (Shard r : store.shards()) {
            String state = r.state().name().toLowerCase(Locale.ROOT);
            byState.merge(state, 1, Integer::sum);
            boolean leased = r.state() == ShardState.LEASED;
            shards.add(new Status.ShardView(r.shard(), r.images(), r.sha256(), state, leased ? r.leaseHolder() : null,
                    leased ? r.leaseExpires() : null, r.acceptedUpload() == null ? null : uploader.get(r.acceptedUpload())));
        }
        List<Status.UploadView> uploadViews = store.recentUploads(STATUS_UPLOADS).stream().map(u -> new Status.UploadView(u.id(), u.participantId(),
                u.shard(), u.accepted() ? "accepted" : "refused", u.reason(), u.bytes(), u.rows(), u.dim(), u.sha256(),
                u.receivedAt())).toList();
        Screening.Result judgedNow = shared.isEmpty() ? null : screening();
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
        Round current = current();
        Fusion f = store.fusionState();
        FusionDetail d = f.detailJson() == null ? null : parseDetail(f.detailJson());
        List<Event> recent = store.recentEvents(STATUS_EVENTS);
        Long started = store.lastEventAt(EventKind.FUSION_STARTED, current.id()).orElse(null);
        boolean finished = f.state() == FusionState.DONE || f.state() == FusionState.FAILED;
        Status.Fusion fusionView = new Status.Fusion(f.state().name().toLowerCase(Locale.ROOT), f.forced(),
                f.state() == FusionState.WAITING ? null : started, finished ? f.updatedAt() : null,
                d == null ? null : d.count(), d == null ? null : d.dim(),
                d == null || d.residuals() == null ? Map.of() : d.residuals(),
                f.state() == FusionState.DONE ? "/v1/dataset" : null, d == null ? null : d.error());
        List<Status.Event> events = recent.stream().map(e -> new Status.Event(e.at(),
                e.kind().name().toLowerCase(Locale.ROOT), e.participantId(), e.shard(), e.detail())).toList();
        List<Status.RoundRow> rounds = store.rounds().stream().map(r -> new Status.RoundRow(r.id(), r.createdAt(),
                r.shards(), r.accepted(), r.fusion().name().toLowerCase(Locale.ROOT), r.fusionAt(),
                r.finished() ? "/v1/dataset?round=" + r.id() : null)).toList();
        return new Status(version, now, new Status.Round(current.id(), config.data(), config.split(), config.count(),
                config.fingerprint(), config.shards(), sharedIds.length, config.seed(), config.leaseSeconds(),
                config.align(), current.createdAt()), rounds, participants, byState, shards, uploadViews,
                store.uploadCounts(), audits,
                ranking, fusionView, events);
    }

    private static FusionDetail parseDetail(String json) {
        try {
            return ai.coopt.store.Json.mapper().readValue(json, FusionDetail.class);
        } catch (IOException e) {
            return null;
        }
    }

    /** The fused dataset's files (name, bytes, sha256), once fusion is done. */
    public record DatasetFile(String name, long bytes, String sha256) {}

    /** The newest finished round's dataset files, or empty before any round is fused. */
    public Optional<List<DatasetFile>> dataset() {
        return newestFinishedRound().flatMap(this::dataset);
    }

    /** The newest round whose fusion is done, or empty. */
    public Optional<Integer> newestFinishedRound() {
        List<RoundSummary> rounds = store.rounds();
        for (int i = rounds.size() - 1; i >= 0; i--) {
            if (rounds.get(i).finished()) {
                return Optional.of(rounds.get(i).id());
            }
        }
        return Optional.empty();
    }

    /**
     * Why round {@code round}'s dataset cannot be fetched (no such round, not fused yet), or empty when it can: the
     * reason a 404 gives.
     */
    public Optional<String> datasetUnavailable(int round) {
        Optional<RoundSummary> r = store.rounds().stream().filter(x -> x.id() == round).findFirst();
        if (r.isEmpty()) {
            return Optional.of("there is no round " + round);
        }
        if (!r.get().finished()) {
            return Optional.of("round " + round + "'s fused dataset is not ready (fusion: "
                    + r.get().fusion().name().toLowerCase(Locale.ROOT) + ")");
        }
        return dataset(round).isPresent() ? Optional.empty()
                : Optional.of("round " + round + "'s fused dataset is missing from the platform's directory");
    }

    /** Round {@code round}'s fused dataset files, once that round is fused; empty otherwise (also for no such round). */
    public Optional<List<DatasetFile>> dataset(int round) {
        if (round < 1 || store.rounds().stream().noneMatch(r -> r.id() == round && r.finished())) {
            return Optional.empty();
        }
        Path fused = fusedDir(dir, round);
        if (!OptimizedDataset.looksLikeOptimizedDataset(fused)) {
            return Optional.empty();
        }
        return Optional.of(checksums.files(fused));
    }

    /** A file of round {@code round}'s fused dataset, by a name {@link #dataset(int)} listed. */
    public Optional<Path> datasetFile(int round, String name) {
        return dataset(round).flatMap(files -> files.stream().filter(f -> f.name().equals(name)).findFirst())
                .map(f -> fusedDir(dir, round).resolve(f.name()));
    }

    /** Stops fusing and watching, and removes this process's staging directory (nothing in it is committed). */
    @Override
    public void close() {
        referee.shutdownNow();
        fusion.shutdownNow();
        timer.shutdownNow();
        try {
            if (stagingLock != null) {
                stagingLock.close();
            }
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
        AtomicFiles.deleteQuietly(staging);
    }
}
