import { avatarLinks } from '../avatars/avatar-services.js';
import type { Container } from '../container.js';
import { sharp } from '../image/sharp-runtime.js';

/**
 * The read side as an app's pages use it: signed avatar URLs in <img> tags (followed and
 * decoded here), a placeholder for a contact without a picture, and one lookup for a list.
 */
export async function demoAvatars(container: Container, base: string, instanceId: string): Promise<string[]> {
  const failures: string[] = [];
  const { config } = container;
  const links = avatarLinks(config);
  const onService = (url: string) => `${base}${url.slice(url.indexOf('/v1/'))}`;
  const rows = await container.prisma.contact.findMany({ where: { instanceId }, orderBy: { phone: 'asc' } });
  const archived = rows.find((row) => row.avatarStatus === 'ARCHIVED');
  const without = rows.find((row) => row.avatarStatus === 'NO_PICTURE');
  if (!archived || !without) return ['avatars: the demo has no archived or no picture-less contact to show'];

  console.log('\ndemo: showing avatars (GET /v1/avatars, signed with AVATAR_URL_SECRET)');
  for (const size of [96, 256]) {
    const url = links.signedUrl(instanceId, archived.phone, size)!;
    const redirect = await fetch(onService(url), { redirect: 'manual' });
    const location = redirect.headers.get('location') ?? '';
    const image = redirect.status === 302 ? await fetch(location) : null;
    const width = image ? (await sharp(Buffer.from(await image.arrayBuffer())).metadata()).width : undefined;
    console.log(`  size=${size}: ${redirect.status} → ${location} (${width} px)`);
    if (width !== size) failures.push(`avatars: size ${size} answered ${redirect.status}, decoded ${width} px`);
  }
  const placeholder = await fetch(`${onService(links.signedUrl(instanceId, without.phone, 96)!)}&fallback=initials`);
  const status = placeholder.headers.get('x-avatar-status');
  console.log(
    `  no picture, fallback=initials: ${placeholder.status} ${placeholder.headers.get('content-type')}, X-Avatar-Status ${status}`,
  );
  if (status !== 'no_picture') failures.push(`avatars: placeholder says ${status}`);
  const forged = await fetch(
    onService(links.signedUrl(instanceId, archived.phone, 96)!.replace(/sig=.*/, 'sig=forged')),
  );
  console.log(`  a forged signature: ${forged.status}`);
  if (forged.status !== 403) failures.push(`avatars: a forged signature got ${forged.status}`);

  const lookup = await fetch(`${base}/v1/avatars/lookup`, {
    method: 'POST',
    headers: { authorization: `Bearer ${config.http.apiToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ contacts: rows.map((row) => ({ instanceId, phone: row.phone })), size: 96 }),
  });
  const { results } = (await lookup.json()) as { results: { status: string }[] };
  const counts = Object.entries(
    results.reduce<Record<string, number>>(
      (all, result) => ({ ...all, [result.status]: (all[result.status] ?? 0) + 1 }),
      {},
    ),
  );
  console.log(
    `  POST /v1/avatars/lookup of ${rows.length} contacts: ${counts.map(([key, n]) => `${n} ${key}`).join(', ')}`,
  );
  if (results.length !== rows.length) failures.push(`avatars: lookup answered ${results.length} of ${rows.length}`);
  return failures;
}
