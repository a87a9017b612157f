package ai.coopt.platform.server;

import ai.coopt.platform.PrivateFiles;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.store.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * This process's staging directory, {@code staging/ID/}, where uploads are received before they are checked and
 * committed: ID is the process's instance id (random per start), and the process holds a lock on
 * {@code staging/ID/.lock} while it runs, so others can tell a live process's directory from a dead one's. Opening it
 * removes what processes that are gone left behind.
 */
final class Staging implements AutoCloseable {
    /**
     * An upload file no accepted row names is removed only when it is older than this: another live process may have
     * just renamed it into {@code uploads/} and be about to commit it (which takes milliseconds; the margin also
     * covers clocks of machines sharing the directory over NFS being minutes apart).
     */
    static final long ORPHAN_UPLOAD_AGE_MILLIS = 10 * 60_000;
    /** Staging leftovers without a lock file (from a coopt before per-process staging) go when untouched this long. */
    static final long STALE_STAGING_AGE_MILLIS = 60 * 60_000;
    static final String STAGING_LOCK = ".lock";

    private final String instanceId = UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    private final Path dir;
    private final Path staging;
    private FileChannel lock;

    private Staging(Path dir) {
        this.dir = dir;
        this.staging = dir.resolve("staging").resolve(instanceId);
    }

    /**
     * Makes this process's staging directory (locked while the process lives), removes the staging directories of
     * processes that are gone, and upload files no accepted row names (left by a crash before a commit) once they are
     * old enough that no live process can still be about to commit them ({@value #ORPHAN_UPLOAD_AGE_MILLIS} ms).
     * Another process's staging directory is gone when its lock is free: the operating system releases the lock of a
     * process that ends in any way, also {@code kill -9} (on NFS the shared directory must support locks: NFSv4 does,
     * a mount with {@code nolock} does not).
     */
    static Staging open(Path dir, PlatformStore store, long now) {
        Staging s = new Staging(dir);
        s.cleanUp(store, now);
        return s;
    }

    /** This process's instance id: its staging directory's name and its name as fusion owner. */
    String instanceId() {
        return instanceId;
    }

    /** A new file name in this process's staging directory (made if a cleaner removed it meanwhile). */
    Path newFile() throws IOException {
        Files.createDirectories(staging);
        return staging.resolve("upload-" + UUID.randomUUID() + ".tmp");
    }

    private void cleanUp(PlatformStore store, long now) {
        try {
            Files.createDirectories(staging);
            PrivateFiles.restrict(staging.getParent());
            PrivateFiles.restrict(staging);
            Path lockFile = staging.resolve(STAGING_LOCK);
            Files.newOutputStream(lockFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND).close();
            PrivateFiles.restrict(lockFile); // before the lock is taken (see PlatformService.open)
            lock = FileChannel.open(lockFile, StandardOpenOption.WRITE);
            lock.lock();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the staging directory " + staging, e);
        }
        try (Stream<Path> entries = Files.list(dir.resolve("staging"))) {
            for (Path other : entries.toList()) {
                if (!other.equals(staging) && abandoned(other, now)) {
                    AtomicFiles.deleteQuietly(other);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Set<String> kept = store.uploads().filesInUse(); // every round's
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

    /** Whether the process with this instance id is alive on this directory: it holds its staging directory's lock. */
    static boolean alive(Path dir, String instanceId) {
        return instanceId != null && instanceId.matches("[0-9a-f]{16}")
                && lockHeld(dir.resolve("staging").resolve(instanceId));
    }

    /** Whether a live process holds the lock of the staging directory {@code staging}. */
    private static boolean lockHeld(Path staging) {
        Path lockFile = staging.resolve(STAGING_LOCK);
        if (!Files.isDirectory(staging, LinkOption.NOFOLLOW_LINKS) || !Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock held = channel.tryLock();
            if (held == null) {
                return true;
            }
            held.release();
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

    /** Releases the lock and removes this process's staging directory (nothing in it is committed). */
    @Override
    public void close() {
        try {
            if (lock != null) {
                lock.close();
            }
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
        AtomicFiles.deleteQuietly(staging);
    }
}
