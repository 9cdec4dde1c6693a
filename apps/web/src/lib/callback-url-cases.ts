/**
 * callbackUrl values as they stand in the query string (`/sign-in?callbackUrl=...`). Each leads a
 * browser to another site, or would after one more decode, and must end on this site's default
 * path. The unit test of safeCallbackPath and the browser test of the sign-in page both use this
 * one list, so a form added for one is checked by both.
 */
export const HOSTILE_CALLBACKS = [
  "/%5Cevil.example/",
  "/%09/evil.example/",
  "/%0A/evil.example/",
  "/%0D/evil.example/",
  "/%00/evil.example/",
  "//evil.example/",
  "///evil.example/",
  "/%2F/evil.example/",
  "%2F%2Fevil.example/",
  "/%5C/evil.example/",
  "%5C%5Cevil.example/",
  "%5C%2Fevil.example/",
  "/%252F/evil.example/",
  "/%255Cevil.example/",
  "/%25252F/evil.example/",
  "/.//evil.example/",
  "/..//evil.example/",
  "//user:pass@evil.example/",
  "%EF%BC%8F%EF%BC%8Fevil.example/",
  "https://evil.example/",
  "https:/evil.example/",
  "http:evil.example",
  "javascript:alert(document.domain)",
  "data:text/html,<script>alert(1)</script>",
  "%20//evil.example/",
  "%E3%80%80//evil.example/",
  "/%E2%80%A8/evil.example/",
  "evil.example",
  "",
] as const;
