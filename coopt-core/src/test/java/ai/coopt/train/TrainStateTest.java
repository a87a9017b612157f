package ai.coopt.train;

import ai.coopt.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A checkpoint's train-state.json (no tensors here: the loop's tests cover those). */
class TrainStateTest {
    @TempDir
    Path dir;

    private static TrainState.Position position() {
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("ema", 0.123456789);
        scalars.put("nan", Double.NaN);
        scalars.put("inf", Double.POSITIVE_INFINITY);
        scalars.put("phase", 1.0);
        return new TrainState.Position(1234567890123L, 3, 17, 12.5, scalars);
    }

    /** {@link #position()} as the hand-written writer of commit acfd806 wrote it: the same bytes, read back. */
    @Test
    void positionIsTheJsonEarlierVersionsWroteAndReadsBack() throws IOException, URISyntaxException {
        TrainState.save(dir, Map.of(), position());
        String old = Files.readString(Path.of(getClass().getResource("/formats/train-state.json").toURI()));
        assertEquals(old, Files.readString(dir.resolve(TrainState.JSON)));
        Files.writeString(dir.resolve(TrainState.JSON), old);
        TrainState.Position read = TrainState.load(dir, Map.of());
        assertEquals(position(), read);
        assertEquals(List.copyOf(position().scalars().keySet()), List.copyOf(read.scalars().keySet()));
    }

    @Test
    void aMalformedStateIsAOneLineErrorNamingTheField() throws IOException {
        TrainState.save(dir, Map.of(), position());
        Path file = dir.resolve(TrainState.JSON);
        String good = Files.readString(file);
        assertUnreadable(good.replace("\"epoch\" : 3", "\"epoch\" : \"3\""), file + ": field 'epoch' must be an integer, found \"3\"");
        assertUnreadable(good.replace("\"step\" : 1234567890123,", ""), file + ": missing field 'step'");
        assertUnreadable(good.replace("\"phase\" : 1.0", "\"phase\" : null"), file + ": field 'scalars.phase' must be a number, found null");
        assertUnreadable(good.replace("\"epoch\" : 3", "\"epoch\" : 3, \"era\" : 1"),
                file + ": unknown field 'era' (expected batch_in_epoch, epoch, scalars, step, train_seconds)");
    }

    private void assertUnreadable(String json, String message) throws IOException {
        Files.writeString(dir.resolve(TrainState.JSON), json);
        UserException e = assertThrows(UserException.class, () -> TrainState.load(dir, Map.of()));
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
