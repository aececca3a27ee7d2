// From a path in the document to a line and column in the YAML file, using the yaml library's
// node ranges. A path that does not exist in the file (a missing key, a default) points at its
// deepest ancestor that does: the key under which the missing value belongs.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { DocPath } from './issues.ts';

export interface Position {
  line: number;
  col: number;
}

function keyText(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  if (typeof k === 'string' || typeof k === 'number') return String(k);
  return undefined;
}

export class DocLocator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  private pos(offset: number | undefined): Position {
    if (offset === undefined) return { line: 1, col: 1 };
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  private resolve(n: unknown): Node | null {
    if (isAlias(n)) return (n.resolve(this.doc) as Node | undefined) ?? null;
    return (n as Node | null) ?? null;
  }

  /** Line and column of the value at `path`, else of the key that holds it, else of its nearest ancestor. */
  locate(path: DocPath): Position {
    let node = this.resolve(this.doc.contents);
    let best: number | undefined = node?.range?.[0];
    for (const seg of path) {
      if (!node) break;
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as Node | null;
        const value = this.resolve(pair.value);
        best = value?.range?.[0] ?? keyNode?.range?.[0] ?? best;
        // an empty value (`key:`) has a zero-width range after the key: point at the key
        if (value && isScalar(value) && value.value === null && keyNode?.range) best = keyNode.range[0];
        node = value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = this.resolve(node.items[seg]);
        if (!item) break;
        best = item.range?.[0] ?? best;
        node = item;
      } else break;
    }
    return this.pos(best);
  }

  /** Position of a key itself (for unknown keys). Falls back to locate(path). */
  locateKey(path: DocPath): Position {
    if (path.length === 0) return this.locate(path);
    const parentPath = path.slice(0, -1);
    const last = path[path.length - 1]!;
    let node = this.resolve(this.doc.contents);
    for (const seg of parentPath) {
      if (isMap(node)) node = this.resolve(node.items.find((p) => keyText(p) === String(seg))?.value);
      else if (isSeq(node) && typeof seg === 'number') node = this.resolve(node.items[seg]);
      else return this.locate(path);
    }
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p) === String(last));
      const k = pair?.key as Node | undefined;
      if (k?.range) return this.pos(k.range[0]);
    }
    return this.locate(path);
  }
}
