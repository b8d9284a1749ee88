package dev.grpcquic.engine.kwik;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.frame.AckFrame;
import tech.kwik.core.frame.NewConnectionIdFrame;
import tech.kwik.core.frame.Padding;
import tech.kwik.core.frame.PathChallengeFrame;
import tech.kwik.core.frame.PathResponseFrame;
import tech.kwik.core.frame.QuicFrame;
import tech.kwik.core.packet.QuicPacket;
import tech.kwik.core.packet.ShortHeaderPacket;
import tech.kwik.core.server.impl.ServerConnectionImpl;

/**
 * Lets kwik 0.10.8's server keep connections whose client address changes (NAT rebinding, client
 * migration), without changing kwik.
 *
 * <p>kwik's server drops every datagram whose source is not the connection's first address
 * ({@code ClientAddressFilter}, installed by {@code ServerConnectionThread.wrapWithFilters} on the
 * first Initial's source) and sends every packet to that first address ({@code SenderImpl}'s fixed
 * {@code peerAddress}). The server socket ({@link GuardedDatagramSocket}) therefore asks this
 * tracker, for each datagram, which address kwik should see and where a reply should really go:
 * kwik always sees a connection's first address; replies go to the client's current address.
 *
 * <p>Which datagram moves a connection: the socket cannot authenticate a packet, kwik can. A
 * short-header datagram from an address other than the current one is handed to kwik (presented
 * as coming from the first address) and remembered as a candidate, keyed by its last 16 bytes (the
 * AEAD tag). kwik's logger sees every packet it parses on the connection's receiver thread: first
 * {@code encrypted("Encrypted payload", ...)} just before decryption, then {@code received(packet)}
 * only if the packet decrypted. The tracker's logger hooks pair the two, so a move happens only
 * when kwik authenticated the candidate's packet, its packet number is the highest seen so far on
 * the connection (a replayed or reordered older packet never moves it), and it carries a frame other
 * than PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID or PADDING (RFC 9000 9.3: probing packets do
 * not move a connection).
 *
 * <p>Until the client proves it receives at the new address, sending there is limited as RFC 9000
 * 8 / 9.3 limits an unvalidated address: at most three times the bytes received from it, plus an
 * allowance of {@link #UNVALIDATED_ALLOWANCE} bytes so that a client that only acknowledges can see
 * a first packet; datagrams beyond that are dropped (kwik sees them as lost). The address counts as
 * validated once the client acknowledges, in an authenticated packet, a packet number that was sent
 * to the new address only. kwik itself sends no PATH_CHALLENGE; that acknowledgement is the proof
 * of the return path instead.
 *
 * <p>Threads: {@link #inbound} runs on kwik's server receiver thread, {@link #outbound} and
 * {@link #sent} on a connection's sender thread, {@link #encryptedPayload} and {@link #received} on
 * its receiver thread. Per-connection state is guarded by its {@link Path}'s monitor, never held
 * across a call into kwik.
 */
final class MigrationTracker {

  private static final Logger LOG = Logger.getLogger(MigrationTracker.class.getName());

  /** Server connection ID length; set explicitly in kwik's ServerConnectionConfig. */
  static final int CID_LENGTH = 8;
  /** Bytes that may go to an unvalidated address beyond three times what came from it. */
  static final long UNVALIDATED_ALLOWANCE = 4 * 1500;
  private static final int TAG_LENGTH = 16;
  /** Candidates remembered per connection; older ones are forgotten (kwik refused or lost them). */
  private static final int MAX_CANDIDATES = 32;
  /** Smallest short-header datagram worth looking at: flags, CID, 1-byte PN, a frame, tag. */
  private static final int MIN_SHORT_HEADER = 1 + CID_LENGTH + 1 + 1 + TAG_LENGTH;

  private final Map<Long, Path> byConnectionId = new ConcurrentHashMap<>();
  private final Map<InetSocketAddress, Path> byFirstAddress = new ConcurrentHashMap<>();
  private final ThreadLocal<long[]> lastTag = new ThreadLocal<>();
  private final ThreadLocal<SentVia> lastSend = new ThreadLocal<>();

  private record Tag(long high, long low) {}

  private record Candidate(InetSocketAddress address, int bytes) {}

  private record SentVia(Path path, InetSocketAddress to) {}

