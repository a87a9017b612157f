package ai.coopt.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A platform directory is its operator's alone, whatever the umask: directories 0700, files 0600 (the database, the
 * shards, the uploads, the fused dataset). On a file system without POSIX permissions nothing is done; a file that
 * vanished meanwhile or that another user owns (a directory shared by several serve processes) is left as it is.
 */
public final class PrivateFiles {
    static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private PrivateFiles() {}

    /**
     * {@code path} (a file or a directory, not what is in it) made private. A path that already is is not touched:
     * the JDK changes a mode without following links by opening the file and closing it again, and closing any
     * descriptor of a file drops every POSIX lock this process holds on it — SQLite's on its database, for one, after
     * which the server no longer saw what other processes wrote to it.
     */
    public static void restrict(Path path) {
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        if (view == null) {
            return;
        }
        try {
            Set<PosixFilePermission> want = Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? DIRECTORY
                    : Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) ? FILE : null;
            if (want != null && !view.readAttributes().permissions().equals(want)) {
                view.setPermissions(want);
            }
        } catch (FileSystemException e) {
            // gone meanwhile, or not ours to change
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restrict the permissions of " + path, e);
        }
    }

    /** Creates {@code file} empty with mode 0600 when it does not exist, else makes it private ({@link #restrict}). */
    public static void createPrivateFile(Path file) {
        try {
            if (Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView(PosixFileAttributeView.class)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(FILE));
            } else {
                Files.createFile(file);
            }
        } catch (FileAlreadyExistsException e) {
            restrict(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + file, e);
        }
    }

    /** {@code root} and everything under it made private (symbolic links are not followed). */
    public static void restrictTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            all.forEach(PrivateFiles::restrict);
        } catch (IOException | UncheckedIOException e) {
            // a directory removed during the walk (a staging directory being cleaned up): what is left keeps its mode
        }
    }
}
