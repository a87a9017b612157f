package ai.coopt.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SubsetTest {
    /** Ten classes of 100, sorted by class as a class-folder listing is. */
    private static int[] sortedByClass(int classes, int each) {
        int[] labels = new int[classes * each];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i / each;
        }
        return labels;
    }

    @Test
    void aLimitOfAClassSortedSplitHoldsEveryClassInItsShare() {
        int[] labels = sortedByClass(10, 100);
        Subset.Drawn d = Subset.draw(1000, labels, 50, 0);
        int[] perClass = new int[10];
        for (int i : d.indices()) {
            perClass[labels[i]]++;
        }
        int[] five = new int[10];
        Arrays.fill(five, 5);
        assertArrayEquals(five, perClass, "a first-N cut would be all class 0");
        assertTrue(d.subset().stratified());
        assertEquals(50, d.subset().limit());
        assertEquals(1000, d.subset().of());
    }

    @Test
    void unequalClassesGetTheirProportionWithinOneAndTheQuotasAddUp() {
        int[] sizes = {3, 50, 7, 140, 1};
        int total = Arrays.stream(sizes).sum();
        int[] labels = new int[total];
        for (int c = 0, at = 0; c < sizes.length; c++) {
            for (int k = 0; k < sizes[c]; k++) {
                labels[at++] = c * 10;  // labels need not be 0..K-1
            }
        }
        for (int limit : new int[] {1, 17, 100, 200}) {
            Subset.Drawn d = Subset.draw(total, labels, limit, 3);
            assertEquals(limit, d.indices().length);
            int[] got = new int[sizes.length];
            for (int i : d.indices()) {
                got[labels[i] / 10]++;
            }
            for (int c = 0; c < sizes.length; c++) {
                double share = (double) limit * sizes[c] / total;
                assertTrue(Math.abs(got[c] - share) < 1.0, "class " + c + ": " + got[c] + " for a share of " + share);
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameSubsetAndAnotherSeedAnother() {
        int[] labels = sortedByClass(4, 250);
        Subset.Drawn a = Subset.draw(1000, labels, 100, 7);
        Subset.Drawn b = Subset.draw(1000, labels.clone(), 100, 7);
        Subset.Drawn c = Subset.draw(1000, labels, 100, 8);
        assertArrayEquals(a.indices(), b.indices());
        assertEquals(a.subset(), b.subset());
        assertFalse(Arrays.equals(a.indices(), c.indices()));
        assertNotEquals(a.subset().idsSha256(), c.subset().idsSha256());
        for (int i = 1; i < a.indices().length; i++) {
            assertTrue(a.indices()[i] > a.indices()[i - 1], "in split order, without repeats");
        }
    }

    @Test
    void theWholeSplitIsNoDraw() {
        assertNull(Subset.draw(10, null, 0, 0));
        assertNull(Subset.draw(10, null, 10, 0));
        assertNull(Subset.draw(10, null, 11, 0));
        assertThrows(IllegalArgumentException.class, () -> Subset.draw(10, null, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> Subset.draw(10, new int[9], 5, 0));
    }

    /**
     * The draw as the class documents it, computed by an independent implementation of that text (Python, run once):
     * a reader in another language reproduces these exactly.
     */
    @Test
    void theDocumentedAlgorithmGivesThesePinnedDraws() {
        Subset.Drawn plain = Subset.draw(20, null, 5, 0);
        assertArrayEquals(new int[] {0, 1, 14, 17, 18}, plain.indices());
        assertFalse(plain.subset().stratified());
        assertEquals("678e62d65f9fd69a1b2df7f3410ebbc1ffebf98f3fe6134ab517c013eb71cd07", plain.subset().idsSha256());
        int[] labels = new int[37];
        for (int i = 0; i < 37; i++) {
            labels[i] = i < 30 ? i % 3 : 3;
        }
        Subset.Drawn s42 = Subset.draw(37, labels, 11, 42);
        assertArrayEquals(new int[] {0, 3, 4, 5, 13, 14, 18, 25, 26, 31, 36}, s42.indices());
        assertEquals("71b37bdbd67a0abc8fa3064b8815c7f0fdf20c9eabbbd217292aaf278b4fb00b", s42.subset().idsSha256());
        assertArrayEquals(new int[] {0, 2, 7, 9, 10, 12, 14, 16, 23, 30, 34}, Subset.draw(37, labels, 11, -7).indices());
    }

    @Test
    void aDrawnSetKnowsEachImagesIndexInTheSplitAndFindsThemBack() {
        int n = 40;
        byte[] pixels = new byte[n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            pixels[i] = (byte) i;
            labels[i] = i / 10;
        }
        ImageSet all = new ImageSet("s", pixels, n, 1, 1, 1, labels);
        ImageSet drawn = all.draw(8, 5);
        assertEquals(8, drawn.count());
        assertEquals(Subset.draw(n, labels, 8, 5).subset(), drawn.drawn());
        long[] ids = new long[drawn.count()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = drawn.sourceId(i);
            assertEquals(ids[i], drawn.image(i)[0], "image i is the split's sample sourceId(i)");
            assertEquals(labels[(int) ids[i]], drawn.labels()[i]);
        }
        long[] someIds = {ids[6], ids[1]};
        assertArrayEquals(new int[] {6, 1}, drawn.positionsOf(someIds));
        ImageSet view = drawn.subset(new int[] {6, 1});
        assertEquals(ids[6], view.sourceId(0), "a view keeps the split's ids");
        long missing = java.util.stream.LongStream.range(0, n).filter(i -> Arrays.stream(ids).noneMatch(x -> x == i))
                .findFirst().orElseThrow();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> drawn.positionsOf(new long[] {missing}));
        assertTrue(e.getMessage().contains("sample id " + missing), e.getMessage());
        assertEquals(all, all.draw(0, 5));
        assertEquals(all, all.draw(n, 5));
    }
}
