package ai.coopt.platform.server;

import ai.coopt.util.DaemonThreads;
import io.javalin.http.Context;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EndPoint;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads request bodies without letting slow clients hold the server's threads. A servlet read blocks its thread, so
 * two things bound what a slow body costs: a gate (at most {@link PlatformServer.Limits#anonymousReaders} threads read
 * bodies for requests not yet authenticated, at most {@link PlatformServer.Limits#readersPerParticipant} for any one
 * participant; more are refused at once with 503 and Retry-After), and a deadline (a small JSON body must arrive whole
 * within {@link PlatformServer.Limits#jsonDeadlineMillis}; a streamed upload must keep up
 * {@link PlatformServer.Limits#minBytesPerSecond} after a grace period). A watchdog closes the connection of a read
 * that falls behind, which ends the blocked read; the request is then refused with 408. An enrolment with a
 * Content-Length reaches its handler with its body whole ({@link WholeBodies}), so it holds the anonymous gate only for
 * a copy from memory; the gate still bounds an enrolment sent in chunks.
 */
final class BodyReader implements AutoCloseable {
    private static final long CHECK_MILLIS = 100;

    private final PlatformServer.Limits limits;
    private final Semaphore anonymous;
    private final ConcurrentHashMap<String, AtomicInteger> perParticipant = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("coopt-body-watchdog"));

    BodyReader(PlatformServer.Limits limits) {
        this.limits = limits;
        this.anonymous = new Semaphore(limits.anonymousReaders());
    }

    /**
     * Reads a JSON body of at most {@code max} bytes within the JSON deadline; {@code participant} is the
     * authenticated caller, or null before authentication (enrolment).
     */
    byte[] readSmall(Context ctx, int max, String participant) throws Refusal {
        long declared = ctx.req().getContentLengthLong();
        if (declared > max) {
            throw new Refusal(Refusal.Kind.TOO_LARGE, "a JSON body of at most " + max + " bytes");
        }
        try (Body body = open(ctx, participant, limits.jsonDeadlineMillis(), 0)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(declared > 0 ? (int) declared : 256);
            byte[] buf = new byte[4096];
            int n;
            while ((n = body.stream().read(buf)) != -1) {
                if (out.size() + n > max) {
                    throw new Refusal(Refusal.Kind.TOO_LARGE, "a JSON body of at most " + max + " bytes");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (Slow e) {
            throw new Refusal(Refusal.Kind.TOO_SLOW, e.getMessage());
        } catch (IOException e) {
            throw new Refusal(Refusal.Kind.MALFORMED, "the request body could not be read");
        }
    }

    /**
     * A streamed body for an authenticated participant: it must keep up the minimum data rate after the grace period.
     * Close it when done (it holds one of the participant's reader places).
     */
    Body stream(Context ctx, String participant) throws Refusal {
        return open(ctx, participant, limits.graceMillis(), limits.minBytesPerSecond());
    }

    /** Whether an exception from a streamed body was its deadline (then the request is answered 408). */
    static boolean slow(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof Slow) {
                return true;
            }
        }
        return false;
    }

    private Body open(Context ctx, String participant, long allowanceMillis, long minRate) throws Refusal {
        Runnable release;
        if (participant == null) {
            if (!anonymous.tryAcquire()) {
                throw busy("too many requests are sending their bodies; try again shortly");
            }
            release = anonymous::release;
        } else {
            AtomicInteger n = perParticipant.computeIfAbsent(participant, k -> new AtomicInteger());
            if (n.incrementAndGet() > limits.readersPerParticipant()) {
                n.decrementAndGet();
                throw busy("participant " + participant + " already has " + limits.readersPerParticipant()
                        + " requests sending their bodies; try again when one has finished");
            }
            release = n::decrementAndGet;
        }
        try {
            return new Body(ctx.req().getInputStream(), endPoint(ctx), allowanceMillis, minRate, release);
        } catch (IOException | RuntimeException e) {
            release.run();
            throw new Refusal(Refusal.Kind.MALFORMED, "the request body could not be read");
        }
    }

    private static Refusal busy(String reason) {
        return new Refusal(Refusal.Kind.BUSY, reason);
    }

    private static EndPoint endPoint(Context ctx) {
        ServletContextRequest r = ServletContextRequest.getServletContextRequest(ctx.req());
        return r == null ? null : r.getConnectionMetaData().getConnection().getEndPoint();
    }

    /** The deadline passed: the watchdog closed the connection. */
    static final class Slow extends IOException {
        Slow(String reason) {
            super(reason);
        }
    }

    /** A body being read under a deadline; closing it stops the watchdog and frees the reader place. */
    final class Body extends FilterInputStream {
        private final long start = System.nanoTime();
        private final long allowanceMillis;
        private final long minRate;
        private final EndPoint endPoint;
        private final ScheduledFuture<?> check;
        private Runnable release;
        private volatile long read;
        private volatile String timedOut;

        private Body(InputStream in, EndPoint endPoint, long allowanceMillis, long minRate, Runnable release) {
            super(in);
            this.endPoint = endPoint;
            this.allowanceMillis = allowanceMillis;
            this.minRate = minRate;
            this.release = release;
            this.check = watchdog.scheduleAtFixedRate(this::check, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
        }

        InputStream stream() {
            return this;
        }

        /** Milliseconds by which the body is allowed to have arrived so far. */
        private void check() {
            long elapsed = (System.nanoTime() - start) / 1_000_000;
            long allowed = allowanceMillis + (minRate > 0 ? read * 1000 / minRate : 0);
            if (elapsed > allowed && timedOut == null) {
                timedOut = minRate > 0
                        ? "the request body arrived slower than " + minRate + " bytes/s (after a "
                          + allowanceMillis / 1000.0 + " s grace); the connection was closed"
                        : "the request body did not arrive within " + allowanceMillis / 1000.0 + " s";
                check.cancel(false);
                if (endPoint != null) {
                    endPoint.close();
                }
            }
        }

        private IOException failure(IOException e) {
            return timedOut != null ? new Slow(timedOut) : e;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (timedOut != null) {
                throw new Slow(timedOut);
            }
            try {
                int n = in.read(b, off, len);
                if (n > 0) {
                    read += n;
                }
                if (timedOut != null) {
                    throw new Slow(timedOut);
                }
                return n;
            } catch (IOException e) {
                throw failure(e);
            }
        }

        @Override
        public void close() {
            check.cancel(false);
            if (release != null) {
                release.run();
                release = null;
            }
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
    }
}
