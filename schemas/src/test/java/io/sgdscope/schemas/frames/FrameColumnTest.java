package io.sgdscope.schemas.frames;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgdscope.schemas.IterationFrame;
import io.sgdscope.schemas.IterationMetrics;
import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class FrameColumnTest {

    private static final List<String> FRAME_HEADER = List.of("experimentId", "iteration", "timestampMillis", "runIds");

    @Test
    void theColumnsAreTheScalarsOfIterationMetricsInTheFramesSchemaOrder() {
        List<String> frameColumns = IterationFrame.getClassSchema().getFields().stream().map(Schema.Field::name)
                .filter(name -> !FRAME_HEADER.contains(name)).toList();
        List<String> perRunScalars = IterationMetrics.getClassSchema().getFields().stream().map(Schema.Field::name)
                .filter(name -> !List.of("runId", "experimentId", "iteration", "timestampMillis").contains(name)).toList();

        assertEquals(perRunScalars, frameColumns, "one column per scalar of IterationMetrics, under the same name");
        assertEquals(frameColumns, FrameColumn.all().stream().map(FrameColumn::field).toList());
    }

    @Test
    void eachColumnsKindMatchesItsSchemaType() {
        for (FrameColumn column : FrameColumn.all()) {
            Schema perRun = IterationMetrics.getClassSchema().getField(column.field()).schema();
            Schema frame = IterationFrame.getClassSchema().getField(column.field()).schema();
            switch (column.kind()) {
                case REQUIRED -> {
                    assertEquals(Schema.Type.DOUBLE, perRun.getType(), column.field());
                    assertEquals(Schema.Type.DOUBLE, frame.getElementType().getType(), column.field());
                }
                case REQUIRED_INT -> {
                    assertEquals(Schema.Type.INT, perRun.getType(), column.field());
                    assertEquals(Schema.Type.INT, frame.getElementType().getType(), column.field());
                }
                case OPTIONAL -> {
                    assertEquals(Schema.Type.UNION, perRun.getType(), column.field());
                    assertEquals(Schema.Type.UNION, frame.getType(), column.field());
                    assertEquals(Schema.Type.UNION, frame.getTypes().get(1).getElementType().getType(), column.field());
                }
            }
        }
    }

    @Test
    void aFrameRefusesColumnsOfTheWrongLengthAndMissingRequiredColumns() {
        Frame.Builder builder = Frame.builder("e", 0, 0L, new String[] {"e-r1", "e-r2"});
        assertThrows(IllegalArgumentException.class, () -> builder.column(FrameColumn.LOSS, new double[1]));
        assertThrows(IllegalArgumentException.class,
                () -> builder.column(FrameColumn.LOSS, new double[2], new boolean[] {true, false}), "required values cannot be missing");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, builder::build);
        assertEquals("column loss is required in a frame", missing.getMessage());
    }

    @Test
    void aFrameHoldsOneExperimentAtOneIteration() {
        IterationMetrics a = IterationMetrics.newBuilder().setRunId("e-r1").setExperimentId("e").setIteration(1).setTimestampMillis(0L)
                .setLoss(1).setMinibatchLoss(1).setStepSize(0.1).setBatchSize(5).setSgNorm(1).build();
        IterationMetrics b = IterationMetrics.newBuilder(a).setRunId("e-r2").setIteration(2).build();
        assertThrows(IllegalArgumentException.class, () -> Frame.of(List.of(a, b)));
    }
}
