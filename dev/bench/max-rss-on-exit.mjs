// Preloaded into the CLI by the benchmark (node --import): prints the process's peak RSS as it
// exits, so it is read after the last allocation, not sampled before it.
process.on("exit", () => process.stderr.write(`\nmax-rss-kb ${process.resourceUsage().maxRSS}\n`));
