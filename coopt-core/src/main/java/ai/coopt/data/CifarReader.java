package ai.coopt.data;

import ai.coopt.UserException;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the binary versions of CIFAR-10 ({@code data_batch_1.bin} … {@code data_batch_5.bin},
 * {@code test_batch.bin}; records of a label byte and 3072 pixel bytes) and CIFAR-100
 * ({@code train.bin}, {@code test.bin}; records of a coarse label byte, a fine label byte and
 * 3072 pixel bytes, of which the fine label is used). Pixels are stored as 32×32 planes of
 * red, green and blue, which is already the N×C×H×W order of {@link ImageSet}.
 *
 * <p>The directory given may hold the {@code .bin} files or be the parent of the folder the
 * archives unpack to ({@code cifar-10-batches-bin}, {@code cifar-100-binary}).
 */
public final class CifarReader {
    private static final int SIDE = 32;
    private static final int PIXELS = 3 * SIDE * SIDE;

    private CifarReader() {
    }

    /**
     * Reads one split of CIFAR-10.
     *
     * @param split {@code train} (the five data batches, in order) or {@code test}
     * @param limit read only the first {@code limit} images; ≤ 0 reads all
     * @param source recorded as {@link ImageSet#source()}
     * @throws UserException when files are missing or a file is not a whole number of records
     */
    public static ImageSet readCifar10(Path dir, String split, int limit, String source) {
        return read(Variant.CIFAR10, dir, split, limit, source);
    }

    /**
     * Reads one split of CIFAR-100 with its 100 fine labels.
     *
     * @param split {@code train} or {@code test}
     * @param limit read only the first {@code limit} images; ≤ 0 reads all
     * @param source recorded as {@link ImageSet#source()}
     * @throws UserException when a file is missing or not a whole number of records
     */
    public static ImageSet readCifar100(Path dir, String split, int limit, String source) {
        return read(Variant.CIFAR100, dir, split, limit, source);
    }

    private enum Variant {
        CIFAR10("CIFAR-10", "cifar-10-batches-bin", 1, 10,
                List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"),
                List.of("test_batch.bin")),
        CIFAR100("CIFAR-100", "cifar-100-binary", 2, 100, List.of("train.bin"), List.of("test.bin"));

        final String title;
        final String folder;
        final int labelBytes;
        final int classes;
        final List<String> train;
        final List<String> test;

        Variant(String title, String folder, int labelBytes, int classes, List<String> train, List<String> test) {
            this.title = title;
            this.folder = folder;
            this.labelBytes = labelBytes;
            this.classes = classes;
            this.train = train;
            this.test = test;
        }

        int recordSize() {
            return labelBytes + PIXELS;
        }
    }

    private static ImageSet read(Variant variant, Path dir, String split, int limit, String source) {
        Splits.check(split);
        List<String> names = split.equals("train") ? variant.train : variant.test;
        Path home = resolveHome(variant, dir);
        List<Path> files = new ArrayList<>();
        List<Integer> records = new ArrayList<>();
        long available = 0;
        for (String name : names) {
            Path file = home.resolve(name);
            long size = size(file, variant);
            if (size == 0) {
                throw new UserException(file + ": empty (0 bytes); a " + variant.title + " binary file holds "
                        + variant.recordSize() + "-byte records");
            }
            if (size % variant.recordSize() != 0) {
                throw new UserException(file + ": truncated: " + size + " bytes is not a whole number of "
                        + variant.recordSize() + "-byte " + variant.title + " records");
            }
            files.add(file);
            records.add((int) (size / variant.recordSize()));
            available += size / variant.recordSize();
        }
        int count = (int) Math.min(limit <= 0 ? available : Math.min(limit, available), Integer.MAX_VALUE - 8);
        int[] labels = new int[count];
        List<FilePixels.Segment> segments = new ArrayList<>();
        int next = 0;
        for (int f = 0; f < files.size() && next < count; f++) {
            int take = Math.min(records.get(f), count - next);
            readLabels(variant, files.get(f), take, next, labels);
            segments.add(new FilePixels.Segment(files.get(f), variant.labelBytes, take, variant.recordSize()));
            next += take;
        }
        // the pixels stay in the files and are read image by image
        return new ImageSet(source, FilePixels.open(segments, PIXELS), count, 3, SIDE, SIDE, labels);
    }

    /** The folder holding the {@code .bin} files: {@code dir} itself, or the archive's folder inside it. */
    private static Path resolveHome(Variant variant, Path dir) {
        List<String> all = new ArrayList<>(variant.train);
        all.addAll(variant.test);
        for (String name : all) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir;
            }
        }
        Path inner = dir.resolve(variant.folder);
        if (Files.isDirectory(inner)) {
            return inner;
        }
        throw new UserException(dir + " holds neither the " + variant.title + " binary files (" + String.join(", ", all)
                + ") nor a " + variant.folder + " folder");
    }

    private static long size(Path file, Variant variant) {
        if (!Files.isRegularFile(file)) {
            throw new UserException(file + ": missing (a " + variant.title + " binary file)");
        }
        try {
            return Files.size(file);
        } catch (java.io.EOFException e) {
            throw new UserException(file + ": truncated: the file ended inside a record");
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + e.getMessage());
        }
    }

    private static void readLabels(Variant variant, Path file, int take, int first, int[] labels) {
        byte[] head = new byte[variant.labelBytes];
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            for (int r = 0; r < take; r++) {
                if (in.readNBytes(head, 0, head.length) < head.length) {
                    throw new UserException(file + ": truncated: the file ended inside record " + r);
                }
                in.skipNBytes(PIXELS);
                int label = head[variant.labelBytes - 1] & 0xff;
                if (label >= variant.classes) {
                    throw new UserException(file + ": record " + r + " has label " + label + ", but "
                            + variant.title + " labels are 0.." + (variant.classes - 1));
                }
                labels[first + r] = label;
            }
        } catch (java.io.EOFException e) {
            throw new UserException(file + ": truncated: the file ended inside a record");
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + e.getMessage());
        }
    }
}
