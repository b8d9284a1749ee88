package dev.grpcquic.engine.quiche;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.DeliveryRateMeter;
import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.engine.PendingStream;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.engine.TlsInfo;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionCloseEvent;
import io.netty.handler.codec.quic.QuicConnectionPathStats;
import io.netty.handler.codec.quic.QuicConnectionStats;
import io.netty.handler.codec.quic.QuicPathEvent;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamLimitChangedEvent;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.handler.codec.quic.SslEarlyDataReadyEvent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A Netty {@link QuicChannel} as the seam's {@link QuicConnection}; it is also the channel's
 * handler. Its events and state live on the channel's event loop; the {@code QuicConnection}
 * methods post their work there.
 *
 * <p>Opening streams waits for the peer's MAX_STREAMS: Netty's {@code createStream} past the
 * limit fails and burns a stream ID, so a stream is created only while {@code peerAllowedStreams}
 * is positive, and the rest wait for {@link QuicStreamLimitChangedEvent}.
 */
final class QuicheConnection extends ChannelInboundHandlerAdapter implements QuicConnection {
  private static final Logger LOG = Logger.getLogger(QuicheConnection.class.getName());
  /** How long {@link #stats} waits for the event loop before it returns the last snapshot. */
  private static final long STATS_WAIT_MILLIS = 200;
  static final long STOP_SENDING_TICK_MILLIS = 20;
  /** A local close this soon after the handshake waits for the rest of it (see close). */
  private static final long CLOSE_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  /** When the handshake completed here (channelActive); 0 before. Event loop only. */
  private long establishedNanos;
  /** A stopped stream not complete by then (its RESET_STREAM never acknowledged) is left. */
  private static final long COLLECT_GIVE_UP_NANOS = TimeUnit.SECONDS.toNanos(30);

  private volatile QuicChannel channel;
  private final long streamReceiveWindow;
  private volatile ConnectionHandler handler;
  private final DeliveryRateMeter deliveryRate;
  private final AtomicLong unread = new AtomicLong();
  private final AtomicBoolean closedReported = new AtomicBoolean();
  private volatile ConnectionStats lastStats;
  private volatile int smoothedRttMillis;

  // Event loop only.
  private final ArrayDeque<PendingOpen> pendingOpens = new ArrayDeque<>();
  /** Peer streams that came before the handler (a server connection in its handshake). */
  private final ArrayDeque<QuicStreamChannel> earlyPeerStreams = new ArrayDeque<>();
  /** Streams whose peer finished sending while this end still has to answer. */
  private final java.util.Set<QuicheStream> answering = new java.util.LinkedHashSet<>();
  private io.netty.util.concurrent.ScheduledFuture<?> stopSendingTick;
  /**
   * Closed streams the peer stopped, with the time they were closed: quiche frees them only when
   * asked for their capacity after they completed ({@link NettyQuicInternals}).
   */
  private final java.util.Map<Long, Long> stoppedStreams = new java.util.HashMap<>();
  /** Server connections: hands the connection to the acceptor once its handshake is done. */
  private java.util.function.Consumer<QuicheConnection> onEstablished;
  /**
   * Server connections: whether the connection may be handed over at its first 0-RTT request
   * stream, before the client's Finished (no client certificate to wait for).
   */
  private boolean halfRtt;
  /** Server connections: handed to the acceptor (at channelActive, or early). */
  private boolean handedOver;
  /** Server connections handed over early: a close asked for before the handshake was done. */
  private Runnable closeAtEstablished;
  /** Server connections: the client's address when NatRebinding moved it, else null. */
  private volatile InetSocketAddress pinnedPeer;
  private volatile boolean serverSide;
  private final java.util.concurrent.atomic.AtomicInteger peerAddressChanges =
      new java.util.concurrent.atomic.AtomicInteger();
  private volatile QuicConnectionCloseEvent peerClose;
  private volatile ConnectionCloseInfo localClose;

