package ai.coopt.eval;

import ai.coopt.UserException;
import ai.coopt.data.DatasetSpec;
import ai.coopt.data.ImageSet;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;

/**
 * The whole linear evaluation: load the train split of one dataset and the test split of another
 * (often the same), extract frozen features with the model, fit the probe, score it.
 */
public final class LinearEvaluation {
    /** The outcome, with the inputs it was computed from. */
    public record Report(String model, String train, String test, LinearProbe.Result probe, double featureSeconds) {}

    private LinearEvaluation() {}

    public static Report run(ModelSpec model, DatasetSpec trainData, DatasetSpec testData, int limit,
                             LinearProbe.Settings settings, Device device, ProgressListener progress) {
        ImageSet train = trainData.load("train", limit);
        ImageSet test = testData.load("test", limit);
        if (!train.hasLabels() || !test.hasLabels()) {
            throw new UserException("the linear probe needs labels: " + (train.hasLabels() ? test : train).source() + " has none");
        }
        if (train.channels() != test.channels() || train.height() != test.height() || train.width() != test.width()) {
            throw new UserException("train images are " + shape(train) + " but test images are " + shape(test));
        }
        try (ModelSpec.Opened opened = model.open(train, device)) {
            long t0 = System.nanoTime();
            FeatureExtractor extractor = new FeatureExtractor(opened.network(), opened.normalization(), 256);
            Features trainFeatures = extract(extractor, train, "features (train)", progress);
            Features testFeatures = extract(extractor, test, "features (test)", progress);
            double featureSeconds = (System.nanoTime() - t0) / 1e9;
            progress.start("linear probe", settings.epochs(), "epochs");
            LinearProbe.Result result = new LinearProbe(settings).fit(trainFeatures, testFeatures, device, progress::advance);
            progress.finish();
            return new Report(opened.description(), train.source(), test.source(), result, featureSeconds);
        }
    }

    private static Features extract(FeatureExtractor extractor, ImageSet set, String task, ProgressListener progress) {
        progress.start(task, set.count(), "img");
        Features f = extractor.extract(set, progress::advance);
        progress.finish();
        return f;
    }

    private static String shape(ImageSet s) {
        return s.channels() + "x" + s.height() + "x" + s.width();
    }
}
