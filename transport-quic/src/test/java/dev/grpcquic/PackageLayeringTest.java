package dev.grpcquic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The package layering of docs/design.md: the public package {@code dev.grpcquic} sits on top,
 * nothing below it names one of its classes, and its public signatures name no engine or
 * transport type.
 */
class PackageLayeringTest {

  /** The main sources, from the module directory the tests run in. */
  private static final Path ROOT = Path.of("src", "main", "java", "dev", "grpcquic");

  /** A class of the package {@code dev.grpcquic} itself (not of a subpackage). */
  private static final Pattern PUBLIC_PACKAGE_CLASS =
      Pattern.compile("\\bdev\\.grpcquic\\.([A-Z]\\w*)");

  private static final Pattern COMMENT =
      Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);

  private static final List<String> INTERNAL_PACKAGES =
      List.of("dev.grpcquic.engine", "dev.grpcquic.transport");

  @Test
  @Timeout(30)
  void noSubpackageRefersToThePublicPackage() throws IOException {
    List<Path> sources;
    try (Stream<Path> files = Files.walk(ROOT)) {
      sources = files
          .filter(f -> f.toString().endsWith(".java"))
          .filter(f -> !f.getParent().equals(ROOT))
          .collect(Collectors.toList());
    }
    assertTrue(sources.size() > 50, "subpackage sources under " + ROOT.toAbsolutePath());
    List<String> edges = new ArrayList<>();
    for (Path source : sources) {
      String code = COMMENT.matcher(Files.readString(source)).replaceAll(" ");
      Matcher m = PUBLIC_PACKAGE_CLASS.matcher(code);
      while (m.find()) {
        edges.add(ROOT.relativize(source) + " -> dev.grpcquic." + m.group(1));
      }
    }
    assertEquals(List.of(), edges, "classes below dev.grpcquic that name a class of it");
  }

  @Test
  @Timeout(30)
  void publicApiNamesNoEngineOrTransportType() throws Exception {
    List<String> names;
    try (Stream<Path> files = Files.list(ROOT)) {
      names = files
          .map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".java"))
          .map(n -> "dev.grpcquic." + n.substring(0, n.length() - ".java".length()))
          .collect(Collectors.toList());
    }
    assertTrue(names.contains(QuicAttributes.class.getName()), names.toString());
    List<String> leaks = new ArrayList<>();
    for (String name : names) {
      Class<?> c = Class.forName(name, false, getClass().getClassLoader());
      check(c, leaks);
    }
    assertEquals(List.of(), leaks, "public signatures of dev.grpcquic naming internal types");
  }

  private static void check(Class<?> c, List<String> leaks) {
    if (!Modifier.isPublic(c.getModifiers())) {
      return;
    }
    note(c.getName() + " extends", c.getGenericSuperclass(), leaks);
    for (Type t : c.getGenericInterfaces()) {
      note(c.getName() + " implements", t, leaks);
    }
    for (Field f : c.getDeclaredFields()) {
      if (visible(f)) {
        note(c.getName() + "." + f.getName(), f.getGenericType(), leaks);
      }
    }
    for (Constructor<?> k : c.getDeclaredConstructors()) {
      if (visible(k)) {
        for (Type t : k.getGenericParameterTypes()) {
          note(c.getName() + "(...)", t, leaks);
        }
      }
    }
    for (Method m : c.getDeclaredMethods()) {
      if (visible(m) && !m.isSynthetic()) {
        String where = c.getName() + "." + m.getName() + "()";
        note(where, m.getGenericReturnType(), leaks);
        for (Type t : m.getGenericParameterTypes()) {
          note(where, t, leaks);
        }
        for (Type t : m.getGenericExceptionTypes()) {
          note(where, t, leaks);
        }
      }
    }
    for (Class<?> nested : c.getDeclaredClasses()) {
      check(nested, leaks);
    }
  }

  private static boolean visible(Member member) {
    return (member.getModifiers() & (Modifier.PUBLIC | Modifier.PROTECTED)) != 0;
  }

  private static void note(String where, Type type, List<String> leaks) {
    if (type == null) {
      return;
    }
    String name = type.getTypeName();
    for (String internal : INTERNAL_PACKAGES) {
      if (name.contains(internal + ".")) {
        leaks.add(where + ": " + name);
      }
    }
  }
}