  // Client connections (event loop only unless said otherwise).
  /** Where the server's session tickets arrive; null on server connections. */
  private SessionTickets tickets;
  private io.netty.util.concurrent.ScheduledFuture<?> ticketPoll;
  /** Streams to open with their first bytes: as 0-RTT data if quiche gets into early data. */
  private volatile ZeroRttStreams zeroRtt = new ZeroRttStreams(this, java.util.List.of());

  private record PendingOpen(boolean bidirectional, StreamHandler handler,
      CompletableFuture<QuicStream> future) {
  }

  QuicheConnection(long streamReceiveWindow) {
    this.streamReceiveWindow = streamReceiveWindow;
    this.deliveryRate = new DeliveryRateMeter(() -> smoothedRttMillis);
    this.lastStats = emptyStats();
  }

  /** Client connections: the handler is known before the connection starts. */
  void setHandler(ConnectionHandler handler) {
    this.handler = handler;
  }

  /**
   * Client connections, before the connection starts: where its session tickets arrive, and the
   * streams to open with their first bytes (0-RTT data when the connection resumes a session that
   * allows it, ordinary data after the handshake otherwise).
   */
  void setClient(SessionTickets tickets, java.util.List<PendingStream> earlyStreams) {
    this.tickets = tickets;
    this.zeroRtt = new ZeroRttStreams(this, earlyStreams);
  }

  /**
   * Server connections: {@code accept} gives the connection its handler at channelActive, or,
   * with {@code halfRtt}, at the first request stream that came as 0-RTT data, so that its answer
   * can go before the handshake is done (0.5-RTT data, which quiche sends in 1-RTT packets once
   * the server has sent its Finished). Only without client certificates: such a server must not
   * answer before it checked the client's.
   */
  void onEstablished(java.util.function.Consumer<QuicheConnection> accept, boolean halfRtt) {
    this.onEstablished = accept;
    this.halfRtt = halfRtt;
    this.serverSide = true;
    if (halfRtt) {
      // Still in the handshake: streams the client opens in 0-RTT come as they arrive, and
      // those read with the Initial once quiche has answered it (tasks run after the read batch
      // and its send).
      NettyQuicInternals.readEarlyStreams(channel);
      channel.eventLoop().execute(() -> {
        if (establishedNanos == 0 && channel.isOpen()) {
          NettyQuicInternals.readEarlyStreams(channel);
        }
      });
    }
  }

  private void handOver() {
    if (!handedOver && onEstablished != null) {
      handedOver = true;
      onEstablished.accept(this);
    }
  }

  /** On the event loop: sets the handler and gives it the peer streams that waited for it. */
  void setHandlerOnLoop(ConnectionHandler handler) {
    this.handler = handler;
    QuicStreamChannel early;
    while ((early = earlyPeerStreams.poll()) != null) {
      acceptPeerStream(early);
    }
  }

  QuicChannel channel() {
    return channel;
  }

  // ---- QuicConnection ----

  @Override
  public CompletableFuture<QuicStream> openStream(boolean bidirectional, StreamHandler handler) {
    CompletableFuture<QuicStream> future = new CompletableFuture<>();
    if (closedReported.get()) {
      future.completeExceptionally(new IllegalStateException("QUIC connection closed"));
      return future;
    }
    if (!run(() -> {
      if (!channel.isActive() && !(handedOver && channel.isOpen())) {
        future.completeExceptionally(new IllegalStateException("QUIC connection closed"));
        return;
      }
      pendingOpens.add(new PendingOpen(bidirectional, handler, future));
      openPending();
    })) {
      future.completeExceptionally(new IllegalStateException("QUIC event loop shut down"));
    }
    return future;
  }

