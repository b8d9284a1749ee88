package dev.grpcquic.fallback;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import dev.grpcquic.transport.TransportKeys;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ChannelLogger;
import io.grpc.ClientStreamTracer;
import io.grpc.InternalChannelz.SocketOptions;
import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalLogId;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.internal.ClientStream;
import io.grpc.internal.ClientStreamListener.RpcProgress;
import io.grpc.internal.ClientTransportFactory.ClientTransportOptions;
import io.grpc.internal.ConnectionClientTransport;
import io.grpc.internal.DisconnectError;
import io.grpc.internal.FailingClientStream;
import io.grpc.internal.SimpleDisconnectError;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.annotation.concurrent.GuardedBy;

/**
 * One connection of a "QUIC preferred" channel, as grpc-core sees it: QUIC and TCP + TLS race
 * underneath, and the first transport that is ready carries every call; the loser is closed.
 *
 * <ul>
 *   <li>QUIC starts first, unless the endpoint is marked broken ({@link BrokenQuicMarks}): then
 *       TCP alone.
 *   <li>TCP starts when QUIC is not ready after the race delay, or at once when QUIC fails.
 *   <li>When TCP won, the QUIC handshake goes on: its failure marks QUIC broken; if it completes,
 *       new calls go to it and TCP is closed once its calls in flight have finished. When the
 *       server advertises HTTP/3 ({@code alt-svc}) while TCP carries the calls, a QUIC connection
 *       is tried beside it (at once, or when the endpoint's broken mark expires), with the same
 *       outcome.
 * </ul>
 *
 * <p>Lock: {@link #lock} guards the attempts and the lifecycle. Nothing is called on another
 * transport, a listener or a timer while it is held.
 */
final class RacingClientTransport implements ConnectionClientTransport {
  private static final Logger log = Logger.getLogger(RacingClientTransport.class.getName());

  private final QuicPreferredTransportFactory factory;
  private final InetSocketAddress address;
  private final ClientTransportOptions options;
  private final ChannelLogger channelLogger;
  private final String authority;
  private final InternalLogId logId;
  private final Object lock = new Object();

  @GuardedBy("lock") private Listener listener;
  /** The race's QUIC attempt (null when QUIC was marked broken). */
  @GuardedBy("lock") private Attempt quic;
  @GuardedBy("lock") private Attempt tcp;
  /** A QUIC connection made only to learn whether QUIC works again, while TCP carries calls. */
  @GuardedBy("lock") private Attempt probe;
  @GuardedBy("lock") private ScheduledFuture<?> tcpTimer;
  @GuardedBy("lock") private ScheduledFuture<?> probeTimer;
  /** Whether the QUIC port is refused, asked beside the first QUIC attempt (null: not asked). */
  @GuardedBy("lock") private UdpPortCheck portCheck;
  @GuardedBy("lock") private boolean shutdownRequested;
  @GuardedBy("lock") private boolean shutdownReported;
  @GuardedBy("lock") private boolean terminatedReported;
  /** Attempts started and not yet terminated. */
  @GuardedBy("lock") private int live;
  @GuardedBy("lock") private final List<String> failures = new ArrayList<>();
  /** The attempt that takes new calls. */
  private volatile Attempt winner;
  /** Whether grpc-core was last told that some call is in flight (on any attempt). */
  @GuardedBy("lock") private boolean reportedInUse;
  private final io.grpc.SynchronizationContext listenerCalls = new io.grpc.SynchronizationContext(
      (thread, error) -> log.log(Level.WARNING, "transport listener failed", error));

  RacingClientTransport(QuicPreferredTransportFactory factory, InetSocketAddress address,
      ClientTransportOptions options, ChannelLogger channelLogger) {
    this.factory = factory;
    this.address = address;
    this.options = options;
    this.channelLogger = channelLogger;
    this.authority = options.getAuthority();
    this.logId = InternalLogId.allocate(getClass(), address.toString());
  }

  /** Where QUIC is tried: the advertised HTTP/3 port, or the TCP port's number. */
  private InetSocketAddress quicAddress() {
    AltSvc.H3 h3 = factory.altSvc().get(authority);
    return h3 == null ? address : new InetSocketAddress(address.getAddress(), h3.port());
  }

