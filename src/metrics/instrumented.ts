import { isArchiveError } from '../errors.js';
import type { ImageDownloader, ImageProcessor, ProfilePictureSource } from '../pipeline/ports.js';
import type { Metrics } from './metrics.js';

/**
 * The pipeline's ports wrapped to count what passes through them, so the pipeline itself
 * knows nothing of metrics.
 */

export function countedSource(source: ProfilePictureSource, metrics: Metrics): ProfilePictureSource {
  return {
    async getProfilePictureLink(instance, phone) {
      try {
        const link = await source.getProfilePictureLink(instance, phone);
        metrics.countZapiCall(instance.id, link.kind === 'link' ? 'link' : 'no_picture');
        return link;
      } catch (error) {
        metrics.countZapiCall(instance.id, isArchiveError(error) ? error.code : 'ERROR');
        throw error;
      }
    },
  };
}

export function countedDownloader(downloader: ImageDownloader, metrics: Metrics): ImageDownloader {
  return {
    async download(url) {
      const image = await downloader.download(url);
      metrics.downloadBytes.inc(image.bytes.length);
      return image;
    },
  };
}

export function timedProcessor(processor: ImageProcessor, metrics: Metrics): ImageProcessor {
  return {
    async process(bytes) {
      const stop = metrics.processingSeconds.startTimer();
      try {
        return await processor.process(bytes);
      } finally {
        stop();
      }
    },
  };
}
