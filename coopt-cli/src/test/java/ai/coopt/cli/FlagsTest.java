package ai.coopt.cli;

import ai.coopt.Setting;
import ai.coopt.UserException;
import ai.coopt.data.ImageFolderReader;
import ai.coopt.data.Sharding;
import ai.coopt.train.methods.DinoConfig;
import ai.coopt.train.methods.MethodSpec;
import ai.coopt.train.methods.MocoConfig;
import ai.coopt.train.methods.SwavConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Core names settings, the command line names flags: every setting has a flag of some {@code coopt} command, and core's
 * messages read, on the command line, as they did when core spelled the flags itself (the flag assertions of core's
 * MethodSpecTest, ShardingTest, PhotoFolderTest and TrainingTest, moved here with the flag names).
 */
class FlagsTest extends ConsoleCapture {
    @TempDir
    Path tmp;

    @Test
    void everySettingIsAFlagOfSomeCommand() {
        Set<String> options = new HashSet<>();
        Deque<CommandLine> commands = new ArrayDeque<>(java.util.List.of(new CommandLine(new Main())));
        while (!commands.isEmpty()) {
            CommandLine c = commands.pop();
            c.getCommandSpec().options().forEach(o -> options.addAll(java.util.List.of(o.names())));
            commands.addAll(c.getSubcommands().values());
        }
        for (Setting s : Setting.values()) {
            String flag = Flags.of(s);
            assertTrue(flag.startsWith("--"), s + " has no flag in Flags");
            assertTrue(options.contains(flag), s + ": " + flag + " is no option of any coopt command");
        }
    }

    @Test
    void coreMessagesNameTheFlags() {
        assertFlag(() -> MethodSpec.of("byol", "simclr", null), "--then");
        assertFlag(() -> MethodSpec.of("rela", "rela", null), "--then");
        assertFlag(() -> MethodSpec.of("rela", "byol", 1.0), "--switch-at");
        assertFlag(() -> MethodSpec.of("rela", "byol", 0.0), "--switch-at");
        assertFlag(() -> MethodSpec.of("rela", "none", 0.5), "--switch-at");
        assertFlag(() -> MethodSpec.of("simclr", null, 0.5), "--switch-at");
        assertFlag(() -> new MocoConfig(128, 0, 0, 0.999, 0.2), "--moco-queue");
        assertFlag(() -> new SwavConfig(128, 0, 3000, 0.1, 0, 3, 313, 6), "--swav-epsilon");
        assertFlag(() -> new SwavConfig(128, 0, 3000, 0.1, 0.05, 0, 313, 6), "--swav-sinkhorn-iterations");
        assertFlag(() -> new DinoConfig(4096, 0, 256, 0.1, 0.07, 0.04, 1.0, 0.996, 0.9, 0.01, 3, 8),
                "--dino-teacher-warmup");
        assertFlag(() -> new DinoConfig(4096, 0, 256, 0.1, 0.07, 0.04, 0.3, 0.996, 0.9, 0.01, -1, 8),
                "--dino-clip-grad");
        assertFlag(() -> new DinoConfig(4096, 0, 256, 0.1, 0.07, 0.04, 0.3, 0.996, 0.9, 0.01, 3, 65),
                "--local-crops");
        assertFlag(() -> Sharding.plan(1000, 2, 0.0001, 0), "--shared-count");
        assertFlag(() -> new ImageFolderReader.Options(100000, false), "--image-size");
    }

    @Test
    void aBadImageNamesTheFlagThatSkipsIt() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        Files.write(dir.resolve("c-empty.png"), new byte[0]);
        assertFlag(() -> ImageFolderReader.read(dir, "train", 0, "s", new ImageFolderReader.Options(8, false)),
                "--skip-bad-images");
    }

    @Test
    void aDivergingRunSaysWhichFlagsToChange() {
        requireFashionMnist();
        assertEquals(2, Main.run("train", "--method", "byol", "--data", "fashion-mnist", "--limit", "100", "--arch",
                "convnet-s", "--epochs", "1", "--batch", "50", "--lr", "1e30", "--out", tmp.resolve("run").toString()),
                stderr());
        String line = stderr().strip().lines().reduce((first, last) -> last).orElse("");  // after the progress bar
        assertTrue(line.matches("coopt: the byol loss became (NaN|-?Infinity) at step \\d+: training diverged at --lr "
                + "1\\.0E30; lower --lr, add a warm-up \\(--lr-schedule cosine --warmup 0\\.1\\) and train again into "
                + "a new --out"), line);
    }

    @Test
    void targetsFromAnotherDrawNameBothLimitSeeds() {
        requireFashionMnist();
        Path targets = tmp.resolve("targets");
        assertEquals(0, Main.run("optimize", "--data", "fashion-mnist", "--limit", "200", "--prior", "random:convnet-s:1",
                "--out", targets.toString()), stderr());
        resetConsole();
        assertEquals(2, Main.run("train", "--method", "rela", "--targets", targets.toString(), "--data", "fashion-mnist",
                "--limit", "200", "--limit-seed", "1", "--arch", "convnet-s", "--epochs", "1",
                "--out", tmp.resolve("other").toString()), stderr());
        String line = stderr().strip();
        assertTrue(line.contains("--limit-seed 0") && line.contains("--limit-seed 1") && !line.contains("\n"), line);
    }

    private static void assertFlag(Executable call, String flag) {
        UserException e = assertThrows(UserException.class, call);
        String line = Flags.message(e);
        assertTrue(line.contains(flag), line);
        assertFalse(line.contains("\n"), line);
    }

    private static void requireFashionMnist() {
        assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
    }
}
