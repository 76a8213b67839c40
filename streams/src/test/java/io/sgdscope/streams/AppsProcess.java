package io.sgdscope.streams;

import io.sgdscope.streams.deviation.DeviationSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Both apps in a process of their own, for the fail-over test to kill: {@code AppsProcess <bootstrap>
 * <state dir> <commit ms>}. Prints "METRICS <port>" once serving and "RUNNING" once both apps run, then
 * runs until the process ends.
 */
public final class AppsProcess {

    private AppsProcess() {}

    public static void main(String[] args) throws Exception {
        StreamsSettings settings = ExactlyOnceFailoverIT.settings(args[0], Path.of(args[1]))
                .withCommitInterval(Duration.ofMillis(Long.parseLong(args[2])));
        StreamsApps apps = StreamsApps.start(settings, ExactlyOnceFailoverIT.QUANTILES, DeviationSettings.defaults());
        System.out.println("METRICS " + apps.metricsPort());
        System.out.flush();
        if (apps.awaitRunning(Duration.ofSeconds(60))) {
            System.out.println("RUNNING");
            System.out.flush();
        }
        Thread.sleep(Long.MAX_VALUE);
    }

    static Map<String, String> fastFailover() {
        // Notice a dead member after 6 s (the broker's minimum), abort its open transaction after 5 s.
        return Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "1000", "transaction.timeout.ms", "5000");
    }
}
