package ai.coopt.cli;

import ai.coopt.util.ProgressListener;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.time.temporal.ChronoUnit;

/**
 * Draws the library's progress reports as bars with rate and ETA on stderr. On a terminal the bar
 * redraws in place; when stderr is a file or pipe it prints a plain line every few seconds instead.
 */
final class CliProgress implements ProgressListener {
    private static final boolean TERMINAL = System.console() != null;
    private ProgressBar bar;

    @Override
    public void start(String task, long total, String unit) {
        finish();
        bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setUnit(" " + unit, 1)
                .showSpeed()
                .setSpeedUnit(ChronoUnit.SECONDS)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(TERMINAL ? 250 : 5000)
                .continuousUpdate()
                .setConsumer(TERMINAL
                        ? new ConsoleProgressBarConsumer(System.err, 100)
                        : new DelegatingProgressBarConsumer(System.err::println, 100))
                .build();
    }

    @Override
    public void advance(long done) {
        if (bar != null) {
            bar.stepTo(done);
        }
    }

    @Override
    public void finish() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