  private void openPending() {
    while (!pendingOpens.isEmpty()) {
      PendingOpen open = pendingOpens.peek();
      QuicStreamType type =
          open.bidirectional() ? QuicStreamType.BIDIRECTIONAL : QuicStreamType.UNIDIRECTIONAL;
      if (channel.peerAllowedStreams(type) <= 0) {
        // Waits for the peer's MAX_STREAMS; uni and bidi waiters are served in call order.
        return;
      }
      pendingOpens.poll();
      QuicheStream stream = new QuicheStream(this, open.handler(), open.bidirectional(),
          !open.bidirectional(), false);
      channel.newStreamBootstrap()
          .type(type)
          .option(ChannelOption.AUTO_READ, false)
          .handler(stream)
          .create()
          .addListener(f -> {
            if (f.isSuccess()) {
              open.future().complete(stream);
            } else {
              open.future().completeExceptionally(f.cause());
            }
          });
    }
  }

  /** A stream the peer opened: asks the connection's handler for the stream's handler. */
  void acceptPeerStream(QuicStreamChannel streamChannel) {
    ConnectionHandler h = handler;
    if (h == null) {
      earlyPeerStreams.add(streamChannel);
      if (halfRtt && establishedNanos == 0) {
        handOver(); // a 0-RTT request: answer it now (the acceptor takes the streams waiting)
      }
      return;
    }
    if (halfRtt && establishedNanos == 0) {
      NettyQuicInternals.readEarlyStreams(channel); // and the next one
    }
    boolean bidirectional = streamChannel.type() == QuicStreamType.BIDIRECTIONAL;
    QuicheStream stream = new QuicheStream(this, null, bidirectional, false, !bidirectional);
    stream.attach(streamChannel);
    stream.holdCreditUntilStarted();
    stream.setHandler(h.onPeerStream(stream));
    streamChannel.pipeline().addLast(stream);
    stream.startReading();
  }

  @Override
  public void close(long applicationErrorCode, String reason) {
    run(() -> {
      if (handedOver && establishedNanos == 0) {
        // Handed over early (0.5-RTT): an application close now would reach the client as a
        // transport error (quiche converts it before the handshake is confirmed), not with the
        // HTTP/3 code the transport chose (H3_EXCESSIVE_LOAD beyond maxConnections, say).
        closeAtEstablished = () -> close(applicationErrorCode, reason);
        return;
      }
      recordLocalClose(applicationErrorCode, reason);
      long wait = establishedNanos == 0 ? 0
          : establishedNanos + CLOSE_GRACE_NANOS - System.nanoTime();
      if (wait > 0) {
        // quiche's send loop can spin for good when a connection is closed within moments of
        // its handshake (seen here in about 1 of 50 connections closed at once; none with a
        // 30 ms pause): the close waits until the handshake has surely been confirmed.
        channel.eventLoop().schedule(() -> closeNow(applicationErrorCode, reason), wait,
            TimeUnit.NANOSECONDS);
      } else {
        closeNow(applicationErrorCode, reason);
      }
    });
  }

  /**
   * Closes at once, without the grace after the handshake: the server endpoint closing, whose
   * UDP socket goes right after (a close that waited would never be sent).
   */
  void closeImmediately(long applicationErrorCode, String reason) {
    run(() -> {
      recordLocalClose(applicationErrorCode, reason);
      closeNow(applicationErrorCode, reason);
    });
  }

  /** Event loop: the first close, local or the peer's, is the one reported. */
  private void recordLocalClose(long applicationErrorCode, String reason) {
    if (localClose == null && peerClose == null) {
      localClose = ConnectionCloseInfo.localClose(applicationErrorCode, reason);
    }
  }

  private void closeNow(long applicationErrorCode, String reason) {
    channel.close(true, (int) applicationErrorCode,
        Unpooled.copiedBuffer(reason == null ? "" : reason, StandardCharsets.UTF_8));
  }

