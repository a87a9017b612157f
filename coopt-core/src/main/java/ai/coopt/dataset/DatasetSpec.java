package ai.coopt.dataset;

import ai.coopt.UserException;
import ai.coopt.data.CifarReader;
import ai.coopt.data.IdxReader;
import ai.coopt.data.ImageFolderReader;
import ai.coopt.data.ImageSet;
import ai.coopt.data.KnownDatasets;
import ai.coopt.data.Splits;
import ai.coopt.store.PackedImages;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

import static ai.coopt.Setting.IMAGE_SIZE;

/**
 * A parsed {@code --data SPEC}: a known dataset ({@code fashion-mnist}, {@code mnist}) or a
 * reader and a directory ({@code idx:DIR}, {@code cifar10:DIR}, {@code cifar100:DIR},
 * {@code folder:DIR}, {@code packed:DIR}). Parsing checks only the syntax, so a spec recorded on one machine can
 * be parsed on another; {@link #load} checks that the data is there.
 */
public final class DatasetSpec {
    /** The accepted forms, for error messages. */
    public static final String ACCEPTED_FORMS =
            "fashion-mnist, mnist, idx:DIR, cifar10:DIR, cifar100:DIR, folder:DIR, packed:DIR";

    private final String scheme;
    private final Path dir;
    private final ImageFolderReader.Options folder;
    private final ai.coopt.util.ProgressListener progress;
    private final long limitSeed;

    private DatasetSpec(String scheme, Path dir, ImageFolderReader.Options folder, ai.coopt.util.ProgressListener progress,
                        long limitSeed) {
        this.scheme = scheme;
        this.dir = dir;
        this.folder = folder;
        this.progress = progress;
        this.limitSeed = limitSeed;
    }

    private DatasetSpec(String scheme, Path dir) {
        this(scheme, dir, ImageFolderReader.Options.defaults(), ai.coopt.util.ProgressListener.NONE, 0);
    }

    /** This spec, telling {@code progress} about long reads (verifying a pack's shards). */
    public DatasetSpec withProgress(ai.coopt.util.ProgressListener progress) {
        return new DatasetSpec(scheme, dir, folder, progress, limitSeed);
    }

    /** This spec, drawing a {@link #load} limit's subset with {@code seed} ({@code --limit-seed}; 0 by default). */
    public DatasetSpec withLimitSeed(long seed) {
        return new DatasetSpec(scheme, dir, folder, progress, seed);
    }

    /** The seed a {@link #load} limit's subset is drawn with. */
    public long limitSeed() {
        return limitSeed;
    }

    /**
     * This spec with how image files are read: the square side they are resized and cropped to (null: the images' own
     * size when they all share one, else {@value ImageFolderReader#DEFAULT_IMAGE_SIZE}), and whether undecodable files
     * are skipped.
     *
     * @throws UserException when an image size is given for a dataset whose images have a fixed size (IDX, CIFAR)
     */
    public DatasetSpec withImageOptions(Integer imageSize, boolean skipBadImages) {
        if (!scheme.equals("folder")) {
            if (imageSize != null) {
                throw new UserException(names -> names.of(IMAGE_SIZE) + " applies to folder: datasets; " + spec()
                        + " keeps its images' size");
            }
            return this;
        }
        return new DatasetSpec(scheme, dir, new ImageFolderReader.Options(
                imageSize == null ? ImageFolderReader.DEFAULT_IMAGE_SIZE : imageSize, skipBadImages, imageSize != null),
                progress, limitSeed);
    }

    /**
     * Parses a dataset spec. A relative DIR is made absolute against the working directory,
     * and a leading {@code ~/} stands for the home directory.
     *
     * @throws UserException for an unknown scheme or a missing DIR, listing the accepted forms
     */
    public static DatasetSpec parse(String spec) {
        String text = spec == null ? "" : spec.strip();
        if (KnownDatasets.NAMES.contains(text)) {
            return new DatasetSpec(text, null);
        }
        int colon = text.indexOf(':');
        String scheme = colon < 0 ? text : text.substring(0, colon);
        if (colon < 0 || !(scheme.equals("idx") || scheme.equals("cifar10") || scheme.equals("cifar100")
                || scheme.equals("folder") || scheme.equals("packed"))) {
            throw new UserException("unknown dataset spec '" + text + "'; accepted forms: " + ACCEPTED_FORMS);
        }
        String dirText = text.substring(colon + 1);
        if (dirText.isEmpty()) {
            throw new UserException("dataset spec '" + text + "' names no directory; accepted forms: " + ACCEPTED_FORMS);
        }
        if (dirText.equals("~") || dirText.startsWith("~/")) {
            dirText = System.getProperty("user.home") + dirText.substring(1);
        }
        try {
            return new DatasetSpec(scheme, Path.of(dirText).toAbsolutePath().normalize());
        } catch (InvalidPathException e) {
            throw new UserException("dataset spec '" + text + "': not a valid path: " + e.getMessage());
        }
    }

    /** The canonical form: the known name, or {@code scheme:/absolute/dir}. */
    public String spec() {
        return dir == null ? scheme : scheme + ":" + dir;
    }

    /**
     * Loads one split. Known datasets are located, or downloaded when absent (progress on stderr).
     * The result's {@link ImageSet#source()} is {@code spec():split}.
     *
     * @param split {@code train} or {@code test}
     * @param limit a seeded random subset of this many samples, stratified by class when the split is labelled, in
     *     split order (see {@link Subset}; the seed is {@link #limitSeed()}); ≤ 0 reads all
     * @throws UserException when the split is neither, or the data is missing or malformed
     */
    public ImageSet load(String split, int limit) {
        Splits.check(split);
        String source = spec() + ":" + split;
        int n = Math.max(0, limit);
        if (dir != null && !Files.isDirectory(dir)) {
            throw new UserException("dataset " + spec() + ": " + dir + " is not a directory");
        }
        if (scheme.equals("folder")) {
            return ImageFolderReader.read(dir, split, n, limitSeed, source, folder);  // decodes only the drawn files
        }
        // the other readers map or hold the whole split, and the draw is a view of it
        ImageSet whole = dir == null
                ? loadIdx(KnownDatasets.fetch(scheme, null, KnownDatasets.Progress.stderr()), split, source)
                : switch (scheme) {
                    case "idx" -> loadIdx(dir, split, source);
                    case "cifar10" -> CifarReader.readCifar10(dir, split, 0, source);
                    case "cifar100" -> CifarReader.readCifar100(dir, split, 0, source);
                    default -> PackedImages.open(dir, split, 0, source, progress);
                };
        return whole.draw(n, limitSeed);
    }

    @Override
    public String toString() {
        return spec();
    }


    private static ImageSet loadIdx(Path dir, String split, String source) {
        String prefix = split.equals("train") ? "train" : "t10k";
        return IdxReader.read(requireIdx(dir, prefix + "-images-idx3-ubyte"),
                requireIdx(dir, prefix + "-labels-idx1-ubyte"), 0, source);
    }

    private static Path requireIdx(Path dir, String base) {
        Path file = IdxReader.find(dir, base);
        if (file == null) {
            throw new UserException(dir + " has no " + base + " (or " + base + ".gz)");
        }
        return file;
    }
}
