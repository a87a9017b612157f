package ai.coopt.store;

import ai.coopt.UserException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A hidden working directory next to a command's output ({@code .NAME.work-RANDOM}), for intermediate rows that
 * may be far larger than memory (prior outputs, PCA scores, aligned rows). It lives on the output's file system,
 * which must hold the output anyway, not in {@code /tmp} (often a RAM disk). {@link #close} closes every row file
 * it handed out and deletes the directory; a shutdown hook does the same when the process is terminated. A process
 * killed outright (SIGKILL, power loss) cannot clean up: each directory records its owner ({@value #OWNER}: process
 * id and start time), and the next command writing the same output removes the directories of owners that are gone.
 */
public final class Scratch implements AutoCloseable {
    /** The file naming the process that owns a working directory. */
    static final String OWNER = "owner";
    /** A directory without an owner file is left alone this long (its process may be about to write it). */
    private static final long UNOWNED_GRACE_MILLIS = 60_000;

    private final Path dir;
    private final List<RowFile> open = new ArrayList<>();
    private final Thread hook;
    private boolean closed;
    private int files;

    private Scratch(Path dir) {
        this.dir = dir;
        this.hook = new Thread(() -> AtomicFiles.deleteTree(dir, false), "coopt-scratch-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Creates the working directory beside {@code output} (creating the output's parent directories).
     *
     * @throws UserException when it cannot be created
     */
    public static Scratch beside(Path output) {
        Path target = output.toAbsolutePath().normalize();
        String prefix = "." + target.getFileName() + ".work-";
        String random = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        Path dir = target.resolveSibling(prefix + random);
        try {
            Files.createDirectories(target.getParent());
            removeAbandoned(target.getParent(), prefix);
            Files.createDirectory(dir);
            Files.writeString(dir.resolve(OWNER), owner(ProcessHandle.current()));
        } catch (IOException e) {
            AtomicFiles.deleteTree(dir, false);
            throw new UserException(output + ": cannot create a working directory beside it: " + IoErrors.reason(e), e);
        }
        return new Scratch(dir);
    }

    /** "PID START" of a process, START being its start time in epoch milliseconds (0 when unknown). */
    static String owner(ProcessHandle process) {
        long start = process.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
        return process.pid() + " " + start + "\n";
    }

    /** Deletes the working directories {@code parent/PREFIX*} whose owner process no longer runs. */
    private static void removeAbandoned(Path parent, String prefix) throws IOException {
        try (var entries = Files.newDirectoryStream(parent, path -> path.getFileName().toString().startsWith(prefix))) {
            for (Path dir : entries) {
                if (Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS) && abandoned(dir)) {
                    AtomicFiles.deleteTree(dir, false);
                }
            }
        }
    }

    private static boolean abandoned(Path dir) {
        Path owner = dir.resolve(OWNER);
        try {
            if (!Files.isRegularFile(owner)) {
                return System.currentTimeMillis() - Files.getLastModifiedTime(dir).toMillis() > UNOWNED_GRACE_MILLIS;
            }
            String[] fields = Files.readString(owner).trim().split(" ");
            long pid = Long.parseLong(fields[0]);
            long start = Long.parseLong(fields[1]);
            return ProcessHandle.of(pid).map(p -> start != 0 && !owner(p).trim().equals(pid + " " + start)).orElse(true);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * A writer of rows of width {@code dim} into a new scratch file named after {@code what} (and numbered, so the
     * same name may be asked for twice); see {@link #keep}.
     */
    public synchronized RowFile.Writer rows(String what, int dim) {
        if (!what.matches("[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException("scratch file names are plain words: " + what);
        }
        return RowFile.create(dir.resolve(what + "-" + (++files) + ".f32"), dim);
    }

    /** Registers {@code rows} to be closed with this directory, and returns it. */
    public synchronized RowFile keep(RowFile rows) {
        open.add(rows);
        return rows;
    }

    /** The directory. */
    public Path dir() {
        return dir;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        open.forEach(RowFile::close);
        AtomicFiles.deleteTree(dir, false);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway, and finds nothing left to delete
        }
    }
}
