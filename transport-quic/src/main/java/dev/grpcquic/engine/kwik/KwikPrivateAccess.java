package dev.grpcquic.engine.kwik;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.QuicConnection;
import tech.kwik.core.stream.QuicStreamImpl;
import tech.kwik.core.stream.ReceiveBuffer;
import tech.kwik.core.stream.RetransmitBuffer;
import tech.kwik.core.stream.SendBuffer;

/**
 * Every member of kwik (and agent15) that the adapter reaches past kwik's public API, in one
 * place: each one a typed handle resolved once when this class is initialised, named after its
 * owner, and tied to the workarounds that need it. A kwik upgrade that renames or removes one of
 * them turns the workarounds that need it off (each falls back to what kwik does alone), shows in
 * the one report logged at the first use of the engine ({@link #reportOnce}), and fails
 * {@code KwikPrivateAccessTest}.
 *
 * <p>Classes are looked up without being initialised: {@link KwikAssertions} must set
 * LossDetector's assertion status before that class is initialised.
 */
final class KwikPrivateAccess {

  private static final Logger LOG = Logger.getLogger(KwikPrivateAccess.class.getName());
  private static final ClassLoader KWIK = QuicConnection.class.getClassLoader();

  private static final String STREAM = "tech.kwik.core.stream.QuicStreamImpl";
  private static final String INPUT = "tech.kwik.core.stream.StreamInputStreamImpl";
  private static final String OUTPUT = "tech.kwik.core.stream.StreamOutputStreamImpl";
  private static final String CONNECTION = "tech.kwik.core.impl.QuicConnectionImpl";
  private static final String SERVER_CONNECTION = "tech.kwik.core.server.impl.ServerConnectionImpl";
  private static final String CONNECTOR = "tech.kwik.core.server.impl.ServerConnectorImpl";

  // kwik's streams
  /** Whether a stream's receiving side is finished (read to the end, aborted or reset). */
  static final PrivateField STREAM_INPUT_CLOSED = field(STREAM, "inputClosed", boolean.class);
  /** Credits bytes to the connection's receive window. */
  static final PrivateMethod STREAM_CREDIT_CONNECTION =
      method(STREAM, "updateConnectionFlowControl", int.class);
  /** The stream an input belongs to. */
  static final PrivateField INPUT_STREAM = field(INPUT, "quicStream", QuicStreamImpl.class);
  /** An input's receive buffer (its read offset). */
  static final PrivateField INPUT_RECEIVE_BUFFER =
      field(INPUT, "receiveBuffer", ReceiveBuffer.class);
  /** The last MAX_STREAM_DATA limit an input sent. */
  static final PrivateField INPUT_MAX_DATA_SENT =
      field(INPUT, "lastCommunicatedMaxData", long.class);
  /** An input's final size, -1 until known. */
  static final PrivateField INPUT_FINAL_SIZE = field(INPUT, "finalSize", long.class);
  /** An input's end flags: reset by the peer, aborted by us, closed. */
  static final PrivateField INPUT_RESET = field(INPUT, "reset", boolean.class);
  static final PrivateField INPUT_ABORTED = field(INPUT, "aborted", boolean.class);
  static final PrivateField INPUT_CLOSED = field(INPUT, "closed", boolean.class);
  /** An output's unsent data, data to retransmit, and count of queued send requests. */
  static final PrivateField OUTPUT_SEND_BUFFER = field(OUTPUT, "sendBuffer", SendBuffer.class);
  static final PrivateField OUTPUT_RETRANSMIT_BUFFER =
      field(OUTPUT, "retransmitBuffer", RetransmitBuffer.class);
  static final PrivateField OUTPUT_SEND_REQUESTS_QUEUED = field(OUTPUT, "sendRequestsQueued",
      java.util.concurrent.atomic.AtomicInteger.class);
  /** Whether kwik reset an output (it answers the peer's STOP_SENDING so). */
  static final PrivateField OUTPUT_RESET = field(OUTPUT, "reset", boolean.class);

