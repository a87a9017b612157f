package ai.coopt.cli;

import ai.coopt.engine.CpuFlags;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code coopt rounds}: bad input refused before any work, and a run killed outright ends as an uninterrupted one. */
class RoundsTest extends ConsoleCapture {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static List<String> args(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("rounds", "--data", "fashion-mnist", "--limit", "800",
                "--priors", "random:convnet-s:1,random:convnet-s:2", "--rounds", "3", "--keep", "all",
                "--student-arch", "convnet-s", "--student-epochs", "3", "--student-batch", "64",
                "--checkpoint-every-seconds", "0.05", "--probe-limit", "400", "--map-points", "20", "--threads", "1",
                "--seed", "3", "--json", "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    private void assertRefused(String fragment, Path out, String... replace) {
        List<String> a = args(out);
        for (int i = 0; i < replace.length; i += 2) {
            int at = a.indexOf(replace[i]);
            if (at < 0) {
                a.addAll(List.of(replace[i], replace[i + 1]));
            } else {
                a.set(at + 1, replace[i + 1]);
            }
        }
        resetConsole();
        int code = Main.run(a.toArray(String[]::new));
        String e = stderr().strip();
        assertEquals(2, code, e);
        assertEquals(1, e.lines().count(), "expected one line, got:\n" + e);
        assertTrue(e.contains(fragment), "expected '" + fragment + "' in: " + e);
        assertFalse(Files.exists(out), "nothing is written before the input is checked");
    }

    @Test
    void badInputIsRefusedWithOneLineBeforeAnyWork() {
        Path out = tmp.resolve("never");
        assertRefused("--rounds must be at least 1", out, "--rounds", "0");
        assertRefused("at least two different priors", out, "--priors", "random:convnet-s:1");
        assertRefused("at least two different priors", out, "--priors", "random:convnet-s:1,random:convnet-s:1");
        assertRefused("--keep must be one of best, all", out, "--keep", "some");
        assertRefused("--align must be one of ridge, pca, none", out, "--align", "procrustes");
        assertRefused("--shared-fraction must lie strictly between 0 and 1", out, "--shared-fraction", "1.5");
        assertRefused("--checkpoint-every-seconds must be zero or positive", out, "--checkpoint-every-seconds", "NaN");
        assertRefused("--student-arch must be one of", out, "--student-arch", "alexnet");
        assertRefused("not a shipped prior", out, "--priors", "random:convnet-s:1,zoo:no-such-prior");
        System.setProperty(CpuFlags.PROPERTY, "fpu avx512f");
        try {
            assertRefused("--precision bf16", out, "--precision", "bf16");
        } finally {
            System.clearProperty(CpuFlags.PROPERTY);
        }
    }

    /**
     * The acceptance test of continuous optimization's resume: a run killed with SIGKILL twice (during a student's
     * training, then during the next round's collaboration) and restarted each time ends with the same datasets,
     * students and probe accuracies, byte for byte, as a run that was never interrupted.
     */
    @Test
    void aRunKilledTwiceEndsExactlyAsAnUninterruptedOne() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path whole = tmp.resolve("whole");
        CooptProcess.Result uninterrupted = CooptProcess.run(600, null, Map.of(), tmp, args(whole).toArray(String[]::new));
        assertEquals(0, uninterrupted.exit(), uninterrupted.stderr());

        Path cut = tmp.resolve("cut");
        // 1. killed while round 1's student trains (after at least one checkpoint beyond its first)
        killWhen(cut, dir -> checkpoints(dir.resolve("round-001/student")) >= 2);
        assertTrue(Files.isRegularFile(cut.resolve("round-000/round.json")));
        assertFalse(Files.exists(cut.resolve("round-001/round.json")), "killed before round 1 ended");
        // 2. resumed, and killed again once round 2 has begun (its collaboration)
        killWhen(cut, dir -> Files.isDirectory(dir.resolve("round-002")));
        assertFalse(Files.exists(cut.resolve("round-002/round.json")), "killed before round 2 ended");
        // 3. resumed to the end
        CooptProcess.Result last = CooptProcess.run(600, null, Map.of(), tmp, args(cut).toArray(String[]::new));
        assertEquals(0, last.exit(), last.stderr());
        JsonNode j = JSON.readTree(last.stdout());
        assertEquals(3, j.get("rounds").asInt());
        assertTrue(j.get("rounds_read_back").asInt() >= 1, j.toString());

        for (int r = 0; r < 3; r++) {
            JsonNode a = JSON.readTree(whole.resolve(String.format("round-%03d/round.json", r)).toFile());
            JsonNode b = JSON.readTree(cut.resolve(String.format("round-%03d/round.json", r)).toFile());
            for (String field : List.of("candidates", "participants", "targets_sha256", "count", "dim",
                    "student_weights_sha256", "student_steps", "student_phase", "probe_top1")) {
                assertEquals(a.get(field), b.get(field), "round " + r + ": " + field);
            }
        }
        assertEquals(4, JSON.readTree(cut.resolve("round-002/round.json").toFile()).get("participants").size(),
                "keep all: the two priors and the students of rounds 0 and 1");
        assertTrue(Files.isRegularFile(cut.resolve("report.html")));
        JsonNode created = JSON.readTree(cut.resolve("created.json").toFile());
        assertTrue(created.get("command_line").toString().contains("rounds"), created.toString());
        String html = Files.readString(cut.resolve("report.html"), StandardCharsets.UTF_8);
        assertTrue(html.contains("Round 2"), "the report shows every round");

        resetConsole();
        List<String> other = args(cut);
        other.set(other.indexOf("--seed") + 1, "4");
        assertEquals(2, Main.run(other.toArray(String[]::new)), "other settings into the same directory are refused");
        assertTrue(stderr().contains("seed: 3 -> 4"), stderr());
        resetConsole();
        assertEquals(2, Main.run(args(cut, "--limit-seed", "1").toArray(String[]::new)),
                "another --limit subset into the same directory is refused");
        assertTrue(stderr().contains("limit_seed: 0 -> 1"), stderr());
        // auto resolves before it is recorded: on a bf16 CPU it is bf16, which this fp32 directory refuses
        resetConsole();
        System.setProperty(CpuFlags.PROPERTY, "avx512f avx512_bf16");
        try {
            assertEquals(2, Main.run(args(cut, "--precision", "auto").toArray(String[]::new)),
                    "another precision into the same directory is refused");
        } finally {
            System.clearProperty(CpuFlags.PROPERTY);
        }
        assertTrue(stderr().contains("precision: \"fp32\" -> \"bf16\""), stderr());
        assertEquals("fp32", JSON.readTree(cut.resolve("rounds.json").toFile()).get("precision").asText());
        // a directory from before precision was recorded reads as fp32 and continues
        var settings = (ObjectNode) JSON.readTree(cut.resolve("rounds.json").toFile());
        settings.remove("precision");
        JSON.writeValue(cut.resolve("rounds.json").toFile(), settings);
        resetConsole();
        assertEquals(0, Main.run(args(cut).toArray(String[]::new)), stderr());
        assertEquals(3, JSON.readTree(stdout()).get("rounds_read_back").asInt(), stdout());
    }

    /** Runs the command into {@code out} and kills it outright as soon as {@code when} holds (polled, bounded). */
    private void killWhen(Path out, Predicate<Path> when) throws IOException, InterruptedException {
        Path o = Files.createTempFile(tmp, "stdout", ".txt");
        Path e = Files.createTempFile(tmp, "stderr", ".txt");
        Process p = CooptProcess.start(null, Map.of(), o, e, args(out).toArray(String[]::new));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        try {
            while (!when.test(out)) {
                assertTrue(p.isAlive(), "the run ended before the moment to kill it came; stderr:\n"
                        + Files.readString(e, StandardCharsets.UTF_8));
                assertTrue(System.nanoTime() < deadline, "the moment to kill the run did not come within 300 s");
                Thread.sleep(10);
            }
        } finally {
            CooptProcess.kill(p);
        }
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
    }

    /** Complete checkpoints of a training run so far (0 when none). */
    private static long checkpoints(Path run) {
        Path dir = run.resolve("checkpoints");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(c -> Files.isRegularFile(c.resolve("train-state.json"))).count();
        } catch (IOException e) {
            return 0;
        }
    }
}
