package ai.coopt.store;

import java.util.Set;

/**
 * What an output directory holds, so that replacing one never deletes anything but a directory of this kind
 * that this project wrote.
 *
 * @param description a few words for messages, e.g. "CoOpt model directory"
 * @param marker a JSON file that every directory of this kind contains, e.g. "model.json"
 * @param format the value of the marker's {@code format} field, e.g. "coopt-model/1"
 * @param files every name this project writes directly inside such a directory; a directory holding any other
 *     entry (a user's notes) is never replaced
 */
public record DirectoryKind(String description, String marker, String format, Set<String> files) {
    public DirectoryKind {
        files = Set.copyOf(files);
        if (!files.contains(marker)) {
            throw new IllegalArgumentException("the marker " + marker + " must be one of the kind's files");
        }
    }
}
