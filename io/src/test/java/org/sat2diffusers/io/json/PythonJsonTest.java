package org.sat2diffusers.io.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** json.dumps(indent=2) byte for byte, against CPython's output in python_json_cases.json. */
class PythonJsonTest {

  static Stream<Arguments> pythonCases() throws IOException {
    try (InputStream in = PythonJsonTest.class.getResourceAsStream("python_json_cases.json")) {
      List<Arguments> cases = new ArrayList<>();
      for (JsonNode c : new ObjectMapper().readTree(in)) {
        cases.add(Arguments.of(c.get("name").asText(), c.get("input").asText(), c.get("sorted").asText(),
            c.get("unsorted").asText()));
      }
      assertTrue(cases.size() >= 10, "only " + cases.size() + " cases");
      return cases.stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pythonCases")
  void parsedInputDumpsLikePython(String name, String input, String sorted, String unsorted) throws IOException {
    Object value = PythonJson.parse(input);
    assertEquals(sorted, PythonJson.dumps(value, true), name + " sort_keys=True");
    assertEquals(unsorted, PythonJson.dumps(value, false), name + " sort_keys=False");
  }

  @Test
  void javaTreesWriteLikePython() {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("z_int", 3);
    config.put("a_long", 1L << 40);
    config.put("big", BigInteger.TWO.pow(70));
    config.put("float", 0.5f); // a Java float is widened exactly, as Python widens a float32
    config.put("none", null);
    config.put("list", Arrays.asList(1e-5, null, true));
    String expected = "{\n  \"a_long\": 1099511627776,\n  \"big\": 1180591620717411303424,\n  \"float\": 0.5,\n"
        + "  \"list\": [\n    1e-05,\n    null,\n    true\n  ],\n  \"none\": null,\n  \"z_int\": 3\n}";
    assertEquals(expected, PythonJson.dumps(config, true));
    assertArrayEquals((expected + "\n").getBytes(StandardCharsets.US_ASCII), PythonJson.fileBytes(config, true));
  }

  @Test
  void rejectsWhatJsonCannotHold() {
    Map<Object, Object> intKeys = new HashMap<>(Map.of(1, "one"));
    IllegalArgumentException badKey = assertThrows(IllegalArgumentException.class, () -> PythonJson.dumps(intKeys, true));
    assertTrue(badKey.getMessage().contains("keys must be strings"), badKey.getMessage());
    IllegalArgumentException badValue =
        assertThrows(IllegalArgumentException.class, () -> PythonJson.dumps(List.of(new Object() {}), true));
    assertTrue(badValue.getMessage().contains("cannot write"), badValue.getMessage());
  }
}
