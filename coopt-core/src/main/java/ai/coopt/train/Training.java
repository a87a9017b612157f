package ai.coopt.train;

import ai.coopt.UserException;
import ai.coopt.data.ImageSet;
import ai.coopt.data.Subset;
import ai.coopt.dataset.DatasetSpec;
import ai.coopt.engine.MemoryBudget;
import ai.coopt.engine.Precision;
import ai.coopt.nn.Network;
import ai.coopt.report.Plots;
import ai.coopt.store.AtomicFiles;
import ai.coopt.store.OptimizedDataset;
import ai.coopt.store.RowFile;
import ai.coopt.train.methods.MethodSpec;
import ai.coopt.train.methods.Methods;
import ai.coopt.util.ProgressListener;
import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static ai.coopt.Setting.BATCH_SIZE;
import static ai.coopt.Setting.DATA;
import static ai.coopt.Setting.LIMIT;
import static ai.coopt.Setting.LIMIT_SEED;
import static ai.coopt.Setting.METHOD;
import static ai.coopt.Setting.OUT;
import static ai.coopt.Setting.RESUME;
import static ai.coopt.Setting.TARGETS;

/**
 * {@code coopt train} and {@code coopt prior pretrain} as one use case: load the images (and, for
 * ReLA, the optimized dataset's targets, checked against the images), build the backbone and the
 * method, and run the shared loop into a run directory.
 */
public final class Training {
    /**
     * @param targets an optimized dataset directory, or null
     * @param created provenance of the command: time, tool version, command line
     */
    /**
     * @param precision what the student's forward and backward passes compute in (its weights and the optimiser's
     *                  moments stay float32); a run resumes only in the precision it was trained in
     */
    public record Request(DatasetSpec data, String split, int limit, Path targets, String arch, MethodSpec method,
                          TrainingConfig config, Path out, boolean resume, Device device, ObjectNode created,
                          Precision precision) {
        /** A request in float32. */
        public Request(DatasetSpec data, String split, int limit, Path targets, String arch, MethodSpec method,
                       TrainingConfig config, Path out, boolean resume, Device device, ObjectNode created) {
            this(data, split, limit, targets, arch, method, config, out, resume, device, created, Precision.FP32);
        }
    }

    /** The run and where it went; {@code subset}: how {@code --limit} drew the data (null: the whole split). */
    public record Outcome(Path run, String method, int images, TrainingLoop.Result result, Subset subset) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private Training() {}

    public static Outcome run(Request r, ProgressListener progress) {
        checkOut(r.out(), r.resume());
        if (r.targets() != null && !r.method().usesTargets()) {
            throw new UserException(names -> names.of(TARGETS) + " is only used by " + names.of(METHOD) + " rela, not "
                    + r.method().name());
        }
        ImageSet loaded = r.data().load(r.split(), r.limit());
        ImageSet images = loaded;
        RowFile rows = null;
        int dim = 0;
        ObjectNode targetsInfo = null;
        if (r.targets() != null) {
            OptimizedDataset d = OptimizedDataset.read(r.targets());
            int[] ids = idsWithin(d, images);
            images = images.subset(ids);
            rows = d.targets();
            dim = d.dim();
            targetsInfo = JSON.createObjectNode();
            targetsInfo.put("dir", r.targets().toAbsolutePath().toString());
            targetsInfo.put("targets_sha256", d.targetsSha256());
            targetsInfo.put("count", d.count());
            targetsInfo.put("dim", d.dim());
            targetsInfo.set("priors", JSON.valueToTree(d.provenance().participants().stream().map(p -> p.prior()).toList()));
        } else if (r.method().usesTargets()) {
            throw new UserException(names -> names.of(METHOD) + " rela trains on targets: give " + names.of(TARGETS)
                    + " DIR (made by coopt optimize or coopt collab)");
        }
        boolean existed = Files.exists(r.out());
        try {
            Files.createDirectories(r.out());
        } catch (IOException e) {
            throw new UserException(r.out() + ": cannot create: " + e.getMessage());
        }
        TrainingLoop loop = null;
        boolean done = false;
        try (RowFile targetRows = rows;
             Network backbone = Network.create(r.arch(), images.channels(), images.height(), images.width(),
                r.config().seed(), r.device()).computeIn(r.precision());
             Method method = Methods.create(r.method(), backbone, dim)) {
            checkMemory(r, backbone);
            ObjectNode provenance = provenance(r, loaded, images, targetsInfo, method);
            loop = new TrainingLoop(method, images, rows, dim, r.config(), r.out(), provenance);
            TrainingLoop.Result result = loop.run(r.resume(), progress);
            Plots.lossPlot(r.out().resolve(TrainingLoop.METRICS), r.out().resolve("loss.png"));
            done = true;
            return new Outcome(r.out(), method.name(), images.count(), result, loaded.drawn());
        } finally {
            if (!done && !r.resume() && (loop == null || loop.steps() == 0)) {
                // nothing was trained: leave --out as it was (absent or empty), so the corrected command runs as is
                AtomicFiles.deleteTree(r.out(), existed);
            }
        }
    }

