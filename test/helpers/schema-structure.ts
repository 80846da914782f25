/**
 * A database structure flattened to "thing → description" pairs, e.g.
 * `column contacts.avatar_url` → `text NULL, default none`. Both the live database and
 * schema.prisma are reduced to this shape so one comparison can say exactly what differs.
 */
export type Structure = Map<string, string>;

export function compareStructures(expected: Structure, actual: Structure): string[] {
  const differences: string[] = [];
  for (const [key, want] of expected) {
    const have = actual.get(key);
    if (have === undefined) differences.push(`${key}: missing from the database (schema.prisma: ${want})`);
    else if (have !== want) differences.push(`${key}: schema.prisma says ${want}, the database has ${have}`);
  }
  for (const [key, have] of actual) {
    if (!expected.has(key)) differences.push(`${key}: in the database but not in schema.prisma (${have})`);
  }
  return differences.sort();
}

export function columnDescription(type: string, notNull: boolean, defaultValue: string): string {
  return `${type} ${notNull ? 'NOT NULL' : 'NULL'}, default ${defaultValue}`;
}

export function foreignKeyDescription(
  referencedTable: string,
  referencedColumns: readonly string[],
  onDelete: string,
  onUpdate: string,
): string {
  return `references ${referencedTable}(${referencedColumns.join(', ')}) ON DELETE ${onDelete} ON UPDATE ${onUpdate}`;
}
