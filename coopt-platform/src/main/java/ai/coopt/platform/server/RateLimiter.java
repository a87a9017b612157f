package ai.coopt.platform.server;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Per-participant token buckets, so that one enrolled participant cannot grow the database or keep the platform busy:
 * refused uploads (each one is a row and an event), lease polls, renewals and audit calls. A bucket holds at most
 * {@link Kind#burst} tokens and gains one every {@link Kind#refillMillis}; a request finding it empty is refused with
 * 429 and how long to wait. Buckets live in this process (several serve processes each keep their own) and exist
 * only for enrolled participants, so there are at most (participants × kinds) of them.
 */
final class RateLimiter {
    /**
     * What is limited, with its burst and refill. Refused uploads: 20, then one a minute (a participant's refusals on
     * record grow by at most 20 + 60 an hour). Lease polls: 20, then 10 a second (an honest participant waits at
     * least 100 ms between polls). Renewals and audit calls: 20, then 2 a second.
     */
    enum Kind {
        REFUSED_UPLOAD(20, 60_000, "refused uploads"),
        LEASE(20, 100, "lease requests"),
        RENEW(20, 500, "lease renewals"),
        AUDIT(20, 500, "audit requests");

        final int burst;
        final long refillMillis;
        final String what;

        Kind(int burst, long refillMillis, String what) {
            this.burst = burst;
            this.refillMillis = refillMillis;
            this.what = what;
        }
    }

    /** A request over its participant's limit: 429 with Retry-After. */
    static final class Limited extends RuntimeException {
        private final long retryAfterSeconds;

        Limited(String reason, long retryAfterSeconds) {
            super(reason);
            this.retryAfterSeconds = retryAfterSeconds;
        }

        long retryAfterSeconds() {
            return retryAfterSeconds;
        }
    }

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(int burst, long now) {
            tokens = burst;
            at = now;
        }
    }

    private record Key(String participant, Kind kind) {}

    private final LongSupplier clock;
    private final Map<Key, Bucket> buckets = new ConcurrentHashMap<>();

    RateLimiter(LongSupplier clock) {
        this.clock = clock;
    }

    /** Takes a token, or throws {@link Limited} when there is none. */
    void take(String participant, Kind kind) {
        take(participant, kind, true);
    }

    /** Throws {@link Limited} when there is no token, without taking one (the request may not cost one). */
    void require(String participant, Kind kind) {
        take(participant, kind, false);
    }

    /** Takes a token if there is one (for what already happened: a refusal that is recorded anyway). */
    void spend(String participant, Kind kind) {
        try {
            take(participant, kind, true);
        } catch (Limited ignored) {
            // the bucket is empty already: the next request is refused before it costs anything
        }
    }

    private void take(String participant, Kind kind, boolean consume) {
        Bucket b = buckets.computeIfAbsent(new Key(participant, kind), k -> new Bucket(kind.burst, clock.getAsLong()));
        synchronized (b) {
            long now = clock.getAsLong();
            if (now > b.at) {
                b.tokens = Math.min(kind.burst, b.tokens + (double) (now - b.at) / kind.refillMillis);
                b.at = now;
            }
            if (b.tokens < 1) {
                long waitMillis = (long) Math.ceil((1 - b.tokens) * kind.refillMillis);
                throw new Limited("too many " + kind.what + " from " + participant + " (at most " + kind.burst
                        + ", then one every " + kind.refillMillis + " ms); try again in " + waitMillis + " ms",
                        Math.max(1, (waitMillis + 999) / 1000));
            }
            if (consume) {
                b.tokens -= 1;
            }
        }
    }
}
