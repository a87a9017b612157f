package ai.coopt.util;

import java.util.concurrent.ThreadFactory;

/** Threads that never keep the JVM alive: renewals, watchdogs, the referee, worker pools a command shuts down. */
public final class DaemonThreads {
    private DaemonThreads() {}

    /** A factory of daemon threads, each called {@code name}. */
    public static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
