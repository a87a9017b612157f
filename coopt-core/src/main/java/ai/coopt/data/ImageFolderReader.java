package ai.coopt.data;

import ai.coopt.UserException;
import ai.coopt.nn.Architectures;
import com.twelvemonkeys.imageio.metadata.CompoundDirectory;
import com.twelvemonkeys.imageio.metadata.Directory;
import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEG;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegment;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegmentUtil;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFReader;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static ai.coopt.Setting.IMAGE_SIZE;
import static ai.coopt.Setting.LIMIT;
import static ai.coopt.Setting.SKIP_BAD_IMAGES;

/**
 * Reads a folder of PNG/JPEG images, as people have them: one sub-folder per class (searched to any depth; the
 * label of an image is the index of its class folder in sorted name order) or loose image files (unlabeled), of
 * any size and aspect ratio, grayscale, RGB, RGBA, indexed or CMYK, with EXIF orientation honoured. Each image is
 * resized (bilinear) so that its shorter side is {@link Options#imageSize()} and centre-cropped to a square of that
 * side; without a size asked for, images that all share one size keep it ({@link #commonSide}). Images have 3 channels unless every image read is grayscale, in which case they have 1. Files are decoded
 * in parallel and taken in sorted order (class, then path), so the result does not depend on the number of threads.
 *
 * <p>Splits: when the folder has {@code train/} and {@code test/} (or {@code val/}) sub-folders, those are the
 * splits; otherwise the whole folder is the only split, {@code train}. Hidden entries and files of other types
 * are ignored. A file that cannot be decoded completely (truncated, empty, not an image, a header declaring more
 * than {@value #MAX_SOURCE_PIXELS} pixels) fails the read with one line naming it, unless
 * {@link Options#skipBadImages()}, which skips and counts it.
 */
public final class ImageFolderReader {
    /** The side images are resized and cropped to when no size is asked for. */
    public static final int DEFAULT_IMAGE_SIZE = 64;
    /** The most pixels a source image may declare (a decompression-bomb guard): 16384 × 16384. */
    public static final long MAX_SOURCE_PIXELS = 1L << 28;

    /**
     * @param imageSize the side of the square each image becomes
     * @param skipBadImages skip (and count) files that cannot be decoded instead of failing
     * @param sizeGiven whether {@code imageSize} was asked for; when not, a folder whose images all share one size is
     *     read at that size (its shorter side), and {@code imageSize} applies only to folders of mixed sizes
     */
    public record Options(int imageSize, boolean skipBadImages, boolean sizeGiven) {
        public Options {
            if (imageSize < 1 || imageSize > Architectures.MAX_SIDE) {
                throw new UserException(names -> names.of(IMAGE_SIZE) + " must be between 1 and "
                        + Architectures.MAX_SIDE + ", not " + imageSize);
            }
        }

        /** Every image resized and cropped to {@code imageSize}, as asked. */
        public Options(int imageSize, boolean skipBadImages) {
            this(imageSize, skipBadImages, true);
        }

        /** The images' own size when they all share one, else {@value #DEFAULT_IMAGE_SIZE} pixels; failing on a bad file. */
        public static Options defaults() {
            return new Options(DEFAULT_IMAGE_SIZE, false, false);
        }
    }

    private ImageFolderReader() {
    }

    /** Reads one split with the {@link Options#defaults()}. */
    public static ImageSet read(Path dir, String split, int limit, String source) {
        return read(dir, split, limit, 0, source, Options.defaults());
    }

    /** Reads one split, drawing a {@code limit} subset with seed 0. */
    public static ImageSet read(Path dir, String split, int limit, String source, Options options) {
        return read(dir, split, limit, 0, source, options);
    }

