package dev.grpcquic.engine.quiche;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionStats;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Sits in front of quiche's server codec on one UDP socket and keeps a connection on the path
 * quiche saw first when only its client's port changes (NAT rebinding, or a client that moves to
 * a new local port on the same host).
 *
 * <p>Why: quiche 0.29.3 (Netty 4.2.18.Final) handles a new peer address itself (a new path,
 * PATH_CHALLENGE, migration), but the packets in flight on the old path when the address changed
 * stay with the old path's loss recovery, which never sees an acknowledgement again: their data
 * is never retransmitted and the stream keeps a hole for good (quiche issue 2452). And every new
 * address takes one of quiche's path slots (as many as {@code active_connection_id_limit}), which
 * an old path never gives back while it shares the connection ID. Shown to quiche as its first
 * address, the client's datagrams stay on one path: lost packets are found by the acknowledgements
 * of later ones and resent as on any path. This handler sends quiche's datagrams for that address
 * to the client's current one.
 *
 * <p>A connection moves only on a short-header datagram from a new port of the same IP address,
 * carrying one of the connection's IDs, that quiche then accepted (its received-packet count went
 * up: the packet decrypted and was not a duplicate). A forged or replayed datagram moves nothing.
 * The new port is not validated with PATH_CHALLENGE and has no amplification limit: a copy of a
 * genuine packet that beats the original from another port of the same IP (behind a carrier-grade
 * NAT, possibly another customer) draws what the server sends until the client's next packet
 * moves the connection back (docs/migration.md). A change of IP address is left to quiche
 * (validated, with the faults above). Live connections from one client port cannot be told apart
 * by address, so none of them is pinned while there are several.
 *
 * <p>With client migration off, such a datagram is dropped instead: the connection stays where it
 * was, as on the kwik engine. (A change of IP address still reaches quiche, which follows it.)
 *
 * <p>Event loop of the socket only (the connections of a socket live on its loop).
 */
final class NatRebinding extends ChannelDuplexHandler {
  private static final Logger LOG = Logger.getLogger(NatRebinding.class.getName());
  /** Connection IDs remembered per connection; the oldest is forgotten. */
  private static final int MAX_IDS = 8;

  private final int connectionIdLength;
  private final boolean follow;
  /** Live connections by first address: more than one (one client port) are not pinned. */
  private final Map<InetSocketAddress, List<Peer>> byFirst = new HashMap<>();
  private final Map<InetSocketAddress, Peer> byCurrent = new HashMap<>();
  private final Map<ByteBuffer, Peer> byConnectionId = new HashMap<>();
  /** Peers away from their first address: while none, datagrams out are not looked at. */
  private int away;

  /** One connection as this socket sees it. */
  private static final class Peer {
    final QuicChannel channel;
    final InetSocketAddress first;
    InetSocketAddress current;
    final ArrayDeque<ByteBuffer> ids = new ArrayDeque<>();
    /** Its addresses are another live connection's too: left to quiche. */
    boolean shared;

    Peer(QuicChannel channel, InetSocketAddress first) {
      this.channel = channel;
      this.first = first;
      this.current = first;
    }
  }

  /**
   * @param connectionIdLength length of the server's connection IDs (the client's destination IDs)
   * @param follow whether connections follow their client (allowClientMigration)
   */
  NatRebinding(int connectionIdLength, boolean follow) {
    this.connectionIdLength = connectionIdLength;
    this.follow = follow;
  }

  /** The handler on the socket of {@code channel}, if the endpoint has one. */
  static NatRebinding of(QuicChannel channel) {
    return channel.parent() == null ? null : channel.parent().pipeline().get(NatRebinding.class);
  }

  /** A new server connection (on the socket's loop); forgotten when it closes. */
  void register(QuicChannel channel) {
    if (!(channel.remoteSocketAddress() instanceof InetSocketAddress first)) {
      return;
    }
    Peer peer = new Peer(channel, first);
    List<Peer> atFirst = byFirst.computeIfAbsent(first, a -> new ArrayList<>(1));
    atFirst.add(peer);
    Peer movedHere = byCurrent.get(first);
    if (atFirst.size() > 1 || movedHere != null) {
      // One client port, several connections (a client sharing its socket): neither their
      // datagrams nor quiche's can be told apart by address, so they are left to quiche.
      atFirst.forEach(this::share);
      share(movedHere);
    } else {
      byCurrent.put(first, peer);
    }
    channel.closeFuture().addListener(f -> unregister(peer));
  }

  private void share(Peer peer) {
    if (peer != null) {
      peer.shared = true;
      forgetIds(peer);
      byCurrent.remove(peer.current, peer);
    }
  }

  private void unregister(Peer peer) {
    List<Peer> atFirst = byFirst.get(peer.first);
    if (atFirst != null) {
      atFirst.remove(peer);
      if (atFirst.isEmpty()) {
        byFirst.remove(peer.first);
      } else if (atFirst.size() == 1) {
        // The last one on that port is told apart again, if quiche has not moved it meanwhile.
        Peer last = atFirst.get(0);
        if (last.shared && last.current == last.first && !byCurrent.containsKey(last.first)
            && last.first.equals(last.channel.remoteSocketAddress())) {
          last.shared = false;
          byCurrent.put(last.first, last);
        }
      }
    }
    byCurrent.remove(peer.current, peer);
    if (peer.current != peer.first) {
      away--;
    }
    forgetIds(peer);
  }

