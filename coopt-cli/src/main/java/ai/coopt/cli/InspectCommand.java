package ai.coopt.cli;

import ai.coopt.UserException;
import ai.coopt.store.ModelDirectory;
import ai.coopt.store.OptimizedDataset;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code coopt inspect DIR}: verify and summarise an optimized dataset or a model directory. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Verify an optimized dataset or a model directory (format, checksums, shapes, finite values) and summarise it.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR")
    Path dir;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        if (!Files.exists(dir)) {
            throw new UserException(dir + ": no such directory");
        }
        if (!Files.isDirectory(dir)) {
            throw new UserException(dir + ": not a directory (inspect reads an optimized dataset or a model directory)");
        }
        ObjectNode o;
        String human;
        if (OptimizedDataset.looksLikeOptimizedDataset(dir)) {
            OptimizedDataset d = OptimizedDataset.read(dir);
            o = Output.object();
            o.put("kind", "optimized-dataset");
            o.put("path", dir.toAbsolutePath().toString());
            o.setAll(d.summary());
            human = String.format(Locale.ROOT, "%s: optimized dataset, %d targets of dim %d from %s (%s split), "
                            + "%d participant(s); checksums ok",
                    dir, d.count(), d.dim(), d.provenance().source().spec(), d.provenance().source().split(),
                    d.provenance().participants().size());
        } else if (Files.isRegularFile(dir.resolve(ModelDirectory.MODEL_JSON))) {
            ModelDirectory m = ModelDirectory.read(dir);
            common.engine();
            m.verify();
            o = Output.object();
            o.put("kind", "model");
            o.put("path", dir.toAbsolutePath().toString());
            o.put("arch", m.arch());
            o.put("feature_dim", m.featureDim());
            o.put("input", m.channels() + "x" + m.height() + "x" + m.width());
            o.put("method", m.method());
            o.put("weights_sha256", m.weightsSha256());
            o.put("checksum", "ok");
            o.put("weights", "ok");
            o.set("provenance", m.provenance());
            human = String.format(Locale.ROOT, "%s: model directory, %s (%s), %d features, input %s; checksum ok, weights load (shapes match, all finite)",
                    dir, m.arch(), m.method(), m.featureDim(), o.get("input").asText());
        } else {
            throw new UserException(dir + ": neither an optimized dataset (no manifest.json) nor a model directory (no model.json)");
        }
        Output.print(common.json, o, human);
        return 0;
    }
}