  // kwik's connections
  /** A connection's TLS engine (agent15). */
  static final PrivateMethod CONNECTION_TLS_ENGINE = method(CONNECTION, "getTlsEngine");
  /** A connection's sender (its congestion controller). */
  static final PrivateMethod CONNECTION_SENDER = method(CONNECTION, "getSender");
  /** A connection's state (handshaking, connected, ...). */
  static final PrivateField CONNECTION_STATE = field(CONNECTION, "connectionState", Object.class);
  /** A connection's packet protection keys per level. */
  static final PrivateField CONNECTION_SECRETS = field(CONNECTION, "connectionSecrets",
      tech.kwik.core.crypto.ConnectionSecrets.class);
  /** The listeners kwik tells of handshake progress. */
  static final PrivateField CONNECTION_HANDSHAKE_LISTENERS =
      field(CONNECTION, "handshakeStateListeners", List.class);
  /** A server connection's sender and TLS engine (fields, read before the handshake ends). */
  static final PrivateField SERVER_SENDER = field(SERVER_CONNECTION, "sender",
      tech.kwik.core.send.SenderImpl.class);
  static final PrivateField SERVER_TLS_ENGINE = field(SERVER_CONNECTION, "tlsEngine",
      tech.kwik.agent15.engine.TrafficSecrets.class);
  /** Derives the 1-RTT keys from the TLS engine's secrets (public, on an internal class). */
  static final PrivateMethod SECRETS_COMPUTE_APPLICATION = method(
      "tech.kwik.core.crypto.ConnectionSecrets", "computeApplicationSecrets",
      tech.kwik.agent15.engine.TrafficSecrets.class);
  /** Lets the sender send 1-RTT packets (public, on an internal class). */
  static final PrivateMethod SENDER_ENABLE_APP_LEVEL =
      method("tech.kwik.core.send.SenderImpl", "enableAppLevel");
  /** The client builder's configuration, and its setter of initial_max_data. */
  static final PrivateField CLIENT_BUILDER_CONFIG =
      field("tech.kwik.core.impl.QuicClientConnectionImpl$BuilderImpl",
      "connectionProperties", Object.class);
  static final PrivateMethod CLIENT_CONFIG_MAX_CONNECTION_BUFFER = method(
      "tech.kwik.core.impl.ClientConnectionConfig", "setMaxConnectionBufferSize", long.class);
  /** agent15's client handshake state. */
  static final PrivateField TLS_CLIENT_STATUS =
      field("tech.kwik.agent15.engine.impl.TlsClientEngineImpl", "status", Object.class);
  /** Whether LossDetector's assertions are off (javac's synthetic field). */
  static final PrivateField LOSS_DETECTOR_ASSERTIONS_DISABLED =
      field(KwikAssertions.LOSS_DETECTOR, "$assertionsDisabled", boolean.class);

  // kwik's server connector
  /** close with a bounded wait for connections in their closing period. */
  static final PrivateMethod CONNECTOR_CLOSE = method(CONNECTOR, "close", java.time.Duration.class);
  /** The connector's shared timer (a non-daemon thread). */
  static final PrivateField CONNECTOR_TIMER = field(CONNECTOR, "sharedScheduledExecutor",
      java.util.concurrent.ExecutorService.class);
  /** The connector's TLS engine factory, its session registry and the registry's timer. */
  static final PrivateField CONNECTOR_TLS_FACTORY = field(CONNECTOR, "tlsEngineFactory",
      tech.kwik.agent15.engine.TlsServerEngineFactory.class);
  static final PrivateField TLS_SESSION_REGISTRY =
      field("tech.kwik.agent15.engine.TlsServerEngineFactory", "tlsSessionRegistry", Object.class);
  static final PrivateField TLS_SESSION_TIMER =
      field("tech.kwik.agent15.engine.impl.TlsSessionRegistryImpl", "scheduledExecutorService",
      java.util.concurrent.ExecutorService.class);

