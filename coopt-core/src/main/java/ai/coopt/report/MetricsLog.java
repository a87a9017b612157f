package ai.coopt.report;

import ai.coopt.UserException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A training run's {@code metrics.jsonl}: one JSON object per line, {@code {"step": long, "time": seconds of
 * training wall time, "epoch": int, "loss": double, "phase": "rela"|"byol"|"simclr"|…, "lr": double}}.
 * The writer appends and flushes each line as it is written, so the file can be read while training runs.
 * A loss or learning rate that is not finite is written as {@code null} (JSON has no NaN) and read back as NaN.
 */
public final class MetricsLog implements AutoCloseable {
    /** One line of the log. */
    public record Entry(long step, double time, int epoch, double loss, String phase, double lr) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    private MetricsLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /**
     * Opens {@code file} for appending, creating it (and its parent directories) when missing.
     *
     * @throws UserException when the file cannot be created or opened
     */
    public static MetricsLog open(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return new MetricsLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE));
        } catch (IOException e) {
            throw new UserException(file + ": cannot open the metrics log: " + e.getMessage(), e);
        }
    }

    /**
     * Appends one line and flushes it.
     *
     * @throws UserException when the line cannot be written
     */
    public void append(long step, double time, int epoch, double loss, String phase, double lr) {
        ObjectNode line = JSON.createObjectNode();
        line.put("step", step);
        line.put("time", time);
        line.put("epoch", epoch);
        putFinite(line, "loss", loss);
        line.put("phase", phase);
        putFinite(line, "lr", lr);
        try {
            out.write(JSON.writeValueAsString(line));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UserException(file + ": cannot write the metrics log: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UserException(file + ": cannot close the metrics log: " + e.getMessage(), e);
        }
    }

    /**
     * Reads every entry in file order. Blank lines are skipped, and so is an unterminated last line that does
     * not parse (a writer stopped in the middle of it).
     *
     * @throws UserException when the file is missing or unreadable, or a line is not a valid entry (naming the line)
     */
    public static List<Entry> read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UserException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UserException(file + ": cannot read: " + e.getMessage(), e);
        }
        String[] lines = text.split("\n", -1);
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            try {
                entries.add(entry(lines[i]));
            } catch (IllegalArgumentException | JsonProcessingException e) {
                boolean unterminatedLast = i == lines.length - 1;
                if (!unterminatedLast) {
                    throw new UserException(file + ": line " + (i + 1) + " is not a metrics entry ("
                            + e.getMessage().lines().findFirst().orElse("") + ")", e);
                }
            }
        }
        return entries;
    }

    private static Entry entry(String line) throws JsonProcessingException {
        JsonNode o = JSON.readTree(line);
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        JsonNode phase = field(o, "phase");
        if (!phase.isTextual()) {
            throw new IllegalArgumentException("'phase' must be a string");
        }
        long epoch = integer(o, "epoch");
        if (epoch != (int) epoch) {
            throw new IllegalArgumentException("'epoch' is out of range");
        }
        return new Entry(integer(o, "step"), number(o, "time"), (int) epoch, number(o, "loss"), phase.asText(),
                number(o, "lr"));
    }

    private static JsonNode field(JsonNode o, String name) {
        JsonNode v = o.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no '" + name + "'");
        }
        return v;
    }

    private static long integer(JsonNode o, String name) {
        JsonNode v = field(o, name);
        if (!v.canConvertToExactIntegral() || !v.canConvertToLong()) {
            throw new IllegalArgumentException("'" + name + "' must be an integer");
        }
        return v.asLong();
    }

    private static double number(JsonNode o, String name) {
        JsonNode v = field(o, name);
        if (v.isNull()) {
            return Double.NaN;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("'" + name + "' must be a number");
        }
        return v.asDouble();
    }

    private static void putFinite(ObjectNode o, String name, double value) {
        if (Double.isFinite(value)) {
            o.put(name, value);
        } else {
            o.putNull(name);
        }
    }
}
