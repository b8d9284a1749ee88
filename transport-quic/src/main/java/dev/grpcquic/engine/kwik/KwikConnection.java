package dev.grpcquic.engine.kwik;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import tech.kwik.core.frame.PingFrame;
import tech.kwik.core.impl.QuicClientConnectionImpl;
import tech.kwik.core.impl.QuicConnectionImpl;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.DeliveryRateMeter;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.engine.TlsInfo;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import tech.kwik.core.cc.CongestionController;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.ConnectionEstablishedEvent;
import tech.kwik.core.ConnectionListener;
import tech.kwik.core.ConnectionTerminatedEvent;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.server.impl.ServerConnectionImpl;
import tech.kwik.core.Statistics;

/**
 * A kwik connection behind the engine's {@link QuicConnection}.
 *
 * <p>Threads: kwik's connection listener and peer-stream callback run on kwik's per-connection
 * callbacks thread; they only create objects and call the (non-blocking) handler. Stream creation
 * blocks in kwik while the peer's MAX_STREAMS is used up, so pending {@link #openStream} calls queue
 * per direction and one opener task per direction works through them on the connection's
 * executor (the engine's threads for blocking work). On close the opener is interrupted (kwik then
 * gives up its wait) and pending opens fail.
 *
 * <p>Lock: {@code lock} guards the open queues, the opener threads and the established flag. It is
 * never held across a kwik or handler call, except {@code Thread.interrupt} of an opener.
 */
final class KwikConnection implements QuicConnection {

  private static final Logger LOG = Logger.getLogger(KwikConnection.class.getName());

  private final tech.kwik.core.QuicConnection kwik;
  private final InetSocketAddress serverLocalAddress;
  private final Executor executor;
  private volatile ConnectionHandler handler;
  private final Set<KwikStream> streams = ConcurrentHashMap.newKeySet();
  /** Runs the periodic checks below, one tick per connection. */
  private final ConnectionTicker ticker = new ConnectionTicker();
  private final SendStallGuard guard;
  private final StopSendingWatch stopSendingWatch = new StopSendingWatch(ticker);
  private final ReadWakeupWatch readWakeupWatch = new ReadWakeupWatch(ticker);
  private volatile ConnectionTicker.Check keepAlive;
  private volatile QuietPathProbe quietPathProbe;
  private volatile AbortWatch abortWatch;
  private final AtomicBoolean closeRequested = new AtomicBoolean();
  private final AtomicBoolean terminated = new AtomicBoolean();
  private volatile ConnectionCloseInfo closeInfo;
  private volatile boolean abandoned;
  private volatile Runnable onTerminated;
  /** Threads that serve this connection only, shut down when it ends. */
  private volatile java.util.concurrent.ExecutorService ownedExecutor;
  private volatile Certificate localCertificate;
  private volatile java.util.function.Supplier<dev.grpcquic.engine.EarlyDataStats> earlyData;
  private volatile ConnectionTicker.Check ticketPoll;
  private final DeliveryRateMeter deliveryRate;
  /** The stream window this end advertised; set by the endpoint or engine that made it. */
  private volatile long streamReceiveWindow;
  /** Client connections: why the handshake failed, when kwik's close says only an alert. */
  private volatile java.util.function.Supplier<String> handshakeFailure = () -> null;
  /** Server connections with migration allowed: the moves its {@link MigrationTracker} made. */
  private volatile java.util.function.IntSupplier peerAddressChanges;

  private final Object lock = new Object();
  private final ArrayDeque<PendingOpen> bidiOpens = new ArrayDeque<>();
  private final ArrayDeque<PendingOpen> uniOpens = new ArrayDeque<>();
  private Thread bidiOpener;
  private Thread uniOpener;
  private boolean bidiOpenerRunning;
  private boolean uniOpenerRunning;
  private boolean established;
  private final StreamFrameLog frameLog;

  private record PendingOpen(CompletableFuture<QuicStream> future, StreamHandler handler) {}

  /** A client connection; {@code frameLog} is fed by the connection's kwik logger. */
  KwikConnection(tech.kwik.core.QuicConnection kwik, Executor executor, ConnectionHandler handler,
      StreamFrameLog frameLog) {
    this(kwik, executor, handler, null, frameLog);
  }

