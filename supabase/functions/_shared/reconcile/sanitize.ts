// Backend answers made storable, once, at the boundary. Postgres refuses a whole statement for one
// unusable value (a NUL in text, a lone surrogate in jsonb, a date it cannot read), so every string
// a backend supplies passes through here before it can reach a change, the evidence or the summary.
// Pure: no I/O, no clock.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const NUL = /\u0000/g;
const NUL_OR_SURROGATE = /[\u0000\uD800-\uDFFF]/;

/**
 * `text` with NULs removed, lone surrogates replaced by U+FFFD, and at most `maxCodePoints` code
 * points (cut by code point, never inside a surrogate pair; a cut text ends in "…").
 */
export function storableText(text: string, maxCodePoints: number): string {
  // Most texts: nothing to remove or replace, and no more UTF-16 units (so no more code points)
  // than may be kept. The rest below would return them as they are.
  if (text.length <= maxCodePoints && !NUL_OR_SURROGATE.test(text)) return text;
  // A code point is at most two UTF-16 units, so this slice keeps every code point we may keep,
  // and spares the scan below a 30 MB string. A pair it splits lies past the cut.
  const head = text.length > 2 * maxCodePoints + 2 ? text.slice(0, 2 * maxCodePoints + 2) : text;
  const clean = head.replace(NUL, "").replace(LONE_SURROGATE, "\uFFFD");
  let codePoints = 0;
  let end = 0;
  for (const char of clean) {
    if (codePoints === maxCodePoints) return `${clean.slice(0, cutBefore(clean, end))}…`;
    codePoints++;
    end += char.length;
  }
  return clean;
}

// Room for the ellipsis: drop the last kept code point.
function cutBefore(text: string, end: number): number {
  const last = text.codePointAt(end - 1);
  const lastIsLowSurrogate = last !== undefined && last >= 0xdc00 && last <= 0xdfff;
  return end - (lastIsLowSurrogate ? 2 : 1);
}

/** Every string inside `value` made storable; the same object back when nothing needed it. */
export function storableDeep<T>(value: T, maxCodePoints: number): T {
  if (typeof value === "string") return storableText(value, maxCodePoints) as T;
  // A copy is made only from the first item that changed (most answers need none).
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const clean = storableDeep(item, maxCodePoints);
      if (out === null && clean !== item) out = value.slice(0, i);
      if (out !== null) out.push(clean);
    }
    return (out ?? value) as T;
  }
  if (typeof value === "object" && value !== null) {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    let out: Record<string, unknown> | null = null;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const item = object[key];
      const clean = storableDeep(item, maxCodePoints);
      const cleanKey = storableText(key, maxCodePoints);
      // A key needs storing as much as a value does (a NUL in a key is refused by jsonb too).
      if (out === null && (clean !== item || cleanKey !== key)) {
        out = {};
        for (let j = 0; j < i; j++) out[keys[j]!] = object[keys[j]!]; // those were clean as they are
      }
      if (out !== null) out[cleanKey] = clean;
    }
    return (out ?? value) as T;
  }
  return value;
}

/** Oldest and newest finish times we believe; anything outside is a broken clock or a joke. */
const EARLIEST_YEAR = 2000;
const LATEST_YEAR = 2100;

// YYYY-MM-DD, optionally THH:MM[:SS[.fraction]], optionally Z or ±HH[:]MM. Nothing else:
// Date.parse accepts "June 2024" and "2024-02-30", and Postgres refuses both.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/i;

export type StrictTimestamp = { value: string; note: null } | { value: null; note: string };

/** `raw` when it is a real ISO 8601 time within 2000-2100; otherwise null and why. */
export function strictTimestamp(raw: string): StrictTimestamp {
  const m = ISO_8601.exec(raw);
  const why = m ? outOfRange(m) : "not ISO 8601";
  if (why === null) return { value: raw, note: null };
  return { value: null, note: `ignored ${JSON.stringify(storableText(raw, 40))}: ${why}` };
}

function outOfRange(m: RegExpExecArray): string | null {
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = m.slice(1).map((part) =>
    part === undefined ? 0 : Number(part)
  ) as number[];
  if (year! < EARLIEST_YEAR || year! > LATEST_YEAR) return `year outside ${EARLIEST_YEAR}-${LATEST_YEAR}`;
  if (month! < 1 || month! > 12) return "no such month";
  if (day! < 1 || day! > daysIn(year!, month!)) return "no such day";
  if (hour! > 23 || minute! > 59 || second! > 59) return "no such time of day";
  if (offsetHours! > 15 || offsetMinutes! > 59) return "no such time zone offset";
  return null;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
