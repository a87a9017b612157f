package ai.coopt.prior;

import ai.coopt.UserException;
import ai.coopt.util.ProjectHome;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The priors this project ships: model directories under {@code priors/} in the project root,
 * each made by {@code coopt prior pretrain} without labels, with the exact command in its
 * {@code README.md}; the project root is found by {@link ProjectHome}.
 */
public final class Zoo {
    /** The folder, relative to the project root, that holds the shipped priors. */
    public static final String FOLDER = "priors";

    private Zoo() {}

    /** The model directory of the shipped prior {@code name}; unknown names list the shipped ones. */
    public static Path dir(String name) {
        Path folder = folder();
        if (folder == null) {
            throw new UserException("zoo:" + name + ": the shipped priors folder '" + FOLDER + "/' is not found "
                    + "(run coopt from the project, or set -Dcoopt.home)");
        }
        Path dir = folder.resolve(name).normalize();
        if (name.isEmpty() || !dir.getParent().equals(folder) || !Files.isRegularFile(dir.resolve("model.json"))) {
            throw new UserException("zoo:" + name + " is not a shipped prior; the zoo has: " + String.join(", ", names()));
        }
        return dir;
    }

    /** The shipped priors' names, sorted. */
    public static List<String> names() {
        Path folder = folder();
        if (folder == null) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(folder)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("model.json")))
                    .map(d -> d.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static Path folder() {
        return ProjectHome.resolve(FOLDER).filter(Files::isDirectory).orElse(null);
    }
}
