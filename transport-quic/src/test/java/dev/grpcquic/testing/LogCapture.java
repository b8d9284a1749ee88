package dev.grpcquic.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Collects what a java.util.logging logger (and the loggers below it) records at {@code level} or
 * above, until closed; the logger's level is restored then.
 */
public final class LogCapture implements AutoCloseable {
  private final Logger logger; // held: JUL keeps loggers only weakly
  private final Level before;
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final SimpleFormatter formatter = new SimpleFormatter();
  private final Handler handler = new Handler() {
    @Override
    public void publish(LogRecord record) {
      records.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  public LogCapture(String loggerName, Level level) {
    logger = Logger.getLogger(loggerName);
    before = logger.getLevel();
    logger.setLevel(level);
    logger.addHandler(handler);
  }

  public List<LogRecord> records() {
    return List.copyOf(records);
  }

  /** Each record as one formatted line (message with its parameters, and any exception). */
  public List<String> lines() {
    return records.stream().map(formatter::format).toList();
  }

  @Override
  public void close() {
    logger.removeHandler(handler);
    logger.setLevel(before);
  }
}