    /**
     * Refuses a batch whose two views' activations alone exceed the {@link MemoryBudget}: a lower bound of what a
     * step needs (gradients and a target network come on top), so a batch that could run is never refused.
     */
    private static void checkMemory(Request r, Network backbone) {
        long[] s = backbone.inputShape().getShape();
        MemoryBudget.require(2L * r.config().batchSize() * backbone.activationBytesPerImage(), names -> "training "
                + r.arch() + " on " + names.of(BATCH_SIZE) + " " + r.config().batchSize() + " of " + s[1] + "x" + s[2]
                + "x"
                + s[3] + " images (two views' activations alone)", names -> "lower " + names.of(BATCH_SIZE));
    }

    /** The dataset's ids as indices into {@code images}, refusing targets made from other images. */
    private static int[] idsWithin(OptimizedDataset d, ImageSet images) {
        var source = d.provenance().source();
        UserException.Text madeFrom = names -> source.spec() + ", " + source.split() + " split"
                + (source.subset() == null ? "" : ", " + names.of(LIMIT) + " " + source.subset().describe(names));
        Subset drawn = images.drawn();
        UserException.Text given = names -> images.source()
                + (drawn == null ? "" : ", " + names.of(LIMIT) + " " + drawn.describe(names));
        boolean sameDraw = java.util.Objects.equals(drawn, source.subset());
        if (sameDraw && source.count() == images.count() && !source.fingerprint().equals(images.fingerprint())) {
            throw new UserException(names -> d.dir() + ": the targets were made from other images ("
                    + madeFrom.in(names) + ") than " + names.of(DATA) + " gives (" + given.in(names) + ")");
        }
        try {
            return images.positionsOf(d.ids());
        } catch (IllegalArgumentException e) {
            throw new UserException(names -> d.dir() + ": the targets were made from " + madeFrom.in(names) + ", but "
                    + names.of(DATA) + " gives " + given.in(names)
                    + ", which lacks some of their samples; give the targets' "
                    + names.of(LIMIT) + " and " + names.of(LIMIT_SEED) + ", or no " + names.of(LIMIT));
        }
    }

    /** Whether {@code run} holds a complete checkpoint to resume from (a run cut short before its first one does not). */
    public static boolean resumable(Path run) {
        if (!Files.isDirectory(run.resolve(TrainingLoop.CHECKPOINTS))) {
            return false;
        }
        try {
            TrainingLoop.latestCheckpoint(run);
            return true;
        } catch (UserException e) {
            return false;
        }
    }

    private static void checkOut(Path out, boolean resume) {
        if (resume) {
            if (!Files.isDirectory(out.resolve(TrainingLoop.CHECKPOINTS))) {
                throw new UserException(out + ": nothing to resume (no checkpoints/ directory)");
            }
            TrainingLoop.latestCheckpoint(out);
            return;
        }
        if (!Files.exists(out)) {
            return;
        }
        if (!Files.isDirectory(out)) {
            throw new UserException(names -> out + " exists and is not a directory; choose another " + names.of(OUT));
        }
        try (Stream<Path> entries = Files.list(out)) {
            if (entries.findAny().isPresent()) {
                throw new UserException(names -> out + " is not empty; pass " + names.of(RESUME)
                        + " to continue the run in it, or choose another " + names.of(OUT));
            }
        } catch (IOException e) {
            throw new UserException(out + ": cannot read: " + e.getMessage());
        }
    }

    private static ObjectNode provenance(Request r, ImageSet loaded, ImageSet images, ObjectNode targets, Method method) {
        ObjectNode p = JSON.createObjectNode();
        ObjectNode data = p.putObject("data");
        data.put("spec", r.data().spec());
        data.put("split", r.split());
        data.put("limit", r.limit());
        data.set("subset", loaded.drawn() == null ? null : JSON.valueToTree(loaded.drawn()));
        data.put("count", images.count());
        data.put("fingerprint", images.fingerprint());
        if (targets == null) {
            p.putNull("targets");
        } else {
            p.set("targets", targets);
        }
        p.put("method", method.name());
        p.put("precision", r.precision().label());
        p.set("method_settings", JSON.valueToTree(r.method()));
        if (r.method().ssl() != null) {
            ((ObjectNode) p.get("method_settings")).put("ssl_method", r.method().ssl().method());
        }
        ObjectNode h = p.putObject("hyper_parameters");
        TrainingConfig c = r.config();
        h.put("epochs", c.epochs());
        h.put("budget_seconds", c.budgetSeconds());
        h.put("batch", c.batchSize());
        h.put("optimizer", "adamw");
        h.put("lr", c.learningRate());
        h.set("lr_schedule", JSON.valueToTree(c.learningRateSchedule()));
        h.put("weight_decay", c.weightDecay());
        h.set("weight_decay_schedule", JSON.valueToTree(c.weightDecaySchedule()));
        h.put("decay_bias_and_norm", c.decayBiasAndNorm());
        h.put("data_ratio", c.dataRatio());
        h.put("checkpoint_every_seconds", c.checkpointEverySeconds());
        h.set("augmentation", JSON.valueToTree(c.augmentation()));
        p.put("arch", r.arch());
        p.put("seed", c.seed());
        p.setAll(r.created());
        return p;
    }
}