  private String markKey(InetSocketAddress quicAddress) {
    return BrokenQuicMarks.key(authority, quicAddress.getPort());
  }

  @Override
  public Runnable start(Listener transportListener) {
    InetSocketAddress quicAddress = quicAddress();
    Duration broken = factory.marks().remaining(markKey(quicAddress));
    Attempt first;
    synchronized (lock) {
      listener = transportListener;
      if (broken.isZero()) {
        quic = newAttempt(WireProtocol.H3, quicAddress, false);
        first = quic;
        tcpTimer = factory.timer().schedule(this::raceDelayPassed,
            factory.settings().raceDelay().toNanos(), TimeUnit.NANOSECONDS);
        portCheck = UdpPortCheck.start(quicAddress, factory.settings().raceDelay(),
            this::quicPortRefused);
      } else {
        tcp = newAttempt(WireProtocol.H2, address, false);
        first = tcp;
      }
    }
    if (!broken.isZero()) {
      log.log(Level.FINE, "{0}: QUIC to {1} marked broken for {2} more: TCP only",
          new Object[] {logId, quicAddress, broken});
    }
    return () -> first.start();
  }

  @GuardedBy("lock")
  private Attempt newAttempt(WireProtocol protocol, InetSocketAddress to, boolean isProbe) {
    ConnectionClientTransport transport = (protocol == WireProtocol.H3 ? factory.quic()
        : factory.tcp()).newClientTransport(to, options, channelLogger);
    live++;
    return new Attempt(protocol, to, transport, isProbe);
  }

  private void raceDelayPassed() {
    Attempt started;
    synchronized (lock) {
      started = startTcpLocked();
    }
    if (started != null) {
      log.log(Level.FINE, "{0}: QUIC not ready after {1}: starting TCP beside it",
          new Object[] {logId, factory.settings().raceDelay()});
      started.start();
    }
  }

  /**
   * The network said no one listens on the QUIC port (ICMP port unreachable), typically before
   * the QUIC attempt's own first datagram left: TCP starts now. The QUIC attempt fails by itself
   * a moment later, on the same error, and marks QUIC broken.
   */
  private void quicPortRefused() {
    Attempt started;
    synchronized (lock) {
      started = startTcpLocked();
    }
    if (started != null) {
      log.log(Level.FINE, "{0}: nothing listens on UDP {1}: starting TCP", new Object[] {logId,
          quicAddress()});
      started.start();
    }
  }

  /** The TCP attempt to start, or null when it exists or is no longer wanted. */
  @GuardedBy("lock")
  private Attempt startTcpLocked() {
    if (tcp != null || winner != null || shutdownRequested) {
      return null;
    }
    if (tcpTimer != null) {
      tcpTimer.cancel(false);
      tcpTimer = null;
    }
    stopPortCheckLocked();
    tcp = newAttempt(WireProtocol.H2, address, false);
    return tcp;
  }

  private void onReady(Attempt attempt) {
    Listener report = null;
    Attempt toClose = null;
    Attempt retiring = null;
    synchronized (lock) {
      attempt.ready = true;
      if (attempt.protocol == WireProtocol.H3) {
        factory.marks().confirm(markKey(attempt.to));
      }
      if (shutdownRequested || shutdownReported) {
        return; // every attempt has been, or is being, closed
      }
      Attempt w = winner;
      if (w == null) {
        winner = attempt;
        report = listener;
        if (tcpTimer != null) {
          tcpTimer.cancel(false);
          tcpTimer = null;
        }
        stopPortCheckLocked();
        if (attempt.protocol == WireProtocol.H3 && tcp != null && !tcp.down) {
          toClose = tcp; // TCP lost the race; a QUIC loser keeps going (see above)
        }
      } else if (attempt != w && attempt.protocol == WireProtocol.H3
          && w.protocol == WireProtocol.H2) {
        // A late QUIC handshake or a probe: QUIC works. New calls go to it from now on; those
        // on TCP finish there.
        winner = attempt;
        retiring = w;
      } else if (attempt != w) {
        toClose = attempt;
      }
    }
    if (report != null) {
      log.log(Level.FINE, "{0}: {1} to {2} won the race", new Object[] {logId,
          attempt.protocol.alpn, attempt.to});
      report.transportReady();
    }
    if (toClose != null) {
      toClose.abandon(Status.UNAVAILABLE.withDescription("not needed: "
          + winner.protocol.alpn + " carries the calls"));
    }
    if (retiring != null) {
      Status status = Status.UNAVAILABLE.withDescription(
          "QUIC works: new calls go over HTTP/3, calls in flight finish over HTTP/2");
      log.log(Level.FINE, "{0}: {1}", new Object[] {logId, status.getDescription()});
      channelLogger.log(ChannelLogger.ChannelLogLevel.INFO, "moving from HTTP/2 to HTTP/3 ({0})",
          attempt.to);
      retiring.transport.shutdown(status);
    }
  }

