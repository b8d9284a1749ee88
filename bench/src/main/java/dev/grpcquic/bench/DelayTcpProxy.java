package dev.grpcquic.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A user-space TCP proxy on 127.0.0.1 that delays the bytes of each direction by a fixed time: a
 * path with RTT = 2 x delay for TCP, the counterpart of {@link DelayUdpRelay}. The kernel
 * completes TCP handshakes on loopback at once, so the proxy charges the handshake itself (see
 * {@link #acceptLoop}).
 */
final class DelayTcpProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final InetSocketAddress server;
  private final long oneWayNanos;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  DelayTcpProxy(InetSocketAddress server, long oneWayNanos) throws IOException {
    this.server = server;
    this.oneWayNanos = oneWayNanos;
    this.listener = new ServerSocket();
    listener.bind(new InetSocketAddress("127.0.0.1", 0));
    Thread t = new Thread(this::acceptLoop, "relay-tcp-accept");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /**
   * On a real path the client's SYN leaves at 0, the SYN-ACK is back at 1 RTT and the client's
   * first bytes reach the server at 1.5 RTT; the server's accept completes with that ACK, so its
   * first bytes reach the client at 2 RTT at the earliest. The proxy holds client bytes until 1 RTT
   * after the accept and server bytes until 1.5 RTT, then delays each by the one-way time.
   */
  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return;
      }
      long acceptedAt = System.nanoTime();
      try {
        client.setTcpNoDelay(true);
        Socket upstream = new Socket();
        upstream.setTcpNoDelay(true);
        upstream.connect(server);
        sockets.add(client);
        sockets.add(upstream);
        // client -> server: the first bytes could only have left the client one RTT after its SYN
        pump(client, upstream, acceptedAt + 2 * oneWayNanos, "relay-tcp-up");
        pump(upstream, client, acceptedAt + 3 * oneWayNanos, "relay-tcp-down");
      } catch (IOException e) {
        closeQuietly(client);
      }
    }
  }

  private void pump(Socket from, Socket to, long notBeforeNanos, String name) throws IOException {
    InputStream in = from.getInputStream();
    OutputStream out = to.getOutputStream();
    DelayLine line = new DelayLine(name + "-line", oneWayNanos);
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[65536];
      try {
        while (true) {
          int n = in.read(buffer);
          if (n < 0) {
            line.submit(() -> closeQuietly(to));
            return;
          }
          byte[] chunk = java.util.Arrays.copyOf(buffer, n);
          long hold = notBeforeNanos - System.nanoTime();
          if (hold > 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(hold); // emulated SYN round trip
          }
          line.submit(() -> {
            try {
              out.write(chunk);
              out.flush();
            } catch (IOException e) {
              closeQuietly(to);
            }
          });
        }
      } catch (IOException e) {
        line.submit(() -> closeQuietly(to));
      }
    }, name);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // ignore
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    listener.close();
    sockets.forEach(DelayTcpProxy::closeQuietly);
  }
}
