package ai.coopt.train.methods;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;

import java.util.LinkedHashMap;
import java.util.Map;

/** A block's parameters under stable names: a prefix followed by DJL's key, in DJL's order. */
final class NamedParameters {
    private NamedParameters() {}

    /** The parameters that take gradients. */
    static Map<String, Parameter> trainable(String prefix, Block block) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getValue().requiresGradient()) {
                out.put(prefix + p.getKey(), p.getValue());
            }
        }
        return out;
    }

    /** The arrays of the parameters that take no gradient (batch-norm running statistics, frozen copies). */
    static Map<String, NDArray> fixed(String prefix, Block block) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (!p.getValue().requiresGradient()) {
                out.put(prefix + p.getKey(), p.getValue().getArray());
            }
        }
        return out;
    }

    /** Adds {@code more} to {@code into}; a name already there must stand for the same object. */
    static <T> void merge(Map<String, T> into, Map<String, T> more) {
        for (Map.Entry<String, T> e : more.entrySet()) {
            T before = into.putIfAbsent(e.getKey(), e.getValue());
            if (before != null && before != e.getValue()) {
                throw new IllegalStateException("two different arrays are both named " + e.getKey());
            }
        }
    }
}
