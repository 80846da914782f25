import { Queue, type Job } from 'bullmq';
import { ARCHIVE_QUEUE, urgencyOf, type ArchiveJobPayload, type JobUrgency } from '../../src/jobs/archive-job.js';
import { TEST_REDIS_URL } from './isolated-database.js';

/** One instance's unfinished jobs in the shared archive queue, read through a connection of the test's own. */
export async function queuedJobs(
  prefix: string,
  instanceId: string,
  urgency?: JobUrgency,
): Promise<Job<ArchiveJobPayload>[]> {
  const queue = new Queue<ArchiveJobPayload>(ARCHIVE_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix });
  try {
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
    return jobs.filter(
      (job) => job.data.instanceId === instanceId && (urgency === undefined || urgencyOf(job.priority) === urgency),
    );
  } finally {
    await queue.close();
  }
}
