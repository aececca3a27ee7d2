// An engine node as its own process (for the L05 restart test): argv[2] is an EngineNodeSpec as
// JSON. Prints one line "READY {json}" once the startup collect is reconciled into the (fresh or
// adopted) data path, then "SYNC {json}" per SA change; runs until killed.
import { EngineNode, type EngineNodeSpec } from './engine-node.ts';

const spec = JSON.parse(process.argv[2] ?? '') as EngineNodeSpec;
const node = await EngineNode.start(spec);
// the event socket is unref'd by default: this process lives for the watcher
node.watcher.setRef(true);
const out = (tag: string, o: unknown) => process.stdout.write(`${tag} ${JSON.stringify(o)}\n`);
node.watcher.on('changes', () => {
  const last = node.log[node.log.length - 1];
  if (last) out('SYNC', { types: last.events.map((e) => e.type), result: last.result, rules: node.ruleIds() });
});
out('READY', {
  pid: process.pid,
  adopted: node.dp.adopted,
  first: node.first,
  rules: node.ruleIds(),
  attachments: node.dp.verifyAttachments().map((a) => ({ ifname: a.ifname, direction: a.direction, progId: a.attachedProgId })),
});
