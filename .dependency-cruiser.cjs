/**
 * The layers of src/, each allowed to import only the layers below it (docs/architecture.md).
 * `npm test` fails on any import that runs upward or sideways, and on any cycle.
 */
const BELOW = {
  domain: [],
  net: ["domain"],
  sources: ["domain", "net"],
  stores: ["domain"],
  extraction: ["domain", "net", "sources", "stores"],
  delivery: ["domain", "net"],
  service: ["domain", "net", "sources", "stores", "extraction", "delivery"],
  // The three faces see the core only through its use cases (src/service/); the CLI runs on the library.
  http: ["domain", "service"],
  library: ["domain", "service"],
  cli: ["domain", "service", "library"],
};

const layerRules = Object.entries(BELOW).map(([layer, below]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only ${below.length ? below.map((name) => `src/${name}/`).join(", ") : "itself"}.`,
  severity: "error",
  from: { path: `^src/${layer}/` },
  to: { path: "^src/", pathNot: `^src/(${[layer, ...below].join("|")})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "no-circular",
      comment: "Modules must not import each other in a cycle.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "entry-points-only-at-top",
      comment: "Nothing imports the process entry (src/server.ts).",
      severity: "error",
      from: {},
      to: { path: "^src/server\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
