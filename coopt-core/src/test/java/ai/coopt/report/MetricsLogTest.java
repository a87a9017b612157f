package ai.coopt.report;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsLogTest {
    @TempDir
    Path dir;

    @Test
    void entriesRoundTripAndEachLineIsOnDiskAsSoonAsItIsAppended() {
        Path file = dir.resolve("run/metrics.jsonl");
        try (MetricsLog log = MetricsLog.open(file)) {
            log.append(0, 0.0, 0, 2.5, "rela", 1e-3);
            assertEquals(1, MetricsLog.read(file).size(), "the first line is flushed before close");
            log.append(1, 0.75, 0, 2.25, "rela", 9.5e-4);
            log.append(2, 1.5, 1, 1.125, "byol", 5e-4);
        }
        List<MetricsLog.Entry> entries = MetricsLog.read(file);
        assertEquals(List.of(
                new MetricsLog.Entry(0, 0.0, 0, 2.5, "rela", 1e-3),
                new MetricsLog.Entry(1, 0.75, 0, 2.25, "rela", 9.5e-4),
                new MetricsLog.Entry(2, 1.5, 1, 1.125, "byol", 5e-4)), entries);
    }

    @Test
    void reopeningAppendsAndNonFiniteValuesReadBackAsNaN() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLog log = MetricsLog.open(file)) {
            log.append(7, 3.0, 1, 0.5, "simclr", 0.1);
        }
        try (MetricsLog log = MetricsLog.open(file)) {
            log.append(8, 3.5, 1, Double.NaN, "simclr", Double.POSITIVE_INFINITY);
        }
        assertTrue(Files.readString(file).lines().allMatch(l -> l.startsWith("{") && l.endsWith("}")));
        List<MetricsLog.Entry> entries = MetricsLog.read(file);
        assertEquals(2, entries.size());
        assertEquals(7, entries.get(0).step());
        assertTrue(Double.isNaN(entries.get(1).loss()));
        assertTrue(Double.isNaN(entries.get(1).lr()));
    }

    @Test
    void aHalfWrittenLastLineIsIgnoredButABadLineInsideIsAnErrorNamingIt() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        String good = "{\"step\":1,\"time\":0.5,\"epoch\":0,\"loss\":1.0,\"phase\":\"byol\",\"lr\":0.001}\n";
        Files.writeString(file, good + "{\"step\":2,\"ti");
        assertEquals(1, MetricsLog.read(file).size());

        Files.writeString(file, good + "{\"step\":\"two\",\"time\":1,\"epoch\":0,\"loss\":1,\"phase\":\"byol\",\"lr\":0}\n" + good);
        UserException e = assertThrows(UserException.class, () -> MetricsLog.read(file));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("'step'"), e.getMessage());

        UserException missing = assertThrows(UserException.class, () -> MetricsLog.read(dir.resolve("none.jsonl")));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
    }
}
