package ai.coopt.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code coopt} in a child JVM, for what an in-process test cannot see: output written by native code
 * straight to file descriptor 2, engine settings that are fixed once per process, and runs that must not take
 * the test JVM down with them. The child is killed when it outlives its time limit.
 */
final class CooptProcess {
    /** What the child did; {@code exit} is -1 when it was killed at the time limit. */
    record Result(int exit, String stdout, String stderr) {
        boolean timedOut() {
            return exit == -1;
        }
    }

    private CooptProcess() {}

    /**
     * @param shellPrefix run through {@code bash -c} after this prefix (e.g. {@code ulimit -v N;}), or null
     * @param env extra environment variables
     */
    static Result run(long timeoutSeconds, String shellPrefix, Map<String, String> env, Path workDir, String... args)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        Process p = start(shellPrefix, env, out, err, args);
        int exit;
        if (p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            exit = p.exitValue();
        } else {
            kill(p);
            exit = -1;
        }
        return new Result(exit, Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    /** Kills the child and its children outright (SIGKILL: no shutdown hook runs) and waits for it. */
    static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    /** Starts {@code coopt} in a child JVM writing to {@code out} and {@code err}; the caller waits for it or kills it. */
    static Process start(String shellPrefix, Map<String, String> env, Path out, Path err, String... args) throws IOException {
        List<String> java = new ArrayList<>();
        java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        java.add("-Xmx1g");
        java.add("-Dai.djl.offline=true");
        java.add("-cp");
        java.add(System.getProperty("java.class.path"));
        java.add(Main.class.getName());
        java.addAll(List.of(args));
        List<String> command = new ArrayList<>();
        if (shellPrefix == null) {
            command.addAll(java);
        } else {
            StringBuilder line = new StringBuilder(shellPrefix).append(" exec");
            for (String part : java) {
                line.append(" '").append(part.replace("'", "'\\''")).append("'");
            }
            command.addAll(List.of("bash", "-c", line.toString()));
        }
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        builder.environment().putAll(env);
        return builder.start();
    }
}
