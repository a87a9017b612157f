package ai.coopt.store;

import ai.coopt.UserException;
import ai.coopt.data.FilePixels;
import ai.coopt.data.ImageSet;
import ai.coopt.data.Subset;
import ai.coopt.util.ProgressListener;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.node.NullNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntToLongFunction;
import java.util.regex.Pattern;

import static ai.coopt.Setting.SHARD_IMAGES;

/**
 * Images packed into shards on disk, format {@value #FORMAT}: a directory of safetensors files
 * {@code images-00001-of-000NN.safetensors}, each with {@code ids} int64 [n] (each image's index in the source
 * split), {@code labels} int64 [n] when the images are labelled, and {@code images} uint8 [n, C, H, W], plus
 * {@value #MANIFEST} (format, count, shape, the source with the fingerprint of its exact samples, each shard's file,
 * count and sha256, and how it was made). Any safetensors reader (numpy alone) reads a shard.
 *
 * <p>{@link #write} streams: one image at a time is in memory. {@link #open} checks the manifest, every shard's
 * header and sha256, and returns an {@link ImageSet} whose images are read from the shards on demand.
 */
public final class PackedImages {
    public static final String FORMAT = "coopt-packed-images/1";
    public static final String MANIFEST = "manifest.json";
    /** Images per shard when not asked otherwise. */
    public static final int DEFAULT_SHARD_IMAGES = 10_000;

    private static final int MAX_HEADER = 1 << 20;
    private static final Pattern SHARD_NAME = Pattern.compile("images-\\d{5}-of-\\d{5}\\.safetensors");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** The manifest, as written and read by {@link Json}. */
    public record Manifest(String format, long count, int channels, int height, int width, boolean labelled,
                           Source source, List<Shard> shards, Created created) {}

    /**
     * The images the pack was made from; {@code fingerprint} is {@link ImageSet#fingerprint()} of them; {@code subset}
     * records how {@code --limit} drew them from the split (null: the whole split). A shard's ids are the images'
     * indices in that split, increasing.
     */
    public record Source(String spec, String split, long count, String fingerprint, int skippedImages,
                         @JsonSetter(nulls = Nulls.SET) @JsonInclude(JsonInclude.Include.NON_NULL) Subset subset) {}

    /** One shard file. */
    public record Shard(String file, int count, String sha256) {}

    /** When and by what command the pack was made. */
    public record Created(String time, String toolVersion, List<String> commandLine) {}

    /** Packed directories, recognised by their manifest. */
    public static final DirectoryKind KIND = new DirectoryKind("CoOpt packed-image directory", MANIFEST, FORMAT,
            Set.of(MANIFEST), SHARD_NAME);

    private PackedImages() {}

    /**
     * Writes {@code images} as shards of at most {@code shardImages} images into {@code dir}, atomically (the
     * directory appears complete or not at all; an existing pack may be replaced, nothing else).
     *
     * @param spec the dataset spec the images came from, recorded as the source
     */
    public static Manifest write(Path dir, ImageSet images, String spec, String split, int shardImages,
                                 ManifestProvenance.Created created, ProgressListener progress) {
        if (shardImages < 1) {
            throw new UserException(names -> names.of(SHARD_IMAGES) + " must be at least 1, not " + shardImages);
        }
        if (images.count() == 0) {
            throw new UserException(images.source() + " holds no images to pack");
        }
        int n = images.count();
        int shards = (n + shardImages - 1) / shardImages;
        if (shards > 99_999) {
            throw new UserException(names -> n + " images in shards of " + shardImages + " would make " + shards
                    + " files; at most 99999: raise " + names.of(SHARD_IMAGES));
        }
        List<Shard> written = new ArrayList<>();
        ImageSet.Fingerprint fingerprint = new ImageSet.Fingerprint(n, images.channels(), images.height(), images.width());
        Manifest[] manifest = new Manifest[1];
        progress.start("packing", n, "img");
        AtomicFiles.writeDirectory(dir, KIND, true, tmp -> {
            for (int s = 0; s < shards; s++) {
                int first = s * shardImages;
                int count = Math.min(shardImages, n - first);
                String name = shardName(s, shards);
                String sha = writeShard(tmp.resolve(name), images, first, count, i -> images.sourceId(first + i),
                        images.hasLabels(), fingerprint);
                written.add(new Shard(name, count, sha));
                progress.advance(first + count);
            }
            manifest[0] = new Manifest(FORMAT, n, images.channels(), images.height(), images.width(),
                    images.hasLabels(), new Source(spec, split, n, fingerprint.finish(images.labels()), images.skipped(),
                    images.drawn()),
                    List.copyOf(written), new Created(created.time().toString(), created.toolVersion(),
                    created.commandLine()));
            AtomicFiles.writeJson(tmp.resolve(MANIFEST), manifest[0]);
        });
        progress.finish();
        return manifest[0];
    }

