package ai.coopt.store;

import ai.coopt.UserException;
import ai.coopt.optimize.Matrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rows on disk: scratch files, tensors inside safetensors files, and offsets beyond 2^31. */
class RowFileTest {
    @TempDir
    Path tmp;

    private static Matrix random(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return new Matrix(v, rows, cols);
    }

    @Test
    void writtenRowsReadBackExactlyInRangesAndByIndex() {
        Matrix m = random(3000, 7, 1);
        RowFile rows;
        try (RowFile.Writer w = RowFile.create(tmp.resolve("rows.f32"), 7)) {
            w.write(m.values(), 0, 1000);
            w.write(m.values(), 7000, 2000);
            rows = w.finish();
        }
        try (rows) {
            assertEquals(3000, rows.count());
            assertEquals(7, rows.dim());
            assertArrayEquals(m.values(), rows.toArray());
            float[] part = new float[5 * 7];
            rows.read(1234, 5, part, 0);
            float[] expected = new float[5 * 7];
            m.read(1234, 5, expected, 0);
            assertArrayEquals(expected, part);
            int[] picks = {2999, 0, 17, 17};
            float[] gathered = new float[picks.length * 7];
            float[] fromMemory = new float[picks.length * 7];
            rows.gather(picks, gathered);
            m.gather(picks, fromMemory);
            assertArrayEquals(fromMemory, gathered);
            assertThrows(IndexOutOfBoundsException.class, () -> rows.read(2999, 2, new float[14], 0));
        }
        assertEquals(3000L * 7 * 4, tmp.resolve("rows.f32").toFile().length());
    }

    @Test
    void aFileTooShortForItsRowsIsRefusedInOneLine() throws IOException {
        Path file = tmp.resolve("short.f32");
        Files.write(file, new byte[4 * 10 - 1]);
        UserException e = assertThrows(UserException.class, () -> RowFile.open(file, 0, 5, 2));
        assertTrue(e.getMessage().contains("too few for 5 rows of 2 floats"), e.getMessage());
    }

    @Test
    void streamedTensorsMatchWholeOnesAndSpanSeveralBlocks() {
        // 600,000 floats: more than one 1 MiB write buffer, and a block boundary of Rows.forEachBlock at dim 3
        Matrix big = random(200_000, 3, 2);
        long[] ids = new long[big.rows()];
        java.util.Arrays.setAll(ids, i -> 5L * i);
        Path streamed = tmp.resolve("streamed.safetensors");
        LinkedHashMap<String, SafeTensors.Spec> specs = new LinkedHashMap<>();
        specs.put("x", new SafeTensors.Spec(DType.F32, new long[] {big.rows(), 3}));
        specs.put("ids", new SafeTensors.Spec(DType.I64, new long[] {ids.length}));
        SafeTensors.write(streamed, specs, Map.of("k", "v"), out -> {
            out.rows(big);
            out.longs(ids, 0, ids.length);
        });
        Path whole = tmp.resolve("whole.safetensors");
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("x", new Tensor.F32(new long[] {big.rows(), 3}, big.values()));
        tensors.put("ids", new Tensor.I64(new long[] {ids.length}, ids));
        SafeTensors.write(whole, tensors, Map.of("k", "v"));
        assertEquals(Checksums.sha256(whole), Checksums.sha256(streamed));

        SafeTensors.Layout layout = SafeTensors.layout(streamed);
        try (RowFile x = layout.rows(layout.entry("x", DType.F32, 2, "[n, 3]"))) {
            assertArrayEquals(big.values(), x.toArray());
        }
    }

    @Test
    void theStreamingWriterRefusesMoreOrLessDataThanDeclaredAndLeavesNoFile() {
        LinkedHashMap<String, SafeTensors.Spec> specs = new LinkedHashMap<>();
        specs.put("x", new SafeTensors.Spec(DType.F32, new long[] {2, 2}));
        Path file = tmp.resolve("bad.safetensors");
        assertThrows(IllegalStateException.class,
                () -> SafeTensors.write(file, specs, Map.of(), out -> out.floats(new float[3], 0, 3)));
        assertThrows(IllegalStateException.class,
                () -> SafeTensors.write(file, specs, Map.of(), out -> out.floats(new float[5], 0, 5)));
        assertThrows(IllegalStateException.class,
                () -> SafeTensors.write(file, specs, Map.of(), out -> out.longs(new long[4], 0, 4)));
        assertFalse(Files.exists(file));
        assertEquals(List.of(), list(tmp));
    }

