package ai.coopt.store;

import ai.coopt.data.ImageSet;
import ai.coopt.data.Subset;
import ai.coopt.util.Secrets;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What an optimized dataset was made from and how: the parts of its {@code manifest.json} that the producer
 * supplies ({@link OptimizedDataset} adds {@code format}, {@code count}, {@code dim}, {@code targets_sha256} and
 * {@code raw_outputs}, see {@link Manifest}). The records are the JSON objects, field for field, with snake_case
 * names. Every record checks its values and throws {@link IllegalArgumentException} (a {@link Json.BadField} when
 * one field is at fault) for a value out of range, so a manifest that was written is also one that reads back.
 *
 * @param source the samples the targets belong to
 * @param postprocess what was done to the priors' outputs
 * @param participants who produced targets, at least one; a single entry for {@code coopt optimize}
 * @param alignment how the participants' targets were aligned before fusion; null for one participant or
 *     {@code --align none}
 * @param created when and by which command the dataset was written
 */
public record ManifestProvenance(Source source, Postprocess postprocess, List<Participant> participants,
                                 @JsonSetter(nulls = Nulls.SET) Alignment alignment, Created created) {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /**
     * @throws IllegalArgumentException when there is no participant, or the alignment's reference or residuals
     *     do not fit the participants
     */
    public ManifestProvenance {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(postprocess, "postprocess");
        participants = List.copyOf(participants);
        Objects.requireNonNull(created, "created");
        if (participants.isEmpty()) {
            throw new IllegalArgumentException("participants must list at least one participant");
        }
        if (alignment != null) {
            if (alignment.reference() >= participants.size()) {
                throw new IllegalArgumentException("alignment.reference " + alignment.reference()
                        + " is not a participant index (" + participants.size() + " participants)");
            }
            if (alignment.residuals().size() != participants.size()) {
                throw new IllegalArgumentException("alignment.residuals has " + alignment.residuals().size()
                        + " values for " + participants.size() + " participants");
            }
        }
    }

    /**
     * The samples the targets belong to; a target's id is its sample's index in the split.
     *
     * @param spec the dataset spec as given, e.g. {@code fashion-mnist} or {@code idx:/data/digits}
     * @param split {@code train} or {@code test}
     * @param count the number of samples taken from the split (after {@code --limit})
     * @param fingerprint identifies the exact samples, e.g. {@code ImageSet.fingerprint()}
     * @param subset how {@code --limit} drew them from the split (ids are then below {@code subset.of}), or null when
     *     the whole split was taken (ids below {@code count})
     */
    public record Source(String spec, String split, int count, String fingerprint, int skippedImages,
                         @JsonSetter(nulls = Nulls.SET) @JsonInclude(JsonInclude.Include.NON_NULL) Subset subset) {
        /** @throws IllegalArgumentException for a blank string, a count that is not positive or a negative skip count */
        public Source {
            requireText("spec", spec);
            requireText("split", split);
            requirePositive("count", count);
            requireText("fingerprint", fingerprint);
            if (skippedImages < 0) {
                throw new Json.BadField("skipped_images", "must not be negative, found " + skippedImages);
            }
            if (subset != null && (subset.limit() < count || subset.of() < subset.limit()
                    || subset.idsSha256() == null || !SHA256.matcher(subset.idsSha256()).matches())) {
                throw new Json.BadField("subset", "must draw at least count of at least limit samples, with "
                        + "ids_sha256 of 64 lower-case hex digits");
            }
        }

        /** A source whose reader skipped no file. */
        public Source(String spec, String split, int count, String fingerprint) {
            this(spec, split, count, fingerprint, 0, null);
        }

        /** A whole split. */
        public Source(String spec, String split, int count, String fingerprint, int skippedImages) {
            this(spec, split, count, fingerprint, skippedImages, null);
        }

        /** The samples of {@code images}, loaded by {@code spec}. */
        public static Source of(String spec, String split, ImageSet images) {
            return new Source(spec, split, images.count(), images.fingerprint(), images.skipped(), images.drawn());
        }

        /** The number of samples in the split the ids index: ids are below it. */
        public long idBound() {
            return subset == null ? count + (long) skippedImages : subset.of();
        }
    }

    /**
     * What was done to the priors' outputs before they became targets.
     *
     * @param pcaDim the number of principal components kept, or null when PCA was not applied
     * @param explainedVariance the fraction of the raw outputs' variance those components keep, or null
     * @param standardized whether each dimension was shifted and scaled to zero mean and unit variance
     */
    public record Postprocess(@JsonSetter(nulls = Nulls.SET) Integer pcaDim,
                              @JsonSetter(nulls = Nulls.SET) Double explainedVariance, boolean standardized) {
        /** @throws IllegalArgumentException when pcaDim is not positive or the fraction is outside [0, 1] */
        public Postprocess {
            if (pcaDim != null) {
                requirePositive("pca_dim", pcaDim);
            }
            if (explainedVariance != null && !(explainedVariance >= 0 && explainedVariance <= 1 + 1e-9)) {
                throw new Json.BadField("explained_variance", "must be in [0, 1], found " + explainedVariance);
            }
        }
    }

    /**
     * One participant: the prior it ran and the part of the data it labelled.
     *
     * @param prior the prior's spec, e.g. {@code random:convnet-s:0}
     * @param kind the prior's kind, e.g. {@code random}, {@code model}, {@code torchscript}, {@code onnx}
     * @param weightsSha256 SHA-256 of the prior's weights, 64 lower-case hex digits
     * @param input the images the prior takes and how the data was adapted to them
     * @param outputDim the width of the prior's raw output
     * @param uniformity V_uniform of the prior's L2-normalised outputs (t = 2; lower is more uniform)
     * @param uniformitySubset the number of samples the uniformity was computed on
     * @param shard the sample ids this participant labelled
     * @param precision what the prior computed in, {@code fp32} or {@code bf16} (null in files from before it was
     *                  recorded: fp32)
     */
    public record Participant(String prior, String kind, String weightsSha256, Input input, int outputDim,
                              double uniformity, int uniformitySubset, Shard shard,
                              @JsonSetter(nulls = Nulls.SET) @JsonInclude(JsonInclude.Include.NON_NULL) String precision) {
        /** A participant whose precision was not recorded (files from before it was: fp32). */
        public Participant(String prior, String kind, String weightsSha256, Input input, int outputDim,
                           double uniformity, int uniformitySubset, Shard shard) {
            this(prior, kind, weightsSha256, input, outputDim, uniformity, uniformitySubset, shard, null);
        }

        /** @throws IllegalArgumentException for a blank name, a malformed checksum or an impossible number */
        public Participant {
            if (precision != null && !precision.equals("fp32") && !precision.equals("bf16")) {
                throw new Json.BadField("precision", "must be fp32 or bf16, found '" + precision + "'");
            }
            requireText("prior", prior);
            requireText("kind", kind);
            if (weightsSha256 == null || !SHA256.matcher(weightsSha256).matches()) {
                throw new Json.BadField("weights_sha256", "must be 64 lower-case hex digits, found "
                        + (weightsSha256 == null ? "nothing" : "'" + weightsSha256 + "'"));
            }
            Objects.requireNonNull(input, "input");
            requirePositive("output_dim", outputDim);
            requireFinite("uniformity", uniformity);
            requirePositive("uniformity_subset", uniformitySubset);
            Objects.requireNonNull(shard, "shard");
        }
    }

    /**
     * What a prior was given: image size, per-channel normalisation, and how the data's images were
     * adapted to it (resize, channel conversion).
     */
    public record Input(int channels, int height, int width, List<Double> mean, List<Double> std, String adaptation) {
        /** @throws IllegalArgumentException when a size is not positive or the statistics do not match the channels */
        public Input {
            requirePositive("channels", channels);
            requirePositive("height", height);
            requirePositive("width", width);
            mean = List.copyOf(mean);
            std = List.copyOf(std);
            if (mean.size() != channels || std.size() != channels) {
                throw new IllegalArgumentException("mean and std need one value per channel");
            }
            for (int c = 0; c < channels; c++) {
                requireFinite("mean[" + c + "]", mean.get(c));
                requireFinite("std[" + c + "]", std.get(c));
            }
            requireText("adaptation", adaptation);
        }
    }

    /**
     * The sample ids a participant labelled: how many, and the range they lie in.
     *
     * @param count the number of ids
     * @param minId the smallest id
     * @param maxId the largest id
     */
    public record Shard(int count, long minId, long maxId) {
        /** @throws IllegalArgumentException when the count does not fit the range */
        public Shard {
            requirePositive("count", count);
            if (minId < 0 || maxId < minId) {
                throw new IllegalArgumentException("ids range [" + minId + ", " + maxId + "] is impossible");
            }
            if (count - 1L > maxId - minId) {
                throw new IllegalArgumentException("count " + count + " does not fit in ids range ["
                        + minId + ", " + maxId + "]");
            }
        }
    }

    /**
     * How the participants' targets were mapped into the reference participant's space (regularised least
     * squares fitted on the shared subset) before fusion.
     *
     * @param reference the index in {@code participants} of the participant whose space the others map into
     * @param sharedIds the ids of the shared subset every participant labelled, without repeats
     * @param method how the maps were fitted, e.g. {@code ridge-gcv}, or {@code none} (no maps)
     * @param regularizations each participant's ridge penalty (0 for the reference and when none)
     * @param residuals the fit's residual for each participant, in the order of {@code participants}
     * @param referenceVerified false when the screening could not verify the reference: fewer than three independent
     *     priors (groups of participants with the same outputs on S) remained, or S was too small for the agreement
     *     rule; null (and left out) in manifests written before this was recorded
     */
    @JsonPropertyOrder({"reference", "reference_verified", "method", "regularizations", "residuals", "shared_ids"})
    public record Alignment(int reference, List<Long> sharedIds, String method, List<Double> regularizations,
                            List<Double> residuals,
                            @JsonInclude(JsonInclude.Include.NON_NULL) @JsonSetter(nulls = Nulls.SET)
                            Boolean referenceVerified) {
        /** An alignment whose reference's verification is not known. */
        public Alignment(int reference, List<Long> sharedIds, String method, List<Double> regularizations,
                         List<Double> residuals) {
            this(reference, sharedIds, method, regularizations, residuals, null);
        }

        /** @throws IllegalArgumentException for a negative or repeated id, or a negative or non-finite number */
        public Alignment {
            if (reference < 0) {
                throw new Json.BadField("reference", "must be a participant index, found " + reference);
            }
            sharedIds = List.copyOf(sharedIds);
            residuals = List.copyOf(residuals);
            if (sharedIds.isEmpty()) {
                throw new Json.BadField("shared_ids", "is empty");
            }
            long[] sorted = sharedIds.stream().mapToLong(Long::longValue).sorted().toArray();
            if (sorted[0] < 0) {
                throw new Json.BadField("shared_ids", "holds the negative id " + sorted[0]);
            }
            for (int i = 1; i < sorted.length; i++) {
                if (sorted[i] == sorted[i - 1]) {
                    throw new Json.BadField("shared_ids", "holds id " + sorted[i] + " more than once");
                }
            }
            requireText("method", method);
            regularizations = List.copyOf(regularizations);
            if (regularizations.size() != residuals.size()) {
                throw new IllegalArgumentException(regularizations.size() + " regularizations for " + residuals.size() + " residuals");
            }
            for (int i = 0; i < regularizations.size(); i++) {
                requireNonNegative("regularizations[" + i + "]", regularizations.get(i));
            }
            for (int i = 0; i < residuals.size(); i++) {
                requireNonNegative("residuals[" + i + "]", residuals.get(i));
            }
        }
    }

    /**
     * When and how the dataset was written.
     *
     * @param time when writing started
     * @param toolVersion the version of this project that wrote it
     * @param commandLine the command's arguments, e.g. {@code [coopt, optimize, --data, fashion-mnist, ...]}, with
     *     secrets masked ({@link Secrets#commandLine})
     * @param seed the seed every random choice derived from (subsets, shards, random priors' weights)
     */
    public record Created(Instant time, String toolVersion, List<String> commandLine, long seed) {
        /** @throws IllegalArgumentException for a blank tool version */
        public Created {
            Objects.requireNonNull(time, "time");
            requireText("tool_version", toolVersion);
            commandLine = Secrets.commandLine(commandLine);
        }

        /** The same, as the JSON object a model directory's provenance starts from. */
        public ObjectNode node() {
            ObjectNode o = Json.mapper().createObjectNode();
            o.put("created", time.toString());
            o.put("tool_version", toolVersion);
            commandLine.forEach(o.putArray("command_line")::add);
            o.put("seed", seed);
            return o;
        }
    }

    /**
     * The whole {@code manifest.json} of an optimized dataset, field for field: {@link OptimizedDataset}'s fields,
     * then the provenance's. Building one builds the provenance, so that its checks apply when reading.
     *
     * @param rawOutputs {@value OptimizedDataset#RAW_FILE} and its SHA-256, or null when the dataset keeps no raw
     *     outputs
     */
    record Manifest(String format, int count, int dim, String targetsSha256,
                    @JsonSetter(nulls = Nulls.SET) RawFile rawOutputs, Source source, Postprocess postprocess,
                    List<Participant> participants, @JsonSetter(nulls = Nulls.SET) Alignment alignment,
                    Created created) {
        /**
         * The fields a manifest may leave out or set to null, and what stands for them: manifests written before
         * skipped images were counted have no {@code source.skipped_images}, nor those written before the reference's
         * verification was recorded {@code alignment.reference_verified}, nor those written before the priors' precision
         * was recorded {@code participants[i].precision} (fp32).
         */
        private static final Map<String, JsonNode> OPTIONAL = Map.of(
                "/raw_outputs", NullNode.getInstance(),
                "/alignment", NullNode.getInstance(),
                "/alignment/reference_verified", NullNode.getInstance(),
                "/source/skipped_images", IntNode.valueOf(0),
                "/source/subset", NullNode.getInstance(),
                "/postprocess/pca_dim", NullNode.getInstance(),
                "/postprocess/explained_variance", NullNode.getInstance(),
                "/participants/*/precision", NullNode.getInstance());

        Manifest {
            if (count <= 0 || dim <= 0) {
                throw new IllegalArgumentException("count and dim must be positive, found " + count + " and " + dim);
            }
            if (targetsSha256 == null || !SHA256.matcher(targetsSha256).matches()) {
                throw new Json.BadField("targets_sha256", "must be 64 lower-case hex digits");
            }
            new ManifestProvenance(source, postprocess, participants, alignment, created);
        }

        Manifest(String format, int count, int dim, String targetsSha256, RawFile rawOutputs,
                 ManifestProvenance provenance) {
            this(format, count, dim, targetsSha256, rawOutputs, provenance.source(), provenance.postprocess(),
                    provenance.participants(), provenance.alignment(), provenance.created());
        }

        /** Reads the manifest {@code json} of {@code file}, whose format was checked. */
        static Manifest read(Path file, JsonNode json) {
            return Json.convert(file, json, Manifest.class, OPTIONAL);
        }

        ManifestProvenance provenance() {
            return new ManifestProvenance(source, postprocess, participants, alignment, created);
        }
    }

    /** A file of the dataset that the manifest refers to, with its SHA-256. */
    record RawFile(String file, String sha256) {
        RawFile {
            requireText("file", file);
            requireText("sha256", sha256);
        }
    }

    private static void requireText(String name, String value) {
        if (value == null || value.isBlank()) {
            throw new Json.BadField(name, "must be a non-empty string");
        }
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new Json.BadField(name, "must be positive, found " + value);
        }
    }

    private static void requireFinite(String name, double value) {
        if (!Double.isFinite(value)) {
            throw new Json.BadField(name, "must be a finite number, found " + value);
        }
    }

    private static void requireNonNegative(String name, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new Json.BadField(name, "must be a finite, non-negative number, found " + value);
        }
    }
}
