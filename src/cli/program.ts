import { Command, Option } from 'commander';
import { enqueueCommand } from './commands/enqueue.js';
import { failedCommand, retryCommand } from './commands/failed.js';
import { gcCommand } from './commands/gc.js';
import { importCommand } from './commands/import.js';
import {
  instancesAddCommand,
  instancesImportCommand,
  instancesListCommand,
  instancesRekeyCommand,
  instancesRemoveCommand,
  instancesSetCommand,
  instancesSyncCommand,
} from './commands/instances.js';
import { migrateCommand } from './commands/migrate.js';
import { purgeCommand } from './commands/purge.js';
import { refreshCommand } from './commands/refresh.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { urlCommand } from './commands/url.js';
import { backfillThumbhashCommand } from './commands/backfill-thumbhash.js';
import { workerCommand } from './commands/worker.js';
import { addEventsCommands } from './events-program.js';

/**
 * Every command, its arguments and options. Building it runs nothing: main.ts parses argv
 * with it, and scripts/generate-docs.ts writes docs/cli.md from it.
 */
export function buildProgram(): Command {
  const program = new Command('avatar-archiver')
    .description("Keeps a permanent copy of every WhatsApp contact's profile picture (Z-API → S3 → Postgres).")
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  program
    .command('migrate')
    .description('apply pending database migrations (safe to run twice or from several processes)')
    .action(migrateCommand);

  program.command('worker').description('run the archive worker until SIGTERM/SIGINT').action(workerCommand);

  program
    .command('serve')
    .description('run the HTTP service (API, Z-API webhook, health, metrics, /docs) until SIGTERM/SIGINT')
    .option('-w, --worker', 'also run the worker in this process')
    .action(serveCommand);

  program
    .command('enqueue')
    .description('create contacts (PENDING) and queue their pictures for archiving')
    .argument('[phones...]', 'phone numbers, digits with country code (+, spaces, dashes allowed)')
    .option('-i, --instance <id>', 'Z-API instance id (optional when exactly one is configured)')
    .option('-f, --file <path>', 'file with one phone per line, or a CSV with a "phone" column')
    .action(enqueueCommand);

  program
    .command('refresh')
    .description('queue a refresh of the contacts that are due now (the scheduled sweep, run at once)')
    .option('-i, --instance <id>', 'only this Z-API instance (default: every configured one)')
    .option('-a, --all', 'every contact, whether due or not')
    .option('-n, --dry-run', 'count what would be queued, per instance, and queue nothing')
    .action(refreshCommand);

  program
    .command('import')
    .description("read the instance's WhatsApp contact list from Z-API, create every contact and queue its picture")
    .option('-i, --instance <id>', 'only this Z-API instance (default: every configured one, one after the other)')
    .action(importCommand);

  program
    .command('purge')
    .description('erase contacts: rows, every version and the objects no other contact uses, with an audit row')
    .argument('<phones...>', 'phone numbers')
    .option('-i, --instance <id>', 'the Z-API instance the contacts belong to (required)')
    .option('--keep-contact', 'keep the contact row (with --opt-out)')
    .option('--opt-out', 'never archive this contact again, whatever asks for it (with --keep-contact)')
    .action(purgeCommand);

  program
    .command('gc')
    .description('delete stored objects that no row references and that are older than PRUNE_GRACE')
    .option('-n, --dry-run', 'list them and delete nothing')
    .action(gcCommand);

  program
    .command('failed')
    .description('list FAILED contacts with their reason and when, newest first')
    .option('-i, --instance <id>', 'only this instance')
    .option('-r, --reason <code>', 'only this error code, e.g. ZAPI_REJECTED or IMAGE_INVALID')
    .option('-l, --limit <n>', 'at most this many (default 100)')
    .addOption(new Option('--json', 'print JSON'))
    .action(failedCommand);

  program
    .command('retry')
    .description('queue contacts again, ahead of any sweep')
    .option('--failed', 'every FAILED contact (narrowed by --instance and --reason)')
    .option('-i, --instance <id>', 'only this instance')
    .option('-r, --reason <code>', 'only this error code')
    .action(retryCommand);

  program
    .command('status')
    .description("show one contact's avatar state, or counts, due contacts, queues and sweeps")
    .argument('[phone]', 'a contact phone number')
    .option('-i, --instance <id>', 'Z-API instance id (optional when exactly one is configured)')
    .addOption(new Option('--json', 'print JSON'))
    .action(statusCommand);

  program
    .command('url')
    .description("print a signed avatar URL (GET /v1/avatars/...) that always shows the contact's current picture")
    .argument('<phone>', 'a contact phone number')
    .option('-i, --instance <id>', 'Z-API instance id (optional when exactly one is configured)')
    .option(
      '-s, --size <pixels>',
      'wanted size; the endpoint answers with the smallest stored size at least this large',
    )
    .option('-e, --expires <duration>', 'lifetime, e.g. 15m, 12h, 30d (default AVATAR_URL_TTL, 7d)')
    .action(urlCommand);

  program
    .command('backfill-thumbhash')
    .description('compute the thumbhash of pictures archived before thumbhashes, from their smallest stored size')
    .option('-n, --dry-run', 'count them and fill nothing')
    .action(backfillThumbhashCommand);

  addInstancesCommands(program);
  addEventsCommands(program);
  return program;
}

function addInstancesCommands(program: Command): void {
  const instances = program
    .command('instances')
    .description(
      'the Z-API instances in the registry (table instances): running processes follow changes within seconds',
    );
  const limits = (command: Command) =>
    command
      .option('--label <label>', "a name for people, e.g. the customer's")
      .option('--max-rps <n>', 'Z-API calls per second for this instance (default ZAPI_MAX_REQUESTS_PER_SECOND)')
      .option('--max-per-day <n>', 'Z-API calls per day for this instance (default ZAPI_MAX_REQUESTS_PER_DAY)');
  limits(
    instances
      .command('add')
      .description('register an instance; its contacts are worked from the next few seconds')
      .argument('<id>', 'Z-API instance id')
      .option('--token <token>', 'the instance token (- reads it from stdin)'),
  ).action(instancesAddCommand);
  instances
    .command('import')
    .description(
      'register instances from a CSV (id,token[,label], header optional); bad rows are reported, the rest go in',
    )
    .argument('<file>', 'CSV file')
    .action(instancesImportCommand);
  instances
    .command('list')
    .description('every instance, from the registry and the environment (never a token)')
    .addOption(new Option('--json', 'print JSON'))
    .action(instancesListCommand);
  limits(
    instances
      .command('set')
      .description("change an instance: --label '' drops the label, --max-rps default goes back to the global setting")
      .argument('<id>', 'Z-API instance id')
      .option('--token <token>', 'a new token, used from the next call (- reads it from stdin)')
      .option('--enabled <true|false>', 'false stops its Z-API calls (its jobs wait); true resumes them'),
  ).action(instancesSetCommand);
  instances
    .command('remove')
    .description('unregister an instance and drop its queued jobs; its contacts stay unless --purge')
    .argument('<id>', 'Z-API instance id')
    .option('--purge', "also erase the instance's contacts, versions and unshared objects, with audit rows")
    .action(instancesRemoveCommand);
  instances
    .command('rekey')
    .description('re-encrypt every token with INSTANCE_TOKEN_KEY (then INSTANCE_TOKEN_KEY_PREVIOUS can go)')
    .action(instancesRekeyCommand);
  instances
    .command('sync')
    .description("mirror Z-API's integrator listing (ZAPI_PARTNER_TOKEN): add, update, disable what vanished")
    .action(instancesSyncCommand);
}
