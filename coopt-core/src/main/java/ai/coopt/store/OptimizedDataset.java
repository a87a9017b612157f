package ai.coopt.store;

import ai.coopt.UserException;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

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
    private final SafeTensors.Layout layout;
    private final long[] ids;

    private OptimizedDataset(Path dir, int count, int dim, String targetsSha256, ManifestProvenance provenance,
                             ObjectNode manifest, SafeTensors.Layout layout, long[] ids) {
        this.dir = dir;
        this.count = count;
        this.dim = dim;
        this.targetsSha256 = targetsSha256;
        this.provenance = provenance;
        this.manifest = manifest;
        this.layout = layout;
        this.ids = ids;
    }

    /**
     * Writes an optimized dataset, atomically: the directory appears complete or not at all. An existing
     * optimized dataset (or empty directory) at {@code dir} is replaced; anything else is refused.
     *
     * @param targets finite rows, read block by block (they may live on disk); row i belongs to sample {@code ids[i]}
     * @param ids each row's index in the source split: one per row, distinct, in [0, {@code provenance.source().idBound()})
     * @throws IllegalArgumentException when the shapes disagree, a target is NaN or infinite, or an id is
     *     negative, repeated or beyond the source (a bug in the producer, not a user error)
     * @throws UserException when {@code dir} may not be replaced or cannot be written
     */
    public static void write(Path dir, Rows targets, long[] ids, ManifestProvenance provenance) {
        write(dir, targets, ids, provenance, null);
    }

    /**
     * Each participant's prior outputs before alignment and post-processing, kept next to the targets in
     * {@value #RAW_FILE} as tensors {@code outputs_K} F32 [n_K, P_K] and {@code ids_K} I64 [n_K], so the
     * targets can be post-processed again (another PCA width, another alignment) without re-running priors.
     */
    public record RawOutputs(List<Rows> outputs, List<long[]> ids) {
        public RawOutputs {
            outputs = List.copyOf(outputs);
            ids = List.copyOf(ids);
            if (outputs.size() != ids.size()) {
                throw new IllegalArgumentException(outputs.size() + " output tensors for " + ids.size() + " id tensors");
            }
            for (int k = 0; k < outputs.size(); k++) {
                if (outputs.get(k).count() != ids.get(k).length) {
                    throw new IllegalArgumentException("participant " + k + ": " + outputs.get(k).count() + " rows for "
                            + ids.get(k).length + " ids");
                }
            }
        }

        /** One participant's raw outputs, read from the file on demand (close it when done). */
        public record Participant(RowFile outputs, long[] ids) implements AutoCloseable {
            @Override
            public void close() {
                outputs.close();
            }
        }
    }

    /** Like {@link #write(Path, Rows, long[], ManifestProvenance)}, also keeping {@code raw} (nullable). */
    public static void write(Path dir, Rows targets, long[] ids, ManifestProvenance provenance, RawOutputs raw) {
        if (raw != null && raw.outputs().size() != provenance.participants().size()) {
            throw new IllegalArgumentException("raw outputs for " + raw.outputs().size() + " participants, manifest lists "
                    + provenance.participants().size());
        }
        int count = targets.count();
        int dim = targets.dim();
        if (count <= 0 || dim <= 0) {
            throw new IllegalArgumentException("an optimized dataset needs count and dim > 0, got " + count + " × " + dim);
        }
        if (ids.length != count) {
            throw new IllegalArgumentException("ids hold " + ids.length + " values for " + count + " rows");
        }
        String problem = idsProblem(ids, provenance.source().idBound());
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        LinkedHashMap<String, SafeTensors.Spec> tensors = new LinkedHashMap<>();
        tensors.put(TARGETS, new SafeTensors.Spec(DType.F32, new long[] {count, dim}));
        tensors.put(IDS, new SafeTensors.Spec(DType.I64, new long[] {count}));
        AtomicFiles.writeDirectory(dir, KIND, true, tmp -> {
            Path targetsFile = tmp.resolve(TARGETS_FILE);
            SafeTensors.write(targetsFile, tensors, Map.of(), out -> {
                out.rows(finite(targets, ids, IllegalArgumentException::new));
                out.longs(ids, 0, ids.length);
            });
            ManifestProvenance.RawFile rawOutputs = null;
            if (raw != null) {
                Path rawFile = tmp.resolve(RAW_FILE);
                LinkedHashMap<String, SafeTensors.Spec> rawTensors = new LinkedHashMap<>();
                for (int k = 0; k < raw.outputs().size(); k++) {
                    Rows rows = raw.outputs().get(k);
                    rawTensors.put("outputs_" + k, new SafeTensors.Spec(DType.F32, new long[] {rows.count(), rows.dim()}));
                    rawTensors.put("ids_" + k, new SafeTensors.Spec(DType.I64, new long[] {rows.count()}));
                }
                SafeTensors.write(rawFile, rawTensors, Map.of(), out -> {
                    for (int k = 0; k < raw.outputs().size(); k++) {
                        out.rows(raw.outputs().get(k));
                        out.longs(raw.ids().get(k), 0, raw.ids().get(k).length);
                    }
                });
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
        SafeTensors.Layout layout = SafeTensors.layout(targetsFile);
        for (String name : layout.entries().keySet()) {
            if (!name.equals(TARGETS) && !name.equals(IDS)) {
                throw new UserException(targetsFile + ": unexpected tensor '" + name + "' (an optimized dataset holds"
                        + " exactly '" + TARGETS + "' and '" + IDS + "')");
            }
        }
        SafeTensors.Entry targets = layout.entry(TARGETS, DType.F32, 2, "[count, dim]");
        SafeTensors.Entry idsEntry = layout.entry(IDS, DType.I64, 1, "[count]");
        long[] shape = targets.shape();
        if (shape[0] != count || shape[1] != dim) {
            throw new UserException(targetsFile + ": tensor '" + TARGETS + "' has shape " + Arrays.toString(shape)
                    + " but " + MANIFEST_FILE + " records count " + count + " and dim " + dim);
        }
        if (idsEntry.shape()[0] != count) {
            throw new UserException(targetsFile + ": tensor '" + IDS + "' holds " + idsEntry.shape()[0] + " ids but "
                    + MANIFEST_FILE + " records count " + count);
        }
        long[] ids = layout.longs(idsEntry);
        String problem = idsProblem(ids, provenance.source().idBound());
        if (problem != null) {
            throw new UserException(targetsFile + ": " + problem);
        }
        try (RowFile rows = layout.rows(targets)) {
            finite(rows, ids, message -> new UserException(targetsFile + ": " + message)).forEachBlock(
                    Rows.blockRows(dim), (first, n, values) -> { });
        }
        return new OptimizedDataset(dir, count, dim, actual, provenance, (ObjectNode) json, layout, ids);
    }

    /**
     * {@code rows} as they are read, checked: the first non-finite target fails with {@code error} of a message
     * naming its row, id and column.
     */
    private static Rows finite(Rows rows, long[] ids, Function<String, RuntimeException> error) {
        int dim = rows.dim();
        return rows.onRead((first, n, dst, offset) -> {
            for (int i = 0; i < n * dim; i++) {
                float v = dst[offset + i];
                if (!Float.isFinite(v)) {
                    int row = first + i / dim;
                    throw error.apply("targets row " + row + " (id " + ids[row] + "), column " + i % dim + " is " + v);
                }
            }
        });
    }

    /**
     * The first thing wrong with the ids, or null: an id that is negative, not below {@code sourceCount}, or
     * repeated.
     */
    private static String idsProblem(long[] ids, long sourceCount) {
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
        SafeTensors.Layout raw = SafeTensors.layout(dir.resolve(RAW_FILE));
        if (!raw.entries().containsKey("outputs_" + k)) {
            throw new UserException(dir.resolve(RAW_FILE) + ": no raw outputs for participant " + k);
        }
        SafeTensors.Entry outputs = raw.entry("outputs_" + k, DType.F32, 2, "[rows, width]");
        long[] ids = raw.longs(raw.entry("ids_" + k, DType.I64, 1, "[rows]"));
        if (ids.length != outputs.shape()[0]) {
            throw new UserException(dir.resolve(RAW_FILE) + ": participant " + k + " has " + outputs.shape()[0]
                    + " rows of outputs but " + ids.length + " ids");
        }
        return new RawOutputs.Participant(raw.rows(outputs), ids);
    }

    /** The directory it was read from. */
    public Path dir() { return dir; }
    /** The number of samples N. */
    public int count() { return count; }
    /** The width D of each target. */
    public int dim() { return dim; }
    /**
     * The targets, N rows of D floats, row i for sample {@code ids()[i]}, read from {@value #TARGETS_FILE} on demand
     * (any N: nothing is held in memory); close them when done.
     */
    public RowFile targets() { return layout.rows(layout.entries().get(TARGETS)); }
    /** A copy of the ids: each row's index in the source split. */
    public long[] ids() { return ids.clone(); }
    /** The verified SHA-256 of {@value #TARGETS_FILE}, 64 lower-case hex digits. */
    public String targetsSha256() { return targetsSha256; }
    /** Where the data came from and how it was made. */
    public ManifestProvenance provenance() { return provenance; }
    /** A copy of the manifest as read. */
    public ObjectNode manifest() { return manifest.deepCopy(); }
}
