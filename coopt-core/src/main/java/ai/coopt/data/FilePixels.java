package ai.coopt.data;

import ai.coopt.UserException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * Images read from files on demand, with positioned reads at {@code long} offsets: nothing but the asked image is
 * in memory, files may be far larger than 2 GiB, and several threads may read at once. The files are
 * {@link Segment}s laid end to end: image {@code i} is in the segment whose range holds it.
 */
public final class FilePixels implements ImageSet.Pixels {
    /**
     * {@code count} images in {@code file}, the first at byte {@code offset}, one every {@code stride} bytes (the
     * image's own bytes, or a record holding it, as in CIFAR where a label byte precedes each image).
     */
    public record Segment(Path file, long offset, long count, long stride) {
        public Segment {
            if (offset < 0 || count < 0 || stride < 1) {
                throw new IllegalArgumentException("bad segment " + offset + "/" + count + "/" + stride);
            }
        }
    }

    private final List<Segment> segments;
    private final FileChannel[] channels;
    private final long[] starts;
    private final long total;

    private FilePixels(List<Segment> segments, FileChannel[] channels, long[] starts, long total) {
        this.segments = segments;
        this.channels = channels;
        this.starts = starts;
        this.total = total;
    }

    /**
     * Opens the segments' files for reading, checking that each holds its images.
     *
     * @param imageSize bytes per image, at most the stride
     * @throws UserException when a file cannot be opened or is shorter than its segment
     */
    public static FilePixels open(List<Segment> given, int imageSize) {
        // empty segments hold no image: leaving them out keeps the image-to-segment search unambiguous
        List<Segment> segments = given.stream().filter(seg -> seg.count() > 0).toList();
        FileChannel[] channels = new FileChannel[segments.size()];
        long[] starts = new long[segments.size()];
        long total = 0;
        try {
            for (int s = 0; s < segments.size(); s++) {
                Segment seg = segments.get(s);
                if (imageSize > seg.stride()) {
                    throw new IllegalArgumentException("images of " + imageSize + " bytes every " + seg.stride());
                }
                channels[s] = FileChannel.open(seg.file(), StandardOpenOption.READ);
                long needed = seg.offset() + (seg.count() - 1) * seg.stride() + imageSize;
                long size = channels[s].size();
                if (size < needed) {
                    throw new UserException(seg.file() + ": truncated: " + size + " bytes, its " + seg.count()
                            + " images need " + needed);
                }
                starts[s] = total;
                total += seg.count();
            }
        } catch (IOException e) {
            closeQuietly(channels);
            throw new UserException("cannot open image data: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channels);
            throw e;
        }
        return new FilePixels(segments, channels, starts, total);
    }

    /** The number of images in all segments. */
    public long count() {
        return total;
    }

    @Override
    public void read(long image, byte[] dst, int offset, int imageSize) {
        if (image < 0 || image >= total) {
            throw new IndexOutOfBoundsException("image " + image + " of " + total);
        }
        int s = Arrays.binarySearch(starts, image);
        if (s < 0) {
            s = -s - 2;
        }
        Segment seg = segments.get(s);
        long position = seg.offset() + (image - starts[s]) * seg.stride();
        ByteBuffer buffer = ByteBuffer.wrap(dst, offset, imageSize);
        try {
            while (buffer.hasRemaining()) {
                int n = channels[s].read(buffer, position + (buffer.position() - offset));
                if (n < 0) {
                    throw new UserException(seg.file() + ": ended inside image " + image + " (was it truncated?)");
                }
            }
        } catch (IOException e) {
            throw new UserException(seg.file() + ": cannot read image " + image + ": " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(FileChannel[] channels) {
        for (FileChannel c : channels) {
            if (c != null) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
        }
    }
}
