/** The event types an endpoint can subscribe to (src: the contacts trigger, prisma/migrations/20261205000000_events). */
export const EVENT_TYPES = ['avatar.updated', 'avatar.removed', 'avatar.failed'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
