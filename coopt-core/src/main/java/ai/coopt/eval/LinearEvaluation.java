package ai.coopt.eval;

import ai.coopt.engine.Precision;
import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.optimize.Embedder;
import ai.coopt.prior.Prior;
import ai.coopt.prior.Priors;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;

/**
 * The whole linear evaluation: load the train split of one dataset and the test split of another
 * (often the same), extract frozen features with the model, fit the probe, score it.
 */
public final class LinearEvaluation {
    /** The outcome, with the inputs it was computed from. */
    /**
     * @param trainSubset how {@code --limit} drew the training split's images (null: all of them); {@code testSubset} the same
     */
    /** What a probe measured; {@code precision}: what the model's features were computed in. */
    public record Report(String model, String train, String test, LinearProbe.Result probe, double featureSeconds,
                         ai.coopt.data.Subset trainSubset, ai.coopt.data.Subset testSubset, Precision precision) {}

    private LinearEvaluation() {}

    /**
     * @param model a prior spec ({@code random:ARCH[:SEED]}, {@code model:DIR}, {@code torchscript:…},
     *     {@code onnx:…}): its outputs are the frozen features
     */
    public static Report run(String model, DatasetSpec trainData, DatasetSpec testData, int limit,
                             LinearProbe.Settings settings, Device device, ProgressListener progress) {
        return run(model, trainData, testData, limit, settings, device, Precision.FP32, progress);
    }

    /** As above, the model computing its features in {@code precision} where it can. */
    public static Report run(String model, DatasetSpec trainData, DatasetSpec testData, int limit,
                             LinearProbe.Settings settings, Device device, Precision precision,
                             ProgressListener progress) {
        Priors.check(model);
        return run(model, trainData.load("train", limit), testData.load("test", limit), settings, device, precision,
                progress);
    }

    /** The same on images already loaded (a learning curve probes many checkpoints on one pair of splits). */
    public static Report run(String model, ImageSet train, ImageSet test, LinearProbe.Settings settings, Device device,
                             ProgressListener progress) {
        return run(model, train, test, settings, device, Precision.FP32, progress);
    }

    /** The same, the model computing its features in {@code precision} where it can. */
    public static Report run(String model, ImageSet train, ImageSet test, LinearProbe.Settings settings, Device device,
                             Precision precision, ProgressListener progress) {
        Priors.check(model);
        if (!train.hasLabels() || !test.hasLabels()) {
            throw new UserException("the linear probe needs labels: " + (train.hasLabels() ? test : train).source() + " has none");
        }
        if (train.channels() != test.channels() || train.height() != test.height() || train.width() != test.width()) {
            throw new UserException("train images are " + shape(train) + " but test images are " + shape(test));
        }
        // before any feature is computed
        LinearProbe.requireSeveralClasses(train.labels(), "the training split (" + train.source() + ")");
        try (Prior prior = Priors.open(model, train, device, precision)) {
            Embedder embedder = new Embedder(256, 1);
            Embedder.Result trainOut = embedder.embed(prior, train, "features (train)", progress);
            Embedder.Result testOut = embedder.embed(prior, test, "features (test)", progress);
            progress.start("linear probe", settings.epochs(), "epochs");
            LinearProbe.Result result = new LinearProbe(settings).fit(
                    new Features(trainOut.values(), trainOut.count(), trainOut.dim(), train.labels()),
                    new Features(testOut.values(), testOut.count(), testOut.dim(), test.labels()),
                    device, progress::advance);
            progress.finish();
            return new Report(prior.spec(), train.source(), test.source(), result, trainOut.seconds() + testOut.seconds(),
                    train.drawn(), test.drawn(), prior.precision());
        }
    }

    private static String shape(ImageSet s) {
        return s.channels() + "x" + s.height() + "x" + s.width();
    }
}
