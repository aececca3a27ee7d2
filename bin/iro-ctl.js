#!/usr/bin/env node
// Entry point: the compiled CLI (dist/, built by scripts/bootstrap.sh) when it is at least as new
// as every source file, else the TypeScript sources through tsx (a checkout being edited). The
// compiled form starts several times faster and loads no compiler at run time.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
const builtStamp = join(root, 'dist', '.built');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function compiledIsCurrent() {
  if (!existsSync(compiled) || !existsSync(builtStamp)) return false;
  return statSync(builtStamp).mtimeMs >= newestSource(join(root, 'src'));
}

let mod;
if (compiledIsCurrent()) {
  mod = await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
process.exit(await mod.main(process.argv.slice(2)));
