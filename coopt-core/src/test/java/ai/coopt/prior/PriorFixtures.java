package ai.coopt.prior;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The model files written by scripts/make_prior_fixtures.py and the outputs PyTorch computed for them. */
final class PriorFixtures {
    static final double TOLERANCE = 1e-4;

    private PriorFixtures() {}

    /** A fixture file under test resources {@code priors/}. */
    static Path file(String name) {
        try {
            return Path.of(PriorFixtures.class.getResource("/priors/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The entry of {@code expected.json} for one model file. */
    static JsonNode expected(String model) {
        try {
            return new ObjectMapper().readTree(Files.readAllBytes(file("expected.json"))).get(model);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The input batch an entry describes, rebuilt from the script's formula. */
    static float[] input(JsonNode entry) {
        JsonNode in = entry.get("input");
        int n = in.get("batch").intValue() * in.get("channels").intValue() * in.get("height").intValue()
                * in.get("width").intValue();
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (((i * 37L) % 101) / 50.0 - 1.0);
        }
        return values;
    }

    static int batch(JsonNode entry) {
        return entry.get("input").get("batch").intValue();
    }

    /** Asserts that row-major {@code actual} equals the expected rows within {@link #TOLERANCE}. */
    static void assertRows(JsonNode rows, float[] actual) {
        int dim = rows.get(0).size();
        assertEquals(rows.size() * dim, actual.length, "output length");
        for (int r = 0; r < rows.size(); r++) {
            for (int c = 0; c < dim; c++) {
                assertEquals(rows.get(r).get(c).doubleValue(), actual[r * dim + c], TOLERANCE,
                        "row " + r + ", column " + c);
            }
        }
    }

    /** Copies a fixture into {@code dir} (without its sidecar) and returns the copy. */
    static Path copy(String name, Path dir) throws IOException {
        return Files.copy(file(name), dir.resolve(name));
    }
}
