import { PrismaPg } from '@prisma/adapter-pg';
import got from 'got';
import { PrismaClient } from '../../src/generated/prisma/client.js';

test('prisma + got load', async () => {
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://postgres@127.0.0.1:5432/test' }) });
  const rows = await prisma.$queryRawUnsafe<{ x: number }[]>('select 1 as x');
  expect(rows[0]?.x).toBe(1);
  await prisma.$disconnect();
  expect(typeof got).toBe('function');
});
