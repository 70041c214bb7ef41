// Relative links and #anchors in README.md and docs/*.md must resolve: `npm test` runs this, as
// `npx tsx dev/docs/check-links.ts` does alone. Web links are not fetched (no network in tests).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export type BrokenLink = { file: string; line: number; target: string; why: string };

/** GitHub's heading anchor: lowercase, punctuation dropped (but - and _), each space a -. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link in a heading anchors on its text
    .replace(/<[^>]+>/g, "")
    .replace(/[`*]/g, "");
  return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(/ /g, "-");
}

/** The lines outside fenced code blocks, with inline code blanked (a link shown as code is not one). */
function proseLines(markdown: string): { text: string; raw: string; line: number }[] {
  const out: { text: string; raw: string; line: number }[] = [];
  let fence: string | null = null;
  markdown.split("\n").forEach((text, i) => {
    const opener = /^\s*(```+|~~~+)/.exec(text)?.[1];
    if (fence !== null) {
      if (opener && opener[0] === fence[0] && opener.length >= fence.length) fence = null;
      return;
    }
    if (opener) {
      fence = opener;
      return;
    }
    out.push({ text: text.replace(/(`+)(?:(?!\1).)+\1/g, ""), raw: text, line: i + 1 });
  });
  return out;
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats get -1, -2, …). */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { raw } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const LINK = /!?\[(?:[^\]]|\][^(])*?\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;

/** The broken relative links and anchors in `files` (paths relative to `root`). */
export function checkLinks(root: string, files: string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (path: string) => {
    if (!anchorCache.has(path)) anchorCache.set(path, anchorsOf(readFileSync(path, "utf8")));
    return anchorCache.get(path)!;
  };
  for (const file of files) {
    const path = resolve(root, file);
    for (const { text, line } of proseLines(readFileSync(path, "utf8"))) {
      for (const match of text.matchAll(LINK)) {
        const target = match[1] ?? "";
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check
        const [pathPart, anchor] = target.split("#", 2) as [string, string | undefined];
        const to = pathPart === "" ? path : resolve(dirname(path), decodeURIComponent(pathPart));
        if (!existsSync(to)) {
          broken.push({ file, line, target, why: `no such file: ${relative(root, to)}` });
          continue;
        }
        if (anchor === undefined || anchor === "") continue;
        if (!to.endsWith(".md") || statSync(to).isDirectory()) continue; // line anchors of code are GitHub's
        if (!anchors(to).has(decodeURIComponent(anchor).toLowerCase())) {
          broken.push({ file, line, target, why: `no heading #${anchor} in ${relative(root, to)}` });
        }
      }
    }
  }
  return broken;
}

/** README.md and docs/*.md: the files whose links `npm test` checks. */
export function documentationFiles(root: string): string[] {
  const docs = existsSync(join(root, "docs"))
    ? readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)
    : [];
  return [...(existsSync(join(root, "README.md")) ? ["README.md"] : []), ...docs];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, "..", "..");
  const files = documentationFiles(root);
  const broken = checkLinks(root, files);
  for (const b of broken) console.error(`${b.file}:${b.line}: ${b.target}: ${b.why}`);
  console.log(`links: ${files.length} files, ${broken.length} broken`);
  process.exit(broken.length === 0 ? 0 : 1);
}
