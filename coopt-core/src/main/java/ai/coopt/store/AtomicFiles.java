package ai.coopt.store;

import ai.coopt.UserException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Writes files and directories so that readers only ever see the old version or the complete new one:
 * content goes to a hidden temporary sibling ({@code .NAME.tmp-RANDOM}) that is renamed into place, and
 * the temporary is removed again when writing fails.
 */
public final class AtomicFiles {
    /** Writes the content of a file. */
    @FunctionalInterface
    public interface FileContent {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** Fills a fresh, empty directory. */
    @FunctionalInterface
    public interface DirectoryContent {
        void writeInto(Path directory) throws IOException;
    }

    private AtomicFiles() {}

    /**
     * Writes {@code file} (creating its parent directories), replacing any existing file atomically.
     * The data is flushed to disk before the rename.
     *
     * @throws UserException when {@code file} is a directory or cannot be written
     */
    public static void write(Path file, FileContent content) {
        Path target = absolute(file);
        if (Files.isDirectory(target)) {
            throw new UserException(file + ": is a directory; refusing to replace it with a file");
        }
        createParent(file, target);
        Path temp = sibling(target, "tmp");
        boolean done = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                content.writeTo(channel);
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } catch (IOException e) {
            throw new UserException(file + ": cannot write: " + IoErrors.reason(e), e);
        } finally {
            if (!done) {
                deleteQuietly(temp);
            }
        }
    }

