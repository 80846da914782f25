import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What /metrics reads from Postgres and Redis at scrape time (never on the job path). */
export interface StateSource {
  /** Every instance together. */
  queueCounts(): Promise<Record<string, number>>;
  /** Per instance: walks the queue, so only read with METRICS_PER_INSTANCE. */
  queueCountsByInstance(): Promise<Record<string, Record<string, number>>>;
  contactsByStatus(): Promise<Record<string, number>>;
  /** next_check_at of the contact that has waited longest, or null when none is due. */
  oldestDue(): Promise<Date | null>;
  /** Instances whose circuit breaker is open. */
  openBreakers(): Promise<Record<string, boolean>>;
  /** Accepted webhook deliveries not yet created and queued. */
  webhookInboxEntries(): Promise<number>;
}

/**
 * Every Prometheus metric of a process, in a registry of its own (several containers in
 * one test process must not share counters). Counters are bumped where things happen;
 * queue depth, contacts by status and the oldest due contact are read when scraped.
 * Nothing carries an `instance` label unless METRICS_PER_INSTANCE is set: with thousands of
 * instances that would be thousands of series per metric (Prometheus' guidance is to keep
 * them in the hundreds); `GET /v1/instances/{id}` and `status --instance` give the detail.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly zapiCalls: Counter;

  readonly jobs = new Counter({
    name: 'avatar_archiver_jobs_total',
    help: 'Archive jobs finished, by outcome and error code (failed attempts included)',
    labelNames: ['outcome', 'error_code'] as const,
    registers: [this.registry],
  });

  readonly downloadBytes = new Counter({
    name: 'avatar_archiver_download_bytes_total',
    help: 'Bytes of pictures downloaded from the CDN',
    registers: [this.registry],
  });

  readonly processingSeconds = new Histogram({
    name: 'avatar_archiver_image_processing_seconds',
    help: 'Time sharp took to decode, resize and encode one picture into every size',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly jobStepSeconds = new Histogram({
    name: 'avatar_archiver_job_step_seconds',
    help: 'Wall time of each step of an archive job: db, lookup (Z-API), download, process, store (S3)',
    labelNames: ['step'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly webhookEvents = new Counter({
    name: 'avatar_archiver_webhook_events_total',
    help: 'Z-API webhook deliveries by result and, when ignored, why',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });

  readonly webhookContacts = new Counter({
    name: 'avatar_archiver_webhook_contacts_total',
    help: 'Accepted webhook deliveries once drained from the inbox: queued, already_queued or recently_checked',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly eventDeliveries = new Counter({
    name: 'avatar_archiver_event_deliveries_total',
    help: 'Webhook delivery attempts of avatar events by endpoint and outcome: succeeded, retry (failed, retried later) or dead',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor(private readonly perInstance = false) {
    collectDefaultMetrics({ register: this.registry, prefix: 'avatar_archiver_' });
    this.zapiCalls = new Counter({
      name: 'avatar_archiver_zapi_calls_total',
      help: 'Z-API profile-picture calls by result: link, no_picture, or the error code',
      labelNames: perInstance ? ['instance', 'status'] : ['status'],
      registers: [this.registry],
    });
  }

  countZapiCall(instance: string, status: string): void {
    this.zapiCalls.inc(this.perInstance ? { instance, status } : { status });
  }

  /** Gauges filled from Postgres and Redis when /metrics is scraped. */
  watch(source: StateSource): void {
    if (this.perInstance) this.watchInstances(source);
    else {
      new Gauge({
        name: 'avatar_archiver_queue_jobs',
        help: 'Archive jobs in Redis by state',
        labelNames: ['state'] as const,
        registers: [this.registry],
        async collect() {
          for (const [state, count] of Object.entries(await source.queueCounts())) this.set({ state }, count);
        },
      });
    }
    new Gauge({
      name: 'avatar_archiver_circuits_open',
      help: 'Instances whose circuit breaker is open (their jobs park until it closes)',
      registers: [this.registry],
      async collect() {
        this.set(Object.values(await source.openBreakers()).filter(Boolean).length);
      },
    });
    new Gauge({
      name: 'avatar_archiver_contacts',
      help: 'Contacts by avatar_status',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        for (const [status, count] of Object.entries(await source.contactsByStatus())) this.set({ status }, count);
      },
    });
    new Gauge({
      name: 'avatar_archiver_webhook_inbox_entries',
      help: 'Accepted webhook deliveries waiting in the inbox to be created and queued (should stay near 0)',
      registers: [this.registry],
      async collect() {
        this.set(await source.webhookInboxEntries());
      },
    });
    new Gauge({
      name: 'avatar_archiver_oldest_due_contact_age_seconds',
      help: 'How long the contact that has waited longest for its check has been due (0: none due)',
      registers: [this.registry],
      async collect() {
        const oldest = await source.oldestDue();
        this.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
      },
    });
  }

  /** Per endpoint, the age of its oldest pending delivery (0 series: nothing pending anywhere). */
  watchEventDeliveries(oldestPending: () => Promise<Map<string, Date>>): void {
    new Gauge({
      name: 'avatar_archiver_event_endpoint_lag_seconds',
      help: 'Age of the oldest pending webhook delivery of each endpoint',
      labelNames: ['endpoint'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const now = Date.now();
        for (const [endpoint, oldest] of await oldestPending()) {
          this.set({ endpoint }, Math.max(0, (now - oldest.getTime()) / 1000));
        }
      },
    });
  }

  /** METRICS_PER_INSTANCE: the series that carry an instance label. */
  private watchInstances(source: StateSource): void {
    new Gauge({
      name: 'avatar_archiver_queue_jobs',
      help: 'Archive jobs in Redis by instance and state',
      labelNames: ['instance', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [instance, counts] of Object.entries(await source.queueCountsByInstance())) {
          for (const [state, count] of Object.entries(counts)) this.set({ instance, state }, count);
        }
      },
    });
    new Gauge({
      name: 'avatar_archiver_circuit_open',
      help: "1 while an instance's circuit breaker is open (its jobs park), 0 otherwise",
      labelNames: ['instance'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [instance, open] of Object.entries(await source.openBreakers()))
          this.set({ instance }, open ? 1 : 0);
      },
    });
  }
}
