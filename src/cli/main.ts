// iro-ctl: the command line. Errors are one line on stderr; usage errors exit 2, others 1.
import { Command, CommanderError } from 'commander';
import { globalDefaults, UsageError, type GlobalOptions } from './context.ts';
import { registerDatapath } from './commands/datapath.ts';
import { registerRules } from './commands/rules.ts';
import { registerNode } from './commands/node.ts';

export function buildProgram(): { program: Command; globals: () => GlobalOptions } {
  const program = new Command('iro-ctl');
  const defaults = globalDefaults();
  program
    .description('Mobile IPv6 IPsec Route Optimization (IRO) controller')
    .version('0.1.0')
    .option('--pin-dir <dir>', 'bpffs directory of the data path', defaults.pinDir)
    .option('--state-file <file>', 'data path state file', defaults.stateFile)
    .option('--json', 'machine-readable output', false)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const globals = (): GlobalOptions => {
    const o = program.opts<{ pinDir: string; stateFile: string; json: boolean }>();
    return { pinDir: o.pinDir, stateFile: o.stateFile, json: o.json };
  };
  registerNode(program, globals);
  registerDatapath(program, globals);
  registerRules(program, globals);
  return { program, globals };
}

export async function main(argv: string[]): Promise<number> {
  const { program } = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    // a command that completed but found a problem (e.g. preflight) sets process.exitCode
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`iro-ctl: ${msg}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/src\//, '/src/'));
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
