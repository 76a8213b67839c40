package io.sgdscope.client;

/**
 * Where a run is computed and which part of a sharded experiment it is: the fields of its RunStarted that a
 * {@link RunDescription} does not hold ({@code device, host, shardIndex, shardCount}).
 *
 * @param device     the device that computes (e.g. the CPU model), or null when unknown
 * @param host       the host name, or null when unknown
 * @param shardIndex i of a sharded experiment's shard i/N, or null when the experiment is not sharded
 * @param shardCount N of a sharded experiment's shard i/N, or null when the experiment is not sharded
 */
public record RunPlacement(String device, String host, Integer shardIndex, Integer shardCount) {

    /** @throws IllegalArgumentException when only one of shard index and count is given */
    public RunPlacement {
        if ((shardIndex == null) != (shardCount == null)) {
            throw new IllegalArgumentException("give both the shard index and the shard count, or neither");
        }
    }
}
