package ai.coopt.cli;

import ai.coopt.UserException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code coopt platform serve} child processes of one round (the first starts it, the others join it: one database,
 * one directory), on free loopback ports, for {@code bench platform-load --servers N}; measures each one's peak RSS
 * before it is stopped.
 */
final class ServeProcesses implements AutoCloseable {
    /** How long a serve process may take to load the data, write the shards and listen. */
    private static final long START_SECONDS = 600;

    /** One serve process: where it listens, its pid, and its peak resident set (bytes; null where unknown). */
    record Server(String url, long pid, Long peakRssBytes) {}

    private record Running(Process process, Path log, String url) {}

    private final List<Running> running = new ArrayList<>();

    /**
     * Starts {@code count} serve processes one after the other, each with {@code args} after {@code platform serve
     * --port 0 --json}; returns when all listen.
     */
    static ServeProcesses start(int count, Path logs, List<String> args) throws IOException, InterruptedException {
        ServeProcesses s = new ServeProcesses();
        try {
            Files.createDirectories(logs);
            for (int i = 0; i < count; i++) {
                Path log = logs.resolve("serve-" + (i + 1));
                List<String> command = new ArrayList<>(List.of("platform", "serve", "--port", "0", "--json"));
                command.addAll(args);
                Process p = ChildProcess.coopt(log, command.toArray(String[]::new));
                s.running.add(new Running(p, log, awaitUrl(p, log)));
            }
            return s;
        } catch (IOException | InterruptedException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** The JSON line serve prints once it listens; its {@code url}. */
    private static String awaitUrl(Process p, Path log) throws IOException, InterruptedException {
        Path out = Path.of(log + ".out");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
        while (System.nanoTime() < deadline) {
            if (Files.exists(out)) {
                for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
                    if (line.startsWith("{")) {
                        JsonNode o = Output.JSON.readTree(line);
                        if (o.hasNonNull("url")) {
                            return o.get("url").asText();
                        }
                    }
                }
            }
            if (!p.isAlive()) {
                List<String> err = Files.readAllLines(Path.of(log + ".err"), StandardCharsets.UTF_8);
                throw new UserException("a platform serve process ended (exit " + p.exitValue() + "): "
                        + (err.isEmpty() ? "no message" : err.get(err.size() - 1)) + " — see " + log + ".err");
            }
            Thread.sleep(100);
        }
        throw new UserException("a platform serve process did not listen within " + START_SECONDS + " s; see " + log + ".err");
    }

    List<String> urls() {
        return running.stream().map(Running::url).toList();
    }

    /** Each process's URL, pid and peak RSS so far (VmHWM from /proc; null where there is none). */
    List<Server> measure() {
        return running.stream().map(r -> new Server(r.url(), r.process().pid(), peakRss(r.process().pid()))).toList();
    }

    private static Long peakRss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"), StandardCharsets.UTF_8)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or the process is gone: unknown
        }
        return null;
    }

    /** Stops every process (SIGTERM: serve closes its server and database; forcibly after 30 s). */
    @Override
    public void close() {
        for (Running r : running) {
            r.process().destroy();
        }
        for (Running r : running) {
            try {
                if (!r.process().waitFor(30, TimeUnit.SECONDS)) {
                    r.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                r.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
