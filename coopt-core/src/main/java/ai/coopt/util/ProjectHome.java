package ai.coopt.util;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The project checkout coopt runs from, for files it ships (priors, recorded benchmark results):
 * the system property {@code coopt.home} (the launcher sets it), else the nearest directory at or
 * above the working directory holding a {@code pom.xml} and the asked-for entry.
 */
public final class ProjectHome {
    private ProjectHome() {}

    /** {@code relative} inside the project, when the project and that entry are found. */
    public static Optional<Path> resolve(String relative) {
        String home = System.getProperty("coopt.home");
        if (home != null && !home.isBlank()) {
            Path p = Path.of(home).toAbsolutePath().normalize().resolve(relative);
            return Files.exists(p) ? Optional.of(p) : Optional.empty();
        }
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve(relative)) && Files.isRegularFile(d.resolve("pom.xml"))) {
                return Optional.of(d.resolve(relative));
            }
        }
        return Optional.empty();
    }
}
