package ai.coopt.data;

import ai.coopt.Setting;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * How {@code --limit N} chose the samples of a split: a seeded random subset, stratified by class when the split is
 * labelled, so a folder sorted by class cut to N images still holds every class in its proportion. The same N, seed
 * and split give the same subset in every command (and in any language: the algorithm below is all there is).
 *
 * <p>The draw, for a split of {@code of} samples:
 * <ol>
 *   <li>Strata: one per distinct label, in increasing label order, each holding its sample indices in increasing
 *       order; one stratum of every index when the split is unlabelled.</li>
 *   <li>Quotas: stratum {@code c} of {@code n_c} samples gets {@code floor(N·n_c / of)}; the {@code N − Σ} left over go
 *       one each to the strata with the largest remainders {@code N·n_c mod of}, ties to the earlier stratum.</li>
 *   <li>Within stratum {@code k} (0-based position in that order): a SplitMix64 generator whose state starts at
 *       {@code seed + 0x9E3779B97F4A7C15·(k+1)} (64-bit wrap-around) runs a partial Fisher–Yates shuffle: for
 *       {@code i} in {@code 0..quota−1}, {@code j = i + (next() mod (n_c − i))} (unsigned), swap; the first
 *       {@code quota} are taken.</li>
 *   <li>The union, in increasing index order.</li>
 * </ol>
 *
 * @param limit      the N asked for
 * @param seed       the draw's seed ({@code --limit-seed})
 * @param of         the samples in the whole split
 * @param stratified whether the draw was stratified by class (the split is labelled)
 * @param idsSha256  SHA-256 of the chosen indices as int64 little-endian, in increasing order: identifies the draw
 */
public record Subset(int limit, long seed, int of, boolean stratified, @JsonProperty("ids_sha256") String idsSha256) {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    /** The chosen indices and the record of how they were chosen. */
    public record Drawn(int[] indices, Subset subset) {}

    /**
     * Draws {@code limit} of {@code of} samples; all of them (and no record) when {@code limit} is 0 or at least
     * {@code of}.
     *
     * @param labels one label per sample, or null when the split is unlabelled
     * @return null when every sample is taken
     */
    public static Drawn draw(int of, int[] labels, int limit, long seed) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit " + limit);
        }
        if (labels != null && labels.length != of) {
            throw new IllegalArgumentException(labels.length + " labels for " + of + " samples");
        }
        if (limit == 0 || limit >= of) {
            return null;
        }
        int[][] strata = strata(of, labels);
        long[] quota = new long[strata.length];
        long[] remainder = new long[strata.length];
        long given = 0;
        for (int c = 0; c < strata.length; c++) {
            long product = (long) limit * strata[c].length;
            quota[c] = product / of;
            remainder[c] = product % of;
            given += quota[c];
        }
        Integer[] order = new Integer[strata.length];
        Arrays.setAll(order, c -> c);
        Arrays.sort(order, (a, b) -> remainder[a] != remainder[b] ? Long.compare(remainder[b], remainder[a]) : Integer.compare(a, b));
        for (int k = 0; given < limit; k++, given++) {
            quota[order[k]]++;
        }
        int[] chosen = new int[limit];
        int at = 0;
        for (int c = 0; c < strata.length; c++) {
            int[] a = strata[c];
            long state = seed + GOLDEN * (c + 1);
            for (int i = 0; i < quota[c]; i++) {
                state += GOLDEN;
                long z = state;
                z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                z = z ^ (z >>> 31);
                int j = i + (int) Long.remainderUnsigned(z, a.length - i);
                int t = a[i];
                a[i] = a[j];
                a[j] = t;
            }
            System.arraycopy(a, 0, chosen, at, (int) quota[c]);
            at += (int) quota[c];
        }
        Arrays.sort(chosen);
        return new Drawn(chosen, new Subset(limit, seed, of, labels != null, sha256(chosen)));
    }

    /** SHA-256 of {@code ids} as int64 little-endian, in the given order. */
    public static String sha256(int[] ids) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate(8 * 4096).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < ids.length; i++) {
                b.putLong(ids[i]);
                if (!b.hasRemaining()) {
                    md.update(b.array(), 0, b.position());
                    b.clear();
                }
            }
            md.update(b.array(), 0, b.position());
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int[][] strata(int of, int[] labels) {
        if (labels == null) {
            int[] all = new int[of];
            Arrays.setAll(all, i -> i);
            return new int[][] {all};
        }
        int[] distinct = Arrays.stream(labels).distinct().sorted().toArray();
        int[][] strata = new int[distinct.length][];
        int[] sizes = new int[distinct.length];
        for (int l : labels) {
            sizes[Arrays.binarySearch(distinct, l)]++;
        }
        for (int c = 0; c < distinct.length; c++) {
            strata[c] = new int[sizes[c]];
            sizes[c] = 0;
        }
        for (int i = 0; i < of; i++) {
            int c = Arrays.binarySearch(distinct, labels[i]);
            strata[c][sizes[c]++] = i;
        }
        return strata;
    }

    /** One line for logs and refusals, the seed's setting named by {@code names}: "5000 of 50000 (stratified, seed 0)". */
    public String describe(Setting.Names names) {
        return limit + " of " + of + " (" + (stratified ? "stratified by class, " : "") + names.of(Setting.LIMIT_SEED)
                + " "
                + seed + ")";
    }
}
