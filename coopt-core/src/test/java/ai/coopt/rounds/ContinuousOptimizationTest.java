package ai.coopt.rounds;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The pure parts of continuous optimization: which priors a round keeps, and how a student is named. */
class ContinuousOptimizationTest {
    private static List<Boolean> kept(List<ContinuousOptimization.Candidate> c) {
        return c.stream().map(ContinuousOptimization.Candidate::kept).toList();
    }

    @Test
    void keepBestTakesTheMostUniformAndNeverOneTheScreeningExcluded() {
        List<String> offered = List.of("a", "noise", "b", "model:round-000/student");
        double[] uniformity = {-2.0, -3.9, -2.4, -2.8};
        assertEquals(List.of(false, true, true, true), kept(ContinuousOptimization.choose(offered, uniformity, List.of(), 3)),
                "by uniformity alone the noisy prior stays");
        assertEquals(List.of(true, false, true, true),
                kept(ContinuousOptimization.choose(offered, uniformity, List.of("noise"), 3)),
                "excluded by the screening, it gives its place to the next");
        assertEquals(List.of(true, false, true, true),
                kept(ContinuousOptimization.choose(offered, uniformity, List.of("noise"), 4)), "keep all keeps the trusted ones");
    }

    @Test
    void studentsAreNamedRelativeToTheRoundsDirectoryAndResolvedAgainstIt() {
        Path dir = Path.of("/data/rounds");
        assertEquals("model:/data/rounds/round-003/student", ContinuousOptimization.resolve(dir, "model:round-003/student"));
        assertEquals("model:priors/x", ContinuousOptimization.resolve(dir, "model:priors/x"));
        assertEquals("zoo:convnet-s-byol-300s", ContinuousOptimization.resolve(dir, "zoo:convnet-s-byol-300s"));
    }
}
