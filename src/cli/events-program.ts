import type { Command } from 'commander';
import { Option } from 'commander';
import {
  deliveriesCommand,
  endpointsAddCommand,
  endpointsListCommand,
  endpointsRemoveCommand,
  endpointsShowCommand,
  endpointsUpdateCommand,
  replayCommand,
} from './commands/events.js';

/** `avatar-archiver events ...`: webhook endpoints and their deliveries. */
export function addEventsCommands(program: Command): void {
  const events = program.command('events').description('webhook delivery of avatar events (docs/events.md)');
  const endpoints = events
    .command('endpoints')
    .description('the endpoints events are sent to (never a secret but once)');
  const fields = (command: Command) =>
    command
      .option(
        '--events <types>',
        'comma-separated: avatar.updated, avatar.removed, avatar.failed (default: every type)',
      )
      .option('--instances <ids>', 'comma-separated instance ids (default: every instance)')
      .option('--description <text>', 'a note for people')
      .addOption(new Option('--json', 'print JSON'));
  fields(
    endpoints
      .command('add')
      .description('add an endpoint; prints its signing secret, this once')
      .argument('<url>', 'https URL on a public address (http and private too with EVENT_ALLOW_PRIVATE_NETWORKS)'),
  ).action(endpointsAddCommand);
  endpoints
    .command('list')
    .description('every endpoint')
    .addOption(new Option('--json', 'print JSON'))
    .action(endpointsListCommand);
  endpoints
    .command('show')
    .description('one endpoint')
    .argument('<id>', 'endpoint id (ep_…)')
    .addOption(new Option('--json', 'print JSON'))
    .action(endpointsShowCommand);
  fields(
    endpoints
      .command('update')
      .description("change an endpoint: --events '' means every type, --description '' drops it")
      .argument('<id>', 'endpoint id (ep_…)')
      .option('--url <url>', 'a new URL')
      .option('--enabled <true|false>', 'false stops its deliveries; true resumes them')
      .option('--rotate-secret', 'a new secret, printed this once; the old one signs too for EVENT_SECRET_GRACE'),
  ).action(endpointsUpdateCommand);
  endpoints
    .command('remove')
    .description('remove an endpoint and its deliveries')
    .argument('<id>', 'endpoint id (ep_…)')
    .action(endpointsRemoveCommand);
  events
    .command('deliveries')
    .description("an endpoint's deliveries, newest first")
    .argument('<endpoint-id>', 'endpoint id (ep_…)')
    .option('--limit <n>', 'how many (1-500, default 50)')
    .option('--before <delivery-id>', 'the page after this delivery')
    .addOption(new Option('--json', 'print JSON'))
    .action(deliveriesCommand);
  events
    .command('replay')
    .description('send a delivery again, with a fresh attempt budget')
    .argument('<delivery-id>', 'delivery id')
    .action(replayCommand);
}
