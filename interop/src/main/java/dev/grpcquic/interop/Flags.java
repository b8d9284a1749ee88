package dev.grpcquic.interop;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code --name=value} command line flags, checked against the names a command knows. */
final class Flags {
  private Flags() {}

  static Map<String, String> parse(String[] args, String... known) {
    List<String> names = List.of(known);
    Map<String, String> values = new HashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("not a --flag: " + arg + "; flags: " + names);
      }
      int eq = arg.indexOf('=');
      String name = eq < 0 ? arg.substring(2) : arg.substring(2, eq);
      String value = eq < 0 ? "true" : arg.substring(eq + 1);
      if (!names.contains(name)) {
        throw new IllegalArgumentException("unknown flag --" + name + "; flags: " + names);
      }
      values.put(name, value);
    }
    return values;
  }
}
