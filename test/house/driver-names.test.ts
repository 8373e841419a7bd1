// House rule: drivers implement ops, and the core never asks which driver it is. Outside
// vfio-pci's own folder no code decides anything by comparing with the name 'vfio-pci' (or a
// constant holding it): the kernel binds through the PCI driver registry's ops
// (kernel/pci/pci-driver.ts), and the layers above ask the kernel which drivers do what.
// Comments, log text and the name as data (a trace's field) are not conditions.

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { SRC, sourceFiles } from './import-graph.js';

const NAME = 'vfio-pci';
/** The driver's own files, where its name is its own. */
const OWN = ['kernel/vfio-pci/'];

const EQUALITY = new Set([ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken]);
/** Methods whose argument (or, for an array literal receiver, element) is compared. */
const COMPARING = new Set(['includes', 'startsWith', 'endsWith', 'indexOf', 'lastIndexOf', 'has', 'localeCompare']);

const isNameLiteral = (n: ts.Node): boolean => (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && n.text === NAME;

/** Names of constants anywhere in the sources initialised to the name ('const X = "vfio-pci"'). */
function nameConstants(files: ts.SourceFile[]): Set<string> {
  const out = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && isNameLiteral(n.initializer)) out.add(n.name.text);
    if (ts.isPropertyDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && isNameLiteral(n.initializer) && n.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword)) out.add(n.name.text);
    ts.forEachChild(n, visit);
  };
  for (const f of files) visit(f);
  return out;
}

/** The places in `file` that compare something with the name: "line:col text". */
export function nameComparisons(file: ts.SourceFile, constants: ReadonlySet<string>): string[] {
  const strip = (e: ts.Expression): ts.Expression => (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) ? strip(e.expression) : e);
  const isName = (e: ts.Expression): boolean => {
    const x = strip(e);
    if (isNameLiteral(x)) return true;
    if (ts.isIdentifier(x)) return constants.has(x.text);
    if (ts.isPropertyAccessExpression(x)) return constants.has(x.name.text);
    return false;
  };
  const hits: string[] = [];
  const hit = (n: ts.Node) => {
    const { line, character } = file.getLineAndCharacterOfPosition(n.getStart(file));
    hits.push(`${line + 1}:${character + 1} ${n.getText(file)}`);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isBinaryExpression(n) && EQUALITY.has(n.operatorToken.kind) && (isName(n.left) || isName(n.right))) hit(n);
    else if (ts.isCaseClause(n) && isName(n.expression)) hit(n.expression);
    else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && COMPARING.has(n.expression.name.text)) {
      const recv = strip(n.expression.expression);
      if (n.arguments.some(isName) || (ts.isArrayLiteralExpression(recv) && recv.elements.some(isName))) hit(n);
    }
    ts.forEachChild(n, visit);
  };
  visit(file);
  return hits;
}

const parse = (name: string, text: string) => ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true);

describe('no code outside vfio-pci compares with its name', () => {
  const files = sourceFiles().map((abs) => parse(relative(SRC, abs), readFileSync(abs, 'utf8')));
  const constants = nameConstants(files);

  // The rule over the tree: kernel.ts, the PCI core, the script and trace layers.
  test('src/ outside kernel/vfio-pci/', () => {
    const bad = files.filter((f) => !OWN.some((p) => f.fileName.startsWith(p))).flatMap((f) => nameComparisons(f, constants).map((h) => `${f.fileName}:${h}`));
    expect(bad).toEqual([]);
  });

  // The detector finds each form of comparison, through a constant too...
  test('it flags comparisons', () => {
    const src = [
      "const V = 'vfio-pci';",
      "if (driver === 'vfio-pci') f();",
      "if ('vfio-pci' != d.driverOverride) f();",
      'if (drv.text !== V) f();',
      "switch (d) { case 'vfio-pci': break; }",
      "if (names.includes('vfio-pci')) f();",
      "if (['vfio-pci', 'pci-stub'].includes(d)) f();",
      'if (s.startsWith(`vfio-pci`)) f();',
    ].join('\n');
    const f = parse('x.ts', src);
    expect(nameComparisons(f, nameConstants([f]))).toEqual([
      "2:5 driver === 'vfio-pci'",
      "3:5 'vfio-pci' != d.driverOverride",
      '4:5 drv.text !== V',
      "5:19 'vfio-pci'",
      "6:5 names.includes('vfio-pci')",
      "7:5 ['vfio-pci', 'pci-stub'].includes(d)",
      '8:5 s.startsWith(`vfio-pci`)',
    ]);
  });

  // ...and leaves comments, log text and the name as data alone.
  test('it passes comments, text and data', () => {
    const src = [
      "// if (driver === 'vfio-pci') the old way",
      "log.info('PF not bound to vfio-pci');",
      'log.info(`${d} === vfio-pci`);',
      "const ev = { op: 'bind', driver: 'vfio-pci' };",
      "if (d.driver === drv.name && x === 'vfio-pci-x') f();",
    ].join('\n');
    const f = parse('y.ts', src);
    expect(nameComparisons(f, nameConstants([f]))).toEqual([]);
  });
});
