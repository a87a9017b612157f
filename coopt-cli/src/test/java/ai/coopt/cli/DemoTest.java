package ai.coopt.cli;

import ai.coopt.util.ProjectHome;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The main job on a slice of real Fashion-MNIST, and its report rendered by headless Chromium. */
class DemoTest extends ConsoleCapture {
    @Test
    void demoRunsTheWholeStoryAndItsReportRendersInChromium(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path dir = tmp.resolve("demo");
        assertEquals(0, Main.run("demo", "--limit", "1200", "--minutes", "0.1", "--curve-limit", "600", "--map-points", "40",
                "--out", dir.toString(), "--json"), stderr());
        JsonNode r = Output.JSON.readTree(stdout());
        assertEquals(3, r.path("collab").path("participants").asInt());
        assertEquals(1200, r.path("collab").path("count").asInt());
        for (String student : new String[] {"rela", "byol"}) {
            double top1 = r.path(student).path("top1").asDouble();
            assertTrue(top1 > 0.3 && top1 <= 1, student + " top-1 " + top1);
            assertTrue(r.path(student).path("steps").asInt() > 0);
        }
        assertTrue(r.path("overhead_fraction_of_training").asDouble() > 0);
        Path report = Path.of(r.path("report").asText());
        String html = Files.readString(report);
        assertEquals(4, html.split("data:image/png;base64,", -1).length - 1, "four embedded charts");
        assertTrue(html.contains("The platform: a networked round on loopback"), "the platform section");
        assertEquals(6, r.path("platform").path("shards_accepted").asInt(), "every shard of the networked round accepted");
        assertEquals(6, r.path("platform").path("audits_passed").asInt(), "every accepted shard audited, and passed");
        assertEquals(0, r.path("platform").path("quarantined").asInt(), "no honest participant quarantined");
        assertTrue(html.contains("Audits: 6 passed, 0 failed, 0 pending; 0 participant(s) quarantined."), "audits shown");
        assertTrue(html.contains("zoo:resnet-s-byol-90s") && html.contains("(reference)"));
        assertTrue(!html.contains("src=\"http") && !html.contains("<script"), "self-contained, no script");

        assumeTrue(hasChromium(), "chromium is not installed (apt-get install chromium)");
        Path script = ProjectHome.resolve("scripts/check_report.sh").orElseThrow();
        Path shot = tmp.resolve("shot.png");
        Process p = new ProcessBuilder("bash", script.toString(), report.toString(), shot.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium hung");
        assertEquals(0, p.exitValue(), log);
        BufferedImage image = ImageIO.read(shot.toFile());
        assertEquals(1100, image.getWidth());
        Set<Integer> colours = new HashSet<>();
        long inked = 0;
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                int rgb = image.getRGB(x, y) & 0xffffff;
                colours.add(rgb);
                if (rgb != 0xffffff) {
                    inked++;
                }
            }
        }
        assertTrue(colours.size() > 200, "the screenshot looks blank: " + colours.size() + " colours");
        assertTrue(inked > 10_000, "the screenshot looks blank: " + inked + " inked pixels");
    }

    /**
     * The same story on another dataset with other priors and another student: a folder of PNG files (real Fashion-MNIST
     * images, written as a user's photo folder would be) with two untrained priors and a resnet-s student.
     */
    @Test
    void demoOnAFolderWithItsOwnPriorsAndStudent(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Path folder = tmp.resolve("photos");
        for (String split : new String[] {"train", "test"}) {
            var images = ai.coopt.dataset.DatasetSpec.parse("fashion-mnist").load(split, split.equals("train") ? 400 : 200);
            for (int i = 0; i < images.count(); i++) {
                BufferedImage png = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                png.getRaster().setDataElements(0, 0, 28, 28, images.image(i));
                Path file = folder.resolve(split).resolve("class-" + images.labels()[i]).resolve(i + ".png");
                Files.createDirectories(file.getParent());
                ImageIO.write(png, "png", file.toFile());
            }
        }
        Path dir = tmp.resolve("demo");
        assertEquals(0, Main.run("demo", "--data", "folder:" + folder, "--priors", "random:convnet-s:1,random:resnet-s:2",
                "--arch", "resnet-s", "--minutes", "0.05", "--curve-limit", "200", "--map-points", "20",
                "--out", dir.toString(), "--json"), stderr());
        JsonNode r = Output.JSON.readTree(stdout());
        assertEquals(2, r.path("collab").path("participants").asInt());
        assertEquals(400, r.path("collab").path("count").asInt());
        assertEquals(0, r.path("platform").path("quarantined").asInt());
        assertEquals("resnet-s", Output.JSON.readTree(dir.resolve("student-rela/model.json").toFile()).path("arch").asText(
                Output.JSON.readTree(dir.resolve("student-rela/model.json").toFile()).path("architecture").asText()));
        String html = Files.readString(Path.of(r.path("report").asText()));
        assertTrue(html.contains("collaborative data optimization on folder:") && html.contains("random:resnet-s:2")
                && html.contains("A resnet-s student"), "the report names the data, the priors and the student");
    }

    @Test
    void impossibleDemoSettingsAreOneLineErrors(@TempDir Path tmp) throws IOException {
        for (String[] bad : new String[][] {{"--minutes", "0"}, {"--minutes", "-1"}, {"--map-points", "1"},
                {"--priors", "zoo:convnet-s-byol-300s"}, {"--arch", "resnet-9000"}, {"--data", "nowhere:x"}}) {
            String[] args = new String[] {"demo", "--out", tmp.resolve("d").toString(), bad[0], bad[1]};
            assertEquals(2, Main.run(args));
            assertEquals(1, stderr().strip().lines().count());
            resetConsole();
        }
        assertTrue(Files.notExists(tmp.resolve("d")), "nothing written for refused settings");
        Path file = Files.writeString(tmp.resolve("a-file"), "keep me");
        assertEquals(2, Main.run("demo", "--out", file.toString()));
        // one line and nothing else: refused before the first status note or progress bar
        assertTrue(stderr().strip().lines().count() == 1 && stderr().contains("is a file"), stderr());
        assertEquals("keep me", Files.readString(file));
    }

    private static boolean hasChromium() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", "command -v chromium || command -v chromium-browser").start();
        return p.waitFor() == 0;
    }
}
