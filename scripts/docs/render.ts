import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argument, Command, Help, Option } from 'commander';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import { buildProgram } from '../../src/cli/program.js';
import { configSchema } from '../../src/config.js';

/**
 * The generated parts of docs/: docs/configuration.md from the config schema
 * (src/config/env-schema.ts), docs/cli.md from the commander program (src/cli/program.ts). Each
 * file keeps its hand-written prose; only the text between its BEGIN/END GENERATED markers is
 * replaced. Used by `npm run docs:generate` and by the test that fails while a file is stale.
 */

export const REGENERATE = 'npm run docs:generate';

export interface VariableDoc {
  name: string;
  type: string;
  default: string | null;
  description: string | undefined;
}

interface Meta {
  description?: string;
  envType?: string;
  envDefault?: string;
}

type Schema = z.core.$ZodType;

function metaOf(schema: Schema): Meta {
  return (z.globalRegistry.get(schema) ?? {}) as Meta;
}

/** The schemas a variable's value passes through, outermost first (defaults, optionals, pipes). */
function layers(schema: Schema): Schema[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  if (def.type === 'default' || def.type === 'optional' || def.type === 'prefault' || def.type === 'nullable') {
    return [schema, ...layers(def.innerType as Schema)];
  }
  if (def.type === 'pipe') return [schema, ...layers(def.in as Schema)];
  return [schema];
}

function typeOf(schema: Schema): string {
  for (const layer of layers(schema)) {
    const meta = metaOf(layer);
    if (meta.envType) return meta.envType;
    const def = layer._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'enum') return Object.values(def.entries as Record<string, string>).join(' | ');
    if (def.type === 'string') return 'string';
  }
  return 'string';
}

function defaultOf(schema: Schema): string | null {
  for (const layer of layers(schema)) {
    const meta = metaOf(layer);
    if (meta.envDefault !== undefined) return meta.envDefault;
    const def = layer._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === 'default') return String(def.defaultValue);
  }
  return null;
}

export function configVariables(): VariableDoc[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => ({
    name,
    type: typeOf(schema),
    default: defaultOf(schema),
    description: metaOf(schema).description,
  }));
}

const code = (text: string) => (text.startsWith('`') ? text : `\`${text}\``);
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderConfiguration(): string {
  const rows = configVariables().map(
    (variable) =>
      `| \`${variable.name}\` | ${cell(variable.type)} | ${variable.default === null ? '(none)' : cell(code(variable.default))} | ${cell(variable.description ?? '')} |`,
  );
  return ['| variable | type | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}

function allCommands(program: Command): Command[] {
  return program.commands.flatMap((command) => [command, ...allCommands(command)]);
}

function argumentTerm(arg: Argument): string {
  const name = `${arg.name()}${arg.variadic ? '...' : ''}`;
  return arg.required ? `<${name}>` : `[${name}]`;
}

function visibleOptions(command: Command, help: Help): Option[] {
  return help.visibleOptions(command).filter((option) => option.long !== '--help');
}

/** `avatar-archiver enqueue [options] [phones...]`, without commander's `[options]` where there are none. */
function usage(command: Command, help: Help): string {
  return [
    commandPath(command),
    ...(visibleOptions(command, help).length > 0 ? ['[options]'] : []),
    ...(command.commands.length > 0 ? ['<command>'] : []),
    ...help.visibleArguments(command).map(argumentTerm),
  ].join(' ');
}

function renderCommand(command: Command, help: Help): string {
  const usageLine = usage(command, help);
  const lines = [`## ${commandPath(command).replace(/^avatar-archiver /, '')}`, '', '```', usageLine, '```', ''];
  lines.push(command.description(), '');
  const args = help.visibleArguments(command);
  if (args.length > 0) {
    lines.push('| argument | meaning |', '| --- | --- |');
    for (const arg of args) lines.push(`| \`${argumentTerm(arg)}\` | ${cell(help.argumentDescription(arg))} |`);
    lines.push('');
  }
  const options = visibleOptions(command, help);
  if (options.length > 0) {
    lines.push('| option | meaning |', '| --- | --- |');
    for (const option of options) {
      lines.push(`| \`${help.optionTerm(option)}\` | ${cell(help.optionDescription(option))} |`);
    }
    lines.push('');
  }
  const subcommands = help.visibleCommands(command).filter((sub) => sub.name() !== 'help');
  if (subcommands.length > 0) {
    lines.push(`Subcommands: ${subcommands.map((sub) => `\`${sub.name()}\``).join(', ')}.`, '');
  }
  return lines.join('\n');
}

export function renderCli(): string {
  const program = buildProgram();
  const help = program.createHelp();
  const synopsis = allCommands(program)
    .filter((command) => command.commands.length === 0)
    .map((command) => usage(command, help));
  return ['```', ...synopsis, '```', '', ...allCommands(program).map((command) => renderCommand(command, help))].join(
    '\n',
  );
}

const BEGIN = (name: string) => `<!-- BEGIN GENERATED: ${name} (${REGENERATE}) -->`;
const END = (name: string) => `<!-- END GENERATED: ${name} -->`;

/** `text` with what lies between the markers named `name` replaced by `content`. */
export function replaceBetweenMarkers(text: string, name: string, content: string): string {
  const begin = text.indexOf(BEGIN(name));
  const end = text.indexOf(END(name));
  if (begin < 0 || end < begin) {
    throw new Error(`markers ${BEGIN(name)} … ${END(name)} not found (put them where the generated part goes)`);
  }
  return `${text.slice(0, begin + BEGIN(name).length)}\n\n${content.trim()}\n\n${text.slice(end)}`;
}

export interface GeneratedDoc {
  /** Relative to the repository root. */
  path: string;
  marker: string;
  render: () => string;
}

export const GENERATED_DOCS: GeneratedDoc[] = [
  { path: 'docs/configuration.md', marker: 'configuration', render: renderConfiguration },
  { path: 'docs/cli.md', marker: 'cli', render: renderCli },
];

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What the file should hold: its current text with the generated part replaced, formatted by prettier. */
export async function expectedContent(doc: GeneratedDoc): Promise<{ current: string; expected: string }> {
  const file = resolve(ROOT, doc.path);
  const current = await readFile(file, 'utf8');
  const replaced = replaceBetweenMarkers(current, doc.marker, doc.render());
  const options = (await resolveConfig(file)) ?? {};
  const expected = await format(replaced, { ...options, filepath: file });
  return { current, expected };
}