  private void onShutdown(Attempt attempt, Status status, DisconnectError error) {
    Listener report = null;
    Status reportStatus = status;
    Attempt startTcp = null;
    List<Attempt> toClose = new ArrayList<>();
    boolean probeAgain = false;
    synchronized (lock) {
      if (attempt.down) {
        return;
      }
      attempt.down = true;
      if (!attempt.ready && !attempt.abandoned && attempt.protocol == WireProtocol.H3
          && !shutdownRequested) {
        Duration span = factory.marks().markBroken(markKey(attempt.to));
        log.log(Level.FINE, "{0}: QUIC to {1} failed ({2}): marked broken for {3}",
            new Object[] {logId, attempt.to, brief(status), span});
      }
      if (attempt == winner) {
        if (!shutdownReported) {
          shutdownReported = true;
          report = listener;
        }
        addIfUp(toClose, quic);
        addIfUp(toClose, probe);
        cancelTimers();
      } else if (winner == null && !shutdownRequested) {
        failures.add(attempt.protocol.alpn + ": " + status);
        if (attempt.protocol == WireProtocol.H3) {
          startTcp = startTcpLocked(); // QUIC failed at once: no reason to wait
        }
        boolean quicDown = quic == null || quic.down;
        if (quicDown && tcp != null && tcp.down && !shutdownReported) {
          shutdownReported = true;
          report = listener;
          reportStatus = Status.UNAVAILABLE.withDescription(
              "neither QUIC nor TCP connected to " + address + ": " + String.join("; ", failures))
              .withCause(status.getCause());
        }
      } else if (attempt.protocol == WireProtocol.H3 && !attempt.ready && !attempt.abandoned) {
        if (attempt == probe) {
          probe = null;
        }
        probeAgain = true; // a QUIC attempt beside TCP failed: try again when the mark expires
      }
    }
    if (startTcp != null) {
      log.log(Level.FINE, "{0}: QUIC failed at once ({1}): starting TCP", new Object[] {logId,
          brief(status)});
      startTcp.start();
    }
    for (Attempt other : toClose) {
      other.abandon(status);
    }
    if (report != null) {
      report.transportShutdown(reportStatus, error);
    }
    if (probeAgain) {
      maybeProbe();
    }
  }