    @Test
    void aTargetRowBeyondTwoGibibytesIsReadFromASparseFile() throws IOException {
        // a safetensors header declaring 2,200,000 x 1024 float32 targets (9 GB, more elements than a Java array
        // holds), in a sparse file: only the header and the last row are written, so CI writes a few kilobytes
        int rows = 2_200_000;
        int dim = 1024;
        long bytes = (long) rows * dim * Float.BYTES;
        String json = "{\"targets\":{\"dtype\":\"F32\",\"shape\":[" + rows + "," + dim + "],\"data_offsets\":[0," + bytes + "]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        Path file = tmp.resolve("sparse.safetensors");
        float[] last = new float[dim];
        for (int j = 0; j < dim; j++) {
            last[j] = j - 0.5f;
        }
        long lastRow = 8 + header.length + (long) (rows - 1) * dim * Float.BYTES;
        assertTrue(lastRow > (1L << 31));
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            ByteBuffer start = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            start.putLong(header.length).put(header);
            f.write(start.array());
            f.setLength(8 + header.length + bytes);
            ByteBuffer row = ByteBuffer.allocate(dim * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            row.asFloatBuffer().put(last);
            f.seek(lastRow);
            f.write(row.array());
        }
        SafeTensors.Layout layout = SafeTensors.layout(file);
        SafeTensors.Entry entry = layout.entry("targets", DType.F32, 2, "[count, dim]");
        assertEquals((long) rows * dim, entry.size());
        try (RowFile targets = layout.rows(entry)) {
            float[] got = new float[dim];
            targets.read(rows - 1, 1, got, 0);
            assertArrayEquals(last, got);
            targets.gather(new int[] {rows - 1, 0}, new float[2 * dim]);
            float[] zero = new float[dim];
            targets.read(rows / 2, 1, zero, 0);
            assertArrayEquals(new float[dim], zero);
        }
        // too large for one Java array: reading it whole is refused in one line, not attempted
        UserException e = assertThrows(UserException.class, () -> SafeTensors.read(file));
        assertTrue(e.getMessage().contains("more than one Java array can hold"), e.getMessage());
    }

    @Test
    void scratchFilesAreDeletedWithTheirDirectory() {
        Path out = tmp.resolve("out");
        Path dir;
        try (Scratch scratch = Scratch.beside(out)) {
            dir = scratch.dir();
            assertTrue(dir.getFileName().toString().startsWith(".out.work-"));
            try (RowFile.Writer w = scratch.rows("outputs", 2)) {
                w.write(new float[] {1, 2, 3, 4}, 0, 2);
                RowFile rows = scratch.keep(w.finish());
                assertEquals(2, rows.count());
            }
            assertThrows(IllegalArgumentException.class, () -> scratch.rows("../escape", 2));
        }
        assertFalse(Files.exists(dir));
        assertFalse(Files.exists(out));
    }

    @Test
    void workingDirectoriesOfKilledProcessesAreRemovedByTheNextRun() throws Exception {
        Process finished = new ProcessBuilder("true").start();
        finished.waitFor();
        long deadPid = finished.pid();
        Path dead = tmp.resolve(".out.work-dead");
        Files.createDirectories(dead);
        Files.writeString(dead.resolve(Scratch.OWNER), deadPid + " 12345\n");
        Files.write(dead.resolve("outputs-1.f32"), new byte[64]);
        Path live = tmp.resolve(".out.work-live");
        Files.createDirectories(live);
        Files.writeString(live.resolve(Scratch.OWNER), Scratch.owner(ProcessHandle.current()));
        Path other = tmp.resolve(".other.work-dead");
        Files.createDirectories(other);
        Files.writeString(other.resolve(Scratch.OWNER), deadPid + " 12345\n");
        Path fresh = tmp.resolve(".out.work-fresh");
        Files.createDirectories(fresh);

        try (Scratch scratch = Scratch.beside(tmp.resolve("out"))) {
            assertFalse(Files.exists(dead), "a dead process's directory is removed");
            assertTrue(Files.exists(live), "a running process's directory is kept");
            assertTrue(Files.exists(other), "another output's directory is not touched");
            assertTrue(Files.exists(fresh), "a directory without an owner yet is kept for a while");
            assertTrue(Files.readString(scratch.dir().resolve(Scratch.OWNER)).startsWith(ProcessHandle.current().pid() + " "));
        }
    }

    private static List<String> list(Path dir) {
        try (var entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