    /**
     * Reads one split.
     *
     * @param split {@code train} or {@code test}
     * @param limit read a seeded random subset of {@code limit} files, stratified by class folder (see {@link Subset});
     *     ≤ 0 reads all. Only the drawn files are decoded; a skipped file is not replaced by another
     * @param seed  the subset's seed
     * @param source recorded as {@link ImageSet#source()}
     * @throws UserException when the split does not exist, the folder holds no images, or an image cannot be
     *     decoded (naming the file) and bad images are not skipped
     */
    public static ImageSet read(Path dir, String split, int limit, long seed, String source, Options options) {
        Splits.check(split);
        Path root = splitDir(dir, split);
        List<Path> classes = new ArrayList<>();
        List<Path> loose = new ArrayList<>();
        for (Path entry : list(root)) {
            if (Files.isDirectory(entry)) {
                classes.add(entry);
            } else if (isImage(entry)) {
                loose.add(entry);
            }
        }
        if (!classes.isEmpty() && !loose.isEmpty()) {
            throw new UserException(root + " mixes image files (" + loose.get(0).getFileName()
                    + ") with class sub-folders (" + classes.get(0).getFileName() + "); use one or the other");
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        if (classes.isEmpty()) {
            files.addAll(loose);
        }
        for (int c = 0; c < classes.size(); c++) {
            List<Path> images = imagesBelow(classes.get(c));
            if (images.isEmpty()) {
                throw new UserException("class folder " + classes.get(c) + " holds no PNG or JPEG images");
            }
            for (Path image : images) {
                files.add(image);
                labels.add(c);
            }
        }
        if (files.isEmpty()) {
            throw new UserException(root + " holds no PNG or JPEG images");
        }
        int[] all = classes.isEmpty() ? null : labels.stream().mapToInt(Integer::intValue).toArray();
        Subset.Drawn drawn = Subset.draw(files.size(), all, Math.max(0, limit), seed);
        int[] listed = drawn == null ? null : drawn.indices();
        List<Path> chosen = listed == null ? files : java.util.Arrays.stream(listed).mapToObj(files::get).toList();
        int[] chosenLabels = all == null || listed == null ? all : java.util.Arrays.stream(listed).map(i -> all[i]).toArray();
        Options used = options;
        if (!options.sizeGiven()) {
            // a folder of 32-px images is read at 32 px, not scaled up to the default (four times every later cost)
            used = new Options(commonSide(chosen).orElse(options.imageSize()), options.skipBadImages(), true);
        }
        ImageSet set = assemble(chosen, chosenLabels, listed, source, used);
        return drawn == null ? set : set.withDrawn(drawn.subset());
    }

    /**
     * The shorter side of the images when all of them declare the same size (width and height, either way round:
     * EXIF orientation may turn a photo), read from their headers only; empty when sizes differ, or when the common
     * side is larger than a network takes. A header that cannot be read is passed over here (the decode names it).
     */
    static Optional<Integer> commonSide(List<Path> files) {
        long[] sizes = files.parallelStream().mapToLong(ImageFolderReader::declaredSize).filter(v -> v >= 0).distinct()
                .limit(2).toArray();
        if (sizes.length != 1) {
            return Optional.empty();
        }
        int side = (int) (sizes[0] >>> 32);
        return side >= 1 && side <= Architectures.MAX_SIDE ? Optional.of(side) : Optional.empty();
    }

    /** The declared size of an image as (shorter side << 32 | longer side), or -1 when its header cannot be read. */
    private static long declaredSize(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                return -1;
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return -1;
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                if (width <= 0 || height <= 0) {
                    return -1;
                }
                return ((long) Math.min(width, height) << 32) | Math.max(width, height);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Decodes {@code files}; {@code listed} holds their indices in the split's listing (null: 0, 1, 2, …). */
    private static ImageSet assemble(List<Path> files, int[] labels, int[] listed, String source, Options options) {
        int side = options.imageSize();
        int plane = side * side;
        int n = files.size();
        if ((long) n * 3 * plane > Integer.MAX_VALUE - 8) {
            throw new UserException(names -> n + " images of " + side + "x" + side
                    + " do not fit in memory at once (the "
                    + "out-of-core data path is not built yet); read fewer with " + names.of(LIMIT)
                    + " or choose a smaller " + names.of(IMAGE_SIZE));
        }
        byte[] rgb = new byte[n * 3 * plane];
        boolean[] gray = new boolean[n];
        String[] errors = new String[n];
        IntStream.range(0, n).parallel().forEach(i -> {
            try {
                gray[i] = decodeInto(files.get(i), side, rgb, i * 3 * plane);
            } catch (BadImage e) {
                errors[i] = files.get(i) + ": " + e.getMessage();
            }
        });
        List<Integer> kept = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (errors[i] == null) {
                kept.add(i);
            } else if (!options.skipBadImages()) {
                String error = errors[i];
                throw new UserException(names -> error + " (" + names.of(SKIP_BAD_IMAGES) + " skips such files)");
            }
        }
        if (kept.isEmpty()) {
            throw new UserException("none of the " + n + " image files could be decoded, e.g. " + errors[0]);
        }
        boolean allGray = kept.stream().allMatch(i -> gray[i]);
        int channels = allGray ? 1 : 3;
        byte[] pixels = kept.size() == n && !allGray ? rgb : new byte[kept.size() * channels * plane];
        if (pixels != rgb) {
            for (int k = 0; k < kept.size(); k++) {
                System.arraycopy(rgb, kept.get(k) * 3 * plane, pixels, k * channels * plane, channels * plane);
            }
        }
        int[] labelArray = labels == null ? null : kept.stream().mapToInt(i -> labels[i]).toArray();
        returnDecodingGarbage();
        ImageSet set = new ImageSet(source, pixels, kept.size(), channels, side, side, labelArray).withSkipped(n - kept.size());
        if (listed == null && kept.size() == n) {
            return set;
        }
        // an id is the file's index in the split's listing, whatever was drawn or skipped
        return set.withSourceIds(kept.stream().mapToInt(i -> listed == null ? i : listed[i]).toArray());
    }

    /**
     * Decoding on every core makes garbage faster than anything else the process does, and the JVM's collector answers
     * by growing the heap, which it then keeps for the whole run: 4.6 GB committed for 0.3 GB in use, through an hour
     * of training after CIFAR-10's 50,000 files, memory the engine's native arrays then lacked. One full collection
     * once the decoding is over gives it back to the system.
     */
    private static void returnDecodingGarbage() {
        System.gc();
    }

    /** A file that cannot be read as a whole image. */
    private static final class BadImage extends Exception {
        BadImage(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Decodes {@code file}, turns it upright, resizes its shorter side to {@code side} and centre-crops it, then
     * writes its three planes (R, G, B; equal for a grayscale image) at {@code offset}. Returns whether it is
     * grayscale.
     */
    /**
     * Whether a reader's warning concerns colour management (a CMYK JPEG without an ICC profile, a profile that is
     * ignored), which leaves every pixel decoded, rather than damage (a truncated or corrupt stream).
     */
    static boolean aboutColourProfile(String warning) {
        String w = warning.toLowerCase(java.util.Locale.ROOT);
        return w.contains("icc") || w.contains("color profile") || w.contains("colour profile");
    }

    private static boolean decodeInto(Path file, int side, byte[] out, int offset) throws BadImage {
        BufferedImage image;
        int orientation;
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new BadImage("cannot open");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BadImage(Files.size(file) == 0 ? "empty file" : "not a readable PNG or JPEG image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> {
                    if (!aboutColourProfile(warning)) {
                        warnings.add(warning);
                    }
                });
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                if (width <= 0 || height <= 0 || (long) width * height > MAX_SOURCE_PIXELS) {
                    throw new BadImage("declares " + width + "x" + height + " pixels; at most " + MAX_SOURCE_PIXELS
                            + " are read");
                }
                ImageReadParam param = reader.getDefaultReadParam();
                // decode no more than about twice the pixels the output needs: a 12-megapixel photo becomes a
                // few hundred pixels a side while it is read, so memory stays small and decoding fast
                int step = Math.max(1, Math.min(width, height) / (2 * side));
                if (step > 1) {
                    param.setSourceSubsampling(step, step, 0, 0);
                }
                image = reader.read(0, param);
                if (!warnings.isEmpty()) {
                    throw new BadImage("damaged: " + warnings.get(0));
                }
                orientation = "jpeg".equalsIgnoreCase(reader.getFormatName()) ? exifOrientation(file) : 1;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            throw new BadImage("cannot decode: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        }
        boolean gray = isGray(image);
        int[] argb = pixels(image, gray);
        int w = image.getWidth();
        int h = image.getHeight();
        if (orientation >= 5) {
            argb = orient(argb, w, h, orientation);
            int t = w;
            w = h;
            h = t;
        } else if (orientation > 1) {
            argb = orient(argb, w, h, orientation);
        }
        BufferedImage upright = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        upright.setRGB(0, 0, w, h, argb, 0, w);
        BufferedImage square = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        double scale = side / (double) Math.min(w, h);
        int dw = Math.max(side, (int) Math.round(w * scale));
        int dh = Math.max(side, (int) Math.round(h * scale));
        Graphics2D g = square.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(upright, (side - dw) / 2, (side - dh) / 2, dw, dh, null);
        } finally {
            g.dispose();
        }
        int plane = side * side;
        int[] row = square.getRGB(0, 0, side, side, null, 0, side);
        for (int p = 0; p < plane; p++) {
            int v = row[p];
            out[offset + p] = (byte) (v >> 16);
            out[offset + plane + p] = (byte) (v >> 8);
            out[offset + 2 * plane + p] = (byte) v;
        }
        return gray;
    }

    private static boolean isGray(BufferedImage image) {
        return image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && !(image.getColorModel() instanceof IndexColorModel);
    }

    /**
     * The image as packed RGB. A grayscale image keeps its own values (scaled to 8 bits, no colour management);
     * anything else is converted to sRGB by its colour model (CMYK, indexed), alpha dropped as PIL's RGB does.
     */
    private static int[] pixels(BufferedImage image, boolean gray) {
        int w = image.getWidth();
        int h = image.getHeight();
        if (!gray) {
            return image.getRGB(0, 0, w, h, null, 0, w);
        }
        Raster raster = image.getRaster();
        int bits = image.getColorModel().getComponentSize(0);
        int max = (1 << bits) - 1;
        int[] out = new int[w * h];
        int[] samples = new int[w];
        for (int y = 0; y < h; y++) {
            raster.getSamples(0, y, w, 1, 0, samples);
            for (int x = 0; x < w; x++) {
                int v = bits == 8 ? samples[x] : (int) (((long) samples[x] * 255 + max / 2) / max);
                out[y * w + x] = (v << 16) | (v << 8) | v;
            }
        }
        return out;
    }

    /** The EXIF orientation (1-8) of a JPEG file; 1 when it has none or it cannot be read (as browsers do). */
    private static int exifOrientation(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            List<JPEGSegment> segments = JPEGSegmentUtil.readSegments(in, JPEG.APP1, "Exif");
            if (segments.isEmpty()) {
                return 1;
            }
            try (InputStream data = segments.get(0).data()) {
                if (data.read() < 0) { // the pad byte after "Exif\0"
                    return 1;
                }
                try (ImageInputStream exif = ImageIO.createImageInputStream(data)) {
                    Directory directory = new TIFFReader().read(exif);
                    Entry entry = directory instanceof CompoundDirectory compound && compound.directoryCount() > 0
                            ? compound.getDirectory(0).getEntryById(TIFF.TAG_ORIENTATION)
                            : directory.getEntryById(TIFF.TAG_ORIENTATION);
                    if (entry != null && entry.getValue() instanceof Number value && value.intValue() >= 1
                            && value.intValue() <= 8) {
                        return value.intValue();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return 1;
        }
        return 1;
    }

    /**
     * Applies EXIF orientation {@code o} (2-8) to a {@code w × h} image: the result is what the camera saw, upright;
     * for 5-8 it is {@code h × w}.
     */
    static int[] orient(int[] src, int w, int h, int o) {
        boolean swap = o >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        int[] out = new int[src.length];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx;
                int sy;
                switch (o) {
                    case 2 -> { sx = w - 1 - x; sy = y; }
                    case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
                    case 4 -> { sx = x; sy = h - 1 - y; }
                    case 5 -> { sx = y; sy = x; }
                    case 6 -> { sx = y; sy = h - 1 - x; }
                    case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
                    case 8 -> { sx = w - 1 - y; sy = x; }
                    default -> { sx = x; sy = y; }
                }
                out[y * ow + x] = src[sy * w + sx];
            }
        }
        return out;
    }

    private static Path splitDir(Path dir, String split) {
        Path train = dir.resolve("train");
        Path test = Files.isDirectory(dir.resolve("test")) ? dir.resolve("test") : dir.resolve("val");
        if (Files.isDirectory(train) && Files.isDirectory(test)) {
            return split.equals("train") ? train : test;
        }
        if (split.equals("test")) {
            throw new UserException(dir + " has no train/ and test/ (or val/) sub-folders, so its only split is train");
        }
        return dir;
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UserException(dir + ": cannot list folder: " + e.getMessage());
        }
    }

    /** The images anywhere below {@code dir}, in sorted path order, hidden files and folders left out. */
    private static List<Path> imagesBelow(Path dir) {
        try (Stream<Path> entries = Files.walk(dir)) {
            return entries.filter(p -> isImage(p) && !hidden(dir.relativize(p)))
                    .sorted()
                    .toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new UserException(dir + ": cannot list folder: " + e.getMessage());
        }
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isImage(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(file) && (name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg"));
    }
}
