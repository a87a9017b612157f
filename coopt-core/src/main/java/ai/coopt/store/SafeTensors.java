package ai.coopt.store;

import ai.coopt.UserException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the <a href="https://huggingface.co/docs/safetensors">safetensors</a> format: an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON describing each tensor's dtype, shape and byte range,
 * then the little-endian tensor data, contiguous and without gaps. Any safetensors reader (numpy, PyTorch)
 * reads what {@link #write} produces; {@link #read} accepts the dtypes of {@link DType}.
 */
public final class SafeTensors {
    /** The key of the free string-to-string map in the header. */
    public static final String METADATA_KEY = SafeTensorsHeader.METADATA_KEY;
    /** Headers longer than this are refused as corrupt. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    private static final int CHUNK_BYTES = 1 << 20;

    private SafeTensors() {}

    /**
     * Writes {@code tensors}, in their map order, to {@code file} via a temporary sibling and an atomic rename.
     * Metadata keys are written sorted, so identical input gives a byte-identical file.
     *
     * @throws IllegalArgumentException for an empty tensor name or one equal to {@value #METADATA_KEY}
     * @throws UserException when the file cannot be written
     */
    public static void write(Path file, LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {
        LinkedHashMap<String, Spec> specs = new LinkedHashMap<>();
        tensors.forEach((name, t) -> specs.put(name, new Spec(t.dtype(), t.shape())));
        write(file, specs, metadata, out -> {
            for (Tensor tensor : tensors.values()) {
                if (tensor instanceof Tensor.F32 t) {
                    out.floats(t.data(), 0, t.data().length);
                } else if (tensor instanceof Tensor.I64 t) {
                    out.longs(t.data(), 0, t.data().length);
                } else if (tensor instanceof Tensor.I32 t) {
                    out.ints(t.data(), 0, t.data().length);
                } else if (tensor instanceof Tensor.U8 t) {
                    out.bytes(t.data(), 0, t.data().length);
                }
            }
        });
    }

    /** A tensor's element type and shape, declared before its data is streamed. */
    public record Spec(DType dtype, long[] shape) {
        public Spec {
            shape = shape.clone();
            long n = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
                }
                n = Math.multiplyExact(n, d);
            }
        }

        /** The number of elements. */
        public long size() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        /** The data's length in bytes. */
        public long bytes() {
            return size() * dtype.bytes();
        }
    }

    /** Produces the data of the declared tensors, in their order, through a {@link Writer}. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Writer out) throws IOException;
    }

    /**
     * Writes a file whose tensors are declared up front ({@code specs}, in order) and whose data {@code content}
     * streams, so a tensor larger than the heap (or than a Java array) is written from a source read block by block.
     * The file is written to a temporary sibling and renamed when {@code content} has produced exactly the declared
     * bytes.
     *
     * @throws IllegalStateException when {@code content} writes more or fewer bytes than declared, or the wrong type
     * @throws UserException when the file cannot be written
     */
    public static void write(Path file, LinkedHashMap<String, Spec> specs, Map<String, String> metadata, Content content) {
        byte[] header = SafeTensorsHeader.write(specs, metadata, false);
        AtomicFiles.write(file, channel -> {
            Writer out = new Writer(channel, List.copyOf(specs.values()));
            out.put(ByteBuffer.wrap(header));
            content.writeTo(out);
            out.finish();
        });
    }

    /** Streams tensor data into a file being written, checking it against the declared specs. */
    public static final class Writer {
        private final FileChannel channel;
        private final List<Spec> specs;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private int tensor;
        private long left;

        private Writer(FileChannel channel, List<Spec> specs) {
            this.channel = channel;
            this.specs = specs;
            this.tensor = -1;
            next();
        }

        /** Appends float32 values to the current tensor. */
        public void floats(float[] values, int offset, int n) throws IOException {
            take(DType.F32, n);
            for (int done = 0; done < n; ) {
                int m = Math.min(room(4), n - done);
                buffer.asFloatBuffer().put(values, offset + done, m);
                buffer.position(buffer.position() + m * 4);
                done += m;
            }
        }

        /** Appends int64 values to the current tensor. */
        public void longs(long[] values, int offset, int n) throws IOException {
            take(DType.I64, n);
            for (int done = 0; done < n; ) {
                int m = Math.min(room(8), n - done);
                buffer.asLongBuffer().put(values, offset + done, m);
                buffer.position(buffer.position() + m * 8);
                done += m;
            }
        }

        /** Appends int32 values to the current tensor. */
        public void ints(int[] values, int offset, int n) throws IOException {
            take(DType.I32, n);
            for (int done = 0; done < n; ) {
                int m = Math.min(room(4), n - done);
                buffer.asIntBuffer().put(values, offset + done, m);
                buffer.position(buffer.position() + m * 4);
                done += m;
            }
        }

        /** Appends unsigned 8-bit values to the current tensor. */
        public void bytes(byte[] values, int offset, int n) throws IOException {
            take(DType.U8, n);
            for (int done = 0; done < n; ) {
                int m = Math.min(room(1), n - done);
                buffer.put(values, offset + done, m);
                done += m;
            }
        }

        /** Appends every row of {@code rows} (float32) to the current tensor, block by block. */
        public void rows(Rows rows) throws IOException {
            int block = Rows.blockRows(rows.dim());
            float[] values = new float[Math.multiplyExact(Math.min(block, Math.max(1, rows.count())), rows.dim())];
            for (int first = 0; first < rows.count(); first += block) {
                int n = Math.min(block, rows.count() - first);
                rows.read(first, n, values, 0);
                floats(values, 0, n * rows.dim());
            }
        }

        private void take(DType dtype, long n) {
            if (n == 0) {
                return;
            }
            while (left == 0 && tensor < specs.size()) {
                next();
            }
            if (tensor >= specs.size()) {
                throw new IllegalStateException("more data than the declared tensors hold");
            }
            if (specs.get(tensor).dtype() != dtype) {
                throw new IllegalStateException("tensor " + tensor + " is " + specs.get(tensor).dtype() + ", not " + dtype);
            }
            if (n > left) {
                throw new IllegalStateException(n + " values for tensor " + tensor + ", which has " + left + " left");
            }
            left -= n;
        }

        private void next() {
            tensor++;
            left = tensor < specs.size() ? specs.get(tensor).size() : 0;
        }

        /** Elements of {@code bytes} each that fit in the buffer, after flushing it when full. */
        private int room(int bytes) throws IOException {
            if (buffer.remaining() < bytes) {
                flush();
            }
            return buffer.remaining() / bytes;
        }

        private void put(ByteBuffer bytes) throws IOException {
            flush();
            writeFully(channel, bytes);
        }

        private void flush() throws IOException {
            buffer.flip();
            writeFully(channel, buffer);
            buffer.clear();
        }

        private void finish() throws IOException {
            while (left == 0 && tensor < specs.size()) {
                next();
            }
            if (tensor < specs.size()) {
                throw new IllegalStateException("tensor " + tensor + " is missing " + left + " values");
            }
            flush();
        }
    }

    /**
     * Reads and validates a whole file.
     *
     * @throws UserException naming the file, for a missing or unreadable file, a bad header (length, JSON,
     *     dtype, shape) or tensor byte ranges that are out of range, overlap, or do not cover the data exactly
     */
    public static TensorFile read(Path file) {
        Layout layout = layout(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry entry : layout.entries().values()) {
                tensors.put(entry.name(), readData(file, channel, layout.dataStart(), entry));
            }
            return new TensorFile(file, Collections.unmodifiableMap(tensors), layout.metadata());
        } catch (NoSuchFileException e) {
            throw new UserException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    /**
     * A file's validated header, without its data: where each tensor's bytes lie, so that a tensor of any size
     * can be read in parts (see {@link RowFile}).
     *
     * @param dataStart the byte where the data section begins
     * @param entries the tensors by name, in the order of their data
     */
    public record Layout(Path file, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
        /**
         * The tensor {@code name}, which must have {@code dtype} and {@code rank} dimensions ({@code shape} names
         * them for the message, e.g. {@code [count, dim]}).
         *
         * @throws UserException naming the file otherwise
         */
        public Entry entry(String name, DType dtype, int rank, String shape) {
            Entry e = entries.get(name);
            if (e == null) {
                throw new UserException(file + ": no tensor named '" + name + "'");
            }
            if (e.dtype() != dtype) {
                throw new UserException(file + ": tensor '" + name + "' is " + e.dtype() + ", expected " + dtype);
            }
            if (e.shape().length != rank) {
                throw new UserException(file + ": tensor '" + name + "' has shape " + Arrays.toString(e.shape())
                        + ", expected " + shape);
            }
            return e;
        }

        /** The rows of a float32 matrix tensor, read from the file on demand (close it when done). */
        public RowFile rows(Entry e) {
            if (e.dtype() != DType.F32 || e.shape().length != 2 || e.shape()[0] > Integer.MAX_VALUE
                    || e.shape()[1] > Integer.MAX_VALUE || e.shape()[1] == 0) {
                throw new UserException(file + ": tensor '" + e.name() + "' (" + e.dtype() + " " + Arrays.toString(e.shape())
                        + ") is not a matrix of float32 rows");
            }
            return RowFile.open(file, dataStart + e.begin(), (int) e.shape()[0], (int) e.shape()[1]);
        }

        /** An int64 tensor, whole (ids: one long per sample). */
        public long[] longs(Entry e) {
            if (e.dtype() != DType.I64 || e.size() > Integer.MAX_VALUE - 8) {
                throw new UserException(file + ": tensor '" + e.name() + "' (" + e.dtype() + ", " + e.size()
                        + " values) is not an int64 tensor that fits in memory");
            }
            long[] values = new long[(int) e.size()];
            try (FileChannel channel = FileChannel.open(file)) {
                ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                long position = dataStart + e.begin();
                for (int at = 0; at < values.length; ) {
                    int n = Math.min(chunk.capacity() / Long.BYTES, values.length - at);
                    chunk.clear().limit(n * Long.BYTES);
                    while (chunk.hasRemaining()) {
                        if (channel.read(chunk, position + (long) at * Long.BYTES + chunk.position()) < 0) {
                            throw new UserException(file + ": ends unexpectedly (was it modified while being read?)");
                        }
                    }
                    chunk.flip().asLongBuffer().get(values, at, n);
                    at += n;
                }
            } catch (IOException ex) {
                throw new UserException(file + ": cannot read: " + IoErrors.reason(ex), ex);
            }
            return values;
        }
    }

    /**
     * Reads and validates a file's header (length, JSON, dtypes, shapes, byte ranges that cover the data exactly),
     * but not its data.
     *
     * @throws UserException naming the file for anything missing or malformed
     */
    public static Layout layout(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SafeTensorsHeader.Parsed header = SafeTensorsHeader.read(channel, MAX_HEADER_BYTES);
            long dataBytes = channel.size() - header.dataStart();
            for (SafeTensorsHeader.Declared d : header.tensors().values()) {
                if (d.end() > dataBytes) {
                    throw corrupt(file, "tensor '" + SafeTensorsHeader.quote(d.name()) + "' data_offsets [" + d.begin()
                            + ", " + d.end() + "] are out of range: the data section holds " + dataBytes
                            + " bytes; truncated or corrupt");
                }
            }
            if (header.dataBytes() != dataBytes) {
                throw corrupt(file, "the data section holds " + dataBytes + " bytes but the tensors cover "
                        + header.dataBytes() + "; truncated or trailing garbage");
            }
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (SafeTensorsHeader.Declared d : header.tensors().values()) {
                DType dtype = d.type();
                if (dtype == null) {
                    throw corrupt(file, "tensor '" + SafeTensorsHeader.quote(d.name()) + "' has unsupported dtype '"
                            + SafeTensorsHeader.quote(d.dtype()) + "' (supported: " + Arrays.toString(DType.values()) + ")");
                }
                entries.put(d.name(), new Entry(d.name(), dtype, d.shape(), d.elements(), d.begin(), d.end()));
            }
            return new Layout(file, header.dataStart(), Collections.unmodifiableMap(entries), header.metadata());
        } catch (SafeTensorsHeader.Malformed e) {
            throw corrupt(file, e.getMessage());
        } catch (NoSuchFileException e) {
            throw new UserException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /**
     * A tensor's description in the header.
     *
     * @param begin where its data starts, in bytes from the start of the data section
     * @param end where it ends (exclusive)
     */
    public record Entry(String name, DType dtype, long[] shape, long size, long begin, long end) {}

    private static Tensor readData(Path file, FileChannel channel, long dataStart, Entry entry) throws IOException {
        if (entry.size() > Integer.MAX_VALUE - 8) {
            throw corrupt(file, "tensor '" + entry.name() + "' has " + entry.size()
                    + " elements, more than one Java array can hold (read it in parts)");
        }
        int n = (int) entry.size();
        long position = dataStart + entry.begin();
        return switch (entry.dtype()) {
            case F32 -> {
                float[] data = new float[n];
                readChunks(file, channel, position, n, 4, (chunk, at, count) -> chunk.asFloatBuffer().get(data, at, count));
                yield new Tensor.F32(entry.shape(), data);
            }
            case I64 -> {
                long[] data = new long[n];
                readChunks(file, channel, position, n, 8, (chunk, at, count) -> chunk.asLongBuffer().get(data, at, count));
                yield new Tensor.I64(entry.shape(), data);
            }
            case I32 -> {
                int[] data = new int[n];
                readChunks(file, channel, position, n, 4, (chunk, at, count) -> chunk.asIntBuffer().get(data, at, count));
                yield new Tensor.I32(entry.shape(), data);
            }
            case U8 -> {
                byte[] data = new byte[n];
                readChunks(file, channel, position, n, 1, (chunk, at, count) -> chunk.get(data, at, count));
                yield new Tensor.U8(entry.shape(), data);
            }
        };
    }

    /** Receives a little-endian chunk holding {@code count} elements that start at element {@code at}. */
    private interface ChunkReader {
        void take(ByteBuffer chunk, int at, int count);
    }

    private static void readChunks(Path file, FileChannel channel, long position, int elements, int elementBytes,
                                   ChunkReader reader) throws IOException {
        int perChunk = CHUNK_BYTES / elementBytes;
        ByteBuffer chunk = ByteBuffer.allocate(Math.min(perChunk, Math.max(elements, 1)) * elementBytes)
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < elements; at += perChunk) {
            int count = Math.min(perChunk, elements - at);
            chunk.clear().limit(count * elementBytes);
            readFully(file, channel, chunk, position + (long) at * elementBytes);
            reader.take(chunk.flip(), at, count);
        }
    }

    private static void readFully(Path file, FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw corrupt(file, "ends unexpectedly at byte " + at + " (was it modified while being read?)");
            }
            at += n;
        }
    }

    private static UserException corrupt(Path file, String message) {
        return new UserException(file + ": " + message);
    }
}
