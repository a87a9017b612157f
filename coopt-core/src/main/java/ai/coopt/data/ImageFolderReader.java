package ai.coopt.data;

import ai.coopt.UserException;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Reads a folder of PNG/JPEG images. With one sub-folder per class the label of an image is
 * the index of its folder in sorted name order; a folder holding image files directly and no
 * sub-folders is unlabeled. Images are taken in sorted order (class, then file name), resized
 * (bilinear) to the size of the first one, and have 3 channels unless every image read is
 * grayscale, in which case they have 1.
 *
 * <p>Splits: when the folder has {@code train/} and {@code test/} (or {@code val/}) sub-folders,
 * those are the splits; otherwise the whole folder is the only split, {@code train}.
 * Hidden entries and files of other types are ignored.
 */
public final class ImageFolderReader {
    private ImageFolderReader() {
    }

    /**
     * Reads one split.
     *
     * @param split {@code train} or {@code test}
     * @param limit read only the first {@code limit} images; ≤ 0 reads all
     * @param source recorded as {@link ImageSet#source()}
     * @throws UserException when the split does not exist, the folder holds no images, or an
     *                       image cannot be decoded (naming the file)
     */
    public static ImageSet read(Path dir, String split, int limit, String source) {
        DatasetSpec.checkSplit(split);
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
            List<Path> images = list(classes.get(c)).stream().filter(ImageFolderReader::isImage).toList();
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
        int count = limit <= 0 ? files.size() : Math.min(limit, files.size());
        return assemble(files.subList(0, count), classes.isEmpty() ? null : labels.subList(0, count), source);
    }

    private static ImageSet assemble(List<Path> files, List<Integer> labels, String source) {
        List<BufferedImage> images = new ArrayList<>(files.size());
        boolean allGray = true;
        int width = 0;
        int height = 0;
        for (Path file : files) {
            BufferedImage image = decode(file);
            if (images.isEmpty()) {
                width = image.getWidth();
                height = image.getHeight();
            }
            allGray &= image.getType() == BufferedImage.TYPE_BYTE_GRAY;
            images.add(resize(image, width, height));
        }
        int channels = allGray ? 1 : 3;
        int plane = width * height;
        if ((long) images.size() * channels * plane > Integer.MAX_VALUE - 8) {
            throw new UserException(images.size() + " images of " + width + "x" + height
                    + " do not fit in memory at once; read fewer with a limit");
        }
        byte[] pixels = new byte[images.size() * channels * plane];
        int[] samples = new int[plane];
        for (int i = 0; i < images.size(); i++) {
            BufferedImage image = images.get(i);
            Raster raster = image.getRaster();
            int base = i * channels * plane;
            for (int c = 0; c < channels; c++) {
                int band = image.getType() == BufferedImage.TYPE_BYTE_GRAY ? 0 : c;
                raster.getSamples(0, 0, width, height, band, samples);
                for (int p = 0; p < plane; p++) {
                    pixels[base + c * plane + p] = (byte) samples[p];
                }
            }
        }
        int[] labelArray = labels == null ? null : labels.stream().mapToInt(Integer::intValue).toArray();
        return new ImageSet(source, pixels, images.size(), channels, height, width, labelArray);
    }

    /**
     * Decodes an image into 8-bit samples without colour management: a grayscale image becomes
     * {@code TYPE_BYTE_GRAY} holding its own values, anything else {@code TYPE_INT_RGB}, whose
     * raster bands are red, green and blue.
     */
    private static BufferedImage decode(Path file) {
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new UserException(file + ": cannot decode image: " + (e.getMessage() != null ? e.getMessage() : e));
        }
        if (image == null) {
            throw new UserException(file + ": not a readable PNG or JPEG image");
        }
        int width = image.getWidth();
        int height = image.getHeight();
        boolean gray = image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && !(image.getColorModel() instanceof IndexColorModel);
        if (gray) {
            BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
            int bits = image.getColorModel().getComponentSize(0);
            int max = (1 << bits) - 1;
            int[] row = new int[width];
            for (int y = 0; y < height; y++) {
                image.getRaster().getSamples(0, y, width, 1, 0, row);
                for (int x = 0; x < width; x++) {
                    row[x] = bits == 8 ? row[x] : (row[x] * 255 + max / 2) / max;
                }
                out.getRaster().setSamples(0, y, width, 1, 0, row);
            }
            return out;
        }
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        out.setRGB(0, 0, width, height, image.getRGB(0, 0, width, height, null, 0, width), 0, width);
        return out;
    }

    private static BufferedImage resize(BufferedImage image, int width, int height) {
        if (image.getWidth() == width && image.getHeight() == height) {
            return image;
        }
        BufferedImage out = new BufferedImage(width, height, image.getType());
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(image, 0, 0, width, height, null);
        } finally {
            g.dispose();
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

    private static boolean isImage(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(file) && (name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg"));
    }
}
