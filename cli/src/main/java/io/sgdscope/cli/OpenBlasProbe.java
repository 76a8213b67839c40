package io.sgdscope.cli;

/**
 * Loads the OpenBLAS that ND4J calls, and nothing else: the {@code sgdscope} launcher runs it once per machine with
 * {@code OPENBLAS_VERBOSE=2}, so that OpenBLAS prints the kernels it chose for this CPU ({@code Core: Haswell}).
 * OpenBLAS chooses them by the CPU's model number; on a CPU newer than the bundled OpenBLAS (0.3.19) knows it
 * falls back to its generic {@code Prescott} kernels, 3-4x slower matrix products, and the launcher then names
 * kernels for the CPU's instruction set in {@code OPENBLAS_CORETYPE} (README.md, "Speed on newer CPUs").
 */
public final class OpenBlasProbe {

    private OpenBlasProbe() {}

    public static void main(String[] args) {
        org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
    }
}
