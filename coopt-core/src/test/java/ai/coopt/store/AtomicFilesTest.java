package ai.coopt.store;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    private static final DirectoryKind KIND = new DirectoryKind("test directory", "marker.json", "test/1",
            java.util.Set.of("marker.json", "data.bin"));

    /** A marker of {@link #KIND} carrying {@code value}. */
    private static String marker(String value) {
        return "{\"format\": \"test/1\", \"value\": \"" + value + "\"}";
    }

    @TempDir
    Path root;

    @Test
    void writeBytesCreatesParentsAndReplaces() throws IOException {
        Path file = root.resolve("a/b/c.bin");
        AtomicFiles.writeBytes(file, new byte[] {1, 2, 3});
        AtomicFiles.writeBytes(file, new byte[] {4});
        assertArrayEquals(new byte[] {4}, Files.readAllBytes(file));
        assertEquals(List.of(file), entries(file.getParent()));
    }

    @Test
    void failedFileWriteKeepsTheOldFileAndLeavesNoTemporary() throws IOException {
        Path file = root.resolve("keep.txt");
        Files.writeString(file, "old");
        UserException e = assertThrows(UserException.class, () -> AtomicFiles.write(file, channel -> {
            channel.write(ByteBuffer.wrap("partial".getBytes(StandardCharsets.UTF_8)));
            throw new IOException("disk full");
        }));
        assertEquals(file + ": cannot write: disk full", e.getMessage());
        assertEquals("old", Files.readString(file));
        assertEquals(List.of(file), entries(root));
    }

    @Test
    void writeJsonIsPrettyWithFinalNewline() throws IOException {
        Path file = root.resolve("x.json");
        AtomicFiles.writeJson(file, Map.of("a", 1));
        String text = Files.readString(file);
        assertTrue(text.endsWith("}\n"), text);
        assertTrue(text.contains("\n  \"a\""), text);
    }

    @Test
    void refusesToReplaceADirectoryWithAFile() {
        assertThrows(UserException.class, () -> AtomicFiles.writeBytes(root, new byte[1]));
    }

    @Test
    void writesAFreshDirectory() throws IOException {
        Path out = root.resolve("nested/out");
        AtomicFiles.writeDirectory(out, KIND, false, tmp -> Files.writeString(tmp.resolve("marker.json"), marker("new")));
        assertEquals(marker("new"), Files.readString(out.resolve("marker.json")));
        assertEquals(List.of(out), entries(out.getParent()));
    }

    @Test
    void interruptedDirectoryWriteLeavesNothingBehind() throws IOException {
        Path out = root.resolve("out");
        RuntimeException boom = new IllegalStateException("boom");
        RuntimeException thrown = assertThrows(IllegalStateException.class, () -> AtomicFiles.writeDirectory(out, KIND, true, tmp -> {
            Files.writeString(tmp.resolve("marker.json"), marker("half"));
            Files.createDirectories(tmp.resolve("sub"));
            Files.writeString(tmp.resolve("sub/data"), "half");
            throw boom;
        }));
        assertEquals(boom, thrown);
        assertFalse(Files.exists(out));
        assertEquals(List.of(), entries(root));
    }

    @Test
    void ioFailureInBuildStepIsAUserErrorAndLeavesNothingBehind() throws IOException {
        Path out = root.resolve("out");
        UserException e = assertThrows(UserException.class, () -> AtomicFiles.writeDirectory(out, KIND, true, tmp -> {
            throw new IOException("no space left on device");
        }));
        assertEquals(out + ": cannot write: no space left on device", e.getMessage());
        assertEquals(List.of(), entries(root));
    }

    @Test
    void replacesADirectoryOfTheSameKind() throws IOException {
        Path out = root.resolve("out");
        AtomicFiles.writeDirectory(out, KIND, true, tmp -> {
            Files.writeString(tmp.resolve("marker.json"), marker("old"));
            Files.writeString(tmp.resolve("data.bin"), "old");
        });
        AtomicFiles.writeDirectory(out, KIND, true, tmp -> Files.writeString(tmp.resolve("marker.json"), marker("new")));
        assertEquals(marker("new"), Files.readString(out.resolve("marker.json")));
        assertFalse(Files.exists(out.resolve("data.bin")), "old content is gone, not merged");
        assertEquals(List.of(out), entries(root));
    }

    @Test
    void interruptedReplacementKeepsTheOldDirectory() throws IOException {
        Path out = root.resolve("out");
        AtomicFiles.writeDirectory(out, KIND, true, tmp -> Files.writeString(tmp.resolve("marker.json"), marker("old")));
        assertThrows(IllegalStateException.class, () -> AtomicFiles.writeDirectory(out, KIND, true, tmp -> {
            Files.writeString(tmp.resolve("marker.json"), marker("new"));
            throw new IllegalStateException("boom");
        }));
        assertEquals(marker("old"), Files.readString(out.resolve("marker.json")));
        assertEquals(List.of(out), entries(root));
    }

    @Test
    void replacesAnEmptyDirectory() throws IOException {
        Path out = Files.createDirectory(root.resolve("out"));
        AtomicFiles.writeDirectory(out, KIND, true, tmp -> Files.writeString(tmp.resolve("marker.json"), marker("new")));
        assertEquals(marker("new"), Files.readString(out.resolve("marker.json")));
    }

    @Test
    void refusesToReplaceWithoutPermission() throws IOException {
        Path out = root.resolve("out");
        AtomicFiles.writeDirectory(out, KIND, false, tmp -> Files.writeString(tmp.resolve("marker.json"), marker("old")));
        UserException e = assertThrows(UserException.class,
                () -> AtomicFiles.writeDirectory(out, KIND, false, tmp -> Files.writeString(tmp.resolve("marker.json"), marker("new"))));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        assertEquals(marker("old"), Files.readString(out.resolve("marker.json")));
    }

    @Test
    void refusesToReplaceADirectoryOfAnotherKind() throws IOException {
        Path out = Files.createDirectory(root.resolve("photos"));
        Files.writeString(out.resolve("holiday.jpg"), "precious");
        UserException e = assertThrows(UserException.class,
                () -> AtomicFiles.writeDirectory(out, KIND, true, tmp -> Files.writeString(tmp.resolve("marker.json"), marker("new"))));
        assertEquals(out + ": exists and is not a test directory (no marker.json); refusing to replace it", e.getMessage());
        assertEquals("precious", Files.readString(out.resolve("holiday.jpg")));
        assertEquals(List.of(out), entries(root));
    }

    @Test
    void refusesToReplaceAFileWithADirectory() throws IOException {
        Path out = root.resolve("file");
        Files.writeString(out, "precious");
        UserException e = assertThrows(UserException.class,
                () -> AtomicFiles.writeDirectory(out, KIND, true, tmp -> Files.writeString(tmp.resolve("marker.json"), marker("new"))));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
        assertEquals("precious", Files.readString(out));
    }

    @Test
    void refusesADirectoryWhoseMarkerIsSomeoneElses() throws IOException {
        Path out = Files.createDirectory(root.resolve("webapp"));
        Files.writeString(out.resolve("marker.json"), "{\"name\": \"app\"}");
        Files.writeString(out.resolve("index.html"), "precious");
        UserException e = assertThrows(UserException.class, () -> AtomicFiles.checkWritable(out, KIND));
        assertEquals(out + ": its marker.json is not a test directory's (no format field); refusing to replace it",
                e.getMessage());
        Files.writeString(out.resolve("marker.json"), "{\"format\": \"test/2\"}");
        e = assertThrows(UserException.class, () -> AtomicFiles.writeDirectory(out, KIND, true,
                tmp -> Files.writeString(tmp.resolve("marker.json"), marker("new"))));
        assertTrue(e.getMessage().contains("format 'test/2'"), e.getMessage());
        assertEquals("precious", Files.readString(out.resolve("index.html")));
    }

    @Test
    void refusesADirectoryOfOursThatHoldsOtherFiles() throws IOException {
        Path out = root.resolve("out");
        AtomicFiles.writeDirectory(out, KIND, true, tmp -> Files.writeString(tmp.resolve("marker.json"), marker("old")));
        Files.writeString(out.resolve("NOTES.md"), "mine");
        UserException e = assertThrows(UserException.class, () -> AtomicFiles.writeDirectory(out, KIND, true,
                tmp -> Files.writeString(tmp.resolve("marker.json"), marker("new"))));
        assertEquals(out + ": holds files CoOpt did not write (NOTES.md); refusing to replace it: move them out or "
                + "choose another path", e.getMessage());
        assertEquals("mine", Files.readString(out.resolve("NOTES.md")));
        assertEquals(marker("old"), Files.readString(out.resolve("marker.json")));
    }

    @Test
    void refusesToWriteThroughASymbolicLink() throws IOException {
        Path real = Files.createDirectory(root.resolve("real"));
        Path link = Files.createSymbolicLink(root.resolve("link"), real);
        UserException e = assertThrows(UserException.class, () -> AtomicFiles.checkWritable(link, KIND));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        assertEquals(List.of(), entries(real));
    }

    @Test
    void refusesAPathUnderAFile() throws IOException {
        Path file = Files.writeString(root.resolve("file"), "precious");
        UserException e = assertThrows(UserException.class, () -> AtomicFiles.checkWritable(file.resolve("out"), KIND));
        assertTrue(e.getMessage().contains("is a file"), e.getMessage());
    }

    private static List<Path> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