  /**
   * A server connection; {@code serverLocalAddress}: the endpoint's bound address. kwik's server
   * logger serves every connection, so its stream frame log is not fed: a client resets a call
   * only to cancel it, whatever the code, and knows every stream the server opens.
   */
  KwikConnection(tech.kwik.core.QuicConnection kwik, Executor executor, ConnectionHandler handler,
      InetSocketAddress serverLocalAddress) {
    this(kwik, executor, handler, serverLocalAddress, new StreamFrameLog(false));
  }

  private KwikConnection(tech.kwik.core.QuicConnection kwik, Executor executor,
      ConnectionHandler handler, InetSocketAddress serverLocalAddress, StreamFrameLog frameLog) {
    this.kwik = kwik;
    this.serverLocalAddress = serverLocalAddress;
    this.frameLog = frameLog;
    this.executor = executor;
    this.handler = handler;
    this.guard = new SendStallGuard(kwik, ticker);
    this.deliveryRate = new DeliveryRateMeter(() -> kwik.getStats().smoothedRtt());
    kwik.setConnectionListener(new ConnectionListener() {
      @Override
      public void connected(ConnectionEstablishedEvent event) {
        markEstablished();
      }

      @Override
      public void disconnected(ConnectionTerminatedEvent event) {
        terminated(explained(toCloseInfo(event)));
      }
    });
  }

  /** A connection whose connect failed: its end is not reported to the handler. */
  void abandon() {
    abandoned = true;
    closeRequested.set(true);
  }

  /** Runs once when the connection ends (after the handler was told), or at once if it has. */
  void onTerminated(Runnable hook) {
    onTerminated = hook;
    if (terminated.get()) {
      runTerminationHook();
    }
  }

  /**
   * {@code pool} serves this connection only: shut it down when the connection ends (its running
   * tasks end then too: kwik's close wakes blocked reads and writes), or at once if it has.
   */
  void shutDownWhenTerminated(java.util.concurrent.ExecutorService pool) {
    ownedExecutor = pool;
    if (terminated.get()) {
      shutDownOwnedExecutor();
    }
  }

  private void shutDownOwnedExecutor() {
    java.util.concurrent.ExecutorService pool = ownedExecutor;
    if (pool != null) {
      pool.shutdown();
    }
  }

