package ai.coopt.store;

import ai.coopt.UserException;
import ai.coopt.optimize.Matrix;
import ai.coopt.store.ManifestProvenance.Alignment;
import ai.coopt.store.ManifestProvenance.Created;
import ai.coopt.store.ManifestProvenance.Input;
import ai.coopt.store.ManifestProvenance.Participant;
import ai.coopt.store.ManifestProvenance.Postprocess;
import ai.coopt.store.ManifestProvenance.Shard;
import ai.coopt.store.ManifestProvenance.Source;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OptimizedDatasetTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int COUNT = 20;
    private static final int DIM = 4;
    private static final int SOURCE_COUNT = 60;
    private static final Instant TIME = Instant.parse("2025-01-31T12:00:00Z");

    @TempDir
    Path root;

    /** Every target of a small dataset, read from its file. */
    static float[] allTargets(OptimizedDataset d) {
        try (RowFile rows = d.targets()) {
            return rows.toArray();
        }
    }

    private static float[] targets() {
        Random random = new Random(42);
        float[] x = new float[COUNT * DIM];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    /** Every third sample of the source. */
    private static long[] ids() {
        long[] ids = new long[COUNT];
        for (int i = 0; i < COUNT; i++) {
            ids[i] = 3L * i;
        }
        return ids;
    }

    private static Participant participant(String prior, char hex, int dim, double uniformity, Shard shard) {
        return new Participant(prior, prior.substring(0, prior.indexOf(':')), String.valueOf(hex).repeat(64),
                new Input(1, 28, 28, List.of(0.5), List.of(0.25), "1x28x28 -> 1x28x28: normalised"), dim, uniformity, 1000, shard);
    }

    /** One participant that labelled everything, as {@code coopt optimize} writes it. */
    private static ManifestProvenance single(Instant time) {
        return new ManifestProvenance(
                new Source("fashion-mnist", "train", SOURCE_COUNT, "f".repeat(64)),
                new Postprocess(DIM, 0.9, true),
                List.of(participant("random:convnet-s:0", 'a', 128, -3.25, new Shard(COUNT, 0, 57))),
                null,
                new Created(time, "0.1.0-test", List.of("coopt", "optimize", "--data", "fashion-mnist"), 0));
    }

    /** Two participants aligned on a shared subset, as {@code coopt collab} writes it. */
    private static ManifestProvenance collaborative() {
        return new ManifestProvenance(
                new Source("idx:/data/digits", "train", SOURCE_COUNT, "e".repeat(64)),
                new Postprocess(null, null, false),
                List.of(participant("random:convnet-s:1", 'b', 128, -2.5, new Shard(10, 0, 27)),
                        participant("onnx:/models/clip.onnx", 'c', 512, -1.75, new Shard(10, 30, 57))),
                new Alignment(0, List.of(0L, 30L, 57L), "ridge-gcv", List.of(0.0, 1e-3), List.of(0.0, 0.125)),
                new Created(TIME, "0.1.0-test", List.of("coopt", "collab"), 7));
    }

    /** {@code participants} sets of raw outputs, each of {@link #COUNT} rows of 3. */
    private static OptimizedDataset.RawOutputs rawOutputs(int participants) {
        List<Rows> outputs = new ArrayList<>();
        List<long[]> ids = new ArrayList<>();
        for (int k = 0; k < participants; k++) {
            float[] values = new float[COUNT * 3];
            for (int i = 0; i < values.length; i++) {
                values[i] = i * 0.5f + k;
            }
            outputs.add(new Matrix(values, COUNT, 3));
            ids.add(ids());
        }
        return new OptimizedDataset.RawOutputs(outputs, ids);
    }

    private Path writeSingle(String name) {
        Path dir = root.resolve(name);
        OptimizedDataset.write(dir, new Matrix(targets(), COUNT, DIM), ids(), single(TIME));
        return dir;
    }

    @Test
    void roundTrip() {
        Path dir = root.resolve("collab");
        OptimizedDataset.write(dir, new Matrix(targets(), COUNT, DIM), ids(), collaborative());

        OptimizedDataset data = OptimizedDataset.read(dir);
        assertEquals(dir, data.dir());
        assertEquals(COUNT, data.count());
        assertEquals(DIM, data.dim());
        assertArrayEquals(targets(), allTargets(data));
        assertArrayEquals(ids(), data.ids());
        assertEquals(collaborative(), data.provenance());
        assertEquals(Checksums.sha256(dir.resolve("targets.safetensors")), data.targetsSha256());
        assertEquals("coopt-optimized-dataset/1", data.manifest().get("format").asText());

        OptimizedDataset alone = OptimizedDataset.read(writeSingle("single"));
        assertEquals(single(TIME), alone.provenance());
    }

    @Test
    void aManifestWrittenBeforeSkippedImagesWereCountedStillReads() throws IOException {
        Path dir = writeSingle("older");
        ObjectNode json = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
        ((ObjectNode) json.get("source")).remove("skipped_images");
        Files.writeString(dir.resolve("manifest.json"), JSON.writeValueAsString(json));
        assertEquals(0, OptimizedDataset.read(dir).provenance().source().skippedImages());
        assertEquals(single(TIME), OptimizedDataset.read(dir).provenance());
    }

    /**
     * The manifest of {@link #collaborative()} with raw outputs, as the hand-written writer of commit acfd806 wrote
     * it: today's writer gives the same bytes (but for checksums of the tensor files, should their bytes change),
     * and the old bytes read back.
     */
    @Test
    void manifestsAreTheBytesEarlierVersionsWroteAndReadBack() throws IOException, URISyntaxException {
        Path dir = root.resolve("collab");
        OptimizedDataset.write(dir, new Matrix(targets(), COUNT, DIM), ids(), collaborative(), rawOutputs(2));
        String old = Files.readString(Path.of(getClass().getResource("/formats/optimized-dataset-manifest.json").toURI()));
        JsonNode oldJson = JSON.readTree(old);
        String targetsSha = Checksums.sha256(dir.resolve("targets.safetensors"));
        String rawSha = Checksums.sha256(dir.resolve("raw_outputs.safetensors"));
        String written = Files.readString(dir.resolve("manifest.json"));
        assertEquals(old, written.replace(targetsSha, oldJson.get("targets_sha256").asText())
                .replace(rawSha, oldJson.at("/raw_outputs/sha256").asText()));

        Files.writeString(dir.resolve("manifest.json"), old.replace(oldJson.get("targets_sha256").asText(), targetsSha)
                .replace(oldJson.at("/raw_outputs/sha256").asText(), rawSha));
        OptimizedDataset read = OptimizedDataset.read(dir);
        assertEquals(collaborative(), read.provenance());
        try (OptimizedDataset.RawOutputs.Participant p = read.rawOutputs(1)) {
            assertArrayEquals(rawOutputs(2).outputs().get(1).toArray(), p.outputs().toArray());
        }
    }

    /** What the hand-written reader took as absent: nulls and left-out optional fields. */
    @Test
    void optionalFieldsMayBeLeftOutOrNull() throws IOException {
        Path dir = writeSingle("older");
        ObjectNode json = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
        json.remove(List.of("raw_outputs", "alignment"));
        json.withObjectProperty("postprocess").remove(List.of("pca_dim", "explained_variance"));
        json.withObjectProperty("source").putNull("skipped_images");
        writeManifest(dir, json);
        ManifestProvenance read = OptimizedDataset.read(dir).provenance();
        assertEquals(0, read.source().skippedImages());
        assertEquals(new Postprocess(null, null, true), read.postprocess());
        assertEquals(null, read.alignment());
        assertThrows(UserException.class, () -> OptimizedDataset.read(dir).rawOutputs(0));
    }

    @Test
    void filesFollowTheDocumentedFormat() throws IOException {
        Path dir = writeSingle("data");
        assertEquals(List.of("manifest.json", "targets.safetensors"), names(dir));

        TensorFile file = SafeTensors.read(dir.resolve("targets.safetensors"));
        assertEquals(List.of("targets", "ids"), List.copyOf(file.tensors().keySet()));
        assertArrayEquals(new long[] {COUNT, DIM}, file.f32("targets").shape());
        assertArrayEquals(new long[] {COUNT}, file.i64("ids").shape());
        assertEquals(Map.of(), file.metadata());

        JsonNode json = JSON.readTree(dir.resolve("manifest.json").toFile());
        assertEquals(List.of("format", "count", "dim", "targets_sha256", "raw_outputs", "source", "postprocess", "participants",
                "alignment", "created"), fieldNames(json));
        assertEquals("coopt-optimized-dataset/1", json.get("format").asText());
        assertEquals(COUNT, json.get("count").asInt());
        assertEquals(DIM, json.get("dim").asInt());
        assertEquals(Checksums.sha256(dir.resolve("targets.safetensors")), json.get("targets_sha256").asText());
        assertEquals(List.of("spec", "split", "count", "fingerprint", "skipped_images"), fieldNames(json.get("source")));
        assertEquals(List.of("pca_dim", "explained_variance", "standardized"), fieldNames(json.get("postprocess")));
        JsonNode participant = json.get("participants").get(0);
        assertEquals(List.of("prior", "kind", "weights_sha256", "input", "output_dim", "uniformity", "uniformity_subset",
                "shard"), fieldNames(participant));
        assertEquals(List.of("channels", "height", "width", "mean", "std", "adaptation"), fieldNames(participant.get("input")));
        assertEquals("random", participant.get("kind").asText());
        assertEquals(List.of("count", "min_id", "max_id"), fieldNames(participant.get("shard")));
        assertEquals(List.of("time", "tool_version", "command_line", "seed"), fieldNames(json.get("created")));
        assertTrue(json.get("alignment").isNull());
        assertEquals("2025-01-31T12:00:00Z", json.get("created").get("time").asText());
        assertEquals("optimize", json.get("created").get("command_line").get(1).asText());
    }

    @Test
    void sameDataGivesTheSameBytesExceptTheTime() throws IOException {
        Path first = writeSingle("first");
        Path second = root.resolve("second");
        OptimizedDataset.write(second, new Matrix(targets(), COUNT, DIM), ids(), single(TIME.plusSeconds(3600)));

        assertArrayEquals(Files.readAllBytes(first.resolve("targets.safetensors")),
                Files.readAllBytes(second.resolve("targets.safetensors")));
        ObjectNode a = (ObjectNode) JSON.readTree(first.resolve("manifest.json").toFile());
        ObjectNode b = (ObjectNode) JSON.readTree(second.resolve("manifest.json").toFile());
        assertNotEquals(a, b);
        a.withObjectProperty("created").remove("time");
        b.withObjectProperty("created").remove("time");
        assertEquals(a, b);

        Path third = writeSingle("third");
        assertArrayEquals(Files.readAllBytes(first.resolve("manifest.json")),
                Files.readAllBytes(third.resolve("manifest.json")));
    }

    @Test
    void summaryForInspect() {
        Path dir = root.resolve("collab");
        OptimizedDataset.write(dir, new Matrix(targets(), COUNT, DIM), ids(), collaborative());
        ObjectNode summary = OptimizedDataset.read(dir).summary();
        assertEquals("ok", summary.get("checksum").asText());
        assertEquals("coopt-optimized-dataset/1", summary.get("format").asText());
        assertEquals(COUNT, summary.get("count").asInt());
        assertEquals(DIM, summary.get("dim").asInt());
        assertEquals("idx:/data/digits", summary.get("source").get("spec").asText());
        assertEquals(2, summary.get("participants").size());
        assertEquals(3, summary.get("alignment").get("shared_count").asInt());
        assertFalse(summary.get("alignment").has("shared_ids"));
        assertTrue(summary.get("postprocess").get("pca_dim").isNull());
        assertEquals("0.1.0-test", summary.get("created").get("tool_version").asText());
    }

    @Test
    void recognisesDatasetsByTheirManifest() throws IOException {
        assertTrue(OptimizedDataset.looksLikeOptimizedDataset(writeSingle("data")));
        Path model = Files.createDirectory(root.resolve("model"));
        Files.writeString(model.resolve("model.json"), "{}");
        assertFalse(OptimizedDataset.looksLikeOptimizedDataset(model));
        assertFalse(OptimizedDataset.looksLikeOptimizedDataset(root.resolve("absent")));
    }

    @Test
    void writerRefusesBadData() {
        float[] nan = targets();
        nan[5] = Float.NaN;
        assertRefused(nan, COUNT, DIM, ids(), "targets row 1 (id 3), column 1 is NaN");
        float[] inf = targets();
        inf[0] = Float.NEGATIVE_INFINITY;
        assertRefused(inf, COUNT, DIM, ids(), "targets row 0 (id 0), column 0 is -Infinity");
        long[] repeated = ids();
        repeated[7] = repeated[2];
        assertRefused(targets(), COUNT, DIM, repeated, "id 6 appears more than once in ids");
        long[] negative = ids();
        negative[4] = -1;
        assertRefused(targets(), COUNT, DIM, negative, "ids[4] is -1, outside the source's 60 samples");
        long[] beyond = ids();
        beyond[4] = SOURCE_COUNT;
        assertRefused(targets(), COUNT, DIM, beyond, "ids[4] is 60, outside the source's 60 samples");
        assertRefused(targets(), COUNT, DIM, Arrays.copyOf(ids(), COUNT - 1), "ids hold 19 values for 20 rows");
        assertRefused(new float[0], 0, DIM, new long[0], "an optimized dataset needs count and dim > 0");
    }

    private void assertRefused(float[] targets, int count, int dim, long[] ids, String message) {
        Path dir = root.resolve("refused");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OptimizedDataset.write(dir, new Matrix(targets, count, dim), ids, single(TIME)));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
        assertFalse(Files.exists(dir));
    }

    @Test
    void provenanceRecordsRefuseImpossibleValues() {
        assertThrows(IllegalArgumentException.class, () -> new Source("mnist", "train", 0, "f"));
        assertThrows(IllegalArgumentException.class, () -> new Shard(5, 0, 3));
        assertThrows(IllegalArgumentException.class, () -> participant("random:x", 'A', 8, 0, new Shard(1, 0, 0)));
        assertThrows(IllegalArgumentException.class, () -> participant("random:x", 'a', 8, Double.NaN, new Shard(1, 0, 0)));
        assertThrows(IllegalArgumentException.class, () -> new Alignment(0, List.of(1L, 1L), "ridge-gcv", List.of(0.0), List.of(0.0)));
        ManifestProvenance ok = collaborative();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ManifestProvenance(
                ok.source(), ok.postprocess(), ok.participants(),
                new Alignment(0, List.of(1L), "ridge-gcv", List.of(0.1), List.of(0.0)), ok.created()));
        assertEquals("alignment.residuals has 1 values for 2 participants", e.getMessage());
    }

    @Test
    void replacesAnExistingDataset() throws IOException {
        Path dir = writeSingle("data");
        float[] other = targets();
        other[0] = 123f;
        OptimizedDataset.write(dir, new Matrix(other, COUNT, DIM), ids(), single(TIME));
        assertEquals(123f, allTargets(OptimizedDataset.read(dir))[0]);
        assertEquals(List.of("data"), names(root));
    }

    @Test
    void refusesToOverwriteADirectoryThatIsNotADataset() throws IOException {
        Path dir = Files.createDirectory(root.resolve("precious"));
        Files.writeString(dir.resolve("notes.txt"), "keep me");
        UserException e = assertThrows(UserException.class,
                () -> OptimizedDataset.write(dir, new Matrix(targets(), COUNT, DIM), ids(), single(TIME)));
        assertEquals(dir + ": exists and is not a CoOpt optimized dataset (no manifest.json); refusing to replace it",
                e.getMessage());
        assertEquals(List.of("notes.txt"), names(dir));
        assertEquals("keep me", Files.readString(dir.resolve("notes.txt")));
        assertEquals(List.of("precious"), names(root));
    }

    @Test
    void interruptedWriteLeavesNoDirectory() throws IOException {
        Path dir = root.resolve("data");
        UserException e = assertThrows(UserException.class, () -> writeInterrupted(dir));
        assertTrue(e.getMessage().contains("cannot write"), e.getMessage());
        assertEquals(List.of(), names(root));
    }

    @Test
    void interruptedReplacementKeepsTheOldDataset() throws IOException {
        Path dir = writeSingle("data");
        byte[] before = Files.readAllBytes(dir.resolve("targets.safetensors"));
        assertThrows(UserException.class, () -> writeInterrupted(dir));
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("targets.safetensors")));
        assertArrayEquals(targets(), allTargets(OptimizedDataset.read(dir)));
        assertEquals(List.of("data"), names(root));
    }

    /** Writes with the thread interrupted, so the first file write fails as it would on a cancelled job. */
    private static void writeInterrupted(Path dir) {
        float[] other = targets();
        other[0] = 123f;
        Thread.currentThread().interrupt();
        try {
            OptimizedDataset.write(dir, new Matrix(other, COUNT, DIM), ids(), single(TIME));
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void missingDirectoryOrManifest() throws IOException {
        Path absent = root.resolve("absent");
        assertUnreadable(absent, absent + ": no such directory");
        Path empty = Files.createDirectory(root.resolve("empty"));
        assertUnreadable(empty, empty + ": not a CoOpt optimized dataset (no manifest.json)");
        Path file = Files.writeString(root.resolve("file"), "x");
        assertUnreadable(file, file + ": not a directory");
    }

    @Test
    void truncatedTargets() throws IOException {
        Path dir = writeSingle("data");
        Path file = dir.resolve("targets.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 10));
        assertUnreadable(dir, dir + ": checksum mismatch: targets.safetensors was modified or is corrupt (sha256 ");

        recordChecksum(dir);
        assertUnreadable(dir, file + ": tensor 'ids' data_offsets");
        assertUnreadable(dir, "truncated or corrupt");
    }

    @Test
    void flippedByteFailsTheChecksum() throws IOException {
        Path dir = writeSingle("data");
        Path file = dir.resolve("targets.safetensors");
        String recorded = Checksums.sha256(file);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 100] ^= 0x10;
        Files.write(file, bytes);
        assertUnreadable(dir, dir + ": checksum mismatch: targets.safetensors was modified or is corrupt (sha256 "
                + Checksums.sha256(file) + ", manifest.json records " + recorded + ")");
    }

    @Test
    void badManifests() throws IOException {
        Path dir = writeSingle("data");
        Path manifest = dir.resolve("manifest.json");
        ObjectNode good = (ObjectNode) JSON.readTree(manifest.toFile());

        Files.writeString(manifest, "{ not json");
        assertUnreadable(dir, manifest + ": the file is not valid JSON");
        Files.writeString(manifest, "[1, 2]");
        assertUnreadable(dir, manifest + ": not a JSON object");

        assertEditRefused(dir, good, j -> j.put("format", "coopt-optimized-dataset/2"), manifest
                + ": unsupported format \"coopt-optimized-dataset/2\" (this version reads \"coopt-optimized-dataset/1\")");
        assertEditRefused(dir, good, j -> j.remove("format"),
                manifest + ": not a CoOpt optimized dataset manifest (no \"format\" field)");
        assertEditRefused(dir, good, j -> j.remove("dim"), manifest + ": missing field 'dim'");
        assertEditRefused(dir, good, j -> j.withObjectProperty("source").remove("fingerprint"),
                manifest + ": missing field 'source.fingerprint'");
        assertEditRefused(dir, good, j -> j.put("targets_sha256", "abc"),
                manifest + ": field 'targets_sha256' must be 64 lower-case hex digits");
        assertEditRefused(dir, good, j -> participant(j).put("weights_sha256", "XYZ"),
                manifest + ": field 'participants[0].weights_sha256' must be 64 lower-case hex digits, found 'XYZ'");
        assertEditRefused(dir, good, j -> participant(j).withObjectProperty("input").put("height", "28"),
                manifest + ": field 'participants[0].input.height' must be an integer, found \"28\"");
        assertEditRefused(dir, good, j -> j.putArray("participants"),
                manifest + ": participants must list at least one participant");
        assertEditRefused(dir, good, j -> participant(j).withObjectProperty("shard").put("colour", "red"),
                manifest + ": unknown field 'participants[0].shard.colour' (expected count, max_id, min_id)");
        assertEditRefused(dir, good, j -> j.withObjectProperty("postprocess").put("standardized", "true"),
                manifest + ": field 'postprocess.standardized' must be true or false, found \"true\"");
        assertEditRefused(dir, good, j -> j.put("count", 20.0), manifest + ": field 'count' must be an integer, found 20.0");
        assertEditRefused(dir, good, j -> j.withObjectProperty("source").putNull("spec"),
                manifest + ": field 'source.spec' must be a string, found null");
        assertEditRefused(dir, good, j -> participant(j).withObjectProperty("input").putArray("mean").add("NaN"),
                manifest + ": field 'participants[0].input.mean[0]' must be a finite number, found NaN");
        assertEditRefused(dir, good, j -> j.withObjectProperty("created").put("time", "yesterday"), manifest
                + ": field 'created.time' must be an ISO-8601 instant such as 2025-01-31T12:00:00Z, found \"yesterday\"");
        Files.writeString(manifest, good.toString().replace("\"standardized\":true", "\"standardized\":true,\"pca_dim\":2"));
        assertUnreadable(dir, manifest + ": the file is not valid JSON (duplicate field 'postprocess.pca_dim' at line 1");

        writeManifest(dir, good);
        OptimizedDataset.read(dir);
    }

    @Test
    void countOrDimDifferentFromTheManifest() throws IOException {
        Path dir = writeSingle("data");
        Path file = dir.resolve("targets.safetensors");
        ObjectNode good = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());

        writeManifest(dir, good.deepCopy().put("count", COUNT + 1));
        assertUnreadable(dir, file + ": tensor 'targets' has shape [20, 4] but manifest.json records count 21 and dim 4");
        writeManifest(dir, good.deepCopy().put("dim", DIM - 1));
        assertUnreadable(dir, file + ": tensor 'targets' has shape [20, 4] but manifest.json records count 20 and dim 3");

        writeManifest(dir, good);
        writeTensors(dir, new Tensor.F32(new long[] {COUNT, DIM}, targets()),
                new Tensor.I64(new long[] {COUNT - 1}, Arrays.copyOf(ids(), COUNT - 1)));
        assertUnreadable(dir, file + ": tensor 'ids' holds 19 ids but manifest.json records count 20");
    }

    @Test
    void nonFiniteTargetsWithAValidChecksum() throws IOException {
        Path dir = writeSingle("data");
        float[] x = targets();
        x[2 * DIM + 1] = Float.NaN;
        writeTensors(dir, new Tensor.F32(new long[] {COUNT, DIM}, x), new Tensor.I64(new long[] {COUNT}, ids()));
        assertUnreadable(dir, dir.resolve("targets.safetensors") + ": targets row 2 (id 6), column 1 is NaN");
    }

    @Test
    void badIdsWithAValidChecksum() throws IOException {
        Path dir = writeSingle("data");
        Path file = dir.resolve("targets.safetensors");
        Tensor.F32 x = new Tensor.F32(new long[] {COUNT, DIM}, targets());
        long[] ids = ids();
        ids[COUNT - 1] = ids[0];
        writeTensors(dir, x, new Tensor.I64(new long[] {COUNT}, ids));
        assertUnreadable(dir, file + ": id 0 appears more than once in ids");
        ids[COUNT - 1] = SOURCE_COUNT + 5;
        writeTensors(dir, x, new Tensor.I64(new long[] {COUNT}, ids));
        assertUnreadable(dir, file + ": ids[19] is 65, outside the source's 60 samples");
    }

    @Test
    void wrongTensors() throws IOException {
        Path dir = writeSingle("data");
        Path file = dir.resolve("targets.safetensors");
        Tensor.F32 x = new Tensor.F32(new long[] {COUNT, DIM}, targets());
        Tensor.I64 ids = new Tensor.I64(new long[] {COUNT}, ids());

        writeTensors(dir, x, new Tensor.I32(new long[] {COUNT}, new int[COUNT]));
        assertUnreadable(dir, file + ": tensor 'ids' is I32, expected I64");
        writeTensors(dir, new Tensor.F32(new long[] {COUNT * DIM}, targets()), ids);
        assertUnreadable(dir, file + ": tensor 'targets' has shape [80], expected [count, dim]");
        writeTensors(dir, x);
        assertUnreadable(dir, file + ": no tensor named 'ids'");

        LinkedHashMap<String, Tensor> extra = new LinkedHashMap<>();
        extra.put("targets", x);
        extra.put("ids", ids);
        extra.put("labels", new Tensor.I64(new long[] {COUNT}, new long[COUNT]));
        SafeTensors.write(file, extra, Map.of());
        recordChecksum(dir);
        assertUnreadable(dir, file + ": unexpected tensor 'labels'");

        Files.delete(file);
        assertUnreadable(dir, file + ": missing (manifest.json refers to it)");
    }

    /** Replaces the tensors file with {@code tensors} (named targets, ids, in that order) and records its checksum. */
    private static void writeTensors(Path dir, Tensor... tensors) throws IOException {
        LinkedHashMap<String, Tensor> named = new LinkedHashMap<>();
        List<String> names = List.of("targets", "ids");
        for (int i = 0; i < tensors.length; i++) {
            named.put(names.get(i), tensors[i]);
        }
        SafeTensors.write(dir.resolve("targets.safetensors"), named, Map.of());
        recordChecksum(dir);
    }

    /** Makes the manifest's checksum agree with the tensors file, so that the checks behind it get to run. */
    private static void recordChecksum(Path dir) throws IOException {
        ObjectNode json = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
        json.put("targets_sha256", Checksums.sha256(dir.resolve("targets.safetensors")));
        writeManifest(dir, json);
    }

    private static void writeManifest(Path dir, JsonNode json) throws IOException {
        Files.writeString(dir.resolve("manifest.json"), json.toPrettyString());
    }

    private static ObjectNode participant(ObjectNode manifest) {
        return (ObjectNode) manifest.get("participants").get(0);
    }

    /** Reading fails as {@link #assertUnreadable} says once {@code edit} is made to a copy of {@code good}. */
    private static void assertEditRefused(Path dir, ObjectNode good, Consumer<ObjectNode> edit, String fragment)
            throws IOException {
        ObjectNode json = good.deepCopy();
        edit.accept(json);
        writeManifest(dir, json);
        assertUnreadable(dir, fragment);
    }

    /** Reading fails with a one-line user error that contains {@code fragment}. */
    private static void assertUnreadable(Path dir, String fragment) {
        UserException e = assertThrows(UserException.class, () -> OptimizedDataset.read(dir));
        String message = e.getMessage();
        assertTrue(message.contains(fragment), "expected '" + fragment + "' in: " + message);
        assertFalse(message.contains("\n"), "one line: " + message);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void rawOutputsAreKeptVerifiedAndReadBack() throws IOException {
        Path dir = root.resolve("raw");
        float[] outputs = new float[COUNT * 3];
        for (int i = 0; i < outputs.length; i++) {
            outputs[i] = i * 0.5f;
        }
        OptimizedDataset.RawOutputs raw = new OptimizedDataset.RawOutputs(
                List.of(new Matrix(outputs, COUNT, 3)), List.of(ids()));
        OptimizedDataset.write(dir, new Matrix(targets(), COUNT, DIM), ids(), single(TIME), raw);
        OptimizedDataset d = OptimizedDataset.read(dir);
        try (OptimizedDataset.RawOutputs.Participant p = d.rawOutputs(0)) {
            assertArrayEquals(outputs, p.outputs().toArray());
            assertArrayEquals(ids(), p.ids());
        }
        assertThrows(UserException.class, () -> d.rawOutputs(1));

        Path rawFile = dir.resolve(OptimizedDataset.RAW_FILE);
        byte[] bytes = Files.readAllBytes(rawFile);
        bytes[bytes.length - 1] ^= 1;
        Files.write(rawFile, bytes);
        UserException e = assertThrows(UserException.class, () -> OptimizedDataset.read(dir));
        assertTrue(e.getMessage().contains("raw_outputs.safetensors was modified"), e.getMessage());
    }
}
