package io.sgdscope.cli;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

/** Log levels of the command: quiet libraries by default (log4j2.xml), everything useful with --verbose. */
final class Logging {

    private Logging() {}

    static void verbose() {
        Configurator.setRootLevel(Level.INFO);
        Configurator.setLevel("io.sgdscope", Level.DEBUG);
        Configurator.setLevel("org.apache.kafka", Level.WARN);
        Configurator.setLevel("kafka", Level.WARN);
        Configurator.setLevel("state.change.logger", Level.WARN);
        Configurator.setLevel("org.nd4j", Level.INFO);
    }
}