    /** {@code images-00001-of-00012.safetensors} for shard index 0 of 12. */
    public static String shardName(int index, int shards) {
        return String.format(Locale.ROOT, "images-%05d-of-%05d.safetensors", index + 1, shards);
    }

    /**
     * Writes {@code images} (in order, without labels) as one shard file whose i-th image has id {@code ids[i]}: how
     * the platform serves a participant the images of its shard. Written to a temporary sibling, made durable and
     * renamed into place.
     *
     * @return the file's sha256
     */
    public static String writeFile(Path file, ImageSet images, long[] ids) {
        if (images.count() != ids.length || ids.length == 0) {
            throw new IllegalArgumentException(images.count() + " images for " + ids.length + " ids");
        }
        String[] sha = new String[1];
        AtomicFiles.write(file, out -> sha[0] = writeShard(out, images, 0, ids.length, i -> ids[i], false,
                new ImageSet.Fingerprint(ids.length, images.channels(), images.height(), images.width())));
        return sha[0];
    }

    /**
     * Opens a file written by {@link #writeFile} after checking its sha256, its header and that it holds exactly
     * {@code ids}, in order; the images are read from the file on demand.
     *
     * @throws UserException for anything missing, malformed, or not what was expected, naming the file
     */
    public static ImageSet openFile(Path file, String sha256, long[] ids, String source) {
        if (!Files.isRegularFile(file)) {
            throw new UserException(file + ": missing");
        }
        String actual = Checksums.sha256(file);
        if (!actual.equals(sha256)) {
            throw new UserException(file + ": checksum mismatch (sha256 " + actual + ", expected " + sha256 + ")");
        }
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            SafeTensorsHeader.Parsed header = header(in, file);
            SafeTensorsHeader.Declared imagesTensor = header.tensors().get("images");
            if (imagesTensor == null || imagesTensor.shape().length != 4) {
                throw new UserException(file + ": no images tensor of rank 4");
            }
            long[] shape = imagesTensor.shape();
            int c = (int) Math.min(shape[1], Integer.MAX_VALUE);
            int h = (int) Math.min(shape[2], Integer.MAX_VALUE);
            int w = (int) Math.min(shape[3], Integer.MAX_VALUE);
            if ((c != 1 && c != 3) || h < 1 || w < 1 || h > ai.coopt.nn.Architectures.MAX_SIDE
                    || w > ai.coopt.nn.Architectures.MAX_SIDE) {
                throw new UserException(file + ": image shape " + c + "x" + h + "x" + w + " is not 1 or 3 channels of at most "
                        + ai.coopt.nn.Architectures.MAX_SIDE + " pixels a side");
            }
            long n = ids.length;
            long imageBytes = n * c * h * w;
            expect(file, header, "ids", DType.I64, new long[] {n}, 0, 8 * n);
            expect(file, header, "images", DType.U8, new long[] {n, c, h, w}, 8 * n, 8 * n + imageBytes);
            long dataStart = header.dataStart();
            if (header.tensors().containsKey("labels") || in.size() != dataStart + 8 * n + imageBytes) {
                throw new UserException(file + ": " + in.size() + " bytes and tensors " + header.tensors().keySet()
                        + "; expected ids and images only, " + (dataStart + 8 * n + imageBytes) + " bytes");
            }
            checkIds(in, file, dataStart, ids.length, i -> ids[i]);
            FilePixels pixels = FilePixels.open(List.of(new FilePixels.Segment(file, dataStart + 8 * n, ids.length,
                    c * h * w)), c * h * w);
            return new ImageSet(source, pixels, ids.length, c, h, w, null);
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    /** Reads a shard's ids (the first tensor of its data) and checks the i-th is {@code expected(i)}. */
    private static void checkIds(FileChannel in, Path file, long dataStart, int n, IntToLongFunction expected)
            throws IOException {
        ByteBuffer ids = ByteBuffer.allocate(8 * Math.min(n, 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
        for (int first = 0; first < n; first += 1 << 16) {
            int k = Math.min(1 << 16, n - first);
            ids.clear().limit(8 * k);
            readFully(in, ids, dataStart + 8L * first, file);
            ids.flip();
            for (int i = first; i < first + k; i++) {
                long id = ids.getLong();
                if (id != expected.applyAsLong(i)) {
                    throw new UserException(file + ": image " + i + " has id " + id + ", expected "
                            + expected.applyAsLong(i));
                }
            }
        }
    }

    private static String writeShard(Path file, ImageSet images, int first, int count, IntToLongFunction id,
                                     boolean withLabels, ImageSet.Fingerprint fingerprint) throws IOException {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            String sha = writeShard(out, images, first, count, id, withLabels, fingerprint);
            out.force(true);
            return sha;
        }
    }

    private static String writeShard(FileChannel out, ImageSet images, int first, int count, IntToLongFunction id,
                                     boolean withLabels, ImageSet.Fingerprint fingerprint) throws IOException {
        int size = images.imageSize();
        long idsBytes = 8L * count;
        long labelsBytes = withLabels ? 8L * count : 0;
        long imageBytes = (long) count * size;
        LinkedHashMap<String, SafeTensors.Spec> tensors = new LinkedHashMap<>();
        tensors.put("ids", new SafeTensors.Spec(DType.I64, new long[] {count}));
        if (withLabels) {
            tensors.put("labels", new SafeTensors.Spec(DType.I64, new long[] {count}));
        }
        tensors.put("images", new SafeTensors.Spec(DType.U8, new long[] {count, images.channels(), images.height(),
                images.width()}));
        MessageDigest sha = sha256();
        write(out, ByteBuffer.wrap(SafeTensorsHeader.write(tensors, Map.of("format", FORMAT), true)), sha);
        ByteBuffer numbers = ByteBuffer.allocate((int) (idsBytes + labelsBytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            numbers.putLong(id.applyAsLong(i));
        }
        if (withLabels) {
            for (int i = 0; i < count; i++) {
                numbers.putLong(images.labels()[first + i]);
            }
        }
        write(out, numbers.flip(), sha);
        int perChunk = Math.max(1, (1 << 22) / size);
        byte[] chunk = new byte[perChunk * size];
        for (int start = 0; start < count; start += perChunk) {
            int k = Math.min(perChunk, count - start);
            for (int j = 0; j < k; j++) {
                images.readImage(first + start + j, chunk, j * size);
            }
            fingerprint.images(chunk, 0, k * size);
            write(out, ByteBuffer.wrap(chunk, 0, k * size), sha);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void write(FileChannel out, ByteBuffer buffer, MessageDigest sha) throws IOException {
        sha.update(buffer.duplicate());
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    /**
     * Opens a pack as images read from its shards on demand, after checking the manifest, each shard's header
     * against it and each shard's sha256.
     *
     * @param split the split asked for: a pack holds the one it was made from
     * @param limit the first {@code limit} images; ≤ 0 for all
     * @param source recorded as the set's {@link ImageSet#source()}
     * @throws UserException for anything missing, malformed, inconsistent or modified, naming the file
     */
    public static ImageSet open(Path dir, String split, int limit, String source, ProgressListener progress) {
        if (!Files.isDirectory(dir)) {
            throw new UserException(dir + ": not a directory (expected a " + KIND.description() + ")");
        }
        Manifest m = read(dir.resolve(MANIFEST));
        if (!m.source().split().equals(split)) {
            throw new UserException(dir + " holds the " + m.source().split() + " split of " + m.source().spec()
                    + ", not " + split);
        }
        int imageSize = m.channels() * m.height() * m.width();
        List<FilePixels.Segment> segments = new ArrayList<>();
        int[] labels = m.labelled() ? new int[Math.toIntExact(m.count())] : null;
        long total = 0;
        int[] ids = new int[Math.toIntExact(m.count())];
        // only a large pack shows progress: a small one is checked at once, and a bad one fails in one line
        ProgressListener shown = m.count() * imageSize > (256L << 20) ? progress : ProgressListener.NONE;
        shown.start("verifying " + dir.getFileName(), m.count(), "img");
        for (Shard shard : m.shards()) {
            Path file = dir.resolve(shard.file());
            long dataStart = checkShard(file, shard, m, total, labels, ids);
            segments.add(new FilePixels.Segment(file, dataStart + 8L * shard.count() * (m.labelled() ? 2 : 1),
                    shard.count(), imageSize));
            total += shard.count();
            shown.advance(total);
        }
        shown.finish();
        FilePixels pixels = FilePixels.open(segments, imageSize);
        int count = Math.toIntExact(m.count());
        ImageSet set = new ImageSet(source, pixels, count, m.channels(), m.height(), m.width(), labels)
                .withSkipped(m.source().skippedImages()).withFingerprint(m.source().fingerprint());
        if (ids[count - 1] != count - 1) {
            set = set.withSourceIds(ids);  // a pack of a drawn subset keeps the split's ids
        }
        if (m.source().subset() != null) {
            // and the draw, which says how large that split is: the bound its ids are checked against
            set = set.withDrawn(m.source().subset());
        }
        return limit > 0 && limit < count ? set.limit(limit) : set;
    }

    /** Reads and checks a manifest. */
    public static Manifest read(Path file) {
        Manifest m = Json.convert(file, Json.readFormatted(file, KIND, "manifest"), Manifest.class,
                Map.of("/source/subset", NullNode.getInstance()));
        String problem = problem(m);
        if (problem != null) {
            throw new UserException(file + ": " + problem);
        }
        return m;
    }

    private static String problem(Manifest m) {
        if (m.count() < 1 || m.count() > Integer.MAX_VALUE - 8) {
            return "count must be between 1 and " + (Integer.MAX_VALUE - 8) + ", found " + m.count();
        }
        if ((m.channels() != 1 && m.channels() != 3) || m.height() < 1 || m.width() < 1
                || m.height() > ai.coopt.nn.Architectures.MAX_SIDE || m.width() > ai.coopt.nn.Architectures.MAX_SIDE) {
            return "image shape " + m.channels() + "x" + m.height() + "x" + m.width() + " is not 1 or 3 channels of at most "
                    + ai.coopt.nn.Architectures.MAX_SIDE + " pixels a side";
        }
        if (!"train".equals(m.source().split()) && !"test".equals(m.source().split())) {
            return "source.split must be train or test";
        }
        if (!SHA256.matcher(m.source().fingerprint()).matches()) {
            return "source.fingerprint must be 64 lower-case hex digits";
        }
        long sum = 0;
        for (int s = 0; s < m.shards().size(); s++) {
            Shard shard = m.shards().get(s);
            if (!SHARD_NAME.matcher(shard.file()).matches()
                    || !shard.file().equals(shardName(s, m.shards().size()))) {
                return "shard " + (s + 1) + " must be named " + shardName(s, m.shards().size()) + ", found " + shard.file();
            }
            if (shard.count() < 1 || !SHA256.matcher(shard.sha256()).matches()) {
                return "shard " + shard.file() + " needs a positive count and a sha256 of 64 lower-case hex digits";
            }
            sum += shard.count();
        }
        if (sum != m.count()) {
            return "the shards hold " + sum + " images, count says " + m.count();
        }
        return null;
    }

    /**
     * Checks a shard's sha256 and its header against the manifest, reads its ids into {@code out} and its labels into
     * {@code labels} at {@code first} (ids increase across the shards), and returns where its data starts.
     */
    private static long checkShard(Path file, Shard shard, Manifest m, long first, int[] labels, int[] out) {
        if (!Files.isRegularFile(file)) {
            throw new UserException(file + ": missing (" + MANIFEST + " lists it)");
        }
        String actual = Checksums.sha256(file);
        if (!actual.equals(shard.sha256())) {
            throw new UserException(file + ": checksum mismatch: the shard was modified or is corrupt (sha256 " + actual
                    + ", " + MANIFEST + " records " + shard.sha256() + ")");
        }
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            SafeTensorsHeader.Parsed header = header(in, file);
            long dataStart = header.dataStart();
            long n = shard.count();
            long numbers = 8 * n * (m.labelled() ? 2 : 1);
            long imageBytes = n * m.channels() * m.height() * m.width();
            expect(file, header, "ids", DType.I64, new long[] {n}, 0, 8 * n);
            if (m.labelled()) {
                expect(file, header, "labels", DType.I64, new long[] {n}, 8 * n, 16 * n);
            } else if (header.tensors().containsKey("labels")) {
                throw new UserException(file + ": holds labels, but " + MANIFEST + " says the images are unlabelled");
            }
            expect(file, header, "images", DType.U8, new long[] {n, m.channels(), m.height(), m.width()}, numbers,
                    numbers + imageBytes);
            if (in.size() != dataStart + numbers + imageBytes) {
                throw new UserException(file + ": " + in.size() + " bytes, its header describes "
                        + (dataStart + numbers + imageBytes));
            }
            ByteBuffer ids = ByteBuffer.allocate((int) numbers).order(ByteOrder.LITTLE_ENDIAN);
            readFully(in, ids, dataStart, file);
            ids.flip();
            // ids are indices in the split: increasing, below its size (a draw's, or the images and the files skipped)
            long bound = m.source().subset() == null ? m.count() + m.source().skippedImages() : m.source().subset().of();
            for (int i = 0; i < n; i++) {
                long id = ids.getLong();
                long previous = first + i == 0 ? -1 : out[(int) first + i - 1];
                if (id <= previous || id >= bound) {
                    throw new UserException(file + ": image " + i + " has id " + id + ", expected one above " + previous
                            + " and below " + bound + " (the shards hold the source's images in order)");
                }
                out[(int) first + i] = (int) id;
            }
            if (labels != null) {
                for (int i = 0; i < n; i++) {
                    long label = ids.getLong();
                    if (label < 0 || label > Integer.MAX_VALUE) {
                        throw new UserException(file + ": image " + i + " has label " + label);
                    }
                    labels[(int) first + i] = (int) label;
                }
            }
            return dataStart;
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    /** A shard's header, its length checked before anything is allocated. */
    private static SafeTensorsHeader.Parsed header(FileChannel in, Path file) throws IOException {
        try {
            return SafeTensorsHeader.read(in, MAX_HEADER);
        } catch (SafeTensorsHeader.Malformed e) {
            throw new UserException(file + ": not a safetensors file: " + e.getMessage());
        }
    }

    private static void expect(Path file, SafeTensorsHeader.Parsed header, String name, DType dtype, long[] shape,
                               long begin, long end) {
        SafeTensorsHeader.Declared t = header.tensors().get(name);
        if (t == null) {
            throw new UserException(file + ": no tensor '" + name + "'");
        }
        if (!dtype.name().equals(t.dtype()) || !Arrays.equals(shape, t.shape()) || t.begin() != begin || t.end() != end) {
            throw new UserException(file + ": tensor '" + name + "' is " + t.describe() + "; the manifest calls for "
                    + dtype + " " + Arrays.toString(shape) + " at [" + begin + ", " + end + ")");
        }
    }

    private static void readFully(FileChannel in, ByteBuffer buffer, long position, Path file) throws IOException {
        while (buffer.hasRemaining()) {
            if (in.read(buffer, position + buffer.position()) < 0) {
                throw new UserException(file + ": truncated");
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
