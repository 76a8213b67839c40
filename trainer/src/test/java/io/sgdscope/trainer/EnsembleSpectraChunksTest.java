package io.sgdscope.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sgdscope.schemas.SpectrumSnapshot;
import io.sgdscope.trainer.curvature.CurvatureSettings;
import io.sgdscope.trainer.data.Dataset;
import io.sgdscope.trainer.data.GaussK;
import io.sgdscope.trainer.data.GaussKSettings;
import io.sgdscope.trainer.model.BatchedCurvature;
import io.sgdscope.trainer.model.BatchedMlp;
import io.sgdscope.trainer.model.Initialization;
import io.sgdscope.trainer.model.MlpArchitecture;
import io.sgdscope.trainer.model.Precision;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A block's spectra are computed by a lockstep Lanczos over chunks of at most {@link EnsembleSpectra#LANCZOS_CHUNK}
 * runs (the chunks bound the heap the Lanczos bases take). Chunking must not change any run's spectra: each run's
 * Lanczos is its own, whichever runs share its lockstep. Here a block of 5 runs (one of them not probed) in chunks
 * of 2 (three chunks, the last of one run) against one chunk of all, at a cold first snapshot and a warm second
 * one: every field of every SpectrumSnapshot but its time, L and the next L's start are equal. Float64.
 */
class EnsembleSpectraChunksTest {

    private static final MlpArchitecture GAUSS_10 = MlpArchitecture.of(50, 10, 30, 10);
    private static final int RUNS = 5;

    @Test
    void chunksOfTheBlockGiveEveryRunTheSpectraOfOneLockstepOverAllItsRuns() {
        Dataset data = GaussK.generate(new GaussKSettings(60, 50, 10, 0.0, 7L, true));
        TrainerSettings settings = TrainerSettings.builder().runs(RUNS).iterations(40)
                .curvature(CurvatureSettings.off().withSpectrumEvery(20).withTopK(3)).engine(Engine.ENSEMBLE).build();
        BatchedMlp model = new BatchedMlp(GAUSS_10, Precision.FLOAT64, RUNS);
        long[] seeds = new long[RUNS];
        String[] ids = new String[RUNS];
        for (int r = 0; r < RUNS; r++) {
            seeds[r] = 500 + r;
            ids[r] = Experiment.runId("chunks", r);
            model.setParameters(r, Initialization.HE_NORMAL.draw(GAUSS_10, new SplittableRandom(seeds[r]).split()));
        }
        EnsembleSpectra whole = new EnsembleSpectra(settings, model, data, ids, seeds, model.copyOfParameters());
        EnsembleSpectra chunked = new EnsembleSpectra(settings, model, data, ids, seeds, model.copyOfParameters());
        boolean[] probe = {true, true, false, true, true};                   // run 2 has ended
        int compared = 0;
        for (int t : new int[] {0, 20}) {                                   // cold, then warm from t = 0's pairs
            if (t > 0) {                                                    // theta moves between the snapshots
                for (int r = 0; r < RUNS; r++) {
                    double[] theta = model.parametersAsDoubles(r);
                    for (int i = 0; i < theta.length; i += 7) {
                        theta[i] *= 1.01;
                    }
                    model.setParameters(r, theta);
                }
            }
            BatchedCurvature curvature = new BatchedCurvature(model, data);
            curvature.freeze();
            String[] wholeFailures = new String[RUNS];
            String[] chunkFailures = new String[RUNS];
            EnsembleSpectra.Measured[] a = whole.measureAll(t, probe, new int[RUNS], curvature, wholeFailures,
                    EnsembleSpectra.LANCZOS_CHUNK);
            EnsembleSpectra.Measured[] b = chunked.measureAll(t, probe, new int[RUNS], curvature, chunkFailures, 2);
            assertArrayEquals(wholeFailures, chunkFailures, "t = " + t + ": no run failed in either");
            for (int r = 0; r < RUNS; r++) {
                String at = ids[r] + " t = " + t;
                if (!probe[r]) {
                    assertNull(a[r], at);
                    assertNull(b[r], at);
                    continue;
                }
                assertNotNull(a[r], at);
                assertNotNull(b[r], at);
                assertEquals(timeless(a[r].record()), timeless(b[r].record()), at + ": the SpectrumSnapshot");
                assertEquals(a[r].spectralNorm(), b[r].spectralNorm(), 0.0, at + ": L");
                assertArrayEquals(a[r].warmStart(), b[r].warmStart(), 0.0, at + ": the next L's start");
                compared++;
            }
        }
        assertEquals(8, compared, "4 probed runs x 2 snapshots");
    }

    /** The snapshot without its clock fields (timestampMillis, probeSeconds), which differ between two calls. */
    private static SpectrumSnapshot timeless(SpectrumSnapshot s) {
        return SpectrumSnapshot.newBuilder(s).setTimestampMillis(0).setProbeSeconds(0.0).build();
    }
}
