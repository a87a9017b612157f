package ai.coopt.collab;

import ai.coopt.store.ManifestProvenance;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;

import java.util.Objects;

/**
 * A participant's prior as the platform records it: what the manifest says about the prior, without the shards
 * (a participant may optimize several, and the platform knows which). Sent with the outputs on the shared subset.
 *
 * @param uniformity the prior's uniformity on S (lower = more uniform); the most uniform prior is the reference
 * @param uniformitySubset how many samples of S the uniformity was computed on
 */
public record PriorReport(String prior, String kind, String weightsSha256, ManifestProvenance.Input input, int outputDim,
                          double uniformity, int uniformitySubset,
                          @JsonSetter(nulls = Nulls.SET) @JsonInclude(JsonInclude.Include.NON_NULL) String precision) {
    public PriorReport {
        // the manifest's own checks, with a stand-in shard, so a bad report is refused where it arrives
        new ManifestProvenance.Participant(prior, kind, weightsSha256, Objects.requireNonNull(input, "input"), outputDim,
                uniformity, uniformitySubset, new ManifestProvenance.Shard(1, 0, 0), precision);
    }

    /** A report whose precision is not said (a participant from before it was: fp32). */
    public PriorReport(String prior, String kind, String weightsSha256, ManifestProvenance.Input input, int outputDim,
                       double uniformity, int uniformitySubset) {
        this(prior, kind, weightsSha256, input, outputDim, uniformity, uniformitySubset, null);
    }

    /** This report with the uniformity the platform computed from the outputs themselves. */
    public PriorReport withUniformity(double computed, int subset) {
        return new PriorReport(prior, kind, weightsSha256, input, outputDim, computed, subset, precision);
    }

    /**
     * This report as it may leave the participant's machine: the prior named without its local directories
     * ({@link #publicSpec}); its weights' sha256 still says exactly which prior it is.
     */
    public PriorReport withoutPaths() {
        return new PriorReport(publicSpec(prior), kind, weightsSha256, input, outputDim, uniformity, uniformitySubset,
                precision);
    }

    /**
     * A prior spec without local paths: a file or directory is named by its last component ({@code
     * model:/home/alice/priors/x} is {@code model:x}, {@code torchscript:/a/b.pt#embed} is {@code torchscript:b.pt#embed});
     * a spec that names no path ({@code zoo:NAME}, {@code random:ARCH:SEED}) is kept.
     */
    public static String publicSpec(String spec) {
        int slash = Math.max(spec.lastIndexOf('/'), spec.lastIndexOf('\\'));
        if (slash < 0) {
            return spec;
        }
        int colon = spec.indexOf(':');
        boolean prefixed = colon > 0 && spec.substring(0, colon).matches("[a-z]+");
        String kind = prefixed ? spec.substring(0, colon) : "model";
        String rest = prefixed ? spec.substring(colon + 1) : spec;
        int hash = kind.equals("torchscript") ? rest.lastIndexOf('#') : -1;
        String path = hash < 0 ? rest : rest.substring(0, hash);
        String method = hash < 0 ? "" : rest.substring(hash);
        while (path.length() > 1 && (path.endsWith("/") || path.endsWith("\\"))) {
            path = path.substring(0, path.length() - 1);
        }
        String name = path.substring(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
        return kind + ":" + (name.isEmpty() ? "?" : name) + method;
    }

    /** The manifest's entry for this prior over the shards it optimized. */
    public ManifestProvenance.Participant participant(ManifestProvenance.Shard shards) {
        return new ManifestProvenance.Participant(prior, kind, weightsSha256, input, outputDim, uniformity,
                uniformitySubset, shards, precision);
    }
}
