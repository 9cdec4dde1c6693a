import { describe, expect, it } from "vitest";

import { contentDisposition } from "./content-disposition";

describe("contentDisposition", () => {
  it("gives an ASCII fallback and the exact UTF-8 name (RFC 6266/8187)", () => {
    expect(contentDisposition("report.pdf")).toBe("attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
    expect(contentDisposition("système (1).log", "inline")).toBe(
      "inline; filename=\"syst_me (1).log\"; filename*=UTF-8''syst%C3%A8me%20%281%29.log",
    );
    expect(contentDisposition('a"b;c.txt')).toBe("attachment; filename=\"a_b;c.txt\"; filename*=UTF-8''a%22b%3Bc.txt");
    expect(contentDisposition("文件.txt")).toBe("attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%96%87%E4%BB%B6.txt");
  });

  it("uses only the last path segment", () => {
    expect(contentDisposition("logs/2025/system.log")).toBe("attachment; filename=\"system.log\"; filename*=UTF-8''system.log");
    expect(contentDisposition("C:\\Users\\robot\\trace.bin")).toBe("attachment; filename=\"trace.bin\"; filename*=UTF-8''trace.bin");
  });

  it("never lets control characters reach the header", () => {
    expect(contentDisposition("a\r\nSet-Cookie: x")).not.toMatch(/[\r\n]/);
  });
});