  /** One connection's addresses. */
  static final class Path {
    final ServerConnectionImpl connection;
    final InetSocketAddress first;
    // all below guarded by this
    InetSocketAddress current;
    boolean shared;
    boolean validated = true;
    long maxPacketNumber = -1;
    long firstPacketNumberSentToCurrent = -1;
    long receivedFromCurrent;
    long sentToCurrent;
    int moves;
    final ArrayDeque<InetSocketAddress> validatedAddresses = new ArrayDeque<>();
    final java.util.LinkedHashMap<Tag, Candidate> candidates = new java.util.LinkedHashMap<>();
    final java.util.Set<Long> connectionIds = new java.util.HashSet<>();

    Path(ServerConnectionImpl connection, InetSocketAddress first) {
      this.connection = connection;
      this.first = first;
      this.current = first;
      validatedAddresses.add(first);
    }

    synchronized InetSocketAddress current() {
      return current;
    }

    synchronized int moves() {
      return moves;
    }

    private void moveTo(InetSocketAddress address, int bytes) {
      InetSocketAddress from = current;
      current = address;
      moves++;
      validated = validatedAddresses.contains(address);
      firstPacketNumberSentToCurrent = -1;
      receivedFromCurrent = bytes;
      sentToCurrent = 0;
      LOG.log(Level.FINE, "connection from {0} moved from {1} to {2}{3}",
          new Object[] {first, from, address, validated ? "" : " (not yet validated)"});
    }

    private void markValidated() {
      validated = true;
      validatedAddresses.remove(current);
      validatedAddresses.addLast(current);
      while (validatedAddresses.size() > 4) {
        validatedAddresses.removeFirst();
      }
      LOG.log(Level.FINE, "connection from {0}: address {1} validated", new Object[] {first, current});
    }
  }

  /** A connection kwik accepted (called when our protocol connection is created). */
  Path register(ServerConnectionImpl connection) {
    InetSocketAddress first = connection.getInitialRemoteAddress();
    Path path = new Path(connection, first);
    Path other = byFirstAddress.putIfAbsent(first, path);
    if (other != null && !other.connection.isClosed()) {
      // Two live connections from one address (a client multiplexing connections on one port):
      // replies cannot be told apart by the address kwik sends to, so neither may move.
      LOG.log(Level.FINE, "two connections from {0}: migration off for both", first);
      synchronized (other) {
        other.shared = true;
      }
      path.shared = true;
    } else if (other != null) {
      byFirstAddress.put(first, path);
      forget(other);
    }
    addConnectionId(path, connection.getInitialConnectionId());
    for (byte[] id : connection.getActiveConnectionIds()) {
      addConnectionId(path, id);
    }
    return path;
  }

  /** The connection ended. */
  void unregister(Path path) {
    byFirstAddress.remove(path.first, path);
    forget(path);
  }

  private void forget(Path path) {
    Long[] ids;
    synchronized (path) {
      ids = path.connectionIds.toArray(new Long[0]);
    }
    for (Long id : ids) {
      byConnectionId.remove(id, path);
    }
  }

  private void addConnectionId(Path path, byte[] id) {
    if (id == null || id.length != CID_LENGTH) {
      return;
    }
    long key = toLong(id, 0);
    synchronized (path) {
      path.connectionIds.add(key);
    }
    byConnectionId.put(key, path);
  }

  int trackedConnections() {
    return byFirstAddress.size();
  }

  // ---- socket side ----

  /**
   * A datagram arrived from {@code source}: returns the source kwik should see. A short-header
   * datagram of a known connection is shown as coming from the connection's first address; one from
   * a new address is remembered as a candidate for a move.
   */
  InetSocketAddress inbound(byte[] data, int offset, int length, InetSocketAddress source) {
    if (length < MIN_SHORT_HEADER || (data[offset] & 0xc0) != 0x40) {
      return source; // long header (handshake) or not QUIC: kwik decides as before
    }
    Path path = byConnectionId.get(toLong(data, offset + 1));
    if (path == null) {
      return source;
    }
    synchronized (path) {
      if (path.shared) {
        return source;
      }
      if (source.equals(path.current)) {
        path.receivedFromCurrent += length;
        return path.first;
      }
      int end = offset + length;
      Tag tag = new Tag(toLong(data, end - TAG_LENGTH), toLong(data, end - TAG_LENGTH / 2));
      path.candidates.put(tag, new Candidate(source, length));
      if (path.candidates.size() > MAX_CANDIDATES) {
        Iterator<Tag> oldest = path.candidates.keySet().iterator();
        oldest.next();
        oldest.remove();
      }
      return path.first;
    }
  }

