package ai.coopt.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs scripts/bad_input_sweep.sh (over 150 hostile inputs across the commands, and signals mid-write) against
 * this build, so that CI holds every command to the contract: one line and exit 2, nothing pre-existing changed.
 */
class BadInputSweepTest {

    @Test
    void everyBadInputGetsOneLineAndExitTwoAndNothingIsDamaged() throws IOException, InterruptedException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path script = Path.of("..", "scripts", "bad_input_sweep.sh").toAbsolutePath().normalize();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String command = java + " -Xmx1g -XX:TieredStopAtLevel=1 -Dai.djl.offline=true -cp "
                + System.getProperty("java.class.path") + " " + Main.class.getName();
        Path log = Files.createTempFile("sweep", ".log");
        ProcessBuilder builder = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        builder.environment().put("COOPT_CMD", command);
        Process p = builder.start();
        boolean ended = p.waitFor(8, TimeUnit.MINUTES);
        if (!ended) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.delete(log);
        assertTrue(ended, "the sweep did not end within 8 minutes:\n" + output);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.strip().endsWith(" 0 failed"), output);
    }
}
