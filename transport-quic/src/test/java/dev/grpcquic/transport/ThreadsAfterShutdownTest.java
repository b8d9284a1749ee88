package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.testing.TestEngine;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server and a channel that made a call leave no non-daemon thread once both awaitTermination()s
 * returned true, and every thread they start is named: "grpc-quic-..." for the library's own,
 * grpc-java's for grpc-java's, and kwik's fixed names for the threads kwik starts and names itself
 * (it takes no thread factory for them; README "Threads").
 */
@Timeout(60)
class ThreadsAfterShutdownTest {
  /** Names of threads kwik and agent15 create with fixed names (no factory to pass). */
  private static final Pattern KWIK = Pattern.compile("receiver|sender|receiver-loop"
      + "|receiver-[0-9a-f]+|sender-[0-9a-f]+|callbacks-[0-9a-f]*-\\d+|idle-timer-\\d+"
      + "|loss-detection-\\d+|server receive loop|server connector shared executor-\\d+"
      + "|datagram-frame-handler-\\d+|scheduler[0-9a-f]*-\\d+");
  private static final Pattern GRPC_JAVA = Pattern.compile("grpc-default-executor-\\d+"
      + "|grpc-timer-\\d+|grpc-shared-destroyer-\\d+");

  @Test
  void nothingNonDaemonSurvivesAndEveryThreadIsNamed() throws Exception {
    Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
    TestTls tls = TestTls.get();
    TestService service = new TestService();
    Server server = QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .engine(TestEngine.get())
        .keyStore(tls.serverKeyStore(), tls.keyAlias(), tls.keyPassword())
        .addService(service.definition())
        .build().start();
    int port = ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    ManagedChannel channel = QuicChannelBuilder.forAddress("127.0.0.1", port)
        .engine(TestEngine.get())
        .overrideAuthority("localhost")
        .trustManager(tls.trustManager())
        .keepAliveTime(10, TimeUnit.SECONDS)
        .build();
    byte[] request = new byte[100_000];
    assertArrayEquals(request, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        CallOptions.DEFAULT, request));
    Set<Thread> started = new HashSet<>(Thread.getAllStackTraces().keySet());
    started.removeAll(before);

    channel.shutdown();
    server.shutdown();
    assertTrue(channel.awaitTermination(20, TimeUnit.SECONDS));
    assertTrue(server.awaitTermination(20, TimeUnit.SECONDS));

    Set<Thread> after = new HashSet<>(Thread.getAllStackTraces().keySet());
    after.removeAll(before);
    started.addAll(after);
    List<String> nonDaemon = after.stream().filter(t -> t.isAlive() && !t.isDaemon())
        .map(Thread::getName).sorted().toList();
    assertTrue(nonDaemon.isEmpty(), "non-daemon threads alive after shutdown: " + nonDaemon);

    if (!TestEngine.isKwik()) {
      return; // names: the kwik engine's list below; another engine's threads are its own
    }
    Set<String> unnamed = started.stream()
        .filter(t -> !t.getName().startsWith("grpc-quic-") && !KWIK.matcher(t.getName()).matches()
            && !GRPC_JAVA.matcher(t.getName()).matches())
        .map(t -> t.getName() + " " + List.of(t.getStackTrace()))
        .collect(Collectors.toCollection(java.util.TreeSet::new));
    assertTrue(unnamed.isEmpty(), "threads without the library's name: " + unnamed);
  }
}
