package ai.coopt.cli;

import ai.coopt.dataset.DatasetSpec;
import ai.coopt.eval.LinearProbe;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How a linear probe is fitted and scored: {@code --train SPEC --test SPEC [--limit N] [--epochs E] [--batch B] [--seed S]}. */
final class ProbeOptions {
    @Option(names = "--train", required = true, paramLabel = "SPEC", description = "Dataset whose train split fits the probe.")
    String train;

    @Option(names = "--test", required = true, paramLabel = "SPEC", description = "Dataset whose test split scores the probe.")
    String test;

    @Option(names = "--limit", defaultValue = "0", description = "Use a seeded random subset of at most N samples of each "
            + "split, stratified by class (0 = all).")
    int limit;

    @Option(names = "--limit-seed", defaultValue = "0", description = "Seed of the --limit subsets (default: ${DEFAULT-VALUE}).")
    long limitSeed;

    @Option(names = "--epochs", defaultValue = "100", description = "Probe epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", defaultValue = "256", description = "Probe batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", defaultValue = "0", description = "Probe initialisation and shuffling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Mixin
    ImageOptions image;

    DatasetSpec trainSpec() {
        return image.apply(DatasetSpec.parse(train)).withLimitSeed(limitSeed);
    }

    DatasetSpec testSpec() {
        return image.apply(DatasetSpec.parse(test)).withLimitSeed(limitSeed);
    }

    /** The probe settings (Adam, lr 3e-4 as in the ReLA protocol); checks the numbers. */
    LinearProbe.Settings settings() {
        Check.atLeast("--limit", limit, 0);
        Check.atLeast("--epochs", epochs, 3);
        Check.positive("--batch", batch);
        return new LinearProbe.Settings(epochs, batch, 3e-4f, seed);
    }
}
