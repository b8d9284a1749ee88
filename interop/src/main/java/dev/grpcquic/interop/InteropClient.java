package dev.grpcquic.interop;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;
import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.testing.integration.AbstractInteropTest;
import io.grpc.testing.integration.TestCases;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The interop client: runs the standard cross-language cases of grpc-java's official suite (the
 * test methods of {@link AbstractInteropTest}, unchanged) against a TestService server over QUIC
 * or Netty TLS. Prints one line per case and {@code N passed, M failed}; exits 1 on any failure,
 * 2 on a bad command line.
 *
 * <pre>
 * --server_host=HOST            default 127.0.0.1
 * --server_port=N               required
 * --transport=quic|netty_tls    default quic
 * --engine=kwik|quiche          the QUIC engine (default kwik)
 * --test_case=NAME|all          default all
 * --ca_file=PEM                 trust these CAs (default: the JDK's trust store)
 * --server_host_override=NAME   the name the certificate must carry (and :authority); default
 *                               localhost, the dev certificate's name. kwik checks DNS names only,
 *                               so dialing an IP address over QUIC needs this.
 * --insecure                    do not verify the server certificate (tests only)
 * </pre>
 */
public final class InteropClient {
  /** The standard cases this client runs, in the order {@code all} runs them. */
  public static final List<TestCases> CASES = List.of(
      TestCases.EMPTY_UNARY,
      TestCases.LARGE_UNARY,
      TestCases.CLIENT_STREAMING,
      TestCases.SERVER_STREAMING,
      TestCases.PING_PONG,
      TestCases.EMPTY_STREAM,
      TestCases.CUSTOM_METADATA,
      TestCases.STATUS_CODE_AND_MESSAGE,
      TestCases.SPECIAL_STATUS_MESSAGE,
      TestCases.UNIMPLEMENTED_METHOD,
      TestCases.UNIMPLEMENTED_SERVICE,
      TestCases.CANCEL_AFTER_BEGIN,
      TestCases.CANCEL_AFTER_FIRST_RESPONSE,
      TestCases.TIMEOUT_ON_SLEEPING_SERVER,
      TestCases.VERY_LARGE_REQUEST);

  /** No case may take longer than this (the suite's own JUnit rule allows 90 s). */
  private static final long CASE_TIMEOUT_SECONDS = 60;

  private InteropClient() {}

  /** The outcome of a run. */
  public record Result(int passed, int failed) {}

  public static void main(String[] args) throws Exception {
    Result result;
    try {
      result = run(System.out, args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(result.failed() == 0 ? 0 : 1);
  }

  /** Runs the cases {@code args} name, reporting to {@code out}. */
  public static Result run(PrintStream out, String... args) throws InterruptedException {
    Map<String, String> options = Flags.parse(args, "server_host", "server_port", "transport",
        "test_case", "ca_file", "server_host_override", "insecure", "engine");
    if (!options.containsKey("server_port")) {
      throw new IllegalArgumentException("--server_port is required");
    }
    ChannelConfig config = new ChannelConfig(
        options.getOrDefault("transport", "quic"),
        options.getOrDefault("server_host", "127.0.0.1"),
        Integer.parseInt(options.get("server_port")),
        options.get("ca_file"),
        options.getOrDefault("server_host_override", "localhost"),
        Boolean.parseBoolean(options.getOrDefault("insecure", "false")),
        QuicEngines.named(options.getOrDefault("engine", "kwik")));
    if (!config.transport.equals("quic") && !config.transport.equals("netty_tls")) {
      throw new IllegalArgumentException(
          "--transport must be quic or netty_tls, not " + config.transport);
    }
    List<TestCases> cases = selectCases(options.getOrDefault("test_case", "all"));

    int passed = 0;
    int failed = 0;
    ExecutorService runner = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "interop-case");
      t.setDaemon(true);
      return t;
    });
    try {
      for (TestCases testCase : cases) {
        long start = System.nanoTime();
        String error = runCase(runner, config, testCase);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (error == null) {
          passed++;
          out.printf("PASS  %-28s %6d ms%n", testCase, millis);
        } else {
          failed++;
          out.printf("FAIL  %-28s %6d ms  %s%n", testCase, millis, error);
        }
        out.flush();
      }
    } finally {
      runner.shutdownNow();
    }
    out.println(passed + " passed, " + failed + " failed");
    out.flush();
    return new Result(passed, failed);
  }

  private static List<TestCases> selectCases(String name) {
    if (name.equals("all")) {
      return CASES;
    }
    TestCases testCase;
    try {
      testCase = TestCases.fromString(name);
    } catch (IllegalArgumentException e) {
      testCase = null;
    }
    if (testCase == null || !CASES.contains(testCase)) {
      List<String> names = new ArrayList<>();
      CASES.forEach(c -> names.add(c.toString()));
      throw new IllegalArgumentException(
          "--test_case must be all or one of " + names + ", not " + name);
    }
    return List.of(testCase);
  }

  /** One case on a fresh channel (and fresh tracer state); null when it passed, else why not. */
  private static String runCase(ExecutorService runner, ChannelConfig config, TestCases testCase)
      throws InterruptedException {
    Tester tester = new Tester(config);
    Future<?> run = runner.submit(() -> {
      tester.setUp();
      try {
        invoke(tester, testCase);
      } finally {
        tester.tearDown();
      }
      return null;
    });
    try {
      run.get(CASE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      return cause.getClass().getSimpleName()
          + (cause.getMessage() == null ? "" : ": " + firstLine(cause.getMessage()));
    } catch (TimeoutException e) {
      run.cancel(true);
      return "timed out after " + CASE_TIMEOUT_SECONDS + " s";
    }
  }

  private static String firstLine(String text) {
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }

  private static void invoke(Tester tester, TestCases testCase) throws Exception {
    switch (testCase) {
      case EMPTY_UNARY -> tester.emptyUnary();
      case LARGE_UNARY -> tester.largeUnary();
      case CLIENT_STREAMING -> tester.clientStreaming();
      case SERVER_STREAMING -> tester.serverStreaming();
      case PING_PONG -> tester.pingPong();
      case EMPTY_STREAM -> tester.emptyStream();
      case CUSTOM_METADATA -> tester.customMetadata();
      case STATUS_CODE_AND_MESSAGE -> tester.statusCodeAndMessage();
      case SPECIAL_STATUS_MESSAGE -> tester.specialStatusMessage();
      case UNIMPLEMENTED_METHOD -> tester.unimplementedMethod();
      case UNIMPLEMENTED_SERVICE -> tester.unimplementedService();
      case CANCEL_AFTER_BEGIN -> tester.cancelAfterBegin();
      case CANCEL_AFTER_FIRST_RESPONSE -> tester.cancelAfterFirstResponse();
      case TIMEOUT_ON_SLEEPING_SERVER -> tester.timeoutOnSleepingServer();
      case VERY_LARGE_REQUEST -> tester.veryLargeRequest();
      default -> throw new IllegalArgumentException("not supported: " + testCase);
    }
  }

  private record ChannelConfig(String transport, String host, int port, String caFile,
      String hostOverride, boolean insecure, QuicEngine engine) {}

  /** The suite's test methods against a remote server (no in-process server, no census). */
  private static final class Tester extends AbstractInteropTest {
    private final ChannelConfig config;

    Tester(ChannelConfig config) {
      this.config = config;
    }

    @Override
    protected ManagedChannelBuilder<?> createChannelBuilder() {
      try {
        return config.transport.equals("quic") ? quic() : netty();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private ManagedChannelBuilder<?> quic() throws IOException {
      QuicChannelBuilder builder = QuicChannelBuilder.forAddress(config.host, config.port)
          .engine(config.engine)
          .maxInboundMessageSize(MAX_MESSAGE_SIZE);
      if (!config.hostOverride.isEmpty()) {
        builder.overrideAuthority(config.hostOverride);
      }
      if (config.insecure) {
        builder.insecureSkipCertificateVerification();
      } else if (config.caFile != null) {
        builder.trustCertificates(new File(config.caFile));
      }
      return builder;
    }

    private ManagedChannelBuilder<?> netty() throws IOException {
      SslContextBuilder ssl = GrpcSslContexts.forClient();
      if (config.insecure) {
        ssl.trustManager(InsecureTrustManagerFactory.INSTANCE);
      } else if (config.caFile != null) {
        ssl.trustManager(new File(config.caFile));
      }
      NettyChannelBuilder builder = NettyChannelBuilder.forAddress(config.host, config.port)
          .sslContext(ssl.build())
          .maxInboundMessageSize(MAX_MESSAGE_SIZE);
      if (!config.hostOverride.isEmpty()) {
        builder.overrideAuthority(config.hostOverride);
      }
      return builder;
    }

    @Override
    protected boolean metricsExpected() {
      return false;
    }
  }
}
