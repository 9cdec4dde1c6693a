import { describe, expect, it } from "vitest";
import {
  filenameFolders,
  filenameProblem,
  filenamesClash,
  normaliseFilename,
  isValidContentType,
  isValidDeviceId,
  parseSessionObjectKey,
  sessionObjectKey,
  utf8Length,
} from "./names";

describe("device ids", () => {
  it.each(["ROBOT-ABC123", "a", "A1_b.c-d", "x".repeat(64)])("accept %s", (id) => {
    expect(isValidDeviceId(id)).toBe(true);
  });
  it.each(["", "-lead", ".lead", "_lead", "a/b", "a+b", "a#b", "x".repeat(65), "sp ace", "ünï", 42, null])("refuse %s", (id) => {
    expect(isValidDeviceId(id)).toBe(false);
  });
});

describe("file names", () => {
  it.each(["image_001.jpg", "logs/system.log", "a/b/c/d.txt", ".hidden", "..dots", "name with spaces.txt", "ünïcødé.txt", "x".repeat(255)])(
    "accept %s",
    (name) => {
      expect(filenameProblem(name)).toBeNull();
    },
  );

  it.each([
    ["", "empty"],
    ["../x", "dot_segment"],
    ["a/../b", "dot_segment"],
    ["./a", "dot_segment"],
    ["a/.", "dot_segment"],
    ["..", "dot_segment"],
    ["a//b", "empty_segment"],
    ["a/", "empty_segment"],
    ["/abs", "leading_slash"],
    ["a\\b", "backslash"],
    ["..\\..\\x", "backslash"],
    ["a\u0000b", "control_character"],
    ["a\nb", "control_character"],
    ["tab\tname", "control_character"],
    ["del\u007f", "control_character"],
    ["c1\u0085", "control_character"],
    ["x".repeat(256), "too_long"],
    ["é".repeat(128), "too_long"],
    ["${filename}", "template_sequence"],
    ["a/${x}.bin", "template_sequence"],
    ["${", "template_sequence"],
    ["invoice\u202egpj.exe", "invisible_character"],
    ["a\u202ab", "invisible_character"],
    ["a\u2066b\u2069", "invisible_character"],
    ["a\u200eb", "invisible_character"],
    ["a\u200fb", "invisible_character"],
    ["a\u061cb", "invisible_character"],
    ["zero\u200bwidth", "invisible_character"],
    ["\ufeffbom", "invisible_character"],
    ["line\u2028sep", "invisible_character"],
    ["lone\ud800", "invisible_character"],
  ])("refuse %j (%s)", (name, problem) => {
    expect(filenameProblem(name)).toBe(problem);
  });

  it.each(["$filename", "price$5.txt", "{a}", "a\u200db", "👨\u200d👩\u200d👧.png", "فایل\u200cها.txt"])("accept %j", (name) => {
    expect(filenameProblem(name)).toBeNull();
  });

  it("normalise to NFC, so the composed and decomposed spellings are one name", () => {
    expect(normaliseFilename("cafe\u0301.txt")).toBe("caf\u00e9.txt");
    expect(normaliseFilename("caf\u00e9.txt")).toBe("caf\u00e9.txt");
  });

  it("name the folders a file lies in, and which names clash", () => {
    expect(filenameFolders("a/b/c.txt")).toEqual(["a", "a/b"]);
    expect(filenameFolders("c.txt")).toEqual([]);
    expect(filenamesClash("a", "a/b.txt")).toBe(true);
    expect(filenamesClash("a/b/c", "a/b")).toBe(true);
    expect(filenamesClash("a", "ab/c")).toBe(false);
    expect(filenamesClash("a", "a")).toBe(false);
  });

  it("count UTF-8 bytes, not characters", () => {
    expect(utf8Length("aé€😀")).toBe(1 + 2 + 3 + 4);
    expect(utf8Length("é".repeat(127))).toBe(254);
    expect(filenameProblem("é".repeat(127))).toBeNull();
  });
});

describe("object keys", () => {
  it("place a file under sessions/{device}/{session}/", () => {
    expect(sessionObjectKey("ROBOT-ABC123", 123, "image_001.jpg")).toBe("sessions/ROBOT-ABC123/123/image_001.jpg");
    expect(sessionObjectKey("R1", 7, "logs/system.log")).toBe("sessions/R1/7/logs/system.log");
  });

  it.each([
    ["../../other/x", 1, "R1"],
    ["/etc/passwd", 1, "R1"],
    ["a//b", 1, "R1"],
    ["ok.txt", 0, "R1"],
    ["ok.txt", 1.5, "R1"],
    ["ok.txt", 1, "../R2"],
  ])("refuse to build a key that could escape (%s, %s, %s)", (name, session, device) => {
    expect(() => sessionObjectKey(device, session, name)).toThrow();
  });

  it("parse back what they build and nothing else", () => {
    expect(parseSessionObjectKey("sessions/R1/7/logs/system.log")).toEqual({ deviceId: "R1", sessionId: 7, filename: "logs/system.log" });
    for (const bad of [
      "sessions/R1/7/",
      "sessions/R1/0/x",
      "sessions/R1/07/x",
      "sessions/R1/7/../x",
      "other/R1/7/x",
      "sessions/R1/7//x",
      "sessions/R1/99999999999/x",
    ]) {
      expect(parseSessionObjectKey(bad)).toBeNull();
    }
  });
});

describe("content types", () => {
  it.each([
    "image/jpeg",
    "application/octet-stream",
    "text/plain; charset=utf-8",
    "application/vnd.ros.bag+x",
    'text/plain;format="flowed"',
  ])("accept %s", (value) => {
    expect(isValidContentType(value)).toBe(true);
  });
  it.each(["", "image", "image/", "/jpeg", "image/jpeg/x", "text/plain; charset", "a b/c", "image/jpeg\r\nX-Evil: 1", 5])(
    "refuse %j",
    (value) => {
      expect(isValidContentType(value)).toBe(false);
    },
  );
});
