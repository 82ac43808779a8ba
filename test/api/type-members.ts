/**
 * Reads the TypeScript sources with the compiler's own checker, for tests that hold a published
 * surface (exported names, error-code unions) against its documentation or a committed report.
 */
import ts from "typescript";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
function checker(files: string[]): { program: ts.Program; checker: ts.TypeChecker } {
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  return { program, checker: program.getTypeChecker() };
}

function moduleSymbol(file: string, files: string[]): { symbol: ts.Symbol; checker: ts.TypeChecker } {
  const { program, checker: c } = checker(files);
  const source = program.getSourceFile(`${root}${file}`);
  if (!source) throw new Error(`${file} is not part of the program`);
  const symbol = c.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`${file} has no module symbol`);
  return { symbol, checker: c };
}

/** The string literals of an exported union type alias, e.g. StatusErrorCode. */
export function stringUnion(file: string, name: string): string[] {
  const { symbol, checker: c } = moduleSymbol(file, [`${root}${file}`]);
  const alias = c.getExportsOfModule(symbol).find((s) => s.name === name);
  if (!alias) throw new Error(`${file} exports no ${name}`);
  const type = c.getDeclaredTypeOfSymbol(alias);
  const members = type.isUnion() ? type.types : [type];
  return members
    .filter((t) => t.isStringLiteral())
    .map((t) => t.value)
    .sort();
}

/** Every name a module exports, each with its kind ("value", "type" or "value+type"), sorted. */
export function exportReport(file: string): string[] {
  const { symbol, checker: c } = moduleSymbol(file, [`${root}${file}`]);
  return c
    .getExportsOfModule(symbol)
    .map((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? c.getAliasedSymbol(s) : s;
      const value = (target.flags & ts.SymbolFlags.Value) !== 0;
      const type = (target.flags & (ts.SymbolFlags.Type | ts.SymbolFlags.Namespace)) !== 0;
      return `${s.name} (${value && type ? "value+type" : value ? "value" : "type"})`;
    })
    .sort();
}
