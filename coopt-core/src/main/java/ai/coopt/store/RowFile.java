package ai.coopt.store;

import ai.coopt.UserException;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Rows of float32, little-endian, row-major, stored contiguously in a file from a byte offset: a tensor inside a
 * safetensors file, or a scratch file written by {@link Writer}. Rows are read with positioned reads at 64-bit
 * offsets, so files beyond 2 GiB work, several threads may read at once, and nothing but the rows asked for
 * comes into the heap (the operating system's page cache holds the rest, outside the process).
 */
public final class RowFile implements Rows, Closeable {
    /** Bytes read per call: below the garbage collector's large-object size, so reading makes ordinary garbage. */
    private static final int CHUNK_BYTES = 1 << 18;

    private final Path file;
    private final FileChannel channel;
    private final long offset;
    private final int count;
    private final int dim;

    private RowFile(Path file, FileChannel channel, long offset, int count, int dim) {
        this.file = file;
        this.channel = channel;
        this.offset = offset;
        this.count = count;
        this.dim = dim;
    }

    /**
     * Opens {@code count × dim} floats stored from byte {@code offset} of {@code file}.
     *
     * @throws UserException when the file cannot be opened or is too short for them
     */
    public static RowFile open(Path file, long offset, int count, int dim) {
        if (offset < 0 || count < 0 || dim < 1) {
            throw new IllegalArgumentException("bad row layout: offset " + offset + ", " + count + " × " + dim);
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
            long needed = offset + (long) count * dim * Float.BYTES;
            if (channel.size() < needed) {
                throw new UserException(file + ": holds " + channel.size() + " bytes, too few for " + count + " rows of "
                        + dim + " floats from byte " + offset + "; truncated?");
            }
            return new RowFile(file, channel, offset, count, dim);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UserException(file + ": cannot read: " + IoErrors.reason(e), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    @Override
    public int count() {
        return count;
    }

    @Override
    public int dim() {
        return dim;
    }

    /** The file the rows are in. */
    public Path file() {
        return file;
    }

    @Override
    public void read(int first, int n, float[] dst, int at) {
        checkRange(first, n);
        long position = offset + (long) first * dim * Float.BYTES;
        long elements = (long) n * dim;
        int perChunk = CHUNK_BYTES / Float.BYTES;
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(perChunk, Math.max(elements, 1)) * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < elements; done += perChunk) {
            int m = (int) Math.min(perChunk, elements - done);
            chunk.clear().limit(m * Float.BYTES);
            readFully(chunk, position + done * Float.BYTES);
            chunk.flip().asFloatBuffer().get(dst, at + (int) done, m);
        }
    }

    @Override
    public void gather(int[] rows, float[] dst) {
        ByteBuffer row = ByteBuffer.allocate(dim * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < rows.length; i++) {
            checkRange(rows[i], 1);
            row.clear();
            readFully(row, offset + (long) rows[i] * dim * Float.BYTES);
            row.flip().asFloatBuffer().get(dst, i * dim, dim);
        }
    }

    private void readFully(ByteBuffer buffer, long position) {
        try {
            long at = position;
            while (buffer.hasRemaining()) {
                int got = channel.read(buffer, at);
                if (got < 0) {
                    throw new UserException(file + ": ends unexpectedly at byte " + at + " (was it modified while being read?)");
                }
                at += got;
            }
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // read-only: nothing is lost
            }
        }
    }

    /**
     * Creates {@code file} (it must not exist) and returns a writer that appends rows of {@code dim} floats to it.
     * A scratch file: it has no header, and whoever made it knows its width.
     */
    public static Writer create(Path file, int dim) {
        try {
            return new Writer(file, FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), dim);
        } catch (IOException e) {
            throw new UserException(file + ": cannot write: " + IoErrors.reason(e), e);
        }
    }

    /** Appends rows to a scratch file through one 1 MiB buffer; {@link #finish} opens what was written for reading. */
    public static final class Writer implements RowSink, Closeable {
        private final Path file;
        private final FileChannel channel;
        private final int dim;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private long rows;

        private Writer(Path file, FileChannel channel, int dim) {
            if (dim < 1) {
                throw new IllegalArgumentException("rows need a positive width, not " + dim);
            }
            this.file = file;
            this.channel = channel;
            this.dim = dim;
        }

        @Override
        public void write(float[] values, int offset, int n) {
            long elements = (long) n * dim;
            try {
                for (long done = 0; done < elements; ) {
                    if (buffer.remaining() < Float.BYTES) {
                        flush();
                    }
                    int m = (int) Math.min(buffer.remaining() / Float.BYTES, elements - done);
                    buffer.asFloatBuffer().put(values, offset + (int) done, m);
                    buffer.position(buffer.position() + m * Float.BYTES);
                    done += m;
                }
            } catch (IOException e) {
                throw new UserException(file + ": cannot write: " + IoErrors.reason(e), e);
            }
            rows += n;
        }

        /** Rows written so far. */
        public long rows() {
            return rows;
        }

        private void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }

        /** Writes out what is buffered, closes the file and opens it for reading. */
        public RowFile finish() {
            if (rows > Integer.MAX_VALUE) {
                throw new IllegalStateException(rows + " rows are more than a row index can address");
            }
            try {
                flush();
                channel.close();
            } catch (IOException e) {
                throw new UserException(file + ": cannot write: " + IoErrors.reason(e), e);
            }
            return open(file, 0, (int) rows, dim);
        }

        @Override
        public void close() {
            closeQuietly(channel);
        }
    }
}
