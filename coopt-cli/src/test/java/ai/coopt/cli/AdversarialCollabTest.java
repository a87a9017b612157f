package ai.coopt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 12: one participant that sends noise or a constant must not spoil {@code coopt collab}. It is excluded with a reason, its shards are optimized again by trusted participants, and the
 * fused dataset still covers every image with only the trusted participants in its manifest. The adversarial priors
 * are TorchScript modules written by scripts/make_adversarial_priors.py.
 */
class AdversarialCollabTest extends ConsoleCapture {
    private static final int IMAGES = 600;
    /** S large enough for the agreement rule (it needs at least 10 rows of S and uses up to 300). */
    private static final int SHARED = 200;
    private static final String BYOL_CONVNET = "zoo:convnet-s-byol-300s";
    private static final String BYOL_RESNET = "zoo:resnet-s-byol-90s";
    private static final String SIMCLR_CONVNET = "zoo:convnet-s-simclr-20s";

    private static String adversary(String name) {
        Path file = Path.of("..", "coopt-core", "src", "test", "resources", "priors", "adversarial", name)
                .toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(file), file + " is missing: run scripts/make_adversarial_priors.py");
        return "torchscript:" + file;
    }

    /** Runs {@code coopt collab --json} on the first {@value #IMAGES} Fashion-MNIST images and returns its JSON. */
    private JsonNode collab(Path out, String... priors) throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        assertEquals(0, Main.run("collab", "--data", "fashion-mnist", "--limit", String.valueOf(IMAGES),
                "--shared-count", String.valueOf(SHARED), "--priors", String.join(",", priors),
                "--out", out.toString(), "--json"), stderr());
        return new ObjectMapper().readTree(stdout());
    }

    /**
     * The participant at {@code index} is the only one excluded, for a reason containing {@code cause}; its shards went
     * to trusted participants; the fused dataset has every image and its manifest only the trusted priors.
     */
    private static void assertExcluded(JsonNode j, Path out, int index, String cause, String... trusted)
            throws IOException {
        JsonNode excluded = j.get("excluded");
        assertEquals(1, excluded.size(), j.toPrettyString());
        assertEquals(index, excluded.get(0).get("participant").asInt(), j.toPrettyString());
        String reason = excluded.get(0).get("reason").asText();
        assertTrue(reason.contains(cause), reason);
        assertTrue(j.get("notes").toString().contains(cause), j.get("notes").toString());
        assertTrue(j.get("reassigned_shards").asInt() >= 1, j.toPrettyString());
        assertTrue(j.get("reference").asInt() != index, j.toPrettyString());
        assertEquals(IMAGES, j.get("count").asInt(), j.toPrettyString());

        JsonNode manifest = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        assertEquals(IMAGES, manifest.get("count").asInt());
        List<String> priors = new ArrayList<>();
        int rows = 0;
        for (JsonNode p : manifest.get("participants")) {
            priors.add(p.get("prior").asText());
            rows += p.get("shard").get("count").asInt();
        }
        assertEquals(IMAGES, rows, "the trusted participants' shards cover every image: " + manifest.get("participants"));
        assertEquals(trusted.length, priors.size(), priors.toString());
        for (int i = 0; i < trusted.length; i++) {
            String name = trusted[i].substring("zoo:".length());
            assertTrue(priors.get(i).endsWith("/" + name), priors + " should list " + List.of(trusted));
        }
        assertFalse(priors.toString().contains("torchscript:"), priors.toString());
    }

    @Test
    void noiseIsExcludedAndItsShardOptimizedAgain(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("fused");
        JsonNode j = collab(out, BYOL_CONVNET, BYOL_RESNET, SIMCLR_CONVNET, adversary("noise.pt"));
        assertExcluded(j, out, 3, "predicted by", BYOL_CONVNET, BYOL_RESNET, SIMCLR_CONVNET);
    }

    @Test
    void constantOutputIsExcluded(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("fused");
        JsonNode j = collab(out, BYOL_CONVNET, BYOL_RESNET, adversary("constant.pt"));
        assertExcluded(j, out, 2, "same for every image", BYOL_CONVNET, BYOL_RESNET);
    }

    /**
     * Issue 23: the same public prior twice is one independent prior, not a copy to exclude; beside it, noise is never
     * the reference, though with two independent priors nothing can outvote it (the reference is unverified).
     */
    @Test
    void theSamePriorTwiceIsKeptAndNoiseBesideItIsNotTheReference(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("fused");
        JsonNode j = collab(out, BYOL_CONVNET, adversary("noise.pt"), BYOL_CONVNET);
        assertEquals(0, j.get("excluded").size(), j.toPrettyString());
        assertEquals(0, j.get("reference").asInt(), j.toPrettyString());
        assertFalse(j.get("reference_verified").asBoolean(true), j.toPrettyString());
        JsonNode manifest = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        assertEquals(3, manifest.get("participants").size(), "both participants of the prior contribute");
        assertTrue(manifest.at("/participants/2/shard/count").asInt() > 0, manifest.get("participants").toString());
        assertFalse(manifest.at("/alignment/reference_verified").asBoolean(true), manifest.get("alignment").toString());
    }
}
