package ai.coopt.collab;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@link Screening}'s first two rules: degenerate outputs on S, and the independent priors — healthy participants whose
 * outputs on S are the same ({@link #sameOutputs}) form one group, led by its first member, which the later rules count
 * as one vote and judge as one.
 *
 * @param group per participant, the index of its group's first member; -1 when it was excluded before grouping
 * @param heads the groups' first members, in input order
 * @param size per first member, how many participants its group holds
 */
record PriorGroups(int[] group, List<Integer> heads, int[] size) {
    /** Groups the participants not excluded yet ({@code reasons[i] == null}) by their outputs on S. */
    static PriorGroups of(List<SharedOutputs> outputs, String[] reasons) {
        int k = outputs.size();
        int[] group = new int[k];
        Arrays.fill(group, -1);
        List<Integer> heads = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            if (reasons[i] != null) {
                continue;
            }
            group[i] = i;
            for (int j : heads) {
                if (sameOutputs(outputs.get(j), outputs.get(i))) {
                    group[i] = j;
                    break;
                }
            }
            if (group[i] == i) {
                heads.add(i);
            }
        }
        int[] size = new int[k];
        for (int i = 0; i < k; i++) {
            if (group[i] >= 0) {
                size[group[i]]++;
            }
        }
        return new PriorGroups(group, heads, size);
    }

    /** Why these outputs on S are degenerate, or null. */
    static String degenerate(SharedOutputs s) {
        int n = s.count();
        int d = s.dim();
        float[] v = s.values();
        double spread = 0;
        double size = 0;
        for (int c = 0; c < d; c++) {
            double mean = 0;
            for (int r = 0; r < n; r++) {
                mean += v[r * d + c];
            }
            mean /= n;
            for (int r = 0; r < n; r++) {
                double x = v[r * d + c];
                spread += (x - mean) * (x - mean);
                size += x * x;
            }
        }
        if (spread <= 1e-10 * Math.max(size, 1e-30)) {
            return "its outputs on S are the same for every image";
        }
        Set<Integer> distinct = new HashSet<>();
        for (int r = 0; r < n; r++) {
            distinct.add(Arrays.hashCode(Arrays.copyOfRange(v, r * d, (r + 1) * d)));
        }
        if (distinct.size() < 0.5 * n) {
            return String.format(Locale.ROOT, "only %d of its %d outputs on S are distinct", distinct.size(), n);
        }
        return null;
    }

    /**
     * Whether two participants' outputs on S are the same prior's: as wide, and {@code ‖a − b‖ ≤ }{@value
     * Screening#SAME_PRIOR_TOLERANCE}{@code  · max(‖a‖, ‖b‖)} over all rows (Frobenius norms).
     */
    static boolean sameOutputs(SharedOutputs a, SharedOutputs b) {
        if (a.dim() != b.dim() || a.count() != b.count()) {
            return false;
        }
        float[] x = a.values();
        float[] y = b.values();
        double diff = 0;
        double nx = 0;
        double ny = 0;
        for (int i = 0; i < x.length; i++) {
            double e = (double) x[i] - y[i];
            diff += e * e;
            nx += (double) x[i] * x[i];
            ny += (double) y[i] * y[i];
        }
        return Math.sqrt(diff) <= Screening.SAME_PRIOR_TOLERANCE * Math.sqrt(Math.max(nx, ny));
    }
}
