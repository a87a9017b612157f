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
 * it handed out and deletes the directory; a shutdown hook does the same when the process is terminated.
 */
public final class Scratch implements AutoCloseable {
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
        String random = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        Path dir = target.resolveSibling("." + target.getFileName() + ".work-" + random);
        try {
            Files.createDirectories(target.getParent());
            Files.createDirectory(dir);
        } catch (IOException e) {
            throw new UserException(output + ": cannot create a working directory beside it: " + IoErrors.reason(e), e);
        }
        return new Scratch(dir);
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
