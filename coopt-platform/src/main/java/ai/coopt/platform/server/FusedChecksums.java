package ai.coopt.platform.server;

import ai.coopt.platform.PrivateFiles;
import ai.coopt.platform.api.DatasetFile;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.Checksums;
import ai.coopt.store.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The fused dataset's file list with sizes and sha256, computed once when fusion writes the dataset and kept in a
 * sidecar beside it ({@code fused.sha256.json}, outside the dataset directory, whose files are fixed). A dataset
 * request reads the sidecar (once per process and sidecar version), never the data: the listing, a file lookup and a
 * 404 for an unknown name cost a map look-up. A dataset fused before the sidecar existed is hashed once, on its
 * first request, and the sidecar written then.
 */
final class FusedChecksums {
    /** The sidecar's format marker. */
    static final String FORMAT = "coopt-fused-checksums/1";

    record Sidecar(String format, List<DatasetFile> files) {}

    private record Cached(FileTime modified, List<DatasetFile> files) {}

    private final Map<Path, Cached> cache = new ConcurrentHashMap<>();

    /** Where the sidecar of the dataset directory {@code fused} lives. */
    static Path sidecar(Path fused) {
        return fused.resolveSibling(fused.getFileName() + ".sha256.json");
    }

    /** Hashes every file of the dataset directory {@code fused} and writes its sidecar (at fusion). */
    static List<DatasetFile> write(Path fused) {
        List<DatasetFile> files = new ArrayList<>();
        try (Stream<Path> list = Files.list(fused)) {
            for (Path f : list.sorted().toList()) {
                if (Files.isRegularFile(f)) {
                    files.add(new DatasetFile(f.getFileName().toString(), Files.size(f),
                            Checksums.sha256(f)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicFiles.writeJson(sidecar(fused), new Sidecar(FORMAT, files));
        PrivateFiles.restrict(sidecar(fused)); // the operator's alone, like every file of the platform directory
        return files;
    }

    /** The files of the dataset directory {@code fused}, from its sidecar (written now if it is missing). */
    List<DatasetFile> files(Path fused) {
        Path side = sidecar(fused);
        FileTime modified;
        try {
            modified = Files.getLastModifiedTime(side);
        } catch (NoSuchFileException e) {
            synchronized (this) {
                if (!Files.exists(side)) {
                    write(fused);
                }
            }
            return files(fused);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Cached c = cache.get(fused);
        if (c != null && c.modified().equals(modified)) {
            return c.files();
        }
        try {
            Sidecar s = Json.mapper().readValue(side.toFile(), Sidecar.class);
            if (!FORMAT.equals(s.format()) || s.files() == null) {
                throw new IOException("not a " + FORMAT + " file");
            }
            List<DatasetFile> files = List.copyOf(s.files());
            cache.put(fused, new Cached(modified, files));
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(side + ": cannot read: " + e.getMessage(), e);
        }
    }
}
