package ai.coopt.store;

import ai.coopt.UserException;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Optimized data: representation targets for the samples of a dataset, in a directory that any safetensors
 * reader can use without this project's code. Format {@value #FORMAT}:
 * <ul>
 *   <li>{@value #TARGETS_FILE}: exactly two tensors, {@code targets} float32 [N, D] (finite) and {@code ids}
 *       int64 [N] (each sample's index in the source split, distinct, non-negative); row i of targets belongs
 *       to sample ids[i]. It holds no time stamp, so the same data, priors and seed give the same bytes.</li>
 *   <li>{@value #MANIFEST_FILE}: {@code format}, {@code count} (N), {@code dim} (D), {@code targets_sha256}
 *       (SHA-256 of {@value #TARGETS_FILE}), then the {@link ManifestProvenance}: {@code source},
 *       {@code postprocess}, {@code participants}, {@code alignment} (null when there was none) and
 *       {@code created}.</li>
 * </ul>
 * Instances are read with {@link #read}, which verifies everything, and are immutable.
 */
public final class OptimizedDataset {
    /** The value of the {@code format} field this version writes and reads. */
    public static final String FORMAT = "coopt-optimized-dataset/1";
    /** The description file, which marks a directory as an optimized dataset. */
    public static final String MANIFEST_FILE = "manifest.json";
    /** The tensors file. */
    public static final String TARGETS_FILE = "targets.safetensors";
    /** The optional file of raw prior outputs, see {@link RawOutputs}. */
    public static final String RAW_FILE = "raw_outputs.safetensors";
    /** Optimized datasets, recognised by their {@value #MANIFEST_FILE}. */
    public static final DirectoryKind KIND = new DirectoryKind("CoOpt optimized dataset", MANIFEST_FILE, FORMAT,
            java.util.Set.of(MANIFEST_FILE, TARGETS_FILE, RAW_FILE));

    private static final String TARGETS = "targets";
    private static final String IDS = "ids";

    private final Path dir;
    private final int count;
    private final int dim;
    private final String targetsSha256;
    private final ManifestProvenance provenance;
    private final ObjectNode manifest;
    private final float[] targets;
    private final long[] ids;

    private OptimizedDataset(Path dir, int count, int dim, String targetsSha256, ManifestProvenance provenance,
                             ObjectNode manifest, float[] targets, long[] ids) {
        this.dir = dir;
        this.count = count;
        this.dim = dim;
        this.targetsSha256 = targetsSha256;
        this.provenance = provenance;
        this.manifest = manifest;
        this.targets = targets;
        this.ids = ids;
    }

    /**
     * Writes an optimized dataset, atomically: the directory appears complete or not at all. An existing
     * optimized dataset (or empty directory) at {@code dir} is replaced; anything else is refused.
     *
     * @param targets {@code count × dim} finite floats, row-major; row i belongs to sample {@code ids[i]}
     * @param ids each row's index in the source split: {@code count} distinct values in
     *     [0, {@code provenance.source().count()})
     * @throws IllegalArgumentException when the shapes disagree, a target is NaN or infinite, or an id is
     *     negative, repeated or beyond the source (a bug in the producer, not a user error)
     * @throws UserException when {@code dir} may not be replaced or cannot be written
     */
    public static void write(Path dir, float[] targets, int count, int dim, long[] ids, ManifestProvenance provenance) {
        write(dir, targets, count, dim, ids, provenance, null);
    }

    /**
     * Each participant's prior outputs before alignment and post-processing, kept next to the targets in
     * {@value #RAW_FILE} as tensors {@code outputs_K} F32 [n_K, P_K] and {@code ids_K} I64 [n_K], so the
     * targets can be post-processed again (another PCA width, another alignment) without re-running priors.
     */
    public record RawOutputs(List<Tensor.F32> outputs, List<Tensor.I64> ids) {
        public RawOutputs {
            outputs = List.copyOf(outputs);
            ids = List.copyOf(ids);
            if (outputs.size() != ids.size()) {
                throw new IllegalArgumentException(outputs.size() + " output tensors for " + ids.size() + " id tensors");
            }
        }

        /** One participant's raw outputs. */
        public record Participant(Tensor.F32 outputs, Tensor.I64 ids) {}
    }

    /** Like {@link #write(Path, float[], int, int, long[], ManifestProvenance)}, also keeping {@code raw} (nullable). */
    public static void write(Path dir, float[] targets, int count, int dim, long[] ids, ManifestProvenance provenance,
                             RawOutputs raw) {
        if (raw != null && raw.outputs().size() != provenance.participants().size()) {
            throw new IllegalArgumentException("raw outputs for " + raw.outputs().size() + " participants, manifest lists "
                    + provenance.participants().size());
        }
        if (count <= 0 || dim <= 0) {
            throw new IllegalArgumentException("an optimized dataset needs count and dim > 0, got " + count + " × " + dim);
        }
        if (targets.length != (long) count * dim) {
            throw new IllegalArgumentException("targets hold " + targets.length + " floats, not " + count + " × " + dim);
        }
        if (ids.length != count) {
            throw new IllegalArgumentException("ids hold " + ids.length + " values for " + count + " rows");
        }
        String problem = dataProblem(targets, dim, ids, provenance.source().count());
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put(TARGETS, new Tensor.F32(new long[] {count, dim}, targets));
        tensors.put(IDS, new Tensor.I64(new long[] {count}, ids));
        AtomicFiles.writeDirectory(dir, KIND, true, tmp -> {
            Path targetsFile = tmp.resolve(TARGETS_FILE);
            SafeTensors.write(targetsFile, tensors, Map.of());
            ManifestProvenance.RawFile rawOutputs = null;
            if (raw != null) {
                Path rawFile = tmp.resolve(RAW_FILE);
                LinkedHashMap<String, Tensor> rawTensors = new LinkedHashMap<>();
                for (int k = 0; k < raw.outputs().size(); k++) {
                    rawTensors.put("outputs_" + k, raw.outputs().get(k));
                    rawTensors.put("ids_" + k, raw.ids().get(k));
                }
                SafeTensors.write(rawFile, rawTensors, Map.of());
                rawOutputs = new ManifestProvenance.RawFile(RAW_FILE, Checksums.sha256(rawFile));
            }
            AtomicFiles.writeJson(tmp.resolve(MANIFEST_FILE), new ManifestProvenance.Manifest(FORMAT, count, dim,
                    Checksums.sha256(targetsFile), rawOutputs, provenance));
        });
    }

    /**
     * Whether {@code dir} holds a {@value #MANIFEST_FILE}, the file that marks an optimized dataset. It does not
     * validate it, so that {@code coopt inspect} reports a damaged dataset with {@link #read}'s precise message
     * instead of taking it for something else.
     */
    public static boolean looksLikeOptimizedDataset(Path dir) {
        return Files.isRegularFile(dir.resolve(MANIFEST_FILE));
    }

    /**
     * Reads and verifies an optimized dataset: the manifest's format and fields, the checksum of
     * {@value #TARGETS_FILE}, its tensors' names, dtypes and shapes against the manifest, and the values
     * (finite targets; distinct ids within the source).
     *
     * @throws UserException with one line naming the directory or file for anything missing, malformed or modified
     */
    public static OptimizedDataset read(Path dir) {
        if (!Files.exists(dir)) {
            throw new UserException(dir + ": no such directory");
        }
        if (!Files.isDirectory(dir)) {
            throw new UserException(dir + ": not a directory (expected a " + KIND.description() + ")");
        }
        Path manifestFile = dir.resolve(MANIFEST_FILE);
        if (!Files.exists(manifestFile)) {
            throw new UserException(dir + ": not a " + KIND.description() + " (no " + MANIFEST_FILE + ")");
        }
        ObjectNode json = Json.readFormatted(manifestFile, KIND, "manifest");
        ManifestProvenance.Manifest fields = ManifestProvenance.Manifest.read(manifestFile, json);
        int count = fields.count();
        int dim = fields.dim();
        String expected = fields.targetsSha256();
        ManifestProvenance provenance = fields.provenance();
        if (fields.rawOutputs() != null) {
            Path rawFile = dir.resolve(RAW_FILE);
            String recorded = fields.rawOutputs().sha256();
            if (!Files.isRegularFile(rawFile)) {
                throw new UserException(rawFile + ": missing (" + MANIFEST_FILE + " refers to it)");
            }
            String found = Checksums.sha256(rawFile);
            if (!found.equals(recorded)) {
                throw new UserException(dir + ": checksum mismatch: " + RAW_FILE + " was modified or is corrupt (sha256 "
                        + found + ", " + MANIFEST_FILE + " records " + recorded + ")");
            }
        }

        Path targetsFile = dir.resolve(TARGETS_FILE);
        if (!Files.isRegularFile(targetsFile)) {
            throw new UserException(targetsFile + ": missing (" + MANIFEST_FILE + " refers to it)");
        }
        String actual = Checksums.sha256(targetsFile);
        if (!actual.equals(expected)) {
            throw new UserException(dir + ": checksum mismatch: " + TARGETS_FILE + " was modified or is corrupt (sha256 "
                    + actual + ", " + MANIFEST_FILE + " records " + expected + ")");
        }
        TensorFile file = SafeTensors.read(targetsFile);
        for (String name : file.tensors().keySet()) {
            if (!name.equals(TARGETS) && !name.equals(IDS)) {
                throw new UserException(targetsFile + ": unexpected tensor '" + name + "' (an optimized dataset holds"
                        + " exactly '" + TARGETS + "' and '" + IDS + "')");
            }
        }
        Tensor.F32 targets = file.f32(TARGETS);
        Tensor.I64 ids = file.i64(IDS);
        long[] shape = targets.shape();
        if (shape.length != 2) {
            throw new UserException(targetsFile + ": tensor '" + TARGETS + "' has shape " + Arrays.toString(shape)
                    + ", expected [count, dim]");
        }
        if (ids.shape().length != 1) {
            throw new UserException(targetsFile + ": tensor '" + IDS + "' has shape " + Arrays.toString(ids.shape())
                    + ", expected [count]");
        }
        if (shape[0] != count || shape[1] != dim) {
            throw new UserException(targetsFile + ": tensor '" + TARGETS + "' has shape " + Arrays.toString(shape)
                    + " but " + MANIFEST_FILE + " records count " + count + " and dim " + dim);
        }
        if (ids.shape()[0] != count) {
            throw new UserException(targetsFile + ": tensor '" + IDS + "' holds " + ids.shape()[0] + " ids but "
                    + MANIFEST_FILE + " records count " + count);
        }
        String problem = dataProblem(targets.data(), dim, ids.data(), provenance.source().count());
        if (problem != null) {
            throw new UserException(targetsFile + ": " + problem);
        }
        return new OptimizedDataset(dir, count, dim, actual, provenance, (ObjectNode) json, targets.data(), ids.data());
    }

    /**
     * The first thing wrong with the values, or null: a non-finite target, or an id that is negative, not below
     * {@code sourceCount}, or repeated.
     */
    private static String dataProblem(float[] targets, int dim, long[] ids, int sourceCount) {
        for (int i = 0; i < targets.length; i++) {
            if (!Float.isFinite(targets[i])) {
                int row = i / dim;
                return "targets row " + row + " (id " + ids[row] + "), column " + i % dim + " is " + targets[i];
            }
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= sourceCount) {
                return "ids[" + i + "] is " + ids[i] + ", outside the source's " + sourceCount + " samples";
            }
        }
        long[] sorted = ids.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                return "id " + sorted[i] + " appears more than once in ids";
            }
        }
        return null;
    }

    /**
     * What {@code coopt inspect --json} shows: the manifest with {@code checksum: "ok"} added and the alignment's
     * shared ids replaced by their number ({@code shared_count}).
     */
    public ObjectNode summary() {
        ObjectNode summary = manifest.deepCopy();
        summary.put("checksum", "ok");
        if (summary.get("alignment") instanceof ObjectNode alignment) {
            alignment.put("shared_count", alignment.remove("shared_ids").size());
        }
        return summary;
    }

    /**
     * The raw prior outputs of participant {@code k} (rows {@code outputs}, matching {@code ids}), when the
     * dataset keeps them ({@code manifest.raw_outputs} not null; its checksum was verified by {@link #read}).
     *
     * @throws UserException when the dataset keeps no raw outputs or has no participant {@code k}
     */
    public RawOutputs.Participant rawOutputs(int k) {
        if (manifest.path("raw_outputs").isNull() || manifest.path("raw_outputs").isMissingNode()) {
            throw new UserException(dir + ": this dataset keeps no raw prior outputs");
        }
        TensorFile file = SafeTensors.read(dir.resolve(RAW_FILE));
        if (!file.tensors().containsKey("outputs_" + k)) {
            throw new UserException(dir.resolve(RAW_FILE) + ": no raw outputs for participant " + k);
        }
        return new RawOutputs.Participant(file.f32("outputs_" + k), file.i64("ids_" + k));
    }

    /** The directory it was read from. */
    public Path dir() { return dir; }
    /** The number of samples N. */
    public int count() { return count; }
    /** The width D of each target. */
    public int dim() { return dim; }
    /** A copy of the targets: N × D floats, row-major, row i for sample {@code ids()[i]}. */
    public float[] targets() { return targets.clone(); }
    /** A copy of the ids: each row's index in the source split. */
    public long[] ids() { return ids.clone(); }
    /** The verified SHA-256 of {@value #TARGETS_FILE}, 64 lower-case hex digits. */
    public String targetsSha256() { return targetsSha256; }
    /** Where the data came from and how it was made. */
    public ManifestProvenance provenance() { return provenance; }
    /** A copy of the manifest as read. */
    public ObjectNode manifest() { return manifest.deepCopy(); }
}
