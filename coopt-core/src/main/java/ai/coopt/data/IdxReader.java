package ai.coopt.data;

import ai.coopt.UserException;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

import static ai.coopt.Setting.LIMIT;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST: unsigned-byte image files
 * (magic {@code 0x00000803}, N×H×W) and label files (magic {@code 0x00000801}, N),
 * raw or gzip-compressed (recognised by the gzip magic bytes, whatever the file name).
 * Every problem with a file (missing, truncated, wrong magic, counts that disagree) is a
 * {@link UserException} naming the file.
 */
public final class IdxReader {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    private IdxReader() {
    }

    /**
     * The file {@code base} or {@code base.gz} in {@code dir}, preferring the raw one,
     * or {@code null} when neither is a regular file.
     */
    public static Path find(Path dir, String base) {
        for (Path candidate : new Path[] {dir.resolve(base), dir.resolve(base + ".gz")}) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /**
     * Reads images and their labels.
     *
     * @param labelsFile the label file, or {@code null} for unlabeled images
     * @param limit      read only the first {@code limit} samples; ≤ 0 reads all
     * @param source     recorded as {@link ImageSet#source()}
     * @throws UserException when a file is missing or malformed, or the two files hold
     *                       different numbers of samples
     */
    public static ImageSet read(Path imagesFile, Path labelsFile, int limit, String source) {
        try (IdxStream images = IdxStream.open(imagesFile, IMAGES_MAGIC, "image");
             IdxStream labels = labelsFile == null ? null : IdxStream.open(labelsFile, LABELS_MAGIC, "label")) {
            if (labels != null && labels.dims[0] != images.dims[0]) {
                throw new UserException(imagesFile + " holds " + images.dims[0] + " images but " + labelsFile
                        + " holds " + labels.dims[0] + " labels");
            }
            int count = take(images.dims[0], limit);
            int height = images.dims[1];
            int width = images.dims[2];
            int[] labelValues = labels == null ? null : readLabelValues(labels, count);
            if (!images.compressed) {
                // a raw file is read from disk image by image, whatever its size
                FilePixels pixels = FilePixels.open(List.of(new FilePixels.Segment(imagesFile, images.position, count,
                        (long) height * width)), height * width);
                return new ImageSet(source, pixels, count, 1, height, width, labelValues);
            }
            if ((long) count * height * width > Integer.MAX_VALUE - 8) {
                throw new UserException(names -> imagesFile + ": " + count + " images of " + height + "x" + width
                        + " do not fit in memory at once from a .gz file; decompress it (gunzip) to read it from disk, "
                        + "or read fewer with " + names.of(LIMIT));
            }
            byte[] pixels = images.readBody(count * height * width);
            return new ImageSet(source, pixels, count, 1, height, width, labelValues);
        }
    }

    /**
     * Reads the labels of a label file.
     *
     * @param limit read only the first {@code limit} labels; ≤ 0 reads all
     */
    public static int[] readLabels(Path labelsFile, int limit) {
        try (IdxStream labels = IdxStream.open(labelsFile, LABELS_MAGIC, "label")) {
            return readLabelValues(labels, take(labels.dims[0], limit));
        }
    }

    private static int take(int available, int limit) {
        return limit <= 0 ? available : Math.min(limit, available);
    }

    private static int[] readLabelValues(IdxStream labels, int count) {
        byte[] raw = labels.readBody(count);
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            values[i] = raw[i] & 0xff;
        }
        return values;
    }

    /** One open IDX file positioned after its header. */
    private static final class IdxStream implements AutoCloseable {
        private final Path file;
        private final InputStream in;
        private final int[] dims;
        private final boolean compressed;
        private long position;

        private IdxStream(Path file, InputStream in, int[] dims, boolean compressed, long position) {
            this.file = file;
            this.in = in;
            this.dims = dims;
            this.compressed = compressed;
            this.position = position;
        }

        static IdxStream open(Path file, int magic, String kind) {
            InputStream in = null;
            try {
                in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
                in.mark(2);
                boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
                in.reset();
                if (gzip) {
                    // unbuffered on top, so that a read cut short by the end of the data loses no bytes
                    in = new GZIPInputStream(in, 1 << 16);
                }
                int ndims = magic & 0xff;
                byte[] header = new byte[4 + 4 * ndims];
                int got = in.readNBytes(header, 0, header.length);
                if (got >= 4 && readInt(header, 0) != magic) {
                    throw new UserException(file + ": not an IDX " + kind + " file (magic 0x"
                            + String.format("%08x", readInt(header, 0)) + ", expected 0x"
                            + String.format("%08x", magic) + ")");
                }
                if (got < header.length) {
                    throw new UserException(file + ": truncated: the " + header.length
                            + "-byte IDX header ends after " + got + " bytes");
                }
                int[] dims = new int[ndims];
                for (int d = 0; d < ndims; d++) {
                    dims[d] = readInt(header, 4 + 4 * d);
                    if (dims[d] < 0 || (d > 0 && dims[d] == 0)) {
                        throw new UserException(file + ": bad IDX header: dimension " + d + " is " + dims[d]);
                    }
                }
                if (!gzip) {
                    checkRawSize(file, header.length, dims);
                }
                IdxStream stream = new IdxStream(file, in, dims, gzip, header.length);
                in = null;
                return stream;
            } catch (NoSuchFileException e) {
                throw new UserException(file + ": no such file");
            } catch (EOFException e) {
                throw new UserException(file + ": truncated: the gzip data ends inside the IDX header");
            } catch (ZipException e) {
                throw new UserException(file + ": corrupt gzip data (" + e.getMessage() + ")");
            } catch (IOException e) {
                throw new UserException(file + ": cannot read: " + e.getMessage());
            } finally {
                closeQuietly(in);
            }
        }

        /** An uncompressed file's size is known up front, so a short file is caught before decoding. */
        private static void checkRawSize(Path file, int headerSize, int[] dims) throws IOException {
            long body = 1;
            for (int d : dims) {
                body *= d;
            }
            long expected = headerSize + body;
            long size = Files.size(file);
            if (size < expected) {
                throw new UserException(file + ": truncated: header says " + content(dims) + " but the file ends after "
                        + size + " bytes (expected " + expected + ")");
            }
        }

        /** The next {@code length} bytes of the body. */
        byte[] readBody(int length) {
            byte[] body = new byte[length];
            int off = 0;
            try {
                while (off < length) {
                    int n = in.read(body, off, length - off);
                    if (n < 0) {
                        break;
                    }
                    off += n;
                }
            } catch (EOFException e) {
                // a gzip stream cut short: reported below like any other short file
            } catch (ZipException e) {
                throw new UserException(file + ": corrupt gzip data (" + e.getMessage() + ")");
            } catch (IOException e) {
                throw new UserException(file + ": cannot read: " + e.getMessage());
            }
            if (off < length) {
                throw new UserException(file + ": truncated: header says " + content(dims) + " but the "
                        + (compressed ? "decompressed data ends" : "file ends") + " after " + (position + off) + " bytes");
            }
            position += off;
            return body;
        }

        @Override
        public void close() {
            closeQuietly(in);
        }

        private static String content(int[] dims) {
            return dims.length == 3 ? dims[0] + " images of " + dims[1] + "x" + dims[2] : dims[0] + " labels";
        }

        private static int readInt(byte[] b, int off) {
            return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
        }

        private static void closeQuietly(InputStream in) {
            if (in != null) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // nothing was written, so a failed close loses nothing
                }
            }
        }
    }
}