  /**
   * kwik sends {@code length} bytes to {@code destination}: returns where they really go, or null to
   * drop them (the amplification limit of an unvalidated address).
   */
  InetSocketAddress outbound(InetSocketAddress destination, int length) {
    Path path = byFirstAddress.get(destination);
    if (path == null) {
      lastSend.remove();
      return destination;
    }
    InetSocketAddress to;
    synchronized (path) {
      if (path.shared) {
        lastSend.remove();
        return destination;
      }
      if (!path.validated
          && path.sentToCurrent + length > 3 * path.receivedFromCurrent + UNVALIDATED_ALLOWANCE) {
        lastSend.set(new SentVia(path, null));
        return null;
      }
      path.sentToCurrent += length;
      to = path.current;
    }
    lastSend.set(new SentVia(path, to));
    return to;
  }

  // ---- kwik logger side ----

  /** kwik is about to decrypt a packet whose encrypted payload (ending with the AEAD tag) is this. */
  void encryptedPayload(byte[] payload) {
    if (payload == null || payload.length < TAG_LENGTH) {
      lastTag.remove();
      return;
    }
    int end = payload.length;
    lastTag.set(new long[] {toLong(payload, end - TAG_LENGTH), toLong(payload, end - TAG_LENGTH / 2)});
  }

  /** kwik decrypted this packet (so it is authentic), on the connection's receiver thread. */
  void received(QuicPacket packet) {
    long[] tagValue = lastTag.get();
    lastTag.remove();
    if (!(packet instanceof ShortHeaderPacket) || packet.getPacketNumber() == null) {
      return;
    }
    byte[] dcid = packet.getDestinationConnectionId();
    if (dcid == null || dcid.length != CID_LENGTH) {
      return;
    }
    Path path = byConnectionId.get(toLong(dcid, 0));
    if (path == null) {
      return;
    }
    long packetNumber = packet.getPacketNumber();
    List<QuicFrame> frames = packet.getFrames();
    synchronized (path) {
      boolean highest = packetNumber > path.maxPacketNumber;
      if (highest) {
        path.maxPacketNumber = packetNumber;
      }
      Candidate candidate = tagValue == null ? null
          : path.candidates.remove(new Tag(tagValue[0], tagValue[1]));
      if (candidate != null && highest && !probingOnly(frames)
          && !candidate.address().equals(path.current)) {
        path.moveTo(candidate.address(), candidate.bytes());
      }
      if (!path.validated && path.firstPacketNumberSentToCurrent >= 0) {
        for (QuicFrame frame : frames) {
          if (frame instanceof AckFrame ack
              && ack.getLargestAcknowledged() >= path.firstPacketNumberSentToCurrent) {
            path.markValidated();
            break;
          }
        }
      }
    }
  }

  /** kwik sent these packets, on the connection's sender thread, right after the socket's send. */
  void sent(List<QuicPacket> packets) {
    SentVia via = lastSend.get();
    lastSend.remove();
    if (via == null) {
      return;
    }
    Path path = via.path();
    for (QuicPacket packet : packets) {
      if (packet instanceof ShortHeaderPacket && packet.getPacketNumber() != null
          && via.to() != null) {
        synchronized (path) {
          if (path.firstPacketNumberSentToCurrent < 0 && via.to().equals(path.current)) {
            path.firstPacketNumberSentToCurrent = packet.getPacketNumber();
          }
        }
      }
      for (QuicFrame frame : packet.getFrames()) {
        if (frame instanceof NewConnectionIdFrame newId) {
          addConnectionId(path, newId.getConnectionId());
        }
      }
    }
  }

  private static boolean probingOnly(List<QuicFrame> frames) {
    for (QuicFrame frame : frames) {
      if (!(frame instanceof PathChallengeFrame || frame instanceof PathResponseFrame
          || frame instanceof NewConnectionIdFrame || frame instanceof Padding)) {
        return false;
      }
    }
    return true;
  }

  private static long toLong(byte[] data, int offset) {
    long value = 0;
    for (int i = 0; i < 8; i++) {
      value = (value << 8) | (data[offset + i] & 0xff);
    }
    return value;
  }

  @Override
  public String toString() {
    return "MigrationTracker" + Arrays.toString(byFirstAddress.keySet().toArray());
  }
}
