package ai.coopt.platform.server;

import ai.coopt.platform.api.DatasetFile;
import ai.coopt.platform.db.PlatformStore;
import ai.coopt.platform.db.RoundSummary;
import ai.coopt.store.OptimizedDataset;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Where fused datasets are served from: every finished round's, by round, with each file's size and checksum. */
final class Downloads {
    private final Path dir;
    private final PlatformStore store;
    private final FusedChecksums checksums = new FusedChecksums();

    Downloads(Path dir, PlatformStore store) {
        this.dir = dir;
        this.store = store;
    }

    /** The newest round whose fusion is done, or empty. */
    Optional<Integer> newestFinishedRound() {
        List<RoundSummary> rounds = store.rounds().all();
        for (int i = rounds.size() - 1; i >= 0; i--) {
            if (rounds.get(i).finished()) {
                return Optional.of(rounds.get(i).id());
            }
        }
        return Optional.empty();
    }

    /**
     * Why round {@code round}'s dataset cannot be fetched (no such round, not fused yet), or empty when it can: the
     * reason a 404 gives.
     */
    Optional<String> unavailable(int round) {
        Optional<RoundSummary> r = store.rounds().all().stream().filter(x -> x.id() == round).findFirst();
        if (r.isEmpty()) {
            return Optional.of("there is no round " + round);
        }
        if (!r.get().finished()) {
            return Optional.of("round " + round + "'s fused dataset is not ready (fusion: "
                    + r.get().fusion().name().toLowerCase(Locale.ROOT) + ")");
        }
        return files(round).isPresent() ? Optional.empty()
                : Optional.of("round " + round + "'s fused dataset is missing from the platform's directory");
    }

    /** Round {@code round}'s fused dataset files, once that round is fused; empty otherwise (also for no such round). */
    Optional<List<DatasetFile>> files(int round) {
        if (round < 1 || store.rounds().all().stream().noneMatch(r -> r.id() == round && r.finished())) {
            return Optional.empty();
        }
        Path fused = RoundFiles.fusedDir(dir, round);
        if (!OptimizedDataset.looksLikeOptimizedDataset(fused)) {
            return Optional.empty();
        }
        return Optional.of(checksums.files(fused));
    }

    /** A file of round {@code round}'s fused dataset, by a name {@link #files(int)} listed. */
    Optional<Path> file(int round, String name) {
        return files(round).flatMap(files -> files.stream().filter(f -> f.name().equals(name)).findFirst())
                .map(f -> RoundFiles.fusedDir(dir, round).resolve(f.name()));
    }
}
