/** The one BullMQ queue of every webhook delivery attempt, whatever the endpoint. */
export const EVENT_DELIVERY_QUEUE = 'event-deliveries';
export const EVENT_DELIVERY_JOB = 'deliver';

/** Job data: the event_deliveries id only; the worker reads everything else from Postgres. */
export interface EventDeliveryJobData {
  deliveryId: string;
}

/** Deterministic, so a delivery already queued is not queued twice. */
export function deliveryJobId(deliveryId: string): string {
  return `delivery-${deliveryId}`;
}

export function isDeliveryId(value: unknown): value is string {
  return typeof value === 'string' && /^[1-9][0-9]{0,18}$/.test(value);
}
