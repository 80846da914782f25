import { ErrorCode, isArchiveError } from '../../../src/errors.js';
import { describeDecodeFailure, sniffFormat } from '../../../src/image/decode-failure.js';

const JPEG_START = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]);
const PNG_START = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);

describe('sniffFormat', () => {
  test.each([
    [JPEG_START, 'jpeg'],
    [PNG_START, 'png'],
    [Buffer.from('GIF89a...'), 'gif'],
    [Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'), 'webp'],
    [Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ', 'latin1'), undefined],
    [Buffer.from('<svg'), undefined],
    [Buffer.alloc(0), undefined],
  ])('%#: recognises the format from magic bytes', (bytes, format) => {
    expect(sniffFormat(bytes)).toBe(format);
  });
});

describe('describeDecodeFailure', () => {
  test('collapses libvips repetition and loader prefixes into one readable reason', () => {
    const error = describeDecodeFailure(
      new Error(
        'Input buffer has corrupt header: VipsJpeg: premature end of JPEG image\nVipsJpeg: Bogus marker length\nVipsJpeg: premature end of JPEG image',
      ),
      JPEG_START,
      1000,
    );

    expect(isArchiveError(error, ErrorCode.ImageInvalid)).toBe(true);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('truncated JPEG: premature end of JPEG image; Bogus marker length');
  });

  test('names a corrupt header and keeps the original error as the cause', () => {
    const cause = new Error('Input buffer has corrupt header: gifload_buffer: Invalid image descriptor');
    const error = describeDecodeFailure(cause, Buffer.from('GIF89a'), 1000);

    expect(error.message).toBe('corrupt GIF header: Invalid image descriptor');
    expect(error.cause).toBe(cause);
  });

  test('says "image" when the bytes are not a recognised format', () => {
    expect(describeDecodeFailure(new Error('something odd'), Buffer.from('????'), 1000).message).toBe(
      'corrupt image: something odd',
    );
  });

  test('reports sharp’s own pixel-limit refusal with the configured limit', () => {
    expect(describeDecodeFailure(new Error('Input image exceeds pixel limit'), PNG_START, 1234).message).toBe(
      'image is over MAX_INPUT_PIXELS 1234',
    );
  });

  test('bounds very long messages', () => {
    const error = describeDecodeFailure(new Error(`vipspng: ${'x'.repeat(1000)}`), PNG_START, 1000);
    expect(error.message.length).toBeLessThan(240);
    expect(error.message).toMatch(/^corrupt PNG: x+…$/);
  });

  test('handles values that are not errors', () => {
    expect(describeDecodeFailure('weird', PNG_START, 1000).message).toBe('corrupt PNG: weird');
  });
});
