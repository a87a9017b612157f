package ai.coopt.collab;

import ai.coopt.UserException;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;

import java.util.List;

import static ai.coopt.Setting.ALIGN;

/**
 * How fusion brings the trusted participants' outputs into one space (phase 3). {@link Fusion} chooses the reference
 * and merges by id; an alignment only maps each participant's rows. The manifest records its {@link #name}.
 */
public interface Alignment {
    /** The paper's: a ridge map from each participant's outputs onto the reference's, fitted on S. */
    Alignment RIDGE = new RidgeMapping();
    /** No map: each participant's outputs PCA'd to a common width and standardised in its own space. */
    Alignment PCA = new OwnSpaces(true);
    /** No map, no post-processing: the outputs as produced (a participant's PCA only to bring widths together). */
    Alignment NONE = new OwnSpaces(false);
    /** Every alignment, by name. */
    List<Alignment> ALL = List.of(RIDGE, PCA, NONE);

    /** The name options and stored configurations use ({@code ridge}, {@code pca}, {@code none}). */
    String name();

    /**
     * Maps every participant's rows.
     *
     * @param parts the fused participants: each one's outputs on S and its shards' rows merged by id
     * @param reference the position in {@code parts} of the participant whose space the others are brought into
     * @param referenceVerified whether the screening verified the reference (recorded in the manifest)
     * @return the rows in {@code parts}' order, all {@code dim} wide, and how they were aligned
     */
    Aligned align(List<Fusion.Part> parts, long[] sharedIds, int reference, boolean referenceVerified, Scratch scratch);

    /** What an alignment made: every participant's rows in one width, and the manifest's description of it. */
    record Aligned(List<Rows> rows, int dim, ManifestProvenance.Alignment description) {}

    /** The alignment with this name, or one line naming them all. */
    static Alignment named(String name) {
        for (Alignment a : ALL) {
            if (a.name().equals(name)) {
                return a;
            }
        }
        throw new UserException(names -> names.of(ALIGN) + " must be one of "
                + String.join(", ", ALL.stream().map(Alignment::name).toList())
                + ", not '" + name + "'");
    }
}