  /**
   * Closes with a QUIC transport error (CONNECTION_REFUSED from a server that does not accept).
   * Posted, not inline: a connection closed before quiche has read the client's Initial goes
   * without a word, and the client waits for its connect timeout. So quiche answers the
   * handshake first, and the client sees the close right after it (a grpc-quic client reports
   * a connection ready only at the server's SETTINGS, which a refusing server never sends).
   */
  void closeWithTransportError(int code, String reason) {
    run(() -> {
      localClose = new ConnectionCloseInfo(ConnectionCloseInfo.Reason.CLOSED, false, -1, code,
          reason);
      channel.close(false, code, Unpooled.copiedBuffer(reason, StandardCharsets.UTF_8));
    });
  }

  @Override
  public ConnectionStats stats() {
    if (!channel.isActive()) {
      return lastStats;
    }
    if (channel.eventLoop().inEventLoop()) {
      return collectStats();
    }
    try {
      CompletableFuture<ConnectionStats> f = new CompletableFuture<>();
      channel.eventLoop().execute(() -> f.complete(collectStats()));
      return f.get(STATS_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return lastStats;
    } catch (Exception e) {
      return lastStats;
    }
  }

  /** On the event loop, where Netty collects quiche's counters at once. */
  private ConnectionStats collectStats() {
    if (!channel.isActive()) {
      return lastStats;
    }
    QuicConnectionStats s = channel.collectStats().getNow();
    QuicConnectionPathStats path = channel.collectPathStats(0).getNow();
    if (s == null) {
      return lastStats;
    }
    int rtt = path == null ? 0 : (int) TimeUnit.NANOSECONDS.toMillis(path.rtt());
    smoothedRttMillis = rtt;
    ConnectionStats stats = new ConnectionStats(rtt, -1, rtt, s.sent(), s.lost(), s.sentBytes(),
        s.sent(), path == null ? -1 : path.cwnd(), -1, deliveryRate.totalBytes(),
        deliveryRate.peakBytesPerSecond(), streamReceiveWindow, unread.get());
    lastStats = stats;
    return stats;
  }

  private ConnectionStats emptyStats() {
    return new ConnectionStats(0, -1, 0, 0, 0, 0, 0, -1, -1, 0, 0, streamReceiveWindow, 0);
  }

  @Override
  public TlsInfo tls() {
    try {
      SSLSession session = channel.sslEngine() == null ? null : channel.sslEngine().getSession();
      if (session == null) {
        return null;
      }
      Certificate[] local = session.getLocalCertificates();
      Certificate remote = null;
      try {
        Certificate[] peer = session.getPeerCertificates();
        remote = peer.length == 0 ? null : peer[0];
      } catch (SSLPeerUnverifiedException e) {
        // no client certificate
      }
      return new TlsInfo(session.getCipherSuite(),
          local == null || local.length == 0 ? null : local[0], remote);
    } catch (RuntimeException e) {
      return null;
    }
  }

  @Override
  public InetSocketAddress remoteAddress() {
    InetSocketAddress pinned = pinnedPeer;
    return pinned != null ? pinned : (InetSocketAddress) channel.remoteSocketAddress();
  }

  /**
   * Server connections: {@link NatRebinding} moved the client to {@code to} (quiche still sees
   * the first address, which {@code remoteSocketAddress} then reports).
   */
  void onPeerPortChanged(InetSocketAddress to, boolean backAtFirst) {
    pinnedPeer = backAtFirst ? null : to;
    peerAddressChanges.incrementAndGet();
  }

  @Override
  public int peerAddressChanges() {
    return serverSide ? peerAddressChanges.get() : -1;
  }

  @Override
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localSocketAddress();
  }

  @Override
  public EarlyDataStats earlyData() {
    return zeroRtt.stats();
  }

  @Override
  public boolean migrate() {
    return false; // Netty's QUIC client has no API to move to a new local address
  }

  @Override
  public boolean isOpen() {
    return (channel.isActive() || (handedOver && channel.isOpen())) && !closedReported.get();
  }

  // ---- bookkeeping for streams ----

