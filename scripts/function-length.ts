/**
 * No function in src/ or in the web page's scripts (web/) may be longer than MAX_LINES lines, from its
 * first line to its last, nested functions included: `npm test` runs this and lists every one that is.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const MAX_LINES = 80;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mts|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

/** A readable name for a function: its own, or the variable, property or method it is bound to. */
function nameOf(node: ts.FunctionLikeDeclaration): string {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent.name.getText();
  return "(anonymous)";
}

export function longFunctions(root: string, maxLines = MAX_LINES) {
  const found: { file: string; name: string; line: number; lines: number }[] = [];
  for (const file of sourceFiles(root)) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isFunctionLike(node) && "body" in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = end - start + 1;
        if (lines > maxLines)
          found.push({ file, name: nameOf(node as ts.FunctionLikeDeclaration), line: start + 1, lines });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found.sort((a, b) => b.lines - a.lines);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = [...longFunctions("src"), ...longFunctions("web")];
  for (const entry of found)
    console.error(`${entry.file}:${entry.line} ${entry.name} is ${entry.lines} lines (at most ${MAX_LINES})`);
  if (found.length > 0) process.exit(1);
  console.log(`no function in src/ or web/ is longer than ${MAX_LINES} lines`);
}
