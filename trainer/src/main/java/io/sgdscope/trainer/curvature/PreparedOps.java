package io.sgdscope.trainer.curvature;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J ops bound once to fixed arrays and run many times through a prepared {@link OpContext}
 * (about 2-6 us of overhead per op here, against 12-25 us for {@code Nd4j.gemm} or an INDArray
 * method, which matters for the tiny matrices of Gauss-k; the same trick as the trainer's Mlp).
 * Each factory method returns the bound op as a {@link Runnable}. Not thread-safe; {@link #close()}
 * frees the native contexts.
 */
final class PreparedOps implements AutoCloseable {

    private final OpExecutioner executioner = Nd4j.getExecutioner();
    private final DynamicCustomOp matmul = DynamicCustomOp.builder("matmul").build();
    private final DynamicCustomOp affine = DynamicCustomOp.builder("xw_plus_b").build();
    private final DynamicCustomOp multiply = DynamicCustomOp.builder("multiply").build();
    private final DynamicCustomOp add = DynamicCustomOp.builder("add").build();
    private final DynamicCustomOp subtract = DynamicCustomOp.builder("subtract").build();
    private final DynamicCustomOp reduceSum = DynamicCustomOp.builder("reduce_sum").build();
    private final DynamicCustomOp reluBackward = DynamicCustomOp.builder("relu_bp").build();
    private final List<OpContext> contexts = new ArrayList<>();

    /** out = alpha op(a) op(b) + beta out, op = transpose or not. */
    Runnable matmul(INDArray a, INDArray b, INDArray out, boolean transposeA, boolean transposeB, double alpha,
                    double beta) {
        OpContext context = context(new INDArray[] {a, b}, out);
        context.setIArguments(transposeA ? 1 : 0, transposeB ? 1 : 0, 0);
        context.setTArguments(alpha, beta);
        return () -> executioner.exec(matmul, context);
    }

    /** out = x w + b (b a row added to every row), one fused op. */
    Runnable affine(INDArray x, INDArray w, INDArray b, INDArray out) {
        OpContext context = context(new INDArray[] {x, w, b}, out);
        return () -> executioner.exec(affine, context);
    }

    /** out = x * y elementwise; same shapes (the fast path: broadcasting ops are far slower in ND4J 1.0.0-M2.1). */
    Runnable multiply(INDArray x, INDArray y, INDArray out) {
        OpContext context = context(new INDArray[] {x, y}, out);
        return () -> executioner.exec(multiply, context);
    }

    /** out = x + y elementwise, same shapes. */
    Runnable add(INDArray x, INDArray y, INDArray out) {
        OpContext context = context(new INDArray[] {x, y}, out);
        return () -> executioner.exec(add, context);
    }

    /** out = x - y elementwise, same shapes. */
    Runnable subtract(INDArray x, INDArray y, INDArray out) {
        OpContext context = context(new INDArray[] {x, y}, out);
        return () -> executioner.exec(subtract, context);
    }

    /** out = epsilon o relu'(z), relu'(0) = 0 (ND4J's relu_bp). */
    Runnable reluBackward(INDArray z, INDArray epsilon, INDArray out) {
        OpContext context = context(new INDArray[] {z, epsilon}, out);
        context.setTArguments(0.0);
        return () -> executioner.exec(reluBackward, context);
    }

    /** out = the sums of x along {@code dimension} (0: column sums, 1: row sums). */
    Runnable sum(INDArray x, int dimension, INDArray out) {
        OpContext context = context(new INDArray[] {x}, out);
        context.setIArguments(dimension);
        return () -> executioner.exec(reduceSum, context);
    }

    private OpContext context(INDArray[] inputs, INDArray output) {
        OpContext context = executioner.buildContext();
        context.setInputArrays(inputs);
        context.setOutputArrays(output);
        contexts.add(context);
        return context;
    }

    /** Runs a sequence of bound ops. */
    static void run(List<Runnable> program) {
        for (Runnable op : program) {
            op.run();
        }
    }

    @Override
    public void close() {
        for (OpContext context : contexts) {
            try {
                context.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot free an ND4J op context", e);
            }
        }
        contexts.clear();
    }
}