  // The workarounds, each with the members it needs and what is lost without them.
  static final Workaround SEND_STALL_GUARD = new Workaround("send-stall guard (SendStallGuard)",
      "the guard cannot see which streams stalled and nudges every active stream, with back-off",
      OUTPUT_SEND_BUFFER, OUTPUT_RETRANSMIT_BUFFER, OUTPUT_SEND_REQUESTS_QUEUED);
  static final Workaround STOP_SENDING_WATCH = new Workaround(
      "STOP_SENDING watch (StopSendingWatch)",
      "a peer's STOP_SENDING shows only at the stream's next write: a server stream waiting for"
          + " its handler never learns that the client cancelled",
      OUTPUT_RESET);
  static final Workaround READ_WAKEUP_WATCH = new Workaround("read wake-up watch (ReadWakeupWatch)",
      "a read that misses kwik's wake-up waits until the connection closes, holding its thread"
          + " and stream",
      INPUT_ABORTED, INPUT_CLOSED, INPUT_RESET);
  static final Workaround ABANDONED_INPUT_CREDIT = new Workaround(
      "abandoned input credit (AbandonedInputCredit)",
      "streams abandoned with data in flight shrink the connection's receive window for good",
      INPUT_STREAM, INPUT_RECEIVE_BUFFER, INPUT_MAX_DATA_SENT, INPUT_FINAL_SIZE, INPUT_RESET,
      STREAM_CREDIT_CONNECTION);
  static final Workaround HELD_STREAM_RESET = new Workaround(
      "reset of held request streams (KwikInternals.inputClosed)",
      "a held request stream that its client resets is not noticed (admission's stream grants)",
      STREAM_INPUT_CLOSED);
  static final Workaround CLIENT_CONNECTION_WINDOW = new Workaround(
      "client connection window (ConnectionWindow)",
      "the client's connection window stays at 10 stream windows: streams whose readers stall"
          + " can hold up the other streams",
      CLIENT_BUILDER_CONFIG, CLIENT_CONFIG_MAX_CONNECTION_BUFFER);
  static final Workaround SERVER_HELLO_GATE = new Workaround("ServerHello gate (ServerHelloGate)",
      "a ServerHello that arrives before agent15 waits for it is lost and the handshake hangs"
          + " until the connect timeout (rare, under CPU load)",
      CONNECTION_TLS_ENGINE, TLS_CLIENT_STATUS);
  static final Workaround IP_SERVER_NAMES = new Workaround(
      "IP address server names (ServerCertificateCheck)",
      "server certificates are checked against DNS names only: connecting by IP address with"
          + " certificate checks is refused",
      CONNECTION_TLS_ENGINE);
  static final Workaround ZERO_RTT = new Workaround("0-RTT early data (ZeroRtt)",
      "nothing is sent as 0-RTT data", CONNECTION_HANDSHAKE_LISTENERS);
  static final Workaround HALF_RTT_DATA = new Workaround("0.5-RTT data (HalfRttData)",
      "a server's answers to 0-RTT requests wait for the client's Finished (a round trip)",
      CONNECTION_STATE, CONNECTION_SECRETS, SERVER_SENDER, SERVER_TLS_ENGINE,
      SECRETS_COMPUTE_APPLICATION, SENDER_ENABLE_APP_LEVEL);
  static final Workaround LOSS_DETECTOR_CHECK = new Workaround(
      "LossDetector assertion check (KwikAssertions)",
      "whether LossDetector's assertions are off cannot be checked (they are still turned off)",
      LOSS_DETECTOR_ASSERTIONS_DISABLED);
  static final Workaround CONNECTOR_CLOSE_WAIT = new Workaround(
      "bounded server close (KwikServerEndpoint)",
      "closing a server waits up to kwik's 30 s for connections in their closing period",
      CONNECTOR_CLOSE);
  static final Workaround CONNECTOR_THREADS = new Workaround(
      "server executor threads stopped (KwikServerEndpoint)",
      "two non-daemon kwik threads outlive a closed server (the JVM does not exit) and keep"
          + " their pool-N names",
      CONNECTOR_TIMER, CONNECTOR_TLS_FACTORY, TLS_SESSION_REGISTRY, TLS_SESSION_TIMER);
  static final Workaround CHANNELZ = new Workaround("cipher suite and congestion window in stats",
      "connection stats and TLS info show no cipher suite, congestion window or bytes in flight",
      CONNECTION_TLS_ENGINE, CONNECTION_SENDER);

  private static final List<Workaround> WORKAROUNDS = List.of(SEND_STALL_GUARD,
      STOP_SENDING_WATCH, READ_WAKEUP_WATCH, ABANDONED_INPUT_CREDIT, HELD_STREAM_RESET,
      CLIENT_CONNECTION_WINDOW, SERVER_HELLO_GATE, IP_SERVER_NAMES, ZERO_RTT, HALF_RTT_DATA,
      LOSS_DETECTOR_CHECK, CONNECTOR_CLOSE_WAIT, CONNECTOR_THREADS, CHANNELZ);
  private static final AtomicBoolean REPORTED = new AtomicBoolean();

  private KwikPrivateAccess() {}

  /** Every workaround that needs a private member, in report order. */
  static List<Workaround> workarounds() {
    return WORKAROUNDS;
  }

  /** Every member, once, in the order the workarounds name them. */
  static List<Member> members() {
    Set<Member> all = new LinkedHashSet<>();
    for (Workaround w : WORKAROUNDS) {
      all.addAll(w.members());
    }
    return List.copyOf(all);
  }

