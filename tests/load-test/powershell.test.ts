import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Language, type Node, Parser } from "web-tree-sitter";
import { buildProgram, parseOptions } from "../../tools/load-test/args.ts";

// PowerShell itself cannot be installed here, so the script is checked with the tree-sitter
// PowerShell grammar (compiled to wasm, run by web-tree-sitter): a syntax error anywhere shows up
// as an ERROR or MISSING node.
const scriptPath = resolve(import.meta.dir, "../../load-test-unified.ps1");
const source = readFileSync(scriptPath, "utf8");
let parser: Parser;

beforeAll(async () => {
  await Parser.init();
  const wasm = resolve(
    import.meta.dir,
    "../../node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm",
  );
  parser = new Parser();
  parser.setLanguage(await Language.load(wasm));
});

function parse(text: string): Node {
  const tree = parser.parse(text);
  if (!tree) throw new Error("tree-sitter returned no tree");
  return tree.rootNode;
}

function problems(root: Node): string[] {
  const found: string[] = [];
  const visit = (node: Node) => {
    if (node.type === "ERROR" || node.isMissing) {
      found.push(
        `${node.isMissing ? "MISSING" : "ERROR"} at ${node.startPosition.row + 1}:${node.startPosition.column + 1}: ${node.text.slice(0, 60)}`,
      );
    }
    for (const child of node.children) if (child) visit(child);
  };
  visit(root);
  return found;
}

interface ScriptParameter {
  name: string;
  type: string | undefined;
  defaultText: string | undefined;
}

function scriptParameters(root: Node): ScriptParameter[] {
  return root.descendantsOfType("script_parameter").flatMap((node) => {
    if (!node) return [];
    const variable = node.children.find((c) => c?.type === "variable");
    const type = node.descendantsOfType("type_literal")[0]?.descendantsOfType("type_identifier")[0]?.text;
    const fallback = node.children.find((c) => c?.type === "script_parameter_default");
    return [
      { name: variable!.text.replace(/^\$/, ""), type, defaultText: fallback?.text.replace(/^=\s*/, "") },
    ];
  });
}

const kebab = (name: string) => name.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();

describe("load-test-unified.ps1", () => {
  test("the grammar does flag a broken script (so a clean parse means something)", () => {
    expect(problems(parse("param(\n  [string]$Url = \n)\nif ($x { 'a' "))).not.toEqual([]);
  });

  test("parses with no ERROR or MISSING nodes", () => {
    const root = parse(source);
    expect(problems(root)).toEqual([]);
    expect(root.hasError).toBe(false);
  });

  test("keeps the seed's parameters and defaults, adds the new ones, and has comment-based help for each", () => {
    const parameters = scriptParameters(parse(source));
    const byName = Object.fromEntries(parameters.map((p) => [p.name, p]));
    for (const name of [
      "Mode",
      "Url",
      "Count",
      "Timeout",
      "Concurrency",
      "Rate",
      "Duration",
      "Html",
      "Json",
    ]) {
      expect(byName[name]).toBeDefined();
      expect(source).toContain(`.PARAMETER ${name}\n`);
    }
    expect(byName.Mode?.defaultText).toBe("'sequential'");
    expect(byName.Url?.defaultText).toBe("'http://localhost:3000'");
    expect(byName.Count?.defaultText).toBe("10");
    expect(byName.Timeout?.defaultText).toBe("30");
    // The same defaults as the TypeScript tool, which only gets the parameters the caller gave.
    const defaults = parseOptions([], buildProgram().exitOverride());
    expect(defaults).toMatchObject({
      mode: "sequential",
      url: "http://localhost:3000",
      count: 10,
      timeoutS: 30,
    });
    expect(source).toContain(".SYNOPSIS");
    expect(source).toContain(".EXAMPLE");
  });

  test("each parameter is passed on as an option the TypeScript tool accepts", () => {
    const root = parse(source);
    const longOptions = new Set(buildProgram().options.map((option) => option.long));
    const statements = root.descendantsOfType("if_statement").map((node) => node?.text ?? "");
    const samples: Record<string, string> = { string: "x", int: "2", double: "0.5", switch: "" };
    const argv: string[] = [];
    for (const parameter of scriptParameters(root)) {
      const flag = `--${kebab(parameter.name)}`;
      expect({ parameter: parameter.name, accepted: longOptions.has(flag) }).toEqual({
        parameter: parameter.name,
        accepted: true,
      });
      // One statement both reads the parameter and passes the flag.
      const passing = statements.find(
        (text) => text.includes(`$${parameter.name}`) && text.includes(`'${flag}'`),
      );
      expect({ parameter: parameter.name, passed: passing !== undefined }).toEqual({
        parameter: parameter.name,
        passed: true,
      });
      if (["Mode", "Url", "Payload", "Html", "Json", "MaxErrorRate", "Rate"].includes(parameter.name))
        continue;
      argv.push(flag);
      if (parameter.type !== "switch") argv.push(samples[parameter.type ?? "string"] ?? "1");
    }
    // The numeric and switch parameters, with plausible values, parse as one command line.
    expect(() =>
      parseOptions(["--mode", "concurrent", ...argv], buildProgram().exitOverride()),
    ).not.toThrow();
    expect(() =>
      parseOptions(
        [
          "--mode",
          "rate",
          "--rate",
          "5",
          "--url",
          "http://127.0.0.1:1",
          "--payload",
          "{}",
          "--html",
          "a.html",
          "--json",
          "a.json",
          "--max-error-rate",
          "5%",
        ],
        buildProgram().exitOverride(),
      ),
    ).not.toThrow();
  });

  test("says clearly when Bun is missing instead of failing obscurely", () => {
    expect(source).toMatch(/Get-Command -Name 'bun'/);
    expect(source).toMatch(/Bun is not installed or not on PATH/);
    expect(source).toMatch(/exit \$LASTEXITCODE/);
  });
});
