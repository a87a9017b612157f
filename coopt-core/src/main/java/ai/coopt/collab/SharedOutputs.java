package ai.coopt.collab;

/**
 * A participant's prior run on the shared subset S (phase 2, uploaded in phase 4): the rows the alignment is fitted
 * on, in the order of the platform's shared ids. Sent once per participant, before or between its shards.
 *
 * @param values {@code sharedCount × prior.outputDim()} floats, row-major
 * @param seconds embedding S and computing the uniformity
 * @param uniformitySeconds computing the uniformity alone (part of {@code seconds})
 */
public record SharedOutputs(String participant, PriorReport prior, float[] values, double seconds,
                            double uniformitySeconds) {
    public int dim() {
        return prior.outputDim();
    }

    public int count() {
        return values.length / prior.outputDim();
    }
}