    /**
     * Flushes a directory's entries (a rename into it) to disk, so a rename survives a power loss; a file system
     * that cannot open directories for this (not Linux) is left to its own guarantees.
     */
    public static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // opening a directory is not supported everywhere; the rename itself already happened atomically
        }
    }

    /** Writes {@code bytes} to {@code file} atomically; see {@link #write(Path, FileContent)}. */
    public static void writeBytes(Path file, byte[] bytes) {
        write(file, channel -> {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        });
    }

    /**
     * Writes {@code value} as pretty-printed JSON with a final newline, atomically.
     *
     * @throws IllegalArgumentException when Jackson cannot serialise the value
     */
    public static void writeJson(Path file, Object value) {
        byte[] json;
        try {
            json = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialise " + value.getClass().getName() + " as JSON", e);
        }
        byte[] withNewline = Arrays.copyOf(json, json.length + 1);
        withNewline[json.length] = '\n';
        writeBytes(file, withNewline);
    }

    /**
     * Builds a directory in a hidden temporary sibling, then renames it to {@code directory}.
     * An existing {@code directory} is replaced only when {@code replace} is set and it is empty or provably of
     * the given kind (see {@link #checkWritable}): it is moved aside, the new one renamed in, and the old one deleted. When {@code content}
     * throws, the temporary directory is deleted and any existing directory is left as it was.
     *
     * @throws UserException when the target exists and may not be replaced, or on an I/O error
     */
    public static void writeDirectory(Path directory, DirectoryKind kind, boolean replace, DirectoryContent content) {
        Path target = absolute(directory);
        checkReplaceable(directory, target, kind, replace);
        createParent(directory, target);
        Path temp = sibling(target, "tmp");
        boolean done = false;
        try {
            Files.createDirectory(temp);
            content.writeInto(temp);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                checkReplaceable(directory, target, kind, replace);
                swap(temp, target);
            } else {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            }
            done = true;
        } catch (IOException e) {
            throw new UserException(directory + ": cannot write: " + IoErrors.reason(e), e);
        } finally {
            if (!done) {
                deleteQuietly(temp);
            }
        }
    }

    /** Replaces the existing {@code target} by {@code fresh}; on failure, puts the old one back. */
    private static void swap(Path fresh, Path target) throws IOException {
        Path old = sibling(target, "old");
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(fresh, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try {
                Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException restore) {
                e.addSuppressed(restore);
            }
            throw e;
        }
        deleteQuietly(old);
    }

    /**
     * Refuses, with one line, an output directory that {@link #writeDirectory} would not be allowed to write:
     * a path under a file, a symbolic link, a file, or an existing directory that is not provably one this
     * project wrote of {@code kind} (its marker names the kind's format and it holds only the kind's files).
     * Commands call it before any work, so that a refusal does not come after minutes of computing.
     */
    public static void checkWritable(Path directory, DirectoryKind kind) {
        checkReplaceable(directory, absolute(directory), kind, true);
    }

    private static void checkReplaceable(Path shown, Path target, DirectoryKind kind, boolean replace) {
        for (Path p = target.getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) {
                throw new UserException(p + " is a file, so " + shown + " cannot be created; choose another path");
            }
        }
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isSymbolicLink(target)) {
            throw new UserException(shown + ": is a symbolic link; refusing to write through it (give the real path)");
        }
        if (!replace) {
            throw new UserException(shown + ": already exists; refusing to overwrite it");
        }
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new UserException(shown + ": exists and is not a directory; refusing to replace it with a "
                    + kind.description());
        }
        List<String> entries = entries(shown, target);
        if (entries.isEmpty()) {
            return;
        }
        if (!entries.contains(kind.marker())) {
            throw new UserException(shown + ": exists and is not a " + kind.description() + " (no " + kind.marker()
                    + "); refusing to replace it");
        }
        String format = formatOf(target.resolve(kind.marker()));
        if (!kind.format().equals(format)) {
            throw new UserException(shown + ": its " + kind.marker() + " is not a " + kind.description() + "'s ("
                    + (format == null ? "no format field" : "format '" + format + "'") + "); refusing to replace it");
        }
        List<String> foreign = entries.stream().filter(name -> !kind.isOurs(name)).sorted().toList();
        if (!foreign.isEmpty()) {
            String shownNames = String.join(", ", foreign.subList(0, Math.min(5, foreign.size())))
                    + (foreign.size() > 5 ? " and " + (foreign.size() - 5) + " more" : "");
            throw new UserException(shown + ": holds files CoOpt did not write (" + shownNames
                    + "); refusing to replace it: move them out or choose another path");
        }
    }

    /** The marker's {@code format} field, or null when it is not a JSON object with a text format. */
    private static String formatOf(Path marker) {
        if (!Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        try {
            JsonNode format = Json.read(marker).get("format");
            return format != null && format.isTextual() ? format.asText() : null;
        } catch (UserException e) {
            return null;
        }
    }

    private static List<String> entries(Path shown, Path directory) {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            throw new UserException(shown + ": cannot list: " + IoErrors.reason(e), e);
        }
    }

    private static Path absolute(Path path) {
        Path target = path.toAbsolutePath().normalize();
        if (target.getParent() == null || target.getFileName() == null) {
            throw new UserException(path + ": not a valid output path");
        }
        return target;
    }

    private static void createParent(Path shown, Path target) {
        try {
            Files.createDirectories(target.getParent());
        } catch (IOException e) {
            throw new UserException(shown + ": cannot create its parent directory: " + IoErrors.reason(e), e);
        }
    }

    /** A hidden, unused name next to {@code target}: {@code .NAME.TAG-RANDOM}. */
    private static Path sibling(Path target, String tag) {
        String random = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        return target.resolveSibling("." + target.getFileName() + "." + tag + "-" + random);
    }

    /**
     * Deletes {@code directory} and everything in it, or with {@code keepDirectory} only what it holds; best effort,
     * for cleaning up output that a failed command made itself (never for a user's data).
     */
    public static void deleteTree(Path directory, boolean keepDirectory) {
        if (!keepDirectory) {
            deleteQuietly(directory);
            return;
        }
        try (Stream<Path> entries = Files.list(directory)) {
            entries.forEach(AtomicFiles::deleteQuietly);
        } catch (IOException ignored) {
            // best effort, see deleteQuietly
        }
    }

    /**
     * Deletes a file or directory tree, best effort: it runs on cleanup paths, where the error that caused the
     * cleanup matters more than a leftover hidden file.
     */
    public static void deleteQuietly(Path path) {
        try {
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            Files.walkFileTree(path, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // best effort, see above
        }
    }
}
