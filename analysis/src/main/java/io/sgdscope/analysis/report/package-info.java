/**
 * The HTML report: one self-contained file (inline SVG, no script, nothing fetched) with the paper's
 * figures drawn from an experiment's records (Fig. 1, 2, 8-11) and its alerts, with exact statistics
 * across runs. Depends on {@code io.sgdscope.analysis} (the topic reader), {@code io.sgdscope.schemas}
 * with its serde, Avro and JFreeChart/JFreeSVG.
 */
package io.sgdscope.analysis.report;
