package ai.coopt.report;

import ai.coopt.UserException;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.RowFile;
import ai.coopt.util.Subsets;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A 2-D t-SNE map (our exact {@link Tsne}) of a fused optimized dataset's samples, coloured by
 * participant, before and after alignment. "Before" is what each participant uploaded: its prior's
 * raw outputs (zero-padded to the widest prior), one space per prior; "after" is the fused targets
 * the dataset holds for the same samples. Separate islands per participant before and one mixed
 * cloud after show that alignment put the priors into one space.
 *
 * @param points {@code n × 2} coordinates
 * @param participant the participant of each point
 */
public record TargetMap(String title, double[][] points, int[] participant) {
    /** The two maps of one dataset, over the same sampled samples. */
    public record BeforeAfter(TargetMap before, TargetMap after, List<String> priors, double seconds) {}

    /**
     * Samples {@code perParticipant} rows of each participant's shard (seeded) and maps them twice.
     *
     * @throws UserException when the dataset keeps no raw outputs (it was not made by {@code coopt collab})
     */
    public static BeforeAfter of(OptimizedDataset data, int perParticipant, long seed) {
        long t0 = System.nanoTime();
        int k = data.provenance().participants().size();
        long[] ids = data.ids();
        List<float[]> uploaded = new ArrayList<>();
        List<float[]> fused = new ArrayList<>();
        List<Integer> who = new ArrayList<>();
        int width = 0;
        for (int p = 0; p < k; p++) {
            try (OptimizedDataset.RawOutputs.Participant raw = data.rawOutputs(p)) {
                width = Math.max(width, raw.outputs().dim());
            }
        }
        try (RowFile targets = data.targets()) {
            for (int p = 0; p < k; p++) {
                try (OptimizedDataset.RawOutputs.Participant raw = data.rawOutputs(p)) {
                    for (int r : Subsets.random(raw.outputs().count(), perParticipant, seed + p)) {
                        float[] padded = new float[width];
                        raw.outputs().read(r, 1, padded, 0);
                        uploaded.add(padded);
                        int at = Arrays.binarySearch(ids, raw.ids()[r]);
                        if (at < 0) {
                            throw new UserException(data.dir() + ": sample id " + raw.ids()[r] + " of participant " + p
                                    + " is missing from the fused targets");
                        }
                        float[] target = new float[data.dim()];
                        targets.read(at, 1, target, 0);
                        fused.add(target);
                        who.add(p);
                    }
                }
            }
        }
        int[] participant = who.stream().mapToInt(Integer::intValue).toArray();
        List<String> priors = data.provenance().participants().stream().map(ManifestProvenance.Participant::prior).toList();
        return new BeforeAfter(
                new TargetMap("Before alignment: each prior's raw outputs", tsne(uploaded, seed), participant),
                new TargetMap("After alignment: the fused targets", tsne(fused, seed), participant),
                priors, (System.nanoTime() - t0) / 1e9);
    }

    /** t-SNE to 2-D with perplexity 30 (or less for tiny inputs), 1,000 iterations, seeded. */
    static double[][] tsne(List<float[]> rows, long seed) {
        if (rows.size() < 4) {
            throw new IllegalArgumentException("t-SNE needs at least 4 points, not " + rows.size());
        }
        double[][] x = new double[rows.size()][];
        for (int i = 0; i < x.length; i++) {
            float[] r = rows.get(i);
            x[i] = new double[r.length];
            for (int j = 0; j < r.length; j++) {
                x[i][j] = r[j];
            }
        }
        double perplexity = Math.min(30, (x.length - 1) / 3.0);
        return Tsne.run(x, Tsne.Settings.of(perplexity, seed)).points();
    }
}
