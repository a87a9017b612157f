package ai.coopt.util;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CombinedProgressTest {
    @Test
    void partsAddUpAcrossTheirSuccessiveTasks() {
        List<Long> seen = new ArrayList<>();
        long[] total = new long[1];
        ProgressListener outer = new ProgressListener() {
            @Override
            public void start(String task, long t, String unit) {
                total[0] = t;
            }

            @Override
            public void advance(long done) {
                seen.add(done);
            }

            @Override
            public void finish() {}
        };
        CombinedProgress combined = new CombinedProgress(outer, "both", 35, "img");
        ProgressListener a = combined.part();
        ProgressListener b = combined.part();
        a.start("shard", 20, "img");
        a.advance(10);
        b.start("shard", 10, "img");
        b.advance(10);
        a.advance(20);
        a.finish();
        a.start("shared", 5, "img");
        a.advance(5);
        combined.finish();
        assertEquals(35, total[0]);
        assertEquals(List.of(10L, 20L, 30L, 35L), seen);
    }
}
