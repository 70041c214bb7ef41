import type { NextConfig } from "next";

const config: NextConfig = {
  // node-postgres loads optional native bindings at run time: keep it out of the bundle.
  serverExternalPackages: ["pg"],
  // The kit lives inside another repository: its own folder is the root, not the repo's lockfile.
  turbopack: { root: import.meta.dirname },
  outputFileTracingRoot: import.meta.dirname,
};

export default config;
