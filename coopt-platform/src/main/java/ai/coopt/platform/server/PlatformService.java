package ai.coopt.platform.server;

import ai.coopt.collab.Alignment;
import ai.coopt.collab.RoundEngine;
import ai.coopt.collab.RoundLedger;
import ai.coopt.collab.RoundPolicy;
import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.platform.PrivateFiles;
import ai.coopt.platform.api.Accepted;
import ai.coopt.platform.api.AuditOutcome;
import ai.coopt.platform.api.AuditView;
import ai.coopt.platform.api.DatasetFile;
import ai.coopt.platform.api.LeaseView;
import ai.coopt.platform.api.RoundView;
import ai.coopt.platform.api.Status;
import ai.coopt.platform.db.FusionState;
import ai.coopt.platform.db.NewShard;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.Round;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.util.ProgressListener;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The platform behind the HTTP routes: a thin façade over the services that each own one job, all sharing the round's
 * files ({@link RoundFiles}) and the database ({@link PlatformStore}):
 * <ul>
 *   <li>{@link Leases}: where a shard is leased, renewed and its images fetched;</li>
 *   <li>{@link UploadIntake}: where an upload (outputs on S, or on a shard) is judged and committed, staged by
 *       {@link Receiver} in this process's {@link Staging} directory;</li>
 *   <li>{@link Auditor}: where accepted shards are audited;</li>
 *   <li>{@link Referee}: where the round is settled (expired audits, then the round policy through {@link StoreLedger}) and
 *       fusion starts; {@link FusionRunner}: where fusion runs, one process at a time;</li>
 *   <li>{@link StatusReport} and {@link Downloads}: what the dashboard shows and the fused datasets.</li>
 * </ul>
 *
 * <p>Rounds: {@link #nextRound} opens round r+1 over the same data, shards and shared subset once round r is fused;
 * every request acts on the current (newest) round, read from the database each time, so a serving process picks a
 * new round up at once. Participants send their outputs on S again each round (they may bring another prior), and
 * every finished round's dataset stays downloadable.
 *
 * <p>Several processes may serve one round from one directory and one (PostgreSQL) database: each stages in its own
 * directory, start-up cleaning leaves alone what a live process may still commit, and one process at a time fuses
 * (the fusion row names it and its heartbeat; see {@link #recover}).
 */
public final class PlatformService implements AutoCloseable {
    /** How often the process that fuses says so in the database. */
    public static final long FUSION_HEARTBEAT_MILLIS = FusionRunner.FUSION_HEARTBEAT_MILLIS;
    /** A running fusion whose heartbeat is older than this is taken to be dead and may be taken over. */
    public static final long FUSION_TIMEOUT_MILLIS = FusionRunner.FUSION_TIMEOUT_MILLIS;

    private final RoundFiles files;
    private final PlatformStore store;
    private final LongSupplier clock;
    private final Staging staging;
    private final Leases leases;
    private final UploadIntake uploads;
    private final Auditor auditor;
    private final FusionRunner fusion;
    private final Referee referee;
    private final StatusReport status;
    private final Downloads downloads;

    private PlatformService(RoundFiles files, PlatformStore store, Staging staging, LongSupplier clock) {
        this.files = files;
        this.store = store;
        this.clock = clock;
        this.staging = staging;
        RateLimiter rateLimits = new RateLimiter(clock);
        RoundEngine engine = new RoundEngine(RoundPolicy.screened(Alignment.named(files.config().align())));
        RoundLedger ledger = new StoreLedger(files, store, clock);
        this.fusion = new FusionRunner(files, store, engine, ledger, staging.instanceId(), clock);
        this.referee = new Referee(store, engine, ledger, fusion, clock);
        Receiver receiver = new Receiver(staging, store, rateLimits, clock);
        this.leases = new Leases(files, store, rateLimits, clock);
        this.uploads = new UploadIntake(files, store, receiver, rateLimits, clock, referee::request);
        this.auditor = new Auditor(files, store, receiver, rateLimits, clock, referee::request);
        this.status = new StatusReport(files, store, engine, ledger, clock);
        this.downloads = new Downloads(files.dir(), store);
    }

    /** This process's instance id (random per start): its staging directory's name and its name as fusion owner. */
    public String instanceId() {
        return staging.instanceId();
    }

    /**
     * Starts a new round in {@code dir} (plan, shard files, database rows) or resumes the one there.
     *
     * @param asked the round the options describe; on resume it must agree with the stored one
     * @param images the data (only read when the round is new: its shards are written once)
     */
    public static PlatformService open(Path dir, PlatformStore store, PlatformConfig asked, ImageSet images,
                                       LongSupplier clock, ProgressListener progress) {
        Optional<String> stored = store.rounds().current().map(Round::configJson);
        RoundFiles files;
        if (stored.isPresent()) {
            PlatformConfig config = PlatformConfig.fromJson(stored.get());
            if (asked != null) {
                List<String> conflicts = config.conflicts(asked);
                if (!conflicts.isEmpty()) {
                    throw new UserException(dir + " holds a round started differently: " + String.join("; ", conflicts)
                            + " — drop the option or use a new --dir");
                }
            }
            files = RoundFiles.existing(dir, config);
        } else {
            if (asked == null || images == null) {
                throw new UserException(dir + " holds no platform round (start one with coopt platform serve)");
            }
            // the draw is a fact of the images: the fused manifest records it, and bounds the ids by the whole split
            PlatformConfig config = asked.withSubset(asked.limitSeed(), images.drawn());
            List<NewShard> shards = new ArrayList<>();
            files = RoundFiles.write(dir, config, images, progress, shards);
            store.rounds().init(config.toJson(), shards, clock.getAsLong());
        }
        // before the staging lock is taken: the JDK changes a mode without following links by opening the file and
        // closing it again, and closing any descriptor of a file drops the process's POSIX lock on it, so restricting
        // the lock file after locking it let a second serve process remove a live one's staging directory
        PrivateFiles.restrictTree(dir);
        return new PlatformService(files, store, Staging.open(dir, store, clock.getAsLong()), clock);
    }

    /** Opens an existing platform directory for the administrative commands (invite, fuse). */
    public static PlatformService existing(Path dir, PlatformStore store, LongSupplier clock) {
        return open(dir, store, null, null, clock, ProgressListener.NONE);
    }

    /**
     * Where round {@code round}'s fused dataset is written: {@code fused/} for round 1, {@code rounds/N/fused/} for
     * round N ≥ 2.
     */
    public static Path fusedDir(Path dir, int round) {
        return RoundFiles.fusedDir(dir, round);
    }

    /**
     * Opens round r+1 over round r's data (see {@link ai.coopt.platform.db.RoundRepository#next}) once round r is finished: its fusion is
     * DONE, which is recorded only after its dataset was written, and the dataset is in {@link #fusedDir}. Works beside
     * a serving process or without one: it touches only the database. A refusal is a {@link UserException}.
     */
    public static Round nextRound(Path dir, PlatformStore store, long now) {
        Round current = store.rounds().current().orElseThrow(() -> new UserException(dir
                + " holds no platform round (start one with coopt platform serve)"));
        Path fused = fusedDir(dir, current.id());
        if (store.fusion().state().state() == FusionState.DONE && !OptimizedDataset.looksLikeOptimizedDataset(fused)) {
            throw new UserException("round " + current.id() + " is fused but its dataset is not in " + fused
                    + " (moved or removed?): restore it before opening the next round");
        }
        return store.rounds().next(now);
    }

    public PlatformConfig config() {
        return files.config();
    }

    public PlatformStore store() {
        return store;
    }

    /** The platform directory. */
    public Path dir() {
        return files.dir();
    }

    public RoundView round() {
        PlatformConfig config = files.config();
        long[] sharedIds = files.sharedIds();
        int current = store.rounds().current().map(Round::id).orElseThrow(() -> new IllegalStateException("the platform has no round"));
        return new RoundView(current, config.data(), config.split(), config.limit(), config.limitSeed(),
                config.imageSize(), config.count(), files.shards(), sharedIds, config.seed(), config.fingerprint(),
                files.sharedSha256(), sharedIds.length);
    }

    // ---------------------------------------------------------------- leases

    /** The shared images, for a participant in good standing: a quarantined one gets nothing more from the platform. */
    public Path sharedImages(String participant) throws Refusal {
        return leases.sharedImages(participant);
    }

    /** The images of a shard, for its lease holder only. */
    public Path shardImages(String participant, int shard) throws Refusal {
        return leases.shardImages(participant, shard);
    }

    /** Bounds how long one lease may be held, renewals included, without an upload ({@code serve --max-lease-hours}). */
    public void capLeases(Duration max) {
        leases.capLeases(max);
    }

    /** Bounds how many leases the workers of one participant hold at once ({@code serve --max-leases-per-participant}). */
    public void capLeasesPerParticipant(int max) {
        leases.capLeasesPerParticipant(max);
    }

    /** A lease for the participant's only process. */
    public LeaseView lease(String participant) throws Refusal {
        return leases.lease(participant, null);
    }

    /** A lease for one of the participant's workers (see {@link Leases#lease}). */
    public LeaseView lease(String participant, String worker) throws Refusal {
        return leases.lease(participant, worker);
    }

    public LeaseView renew(String participant, int shard, String token) throws Refusal {
        return leases.renew(participant, shard, token);
    }

    // ---------------------------------------------------------------- uploads and audits

    /** A participant's outputs on the shared subset (with its prior's report in the metadata). */
    public Accepted uploadShared(String participant, InputStream body, long length, String declaredSha)
            throws Refusal, IOException {
        return uploads.uploadShared(participant, body, length, declaredSha);
    }

    /** A participant's outputs on a shard it leased. */
    public Accepted uploadShard(String participant, int shard, String token, InputStream body, long length,
                                String declaredSha) throws Refusal, IOException {
        return uploads.uploadShard(participant, shard, token, body, length, declaredSha);
    }

    public List<AuditView> audits(String participant) throws Refusal {
        return auditor.audits(participant);
    }

    /** The images of a pending audit, their ids not told. */
    public Path auditImages(String participant, long id) throws Refusal {
        return auditor.auditImages(participant, id);
    }

    /** Checks an audit's answer; a failure quarantines the participant. */
    public AuditOutcome answerAudit(String participant, long id, InputStream body, long length, String declaredSha)
            throws Refusal, IOException {
        return auditor.answerAudit(participant, id, body, length, declaredSha);
    }

    // ---------------------------------------------------------------- referee and fusion

    /**
     * What a (re)starting server does before it serves: a fusion left running by a process that is gone (no heartbeat
     * for {@value #FUSION_TIMEOUT_MILLIS} ms: killed, or cut off from the database) is recorded as failed, and fusion
     * starts again when every shard is accepted but it is not done (the kill came between the last acceptance and
     * the end of fusion). A fusion another live process runs is left to it. {@code platform fuse} beside a serving
     * process does not call this.
     */
    public void recover() {
        fusion.takeOverStale();
        // while the platform was down nobody could answer an audit: every pending one gets its full time again
        store.audits().extendPending(clock.getAsLong() + files.config().audits().seconds() * 1000L);
        referee.settle();
    }

    /** Settles the round now (see {@link Referee}). */
    public void settle() {
        referee.settle();
    }

    /** Settles the round every second in the background (the serving process only). */
    public void startReferee() {
        referee.start();
    }

    /** Takes over, while this process serves, a fusion whose owner went silent. */
    public void watchFusion() {
        fusion.watch();
    }

    boolean takeOverStaleFusion() {
        return fusion.takeOverStale();
    }

    /** Claims fusion for this process; false when it runs or is done. */
    public boolean claimFusion(boolean forced) {
        return fusion.claim(forced);
    }

    /** Starts fusion in the background unless it is running or done; {@code forced} fuses what is there. */
    public boolean startFusion(boolean forced) {
        return fusion.start(forced);
    }

    /** Runs fusion in this thread (this process must have claimed it) and records the outcome. */
    public void fuse(boolean forced) {
        fusion.fuse(forced);
    }

    // ---------------------------------------------------------------- status and datasets

    /** Everything the dashboard and {@code GET /v1/status} show; no secret is in it. */
    public Status status(String version) {
        return status.status(version);
    }

    /** The newest finished round's dataset files, or empty before any round is fused. */
    public Optional<List<DatasetFile>> dataset() {
        return downloads.newestFinishedRound().flatMap(downloads::files);
    }

    /** The newest round whose fusion is done, or empty. */
    public Optional<Integer> newestFinishedRound() {
        return downloads.newestFinishedRound();
    }

    /** Why round {@code round}'s dataset cannot be fetched, or empty when it can: the reason a 404 gives. */
    public Optional<String> datasetUnavailable(int round) {
        return downloads.unavailable(round);
    }

    /** Round {@code round}'s fused dataset files, once that round is fused; empty otherwise. */
    public Optional<List<DatasetFile>> dataset(int round) {
        return downloads.files(round);
    }

    /** A file of round {@code round}'s fused dataset, by a name {@link #dataset(int)} listed. */
    public Optional<Path> datasetFile(int round, String name) {
        return downloads.file(round, name);
    }

    /** Stops fusing and watching, and removes this process's staging directory (nothing in it is committed). */
    @Override
    public void close() {
        referee.close();
        fusion.close();
        staging.close();
    }
}
