package ai.coopt.store;

/**
 * What an output directory holds, so that replacing one never deletes a directory of another kind.
 *
 * @param description a few words for messages, e.g. "CoOpt model directory"
 * @param marker a file that every directory of this kind contains, e.g. "model.json"
 */
public record DirectoryKind(String description, String marker) {}
