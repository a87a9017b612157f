package ai.coopt.platform.db;

/** The fusion of a round: not started, running, finished, or failed (it may be started again). */
public enum FusionState {
    WAITING, RUNNING, DONE, FAILED
}
