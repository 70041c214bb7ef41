// Bearer-secret check in constant time: the function is deployed with verify_jwt = false.
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string) => createHash("sha256").update(value).digest();

export function bearerMatches(authorization: string | null, secret: string): boolean {
  // The scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" are the same.
  const match = /^Bearer +(.+)$/i.exec(authorization ?? "");
  // Hashing first gives equal lengths, so the comparison time says nothing about the secret.
  return timingSafeEqual(digest(match?.[1] ?? ""), digest(secret)) && match !== null;
}
