package ai.coopt.collab;

/**
 * A platform's request to a participant, after one of its shard uploads was accepted: run your prior again on these
 * images (a random, unannounced sample of rows of that shard and of S, in a random order, without their ids) and send
 * the outputs. The platform compares them with the rows it already holds; priors are deterministic in eval mode.
 *
 * @param rows how many images the audit holds
 * @param deadlineMillis when an unanswered audit fails (epoch millis)
 */
public record Audit(long id, int rows, long deadlineMillis) {}
