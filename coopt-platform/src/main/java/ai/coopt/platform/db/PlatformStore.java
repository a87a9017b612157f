package ai.coopt.platform.db;

/**
 * The state of one platform, in its {@link Database}, one repository per aggregate: {@link #rounds} (the rounds and
 * their shards), {@link #participants} (and their invites), {@link #leases}, {@link #uploads} (shard uploads and
 * outputs on the shared subset), {@link #audits} (and quarantine), {@link #signatures} (replay protection),
 * {@link #events} (the timeline) and {@link #fusion}. The HTTP server is their only user.
 *
 * <p>Every public repository method is one transaction (see {@link Database#transaction}): it is thread-safe, and a
 * process killed between two calls leaves the database consistent. An operation that changes several aggregates (an
 * accepted upload with its audit, a quarantine, every change with its event) stays one transaction: it lives in the
 * repository that makes the decision, which passes its transaction's Jdbi handle to the others' package-private
 * methods. Times are epoch milliseconds passed in by the caller. Operations act on the current (newest) round;
 * {@link RoundRepository#next} opens the next one once the current one is finished (fused), and earlier rounds' rows
 * are kept as they were.
 *
 * <p>Arguments that come from a participant's request (tokens, keys, shard numbers, lease ids) are checked
 * here and refused with a reason; arguments the platform computes itself (hashes, sizes) must be well
 * formed, else {@link IllegalArgumentException}.
 */
public final class PlatformStore {

    private final Database db;
    private final RoundRepository rounds;
    private final ParticipantRepository participants;
    private final LeaseRepository leases;
    private final UploadRepository uploads;
    private final AuditRepository audits;
    private final SignatureRepository signatures;
    private final EventRepository events;
    private final FusionRepository fusion;

    public PlatformStore(Database db) {
        this.db = db;
        this.rounds = new RoundRepository(db);
        this.participants = new ParticipantRepository(db);
        this.leases = new LeaseRepository(db);
        this.uploads = new UploadRepository(db, leases);
        this.audits = new AuditRepository(db);
        this.signatures = new SignatureRepository(db);
        this.events = new EventRepository(db);
        this.fusion = new FusionRepository(db);
    }

    /** The database this store works in. */
    public Database database() {
        return db;
    }

    /** The rounds and their shards. */
    public RoundRepository rounds() {
        return rounds;
    }

    /** The participants and their invites. */
    public ParticipantRepository participants() {
        return participants;
    }

    /** Who works on which shard. */
    public LeaseRepository leases() {
        return leases;
    }

    /** Shard uploads and outputs on the shared subset. */
    public UploadRepository uploads() {
        return uploads;
    }

    /** Audits of accepted uploads, and quarantine. */
    public AuditRepository audits() {
        return audits;
    }

    /** Replay protection of signed requests. */
    public SignatureRepository signatures() {
        return signatures;
    }

    /** The timeline. */
    public EventRepository events() {
        return events;
    }

    /** Each round's fusion state. */
    public FusionRepository fusion() {
        return fusion;
    }

    /** Round, shards, participants, uploads, shared outputs and fusion state, read in one transaction. */
    public Snapshot snapshot() {
        return db.inTransaction(h -> {
            Round round = RoundRepository.current(h).orElseThrow(() -> new IllegalStateException("the platform has no round yet"));
            return new Snapshot(round, RoundRepository.shards(h, round.id()), ParticipantRepository.all(h),
                    UploadRepository.all(h, round.id()), UploadRepository.sharedOutputs(h, round.id()),
                    FusionRepository.of(h, round.id()));
        });
    }
}