  private void forgetIds(Peer peer) {
    for (ByteBuffer id : peer.ids) {
      byConnectionId.remove(id, peer);
    }
    peer.ids.clear();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof DatagramPacket packet) || !isShortHeader(packet.content())) {
      ctx.fireChannelRead(msg); // handshakes stay with quiche as they are
      return;
    }
    InetSocketAddress sender = packet.sender();
    Peer peer = byCurrent.get(sender);
    if (peer != null) {
      learnId(peer, packet.content());
      ctx.fireChannelRead(peer.current == peer.first ? packet : asFrom(packet, peer.first));
      return;
    }
    peer = byConnectionId.get(connectionId(packet.content()));
    if (peer == null || peer.shared || !peer.channel.isActive()
        || !sender.getAddress().equals(peer.current.getAddress())) {
      ctx.fireChannelRead(msg); // not ours to judge: quiche's own handling
      return;
    }
    if (!follow) {
      LOG.log(Level.FINE, "{0}: datagram from {1} dropped, client migration is off",
          new Object[] {peer.channel, sender});
      packet.release();
      return;
    }
    long before = packetsReceived(peer.channel);
    ctx.fireChannelRead(asFrom(packet, peer.first)); // quiche reads it here and now
    if (before >= 0 && packetsReceived(peer.channel) > before) {
      move(peer, sender);
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (away > 0 && msg instanceof DatagramPacket packet) {
      List<Peer> atFirst = byFirst.get(packet.recipient());
      Peer peer = atFirst == null || atFirst.size() != 1 ? null : atFirst.get(0);
      if (peer != null && !peer.shared && peer.current != peer.first) {
        // A GSO send (epoll) keeps its segment size: as one plain datagram it would not fit.
        DatagramPacket moved = packet.getClass() == DatagramPacket.class
            ? new DatagramPacket(packet.content(), peer.current, packet.sender())
            : DatagramIo.chosen() == DatagramIo.EPOLL
                ? EpollSupport.redirected(packet, peer.current) : null;
        if (moved != null) {
          ctx.write(moved, promise);
          return;
        }
      }
    }
    ctx.write(msg, promise);
  }

  private void move(Peer peer, InetSocketAddress to) {
    LOG.log(Level.FINE, "{0}: client moved from {1} to {2}",
        new Object[] {peer.channel, peer.current, to});
    boolean wasAway = peer.current != peer.first;
    byCurrent.remove(peer.current, peer);
    // Back at the first address: the same object, so that the identity checks above hold.
    peer.current = to.equals(peer.first) ? peer.first : to;
    byCurrent.put(peer.current, peer);
    boolean isAway = peer.current != peer.first;
    away += (isAway ? 1 : 0) - (wasAway ? 1 : 0);
    QuicheConnection connection = peer.channel.pipeline().get(QuicheConnection.class);
    if (connection != null) {
      connection.onPeerPortChanged(to, !isAway);
    }
  }

  /** Remembers the destination connection ID the client uses now (it may switch IDs). */
  private void learnId(Peer peer, ByteBuf content) {
    if (peer.shared) {
      return;
    }
    ByteBuffer last = peer.ids.peekLast();
    if (last != null && sameId(last, content)) {
      return;
    }
    ByteBuffer id = connectionId(content);
    if (peer.ids.contains(id)) {
      return;
    }
    if (peer.ids.size() == MAX_IDS) {
      byConnectionId.remove(peer.ids.pollFirst(), peer);
    }
    peer.ids.addLast(id);
    byConnectionId.put(id, peer);
  }

  private boolean sameId(ByteBuffer id, ByteBuf content) {
    int at = content.readerIndex() + 1;
    for (int i = 0; i < connectionIdLength; i++) {
      if (id.get(i) != content.getByte(at + i)) {
        return false;
      }
    }
    return true;
  }

  private ByteBuffer connectionId(ByteBuf content) {
    byte[] id = new byte[connectionIdLength];
    content.getBytes(content.readerIndex() + 1, id);
    return ByteBuffer.wrap(id);
  }

  /** A 1-RTT packet (RFC 9000 17.3) long enough to hold our connection ID and a tag. */
  private boolean isShortHeader(ByteBuf content) {
    return content.readableBytes() > 1 + connectionIdLength + 16
        && (content.getByte(content.readerIndex()) & 0xc0) == 0x40;
  }

  private static DatagramPacket asFrom(DatagramPacket packet, InetSocketAddress sender) {
    return new DatagramPacket(packet.content(), packet.recipient(), sender);
  }

  /** Packets quiche accepted on this connection so far, or -1 if unknown. */
  private static long packetsReceived(QuicChannel channel) {
    QuicConnectionStats stats = channel.collectStats().getNow();
    return stats == null ? -1 : stats.recv();
  }
}