  /**
   * Logs the report once per JVM, at the first use of the engine: at FINE when every workaround
   * is active (nothing to act on: a healthy transport logs above FINE only what needs a look,
   * as OversizedRequestTest holds), at WARNING when some are off (a kwik that does not match
   * this adapter: stalls or leaks may follow).
   */
  static void reportOnce() {
    if (!REPORTED.compareAndSet(false, true)) {
      return;
    }
    boolean allActive = WORKAROUNDS.stream().allMatch(Workaround::active);
    Level level = allActive ? Level.FINE : Level.WARNING;
    if (LOG.isLoggable(level)) {
      LOG.log(level, String.join("\n", report(WORKAROUNDS)));
    }
  }

  /** The report's lines: a heading, then one line per workaround, active or off and why. */
  static List<String> report(List<Workaround> workarounds) {
    List<String> lines = new ArrayList<>();
    long off = workarounds.stream().filter(w -> !w.active()).count();
    lines.add("kwik workarounds: " + (workarounds.size() - off) + " active, " + off + " off"
        + (off == 0 ? "" : " (kwik members not reachable; is this kwik 0.10.8?)"));
    for (Workaround w : workarounds) {
      if (w.active()) {
        lines.add("  active: " + w.name());
      } else {
        lines.add("  OFF: " + w.name() + ": " + String.join(", ", w.unreachable())
            + " not reachable; " + w.consequence());
      }
    }
    return lines;
  }

  /** The report of this JVM's kwik. */
  static List<String> report() {
    return report(WORKAROUNDS);
  }

  /** The field {@code owner.name}, reachable when its type is (or extends) {@code type}. */
  static PrivateField field(String owner, String name, Class<?> type) {
    try {
      Field f = Class.forName(owner, false, KWIK).getDeclaredField(name);
      if (!type.isAssignableFrom(f.getType())) {
        throw new NoSuchFieldException(name + " is a " + f.getType().getName() + ", not a "
            + type.getName());
      }
      f.setAccessible(true);
      return new PrivateField(owner, name, f, null);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return new PrivateField(owner, name, null, e);
    }
  }

  static PrivateMethod method(String owner, String name, Class<?>... parameters) {
    try {
      Method m = Class.forName(owner, false, KWIK).getDeclaredMethod(name, parameters);
      m.setAccessible(true);
      return new PrivateMethod(owner, name, m, null);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return new PrivateMethod(owner, name, null, e);
    }
  }

  /** A kwik member reached by reflection; unreachable when its lookup failed. */
  abstract static class Member {
    private final String owner;
    private final String name;
    private final Throwable failure;

    Member(String owner, String name, Throwable failure) {
      this.owner = owner;
      this.name = name;
      this.failure = failure;
    }

    boolean reachable() {
      return failure == null;
    }

    /** Why the lookup failed, or null. */
    Throwable failure() {
      return failure;
    }

    /** The declaring class's name without the package. */
    String ownerSimpleName() {
      return owner.substring(owner.lastIndexOf('.') + 1);
    }

    @Override
    public String toString() {
      return ownerSimpleName() + "." + name + (this instanceof PrivateMethod ? "()" : "");
    }
  }

  /** A field; {@link #field()} is null when unreachable. */
  static final class PrivateField extends Member {
    private final Field field;

    PrivateField(String owner, String name, Field field, Throwable failure) {
      super(owner, name, failure);
      this.field = field;
    }

    Field field() {
      return field;
    }

    /** Whether {@code target} is an instance of the field's class (false when unreachable). */
    boolean declaredBy(Object target) {
      return field != null && field.getDeclaringClass().isInstance(target);
    }

    Object get(Object target) throws IllegalAccessException {
      return field.get(target);
    }

    boolean getBoolean(Object target) throws IllegalAccessException {
      return field.getBoolean(target);
    }

    long getLong(Object target) throws IllegalAccessException {
      return field.getLong(target);
    }
  }

  /** A method; {@link #invoke} throws NullPointerException when unreachable. */
  static final class PrivateMethod extends Member {
    private final Method method;

    PrivateMethod(String owner, String name, Method method, Throwable failure) {
      super(owner, name, failure);
      this.method = method;
    }

    Object invoke(Object target, Object... args) throws ReflectiveOperationException {
      return method.invoke(target, args);
    }
  }

  /** A workaround: active when every member it needs is reachable. */
  record Workaround(String name, String consequence, List<Member> members) {
    Workaround(String name, String consequence, Member... members) {
      this(name, consequence, List.of(members));
    }

    boolean active() {
      return members.stream().allMatch(Member::reachable);
    }

    /** The members it needs that are not reachable, by name. */
    List<String> unreachable() {
      return members.stream().filter(m -> !m.reachable()).map(Member::toString).toList();
    }
  }
}
