package ai.coopt.store;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * What an output directory holds, so that replacing one never deletes anything but a directory of this kind
 * that this project wrote.
 *
 * @param description a few words for messages, e.g. "CoOpt model directory"
 * @param marker a JSON file that every directory of this kind contains, e.g. "model.json"
 * @param format the value of the marker's {@code format} field, e.g. "coopt-model/1"
 * @param files every name this project writes directly inside such a directory; a directory holding any other
 *     entry (a user's notes) is never replaced
 * @param pattern further names this project writes (numbered shards), or null
 */
public record DirectoryKind(String description, String marker, String format, Set<String> files, Pattern pattern) {
    public DirectoryKind {
        files = Set.copyOf(files);
        if (!files.contains(marker)) {
            throw new IllegalArgumentException("the marker " + marker + " must be one of the kind's files");
        }
    }

    /** A kind whose directories hold exactly the named files. */
    public DirectoryKind(String description, String marker, String format, Set<String> files) {
        this(description, marker, format, files, null);
    }

    /** Whether {@code name} is an entry this project writes in such a directory. */
    public boolean isOurs(String name) {
        return files.contains(name) || (pattern != null && pattern.matcher(name).matches());
    }
}