  /**
   * Event loop: the peer finished its side of this stream and this end still has to answer, or
   * this end stopped reading it. Until the answer is sent, a STOP_SENDING from the peer (its
   * cancellation) is looked for every {@link #STOP_SENDING_TICK_MILLIS} ms, since Netty reports
   * it only to a write.
   */
  void watchStopSending(QuicheStream stream) {
    if (NettyQuicInternals.canWatchStopSending() && answering.add(stream)) {
      startTick();
    }
  }

  void unwatchStopSending(QuicheStream stream) {
    answering.remove(stream);
  }

  /**
   * Event loop: a stream that was reset, or that the peer stopped, was closed here; ask quiche
   * until it lets it go (a STOP_SENDING may still be on its way).
   */
  void collectWhenComplete(long streamId) {
    if (!NettyQuicInternals.canWatchStopSending() || !channel.isActive()) {
      return;
    }
    stoppedStreams.put(streamId, System.nanoTime());
    startTick();
  }

  private void startTick() {
    if (stopSendingTick == null) {
      stopSendingTick = channel.eventLoop().scheduleAtFixedRate(this::checkStopSending,
          STOP_SENDING_TICK_MILLIS, STOP_SENDING_TICK_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private void checkStopSending() {
    for (java.util.Iterator<QuicheStream> it = answering.iterator(); it.hasNext(); ) {
      QuicheStream stream = it.next();
      if (NettyQuicInternals.isStopped(channel, stream.id())) {
        it.remove();
        stream.onPeerStopSending();
      }
    }
    long now = System.nanoTime();
    int held = stoppedStreams.size();
    stoppedStreams.entrySet().removeIf(e -> NettyQuicInternals.isCollected(channel, e.getKey())
        || now - e.getValue() > COLLECT_GIVE_UP_NANOS);
    if (held > 0) {
      NettyQuicInternals.sendNow(channel); // a MAX_STREAMS the collection made due
    }
    if ((answering.isEmpty() && stoppedStreams.isEmpty()) || !channel.isActive()) {
      stopSendingTick.cancel(false);
      stopSendingTick = null;
    }
  }

  void addUnread(long bytes) {
    unread.addAndGet(bytes);
  }

  void onBytesRead(int bytes) {
    unread.addAndGet(-bytes);
    deliveryRate.onBytesRead(bytes);
  }

  /** Why the connection ended, from what is known now. */
  ConnectionCloseInfo closeInfo() {
    ConnectionCloseInfo local = localClose;
    if (local != null) {
      return local;
    }
    QuicConnectionCloseEvent peer = peerClose;
    if (peer != null) {
      String reason = new String(peer.reason(), StandardCharsets.UTF_8);
      if (peer.isTlsError()) {
        int alert = QuicConnectionCloseEvent.extractTlsError(peer.error());
        reason = "TLS alert " + alert + (reason.isEmpty() ? "" : ": " + reason);
      }
      return peer.isApplicationClose()
          ? new ConnectionCloseInfo(ConnectionCloseInfo.Reason.CLOSED, true, peer.error(), -1,
              reason)
          : new ConnectionCloseInfo(ConnectionCloseInfo.Reason.CLOSED, true, -1, peer.error(),
              reason);
    }
    if (channel.isTimedOut()) {
      return new ConnectionCloseInfo(ConnectionCloseInfo.Reason.IDLE_TIMEOUT, false, -1, -1,
          "idle timeout");
    }
    return new ConnectionCloseInfo(ConnectionCloseInfo.Reason.LOST, false, -1, -1,
        "connection lost");
  }

  // ---- channel events ----

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = (QuicChannel) ctx.channel();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof QuicConnectionCloseEvent close) {
      peerClose = close;
    } else if (evt instanceof QuicStreamLimitChangedEvent) {
      openPending();
    } else if (evt instanceof QuicPathEvent path) {
      LOG.log(Level.FINE, "{0}: {1}", new Object[] {channel, path});
      if (path instanceof QuicPathEvent.PeerMigrated) {
        // quiche moved the connection itself (a new IP address): Netty's remote is current.
        pinnedPeer = null;
        peerAddressChanges.incrementAndGet();
      }
    } else if (evt instanceof SslEarlyDataReadyEvent && !zeroRtt.isEmpty()) {
      // Comes from inside Netty's send, which would not send what is written now: write after it.
      ctx.channel().eventLoop().execute(this::sendEarly);
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    establishedNanos = System.nanoTime();
    if (tickets != null) {
      pollSessionTickets();
    }
    handOver();
    if (closeAtEstablished != null) {
      closeAtEstablished.run();
      closeAtEstablished = null;
    }
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (ticketPoll != null) {
      ticketPoll.cancel(false);
      ticketPoll = null;
    }
    if (tickets != null) {
      deliverSessionTickets(); // one may have come with the close; none stays in Netty's cache
    }
    if (stopSendingTick != null) {
      stopSendingTick.cancel(false);
      stopSendingTick = null;
    }
    answering.clear();
    stoppedStreams.clear();
    earlyPeerStreams.clear();
    ConnectionCloseInfo info = closeInfo();
    PendingOpen open;
    while ((open = pendingOpens.poll()) != null) {
      open.future().completeExceptionally(
          new IllegalStateException("QUIC connection closed: " + info));
    }
    if (closedReported.compareAndSet(false, true)) {
      ConnectionHandler h = handler;
      if (h != null) {
        h.onClosed(info);
      }
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(Level.FINE, "QUIC connection " + channel + " failed", cause);
  }

  // ---- client: session tickets and 0-RTT ----

  static final long TICKET_POLL_MILLIS = 10;
  static final long TICKET_POLL_LIMIT_MILLIS = 10_000;

  /**
   * Netty saves the server's tickets in its session cache and says nothing: look under this
   * connection's key every {@link #TICKET_POLL_MILLIS} ms for {@link #TICKET_POLL_LIMIT_MILLIS}
   * ms after the handshake (servers send tickets right after it), and once more at the close.
   */
  private void pollSessionTickets() {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TICKET_POLL_LIMIT_MILLIS);
    ticketPoll = channel.eventLoop().scheduleWithFixedDelay(() -> {
      deliverSessionTickets();
      if (System.nanoTime() - deadline > 0 && ticketPoll != null) {
        ticketPoll.cancel(false);
        ticketPoll = null;
      }
    }, TICKET_POLL_MILLIS, TICKET_POLL_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void deliverSessionTickets() {
    byte[] ticket;
    while ((ticket = tickets.take()) != null) {
      ConnectionHandler h = handler;
      if (h == null) {
        continue;
      }
      try {
        h.onSessionTicket(ticket);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "onSessionTicket threw", e);
      }
    }
  }

  /**
   * quiche resumed a session that allows early data and the handshake is under way: the early
   * streams go now, unless the handshake beat this task (then every stream goes after it).
   */
  private void sendEarly() {
    if (establishedNanos == 0 && !closedReported.get() && channel.isOpen()) {
      zeroRtt.send(channel);
    }
  }

  /**
   * Client connections, on the event loop, once the handshake is done and before the connection
   * is handed out: see {@link ZeroRttStreams#onHandshakeDone}.
   */
  void onHandshakeDone() {
    zeroRtt.onHandshakeDone(channel);
  }

  /** Client connections: the connection was not made; no early stream will open. */
  void onConnectFailed(Throwable error) {
    zeroRtt.onConnectFailed(error);
  }

  @Override
  public java.util.concurrent.Executor eventExecutor() {
    return task -> {
      if (channel.eventLoop().inEventLoop()) {
        task.run();
      } else if (!run(task)) {
        task.run(); // the event loops are shutting down with the process: nothing to order
      }
    };
  }

  private boolean run(Runnable task) {
    try {
      channel.eventLoop().execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "QuicheConnection{" + channel.remoteSocketAddress() + "}";
  }
}
