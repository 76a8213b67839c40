package io.sgdscope.trainer;

import io.sgdscope.client.TelemetrySink;
import io.sgdscope.schemas.IterationMetrics;
import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.GradientMoments;

/**
 * What an {@link EnsembleBlock} publishes after the frame of iteration t besides it, run by run, as the per-run
 * engine does after each run's IterationMetrics: the SpectrumSnapshot of each run still going that had its spectra
 * computed at t ({@link EnsembleCurvature#snapshot}), then, at a snapshot-at iteration, its snapshot folder
 * ({@link EnsembleSpectra#writeSnapshot}) with the values of its IterationMetrics as the frame carried them (a run
 * with a non-finite loss gets its folder without a spectrum, as on the per-run engine).
 *
 * <p>What differs from the per-run engine, besides the wall-clock fields (timestamps, probeSeconds): the order on
 * the topics (the block's frame of t, then its runs' SpectrumSnapshots of t, where the per-run engine alternates
 * IterationMetrics and SpectrumSnapshot run by run; each SpectrumSnapshot is keyed by its run id on both), and a
 * snapshot folder that cannot be written ends every unfinished run of the block FAILED (a failure inside the
 * block), where the per-run engine ends that run only.
 */
final class EnsembleSnapshots {

    private EnsembleSnapshots() {}

    /** Publishes the spectra and writes the folders of iteration t; the arrays are the frame's (element r: run r). */
    static void publish(int t, TrainerSettings settings, RunRecords records, TelemetrySink sink,
                        EnsembleCurvature curvature, boolean[] finished, String[] runIds, double[] stepSizes, double[] loss,
                        double[] accuracy, double[] minibatchLoss, double[] sgNorm, double[] sgCosPrev,
                        boolean[] sgCosMissing, double[] testLoss, double[] testAccuracy, double[] paramDistance,
                        EnsembleCurvature.Columns moments, java.util.function.IntFunction<String> frameKeys) {
        boolean folders = settings.curvature().snapshotAt(t);
        for (int r = 0; r < runIds.length; r++) {
            if (finished[r]) {
                continue;
            }
            SpectrumSnapshot spectrum = curvature.snapshot(r);
            if (spectrum != null) {
                spectrum.setFrameKey(frameKeys.apply(r));             // so the streams apps meet it with its frames
                sink.spectrum(spectrum);
            }
            if (folders) {
                IterationMetrics metrics = records.iteration(runIds[r], t, loss[r], accuracy[r], minibatchLoss[r], stepSizes[r],
                        sgNorm[r], value(sgCosPrev, sgCosMissing, r), value(testLoss, null, r),
                        value(testAccuracy, null, r), paramDistance[r], measured(moments, r));
                curvature.spectra().writeSnapshot(t, r, metrics, spectrum);
            }
        }
    }

    /** Run r's moments and L as the per-run engine's record carries them (none where it was not probed). */
    private static RunCurvature.Measured measured(EnsembleCurvature.Columns columns, int r) {
        if (columns == null || columns.missing()[r]) {
            return RunCurvature.Measured.NOTHING;
        }
        GradientMoments moments = new GradientMoments(columns.gradNormSq()[r], columns.traceM()[r],
                columns.traceSigma()[r], columns.sigmaFrobenius()[r], columns.sigmaSpectral()[r],
                columns.sigmaHalfMuNorm()[r]);                                               // Eq. 4-7
        double l = columns.hessianSpectralNorm()[r];                                         // Eq. 6
        return new RunCurvature.Measured(moments, l, columns.probeSeconds()[r], null, l, null, null);
    }

    private static Double value(double[] column, boolean[] missing, int r) {
        return column == null || missing != null && missing[r] ? null : column[r];
    }
}