  private void runTerminationHook() {
    Runnable hook = onTerminated;
    onTerminated = null;
    if (hook != null) {
      try {
        hook.run();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "termination hook threw", e);
      }
    }
  }

  void setHandler(ConnectionHandler handler) {
    this.handler = handler;
  }

  DeliveryRateMeter deliveryRate() {
    return deliveryRate;
  }

  void setStreamReceiveWindow(long bytes) {
    streamReceiveWindow = bytes;
  }

  SendStallGuard guard() {
    return guard;
  }

  StopSendingWatch stopSendingWatch() {
    return stopSendingWatch;
  }

  /** For tests: kwik's connection under this one. */
  tech.kwik.core.QuicConnection kwik() {
    return kwik;
  }

  /** For tests: the connection's tick. */
  ConnectionTicker ticker() {
    return ticker;
  }

  ReadWakeupWatch readWakeupWatch() {
    return readWakeupWatch;
  }

  /**
   * Lets kwik's sender send what it queued without a flush now: a MAX_STREAMS that a stream
   * finished outside the processing of a received packet (kwik queues it unflushed) would
   * otherwise wait for the next packet, while a peer waiting for it sends nothing.
   */
  void flushSoon() {
    onSenderThread(() -> { });
  }

  /**
   * Runs {@code action} on kwik's sender thread, as it assembles the next packet: kwik state that
   * the sender reads without a lock (a stream's send buffer) is then never changed under it. Once
   * the connection is closing the sender may never run again: the action runs here at once.
   */
  void onSenderThread(Runnable action) {
    if (kwik instanceof QuicConnectionImpl impl && !isClosingOrClosed()) {
      impl.send(maxSize -> {
        try {
          action.run();
        } catch (RuntimeException e) {
          // Thrown out of this supplier it would end kwik's sender and, with it, the connection.
          LOG.log(Level.WARNING, "action on kwik's sender thread threw", e);
        }
        return null;
      }, 1, tech.kwik.core.common.EncryptionLevel.App, frame -> { }, true);
    } else {
      action.run();
    }
  }

  /**
   * Sends a QUIC PING every {@code interval} while the connection lives. kwik's own
   * {@code keepAlive(seconds)} means something else: it keeps a connection alive for that many
   * seconds in all, pinging at half the peer's idle timeout rounded down to whole seconds (so
   * continuously below a 2 s idle timeout).
   */
  void startKeepAlive(Duration interval) {
    if (!(kwik instanceof QuicConnectionImpl impl) || interval.isZero()) {
      return;
    }
    keepAlive = ticker.every(interval.toNanos(), false, () -> {
      if (!isClosingOrClosed()) {
        impl.send(new PingFrame(), frame -> { }, true);
      }
    });
    if (isClosingOrClosed()) {
      keepAlive.cancel();
    }
  }

  /** Client connections: PINGs while calls wait on a silent path (see {@link QuietPathProbe}). */
  void startQuietPathProbe(QuietPathProbe probe) {
    if (kwik instanceof QuicConnectionImpl impl) {
      quietPathProbe = probe;
      probe.start(this, impl, ticker);
      if (isClosingOrClosed()) {
        probe.stop();
      }
    }
  }

  /** Client connections, once established: hears kwik's aborts, which kwik tells no one of. */
  void startAbortWatch(java.util.function.Supplier<String> cause) {
    // Our own close reports itself (close()); kwik's state then ends as an abort's does.
    AbortWatch watch = new AbortWatch(kwik, cause, info -> {
      if (!closeRequested.get()) {
        terminated(info);
      }
    });
    abortWatch = watch;
    watch.start(ticker);
    if (terminated.get()) {
      watch.stop();
    }
  }

  /** Client connections: what {@link #explained} says of a failed handshake. */
  void explainHandshakeFailure(java.util.function.Supplier<String> why) {
    handshakeFailure = why;
  }

  /** A handshake's end with the reason the check that failed gave, ahead of kwik's words. */
  private ConnectionCloseInfo explained(ConnectionCloseInfo info) {
    synchronized (lock) {
      if (established) {
        return info;
      }
    }
    String why = handshakeFailure.get();
    return why == null ? info : new ConnectionCloseInfo(info.reason(), info.byPeer(),
        info.applicationErrorCode(), info.transportErrorCode(),
        why + (info.description().isEmpty() ? "" : " [" + info.description() + "]"));
  }

  void markEstablished() {
    synchronized (lock) {
      established = true;
      lock.notifyAll();
    }
  }

  /**
   * Client connections, once the handshake is done: the 0-RTT attempt, for {@link #earlyData}.
   * Read when asked, not now: kwik counts a 0-RTT packet in its log call after sending it, which
   * may come after the handshake (CrossEngineResumptionTest saw zero packets from an early copy).
   */
  void setEarlyData(ZeroRtt zeroRtt, QuicClientConnection client) {
    earlyData = () -> zeroRtt.stats(client);
  }

  @Override
  public dev.grpcquic.engine.EarlyDataStats earlyData() {
    java.util.function.Supplier<dev.grpcquic.engine.EarlyDataStats> s = earlyData;
    return s == null ? dev.grpcquic.engine.EarlyDataStats.NONE : s.get();
  }

  /**
   * kwik gathers the server's session tickets in a list and offers no callback: look at it every
   * {@link #TICKET_POLL_MILLIS} ms and hand each new ticket to the handler, until the connection
   * ends or {@link #TICKET_POLL_LIMIT_MILLIS} passed (servers send them right after the handshake).
   */
  void pollSessionTickets() {
    if (!(kwik instanceof QuicClientConnection client)) {
      return;
    }
    int[] delivered = {0};
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TICKET_POLL_LIMIT_MILLIS);
    ticketPoll = ticker.every(TimeUnit.MILLISECONDS.toNanos(TICKET_POLL_MILLIS), true, () -> {
      boolean last = terminated.get() || System.nanoTime() - deadline > 0;
      List<tech.kwik.core.QuicSessionTicket> tickets = client.getNewSessionTickets();
      List<byte[]> fresh = new ArrayList<>();
      synchronized (tickets) {
        for (int i = delivered[0]; i < tickets.size(); i++) {
          fresh.add(tickets.get(i).serialize());
        }
        delivered[0] = tickets.size();
      }
      ConnectionHandler h = handler;
      for (byte[] ticket : fresh) {
        try {
          if (h != null) {
            h.onSessionTicket(ticket);
          }
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "onSessionTicket threw", e);
        }
      }
      if (last) {
        ConnectionTicker.Check poll = ticketPoll;
        if (poll != null) {
          poll.cancel();
        }
      }
    });
  }

  static final long TICKET_POLL_MILLIS = 10;
  static final long TICKET_POLL_LIMIT_MILLIS = 10_000;

  /** Client connections, after the handshake: a stream kwik created for 0-RTT data. */
  void adoptEarlyStream(tech.kwik.core.QuicStream kwikStream, dev.grpcquic.engine.PendingStream early) {
    KwikStream stream = new KwikStream(this, kwikStream, executor, true);
    frameLog.markSeenByPeer(stream.id()); // kwik sent its data as 0-RTT
    if (early.earlyFin()) {
      stream.finWrittenEarly();
    }
    streams.add(stream);
    stream.setHandler(early.handler());
    stream.reportWritten(early.earlyData().remaining());
    if (!early.bind(stream) || terminated.get()) {
      stream.reset(0);
    }
  }

  /** On kwik's callbacks thread: a stream the peer opened. */
  void onPeerStream(tech.kwik.core.QuicStream kwikStream) {
    KwikStream stream = new KwikStream(this, kwikStream, executor, false);
    if (terminated.get()) {
      return;
    }
    streams.add(stream);
    StreamHandler streamHandler;
    try {
      streamHandler = handler.onPeerStream(stream);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "onPeerStream threw; resetting the stream", e);
      streamHandler = null;
    }
    if (streamHandler == null) {
      streams.remove(stream);
      stream.reset(0);
      return;
    }
    stream.setHandler(streamHandler);
  }

  @Override
  public CompletableFuture<QuicStream> openStream(boolean bidirectional, StreamHandler streamHandler) {
    CompletableFuture<QuicStream> future = new CompletableFuture<>();
    boolean start = false;
    synchronized (lock) {
      if (closeRequested.get() || terminated.get()) {
        future.completeExceptionally(closedException());
        return future;
      }
      (bidirectional ? bidiOpens : uniOpens).add(new PendingOpen(future, streamHandler));
      if (bidirectional ? !bidiOpenerRunning : !uniOpenerRunning) {
        start = true;
        if (bidirectional) {
          bidiOpenerRunning = true;
        } else {
          uniOpenerRunning = true;
        }
      }
    }
    if (start) {
      try {
        executor.execute(() -> openLoop(bidirectional));
      } catch (RejectedExecutionException e) {
        synchronized (lock) {
          if (bidirectional) {
            bidiOpenerRunning = false;
          } else {
            uniOpenerRunning = false;
          }
        }
        failPending(e);
      }
    }
    return future;
  }

  private void openLoop(boolean bidirectional) {
    Thread.interrupted();
    while (true) {
      PendingOpen next;
      synchronized (lock) {
        ArrayDeque<PendingOpen> queue = bidirectional ? bidiOpens : uniOpens;
        next = queue.poll();
        if (next == null || terminated.get() || closeRequested.get()) {
          if (bidirectional) {
            bidiOpenerRunning = false;
          } else {
            uniOpenerRunning = false;
          }
          if (next != null) {
            queue.addFirst(next);
          }
          break;
        }
        if (bidirectional) {
          bidiOpener = Thread.currentThread();
        } else {
          uniOpener = Thread.currentThread();
        }
      }
      try {
        if (next.future().isDone()) {
          continue;
        }
        tech.kwik.core.QuicStream created = createWhenConnected(bidirectional);
        KwikStream stream = new KwikStream(this, created, executor, true);
        streams.add(stream);
        stream.setHandler(next.handler());
        if (!next.future().complete(stream) || terminated.get()) {
          stream.reset(0);
        }
      } catch (IOException | RuntimeException e) {
        next.future().completeExceptionally(
            terminated.get() || closeRequested.get() ? closedException() : e);
      } finally {
        synchronized (lock) {
          if (bidirectional) {
            bidiOpener = null;
          } else {
            uniOpener = null;
          }
          Thread.interrupted();
        }
      }
    }
    if (terminated.get() || closeRequested.get()) {
      failPending(closedException());
    }
  }

  /** kwik's createStream; before the handshake completes (server side) it waits for it. */
  private tech.kwik.core.QuicStream createWhenConnected(boolean bidirectional) throws IOException {
    while (true) {
      try {
        return kwik.createStream(bidirectional);
      } catch (IOException notConnected) {
        synchronized (lock) {
          if (terminated.get() || closeRequested.get()) {
            throw closedException();
          }
          if (established) {
            throw notConnected;
          }
          try {
            lock.wait(20); // bounded: re-check in case the established event came before our listener
          } catch (InterruptedException e) {
            throw closedException();
          }
        }
      }
    }
  }

  private void failPending(Throwable cause) {
    List<PendingOpen> failed = new ArrayList<>();
    synchronized (lock) {
      failed.addAll(bidiOpens);
      failed.addAll(uniOpens);
      bidiOpens.clear();
      uniOpens.clear();
    }
    for (PendingOpen open : failed) {
      open.future().completeExceptionally(cause);
    }
  }

  private IOException closedException() {
    ConnectionCloseInfo info = closeInfo;
    return new IOException("connection closed" + (info != null ? ": " + info : ""));
  }

  @Override
  public void close(long applicationErrorCode, String reason) {
    if (!closeRequested.compareAndSet(false, true)) {
      return;
    }
    interruptOpeners();
    failPending(closedException());
    try {
      kwik.close(applicationErrorCode, reason == null ? "" : reason);
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "kwik close failed", e);
    }
    // kwik reports its own close through the listener too, but on its callbacks thread and not in
    // every state (a full test run once saw it missing): report it ourselves, asynchronously so
    // that the handler is never called from inside close(). terminated() runs once.
    ConnectionCloseInfo info = ConnectionCloseInfo.localClose(
        applicationErrorCode, reason == null ? "" : reason);
    try {
      executor.execute(() -> terminated(info));
    } catch (RejectedExecutionException e) {
      terminated(info);
    }
  }

  private void interruptOpeners() {
    synchronized (lock) {
      if (bidiOpener != null) {
        bidiOpener.interrupt();
      }
      if (uniOpener != null) {
        uniOpener.interrupt();
      }
      lock.notifyAll();
    }
  }

  /** Once: the connection ended. Tells every open stream, then the connection handler. */
  void terminated(ConnectionCloseInfo info) {
    if (!terminated.compareAndSet(false, true)) {
      return;
    }
    closeInfo = info;
    guard.stop();
    stopSendingWatch.stop();
    readWakeupWatch.stop();
    ConnectionTicker.Check pings = keepAlive;
    if (pings != null) {
      pings.cancel();
    }
    QuietPathProbe probe = quietPathProbe;
    if (probe != null) {
      probe.stop();
    }
    AbortWatch watch = abortWatch;
    if (watch != null) {
      watch.stop();
    }
    ticker.stop(); // once the ticket poll has made its last run
    interruptOpeners();
    failPending(closedException());
    for (KwikStream stream : streams) {
      stream.connectionClosed(info);
    }
    streams.clear();
    ConnectionHandler h = handler;
    if (h != null && !abandoned) {
      try {
        h.onClosed(info);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "onClosed threw", e);
      }
    }
    runTerminationHook();
    shutDownOwnedExecutor();
  }

  void streamMaybeDone(KwikStream stream) {
    if (stream.isDone()) {
      streams.remove(stream);
      frameLog.forget(stream.id());
    }
  }

  StreamFrameLog frameLog() {
    return frameLog;
  }

  int smoothedRttMillis() {
    return kwik.getStats().smoothedRtt();
  }

  boolean isClosingOrClosed() {
    return closeRequested.get() || terminated.get();
  }

  /** True while a bidirectional (request) stream is open: a call is in flight. */
  boolean hasOpenRequestStream() {
    for (KwikStream stream : streams) {
      if (stream.isBidirectional()) {
        if (!stream.isDone()) {
          return true;
        }
        // Ended without being collected (a bug): it must not keep the connection out of idle.
        LOG.log(Level.FINE, "{0} was done but still held", stream);
        streamMaybeDone(stream);
      }
    }
    return false;
  }

  /** The request streams still open, with their state (for logs). */
  String describeRequestStreams() {
    StringBuilder out = new StringBuilder();
    for (KwikStream stream : streams) {
      if (stream.isBidirectional()) {
        out.append(out.isEmpty() ? "" : ", ").append(stream.describe());
      }
    }
    return out.toString();
  }

  int openStreamCount() {
    return streams.size();
  }

  static ConnectionCloseInfo toCloseInfo(ConnectionTerminatedEvent event) {
    String description = event.errorDescription() == null ? "" : event.errorDescription();
    long app = event.applicationErrorCode() == null ? -1 : event.applicationErrorCode();
    long transport = event.transportErrorCode() == null ? -1 : event.transportErrorCode();
    ConnectionCloseInfo.Reason reason = switch (event.closeReason()) {
      case IdleTimeout -> ConnectionCloseInfo.Reason.IDLE_TIMEOUT;
      case ImmediateClose -> ConnectionCloseInfo.Reason.CLOSED;
      case StatelessReset, ConnectionLost -> ConnectionCloseInfo.Reason.LOST;
    };
    return new ConnectionCloseInfo(reason, event.closedByPeer(), app, transport, description);
  }

  @Override
  public ConnectionStats stats() {
    Statistics s = kwik.getStats();
    CongestionController cc = KwikInternals.congestionController(kwik);
    return new ConnectionStats(s.smoothedRtt(), s.rttVar(), s.latestRtt(), s.packetsSent(),
        s.lostPackets(), s.bytesSent(), s.datagramsSent(),
        cc == null ? -1 : cc.getWindowSize(), cc == null ? -1 : cc.getBytesInFlight(),
        deliveryRate.totalBytes(), deliveryRate.peakBytesPerSecond(), advertisedStreamWindow(),
        unreadBytes());
  }

  private long unreadBytes() {
    long unread = 0;
    for (KwikStream stream : streams) {
      unread += stream.unreadBytes();
    }
    return unread;
  }

  /** A client reports what kwik put in its transport parameters (initial_max_stream_data_bidi_local). */
  private long advertisedStreamWindow() {
    if (kwik instanceof QuicClientConnectionImpl client && client.getTransportParameters() != null) {
      return client.getTransportParameters().getInitialMaxStreamDataBidiLocal();
    }
    return streamReceiveWindow;
  }

  /** The server's own certificate (kwik does not hand it back); set by the server endpoint. */
  void setLocalCertificate(Certificate certificate) {
    this.localCertificate = certificate;
  }

  @Override
  public TlsInfo tls() {
    Certificate remote = null;
    if (kwik instanceof QuicClientConnection client) {
      List<X509Certificate> chain = client.getServerCertificateChain();
      remote = chain == null || chain.isEmpty() ? null : chain.get(0);
    }
    // A kwik server never asks for a client certificate, so it has no remote one.
    return new TlsInfo(KwikInternals.cipherSuite(kwik), localCertificate, remote);
  }

  @Override
  public InetSocketAddress remoteAddress() {
    if (kwik instanceof QuicClientConnection client) {
      return client.getServerAddress();
    }
    if (kwik instanceof ServerConnectionImpl server) {
      return server.getInitialRemoteAddress();
    }
    return null;
  }

  void setPeerAddressChanges(java.util.function.IntSupplier moves) {
    this.peerAddressChanges = moves;
  }

  @Override
  public int peerAddressChanges() {
    java.util.function.IntSupplier moves = peerAddressChanges;
    return moves == null ? -1 : moves.getAsInt();
  }

  /**
   * kwik's {@code changeAddress()} (impl API): a new socket from the client's socket factory, the
   * old one closed; no new connection ID and no path validation of its own. A PING follows at once
   * so that the server sees the new address even when the client has nothing else to send.
   */
  @Override
  public boolean migrate() {
    if (!(kwik instanceof QuicClientConnectionImpl client)) {
      throw new UnsupportedOperationException("only client connections migrate");
    }
    if (isClosingOrClosed()) {
      return false;
    }
    try {
      client.changeAddress();
      client.send(new PingFrame(), frame -> { }, true);
      return true;
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "migration failed", e);
      return false;
    }
  }

  @Override
  public InetSocketAddress localAddress() {
    if (kwik instanceof QuicClientConnection client) {
      return client.getLocalAddress();
    }
    return serverLocalAddress;
  }

  @Override
  public boolean isOpen() {
    return !closeRequested.get() && !terminated.get();
  }

  @Override
  public String toString() {
    return "KwikConnection[" + remoteAddress() + "]";
  }
}
