// The persist route is called by the training backend, not by users: it must show the shared
// secret (TRAINING_BACKEND_SECRET) as `Authorization: Bearer <secret>`.
import { createHash, timingSafeEqual } from "node:crypto";

export type SecretCheck = "ok" | "missing_config" | "wrong";

const digest = (s: string) => createHash("sha256").update(s).digest();

export function checkBackendSecret(
  authorization: string | null,
  expected = process.env.TRAINING_BACKEND_SECRET,
): SecretCheck {
  // Unset or short: refuse everything rather than accept anyone (answered 500: the operator must fix it).
  if (!expected || expected.length < 16) return "missing_config";
  const given = authorization?.startsWith("Bearer ") ? authorization.slice("Bearer ".length) : "";
  // Hashes have equal lengths, so the comparison's time says nothing about the secret.
  return timingSafeEqual(digest(given), digest(expected)) ? "ok" : "wrong";
}
