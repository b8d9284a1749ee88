package dev.grpcquic.engine.kwik;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.EngineTestSupport;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.testing.LogCapture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every kwik member the adapter reaches past kwik's public API is there, with the type it is
 * used as: a kwik upgrade that renames, removes or retypes one fails here, naming it, instead of
 * silently turning a workaround off.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KwikPrivateAccessTest {

  @Test
  void everyMemberIsReachable() {
    List<String> missing = new ArrayList<>();
    for (KwikPrivateAccess.Member member : KwikPrivateAccess.members()) {
      if (!member.reachable()) {
        List<String> neededBy = KwikPrivateAccess.workarounds().stream()
            .filter(w -> w.members().contains(member)).map(KwikPrivateAccess.Workaround::name)
            .toList();
        missing.add(member + " (" + member.failure() + "), needed by " + neededBy);
      }
    }
    assertTrue(missing.isEmpty(), "kwik members not reachable:\n  " + String.join("\n  ", missing));
  }

  @Test
  void everyWorkaroundIsActive() {
    List<String> report = KwikPrivateAccess.report();
    assertEquals(KwikPrivateAccess.workarounds().size() + 1, report.size(),
        String.join("\n", report));
    for (KwikPrivateAccess.Workaround w : KwikPrivateAccess.workarounds()) {
      assertTrue(w.active(), w.name() + ": " + w.unreachable());
      assertTrue(report.contains("  active: " + w.name()), String.join("\n", report));
    }
    assertTrue(report.get(0).contains(" 0 off"), report.get(0));
  }

  /** What the report says of a kwik whose member is gone, or has another type. */
  @Test
  void anUnreachableMemberIsNamedWithItsConsequence() {
    KwikPrivateAccess.Member gone = KwikPrivateAccess.field(
        "tech.kwik.core.stream.StreamOutputStreamImpl", "renamedInANewerKwik", boolean.class);
    KwikPrivateAccess.Member retyped = KwikPrivateAccess.field(
        "tech.kwik.core.stream.StreamOutputStreamImpl", "reset", long.class);
    KwikPrivateAccess.Member noMethod = KwikPrivateAccess.method(
        "tech.kwik.core.impl.QuicConnectionImpl", "getTlsEngine", int.class);
    assertFalse(gone.reachable());
    assertFalse(retyped.reachable());
    assertFalse(noMethod.reachable());
    // Reachable whatever the kwik: the report below does not depend on it.
    KwikPrivateAccess.Member here = KwikPrivateAccess.field(
        ConnectionTicker.class.getName(), "TICK_MILLIS", long.class);
    assertTrue(here.reachable());
    KwikPrivateAccess.Workaround working = new KwikPrivateAccess.Workaround("working watch",
        "nothing", here);
    KwikPrivateAccess.Workaround broken = new KwikPrivateAccess.Workaround("broken watch",
        "the thing it repairs stays broken", here, gone, retyped, noMethod);
    List<String> report = KwikPrivateAccess.report(List.of(working, broken));
    assertEquals(List.of(
        "kwik workarounds: 1 active, 1 off (kwik members not reachable; is this kwik 0.10.8?)",
        "  active: working watch",
        "  OFF: broken watch: StreamOutputStreamImpl.renamedInANewerKwik,"
            + " StreamOutputStreamImpl.reset, QuicConnectionImpl.getTlsEngine() not reachable;"
            + " the thing it repairs stays broken"), report);
  }

  /** The first use of the engine logs the report once, at FINE when nothing is missing. */
  @Test
  void firstUseLogsTheReportOnce() throws Exception {
    List<LogRecord> records;
    try (LogCapture log = new LogCapture(KwikPrivateAccess.class.getName(), Level.FINE);
        KwikServerEndpoint server = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
            EngineTestSupport.acceptor(s -> new EngineTestSupport.Recorder(s, true)))) {
      QuicConnection client = EngineTestSupport.connect(new KwikClientEngine(),
          server.localAddress(), new EngineTestSupport.ClientHandler());
      client.close(0, "");
      records = log.records();
    }
    assertEquals(1, records.size(), "report records: " + records.size());
    assertEquals(Level.FINE, records.get(0).getLevel());
    assertEquals(String.join("\n", KwikPrivateAccess.report()), records.get(0).getMessage());
  }
}