  private static String brief(Status status) {
    return status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription());
  }

  @GuardedBy("lock")
  private static void addIfUp(List<Attempt> list, Attempt attempt) {
    if (attempt != null && !attempt.down) {
      list.add(attempt);
    }
  }

  @GuardedBy("lock")
  private void cancelTimers() {
    if (tcpTimer != null) {
      tcpTimer.cancel(false);
      tcpTimer = null;
    }
    if (probeTimer != null) {
      probeTimer.cancel(false);
      probeTimer = null;
    }
    stopPortCheckLocked();
  }

  /** The port check has nothing left to decide once TCP started, a winner is known or all ends. */
  @GuardedBy("lock")
  private void stopPortCheckLocked() {
    if (portCheck != null) {
      portCheck.cancel();
      portCheck = null;
    }
  }

  private void onTerminated(Attempt attempt) {
    Listener report = null;
    synchronized (lock) {
      live--;
      if (live == 0 && shutdownReported && !terminatedReported) {
        terminatedReported = true;
        cancelTimers();
        report = listener;
      }
    }
    if (report != null) {
      log.log(Level.FINE, "{0}: terminated", logId);
      report.transportTerminated();
    }
  }

  /** An HTTP/2 response carried {@code alt-svc}. */
  void altSvcReceived(String value) {
    AltSvc.Advice advice = AltSvc.parse(value);
    if (advice instanceof AltSvc.Cleared) {
      factory.altSvc().clear(authority);
      return;
    }
    if (advice instanceof AltSvc.Offered offered) {
      factory.altSvc().put(authority, offered.h3());
      maybeProbe();
    }
  }

  /**
   * While TCP carries the calls and the server offers HTTP/3: try QUIC now, or when its broken
   * mark expires, unless a QUIC handshake is under way already.
   */
  private void maybeProbe() {
    Attempt started = null;
    InetSocketAddress to;
    synchronized (lock) {
      Attempt w = winner;
      if (w == null || w.protocol != WireProtocol.H2 || shutdownRequested || shutdownReported
          || probeTimer != null || (probe != null && !probe.down) || (quic != null && !quic.down)) {
        return;
      }
      AltSvc.H3 h3 = factory.altSvc().get(authority);
      if (h3 == null) {
        return;
      }
      to = new InetSocketAddress(address.getAddress(), h3.port());
      Duration wait = factory.marks().remaining(markKey(to));
      if (wait.isZero()) {
        probe = newAttempt(WireProtocol.H3, to, true);
        started = probe;
      } else {
        probeTimer = factory.timer().schedule(this::probeTimerFired, wait.toNanos(),
            TimeUnit.NANOSECONDS);
        log.log(Level.FINE, "{0}: HTTP/3 offered at {1}, marked broken: trying again in {2}",
            new Object[] {logId, to, wait});
      }
    }
    if (started != null) {
      log.log(Level.FINE, "{0}: HTTP/3 offered at {1}: trying QUIC beside TCP",
          new Object[] {logId, to});
      started.start();
    }
  }

  private void probeTimerFired() {
    synchronized (lock) {
      probeTimer = null;
    }
    maybeProbe();
  }

  @Override
  public ClientStream newStream(MethodDescriptor<?, ?> method, Metadata headers,
      CallOptions callOptions, ClientStreamTracer[] tracers) {
    Attempt w = winner;
    boolean down;
    synchronized (lock) {
      down = w == null || w.down || shutdownReported;
    }
    if (down) {
      // Never sent anywhere: grpc-core retries it on the transport that is ready.
      return new FailingClientStream(Status.UNAVAILABLE.withDescription(w == null
          ? "not connected yet" : "connection shutting down"), RpcProgress.MISCARRIED, tracers);
    }
    ClientStream stream = w.transport.newStream(method, headers, callOptions, tracers);
    if (log.isLoggable(Level.FINE)) {
      log.log(Level.FINE, "{0}: {1} goes over {2}", new Object[] {logId,
          method.getFullMethodName(), w.protocol.alpn});
    }
    return new ProtocolClientStream(stream, w.protocol,
        w.protocol == WireProtocol.H2 ? this::altSvcReceived : null);
  }

  @Override
  public void ping(PingCallback callback, Executor executor) {
    Attempt w = winner;
    if (w == null) {
      executor.execute(() -> callback.onFailure(
          Status.UNAVAILABLE.withDescription("not connected yet")));
      return;
    }
    w.transport.ping(callback, executor);
  }

  @Override
  public void shutdown(Status reason) {
    List<Attempt> all;
    Listener reportShutdown = null;
    Listener reportTerminated = null;
    Attempt w;
    synchronized (lock) {
      if (shutdownRequested) {
        return;
      }
      shutdownRequested = true;
      cancelTimers();
      if (!shutdownReported) {
        shutdownReported = true;
        reportShutdown = listener;
      }
      all = attempts();
      w = winner;
      if (live == 0 && !terminatedReported) {
        terminatedReported = true; // nothing left to wait for
        reportTerminated = listener;
      }
    }
    if (reportShutdown != null) {
      reportShutdown.transportShutdown(reason, SimpleDisconnectError.SUBCHANNEL_SHUTDOWN);
    }
    for (Attempt attempt : all) {
      if (attempt == w) {
        attempt.transport.shutdown(reason); // calls in flight finish
      } else {
        attempt.abandon(reason);
      }
    }
    if (reportTerminated != null) {
      reportTerminated.transportTerminated();
    }
  }

  @Override
  public void shutdownNow(Status reason) {
    shutdown(reason);
    List<Attempt> all;
    synchronized (lock) {
      all = attempts();
    }
    for (Attempt attempt : all) {
      attempt.abandon(reason); // shutdownNow for a started one
    }
  }

  @GuardedBy("lock")
  private List<Attempt> attempts() {
    List<Attempt> all = new ArrayList<>(3);
    if (quic != null) {
      all.add(quic);
    }
    if (tcp != null) {
      all.add(tcp);
    }
    if (probe != null) {
      all.add(probe);
    }
    return all;
  }

  @Override
  public Attributes getAttributes() {
    Attempt w = winner;
    if (w == null) {
      return Attributes.EMPTY;
    }
    return w.transport.getAttributes().toBuilder()
        .set(TransportKeys.TRANSPORT_PROTOCOL, w.protocol.alpn)
        .build();
  }

  /** The carrying transport's socket, with the protocol among the socket options. */
  @Override
  public ListenableFuture<SocketStats> getStats() {
    Attempt w = winner;
    if (w == null) {
      return Futures.immediateFuture(new SocketStats(null, null, address,
          withProtocol(null, "connecting"), null));
    }
    return Futures.transform(w.transport.getStats(), stats -> stats == null ? null
        : new SocketStats(stats.data, stats.local, stats.remote,
            withProtocol(stats.socketOptions, w.protocol.alpn), stats.security),
        MoreExecutors.directExecutor());
  }

  private static SocketOptions withProtocol(SocketOptions options, String protocol) {
    Map<String, String> others = new HashMap<>();
    if (options != null) {
      others.putAll(options.others);
    }
    others.put("grpc-quic.protocol", protocol);
    return options == null ? new SocketOptions(null, null, null, others)
        : new SocketOptions(options.soTimeoutMillis, options.lingerSeconds, options.tcpInfo, others);
  }

  @Override
  public InternalLogId getLogId() {
    return logId;
  }

  @Override
  public String toString() {
    Attempt w = winner;
    return "RacingClientTransport(" + address + ", " + (w == null ? "racing" : w.protocol.alpn)
        + ")";
  }

  /** One underlying connection attempt, and the listener of its transport. */
  private final class Attempt implements Listener {
    final WireProtocol protocol;
    final InetSocketAddress to;
    final ConnectionClientTransport transport;
    final boolean isProbe;
    @GuardedBy("lock") boolean ready;
    @GuardedBy("lock") boolean down;
    /** Closed by this transport, not failed: says nothing about the path. */
    @GuardedBy("lock") boolean abandoned;
    @GuardedBy("lock") boolean inUse;
    @GuardedBy("lock") boolean started;

    Attempt(WireProtocol protocol, InetSocketAddress to, ConnectionClientTransport transport,
        boolean isProbe) {
      this.protocol = protocol;
      this.to = to;
      this.transport = transport;
      this.isProbe = isProbe;
    }

    /** Starts the transport; never under the lock. */
    void start() {
      synchronized (lock) {
        if (abandoned) {
          return; // closed between its creation and here: it never existed for the transport
        }
        started = true;
      }
      Runnable runnable = transport.start(this);
      if (runnable != null) {
        runnable.run();
      }
    }

    void abandon(Status status) {
      boolean wasStarted;
      synchronized (lock) {
        if (abandoned && !started) {
          return; // already accounted for
        }
        abandoned = true;
        wasStarted = started;
        if (!wasStarted) {
          down = true;
        }
      }
      if (wasStarted) {
        transport.shutdownNow(status);
      } else {
        onTerminated(this); // a transport never started reports nothing of its own
      }
    }

    @Override
    public void transportReady() {
      onReady(this);
    }

    @Override
    public void transportShutdown(Status status, DisconnectError error) {
      onShutdown(this, status, error);
    }

    @Override
    public void transportTerminated() {
      onTerminated(this);
    }

    @Override
    public void transportInUse(boolean inUse) {
      synchronized (lock) {
        this.inUse = inUse;
        boolean any = attempts().stream().anyMatch(attempt -> attempt.inUse);
        if (any != reportedInUse) {
          reportedInUse = any;
          Listener l = listener;
          // In order, and never under the lock.
          listenerCalls.executeLater(() -> l.transportInUse(any));
        }
      }
      listenerCalls.drain();
    }
  }
}
