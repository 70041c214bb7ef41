import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { anchorsOf, checkLinks, documentationFiles, slug } from "./check-links.ts";

describe("the link checker", () => {
  const root = mkdtempSync(join(tmpdir(), "check-links-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "docs"));
  writeFileSync(
    join(root, "README.md"),
    [
      "# Demo",
      "[good file and anchor](docs/guide.md#the-backend-contract-v2)",
      "[broken file](docs/missing.md)",
      "[broken anchor](docs/guide.md#no-such-heading)",
      "[web links are not fetched](https://example.com/nowhere)",
      "`[shown as code](docs/missing.md)` is not a link",
      "```",
      "[inside a fence](docs/missing.md)",
      "```",
    ].join("\n"),
  );
  writeFileSync(
    join(root, "docs/guide.md"),
    "# Guide\n\n## The `backend` contract (v2)!\n\n[same-file anchor](#guide) [broken same-file](#nope)\n",
  );

  it("slugs headings as GitHub does: lowercase, punctuation dropped but - and _, spaces to -", () => {
    expect(slug("The `backend` contract (v2)!")).toBe("the-backend-contract-v2");
    expect(slug("Settings: env_vars & more")).toBe("settings-env_vars--more");
    expect([...anchorsOf("# A\n## A\n```\n# not a heading\n```\n")]).toEqual(["a", "a-1"]);
  });

  it("passes a good relative link and anchor, and reports each broken file and anchor by line", () => {
    const broken = checkLinks(root, documentationFiles(root));
    expect(broken.map((b) => `${b.file}:${b.line} ${b.target}`)).toEqual([
      "README.md:3 docs/missing.md",
      "README.md:4 docs/guide.md#no-such-heading",
      "docs/guide.md:5 #nope",
    ]);
  });
});
