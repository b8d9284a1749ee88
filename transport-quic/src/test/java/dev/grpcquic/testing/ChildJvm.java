package dev.grpcquic.testing;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A main class of the test class path run in a child JVM, for faults a thread cannot fake: a
 * process killed with SIGKILL sends nothing more, not even a CONNECTION_CLOSE.
 */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final CompletableFuture<String> ready = new CompletableFuture<>();

  /** Starts {@code main} with {@code args}; it prints a line starting "READY" when it is. */
  public ChildJvm(Class<?> main, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(List.of(args));
    process = new ProcessBuilder(command).redirectErrorStream(true).start();
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null) {
          System.err.println("[child " + main.getSimpleName() + "] " + line);
          if (line.startsWith("READY")) {
            ready.complete(line.substring("READY".length()).trim());
          }
        }
      } catch (IOException e) {
        // the child is gone
      }
      ready.completeExceptionally(new IOException(main.getSimpleName() + " ended before READY"));
    }, "child-jvm-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** What the child printed after READY, waiting at most {@code seconds}. */
  public String awaitReady(long seconds) throws Exception {
    return ready.get(seconds, TimeUnit.SECONDS);
  }

  /** SIGKILL: no shutdown hook, no packet after this. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
