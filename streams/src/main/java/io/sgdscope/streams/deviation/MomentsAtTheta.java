package io.sgdscope.streams.deviation;

import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.streams.internals.Codec;

/**
 * What Theorem 1 needs from iteration t (at θ_t, before the update), as the trainer measured it. NaN
 * where a quantity was not computed at this iteration (the moments come every {@code --moments-every}
 * iterations).
 *
 * @param stepSize η_t (Eq. 8, 23)
 * @param batchSize m
 * @param gradNormSq ‖μ_t‖²
 * @param traceM Tr M_t
 * @param hessianNorm L, the largest |eigenvalue| of H_f(θ_t) (Assumption 1)
 * @param sigmaHalfMuNorm ‖Σ_t^{1/2} μ_t‖
 * @param sigmaFrobenius ‖Σ_t‖_F
 * @param sigmaSpectral ‖Σ_t‖₂
 */
public record MomentsAtTheta(double stepSize, int batchSize, double gradNormSq, double traceM, double hessianNorm,
                             double sigmaHalfMuNorm, double sigmaFrobenius, double sigmaSpectral) {

    public static MomentsAtTheta of(IterationMetrics record) {
        return new MomentsAtTheta(record.getStepSize(), record.getBatchSize(), Codec.orNaN(record.getGradNormSq()),
                Codec.orNaN(record.getTraceM()), Codec.orNaN(record.getHessianSpectralNorm()),
                Codec.orNaN(record.getSigmaHalfMuNorm()), Codec.orNaN(record.getSigmaFrobenius()),
                Codec.orNaN(record.getSigmaSpectral()));
    }

    /** The interval of Eq. 27 and the super-martingale condition can be evaluated: η, ‖μ‖², L and Tr M are known. */
    public boolean hasInterval() {
        return Double.isFinite(stepSize) && Double.isFinite(gradNormSq) && Double.isFinite(traceM) && Double.isFinite(hessianNorm);
    }

    /** The deviation allowance of Eq. 28–29 can be evaluated as well: the Σ quantities and m are known. */
    public boolean hasAllowance() {
        return hasInterval() && batchSize > 0 && Double.isFinite(sigmaHalfMuNorm) && Double.isFinite(sigmaFrobenius)
                && Double.isFinite(sigmaSpectral);
    }

    void writeTo(Codec.Out out) {
        out.writeDouble(stepSize);
        out.writeInt(batchSize);
        out.writeDouble(gradNormSq);
        out.writeDouble(traceM);
        out.writeDouble(hessianNorm);
        out.writeDouble(sigmaHalfMuNorm);
        out.writeDouble(sigmaFrobenius);
        out.writeDouble(sigmaSpectral);
    }

    static MomentsAtTheta readFrom(Codec.In in) {
        return new MomentsAtTheta(in.readDouble(), in.readInt(), in.readDouble(), in.readDouble(), in.readDouble(),
                in.readDouble(), in.readDouble(), in.readDouble());
    }
}
