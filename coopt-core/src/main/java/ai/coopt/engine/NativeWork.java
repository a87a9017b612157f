package ai.coopt.engine;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A stretch of work inside the engine's native code (a training step, a batch of inference), during which the process
 * does not exit.
 *
 * <p>When the process is told to stop (SIGTERM, Ctrl-C), the JVM runs its shutdown hooks and then exits, and the
 * native libraries' own teardown runs while another thread may still be inside them: a training step's backward pass
 * then ended in a segmentation fault and a JVM crash log instead of a plain stop. A section holds a shared lock; the
 * shutdown hook this class registers takes it exclusively, so the process exits once the sections under way have
 * ended (at most {@link #EXIT_WAIT_SECONDS}), and a thread that comes back for another waits until the end. Nothing
 * is lost by stopping between steps: what a command keeps it writes atomically, and training resumes from its last
 * checkpoint. (So the process must not be ended from inside a section: only the command line's main method exits,
 * after its work.)
 */
public final class NativeWork implements AutoCloseable {
    /** The longest the process waits at exit for the sections under way. */
    static final long EXIT_WAIT_SECONDS = 120;

    private static final ReentrantReadWriteLock LOCK = new ReentrantReadWriteLock();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(NativeWork::holdAtExit, "coopt-native-work-exit"));
    }

    private boolean closed;

    private NativeWork() {
        LOCK.readLock().lock();
    }

    /** Enters a section in this thread (sections nest); close it in the same thread. */
    public static NativeWork enter() {
        return new NativeWork();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LOCK.readLock().unlock();
        }
    }

    /** The shutdown hook: waits for the sections under way, then keeps the lock (never released) until the exit. */
    private static void holdAtExit() {
        Lock exclusive = LOCK.writeLock();
        try {
            if (!exclusive.tryLock()) {
                System.err.println("coopt: stopping once the engine has finished its current step");
                exclusive.tryLock(EXIT_WAIT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
