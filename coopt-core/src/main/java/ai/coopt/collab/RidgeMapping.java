package ai.coopt.collab;

import ai.coopt.optimize.Matrix;
import ai.coopt.optimize.RidgeAlignment;
import ai.coopt.store.ManifestProvenance;
import ai.coopt.store.RowFile;
import ai.coopt.store.Rows;
import ai.coopt.store.Scratch;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link Alignment#RIDGE}: each participant's rows mapped onto the reference's space by a ridge regression fitted on
 * S (λ by generalised cross-validation), streamed from scratch file to scratch file; the reference keeps its own.
 */
final class RidgeMapping implements Alignment {
    @Override
    public String name() {
        return "ridge";
    }

    @Override
    public Aligned align(List<Fusion.Part> parts, long[] sharedIds, int reference, boolean referenceVerified,
                         Scratch scratch) {
        Fusion.Part ref = parts.get(reference);
        int m = sharedIds.length;
        Matrix refShared = new Matrix(ref.shared().values(), m, ref.shared().dim());
        List<Rows> mapped = new ArrayList<>();
        List<Double> lambdas = new ArrayList<>();
        List<Double> residuals = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            Fusion.Part c = parts.get(i);
            if (i == reference) {
                mapped.add(c.rows());
                lambdas.add(0.0);
                residuals.add(0.0);
                continue;
            }
            RidgeAlignment map = RidgeAlignment.fit(new Matrix(c.shared().values(), m, c.shared().dim()), refShared);
            try (RowFile.Writer out = scratch.rows("aligned", ref.shared().dim())) {
                map.apply(c.rows(), out);
                mapped.add(scratch.keep(out.finish()));
            }
            lambdas.add(map.lambda());
            residuals.add(map.relativeResidual());
        }
        return new Aligned(mapped, ref.shared().dim(), new ManifestProvenance.Alignment(reference,
                Fusion.boxed(sharedIds), "ridge-gcv", lambdas, residuals, referenceVerified));
    }

    @Override
    public String toString() {
        return name();
    }
}
