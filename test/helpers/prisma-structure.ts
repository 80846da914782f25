import type { getDMMF } from '@prisma/internals';
import { columnDescription, foreignKeyDescription, type Structure } from './schema-structure.js';

type Datamodel = Awaited<ReturnType<typeof getDMMF>>['datamodel'];
type Model = Datamodel['models'][number];
type Field = Model['fields'][number];

/**
 * What Prisma's Postgres connector creates for a datamodel, in the vocabulary of
 * database-structure.ts. Types are spelled as Postgres' format_type() prints them.
 */
export function describePrismaDatamodel(datamodel: Datamodel): Structure {
  const structure: Structure = new Map();
  const enumNames = new Map(datamodel.enums.map((enm) => [enm.name, enm.dbName ?? enm.name]));
  const models = new Map(datamodel.models.map((model) => [model.name, model]));

  for (const enm of datamodel.enums) {
    structure.set(`enum ${enm.dbName ?? enm.name}`, enm.values.map((value) => value.dbName ?? value.name).join(', '));
  }
  for (const model of datamodel.models) {
    const table = tableName(model);
    structure.set(`table ${table}`, 'exists');
    for (const field of model.fields) {
      if (field.kind === 'scalar' || field.kind === 'enum') {
        structure.set(
          `column ${table}.${columnName(field)}`,
          columnDescription(columnType(field, enumNames), field.isRequired && !field.isList, kindOfDefault(field)),
        );
      } else if (field.kind === 'object' && (field.relationFromFields?.length ?? 0) > 0) {
        addForeignKey(structure, model, field, models);
      }
    }
  }
  for (const index of datamodel.indexes) {
    const model = models.get(index.model);
    if (model === undefined) continue;
    const columns = index.fields.map((indexField) => columnName(fieldOf(model, indexField.name))).join(', ');
    if (index.type === 'id') structure.set(`primary key ${tableName(model)}`, `(${columns})`);
    else structure.set(`index ${tableName(model)}(${columns})`, index.type === 'unique' ? 'unique' : 'not unique');
  }
  return structure;
}

const SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

const NATIVE_TYPES: Record<string, (args: readonly string[]) => string> = {
  Text: () => 'text',
  VarChar: (args) => withArgs('character varying', args),
  Char: (args) => withArgs('character', args),
  Uuid: () => 'uuid',
  Xml: () => 'xml',
  Inet: () => 'inet',
  Citext: () => 'citext',
  Bit: (args) => withArgs('bit', args),
  VarBit: (args) => withArgs('bit varying', args),
  SmallInt: () => 'smallint',
  Integer: () => 'integer',
  BigInt: () => 'bigint',
  Oid: () => 'oid',
  Real: () => 'real',
  DoublePrecision: () => 'double precision',
  Decimal: (args) => withArgs('numeric', args),
  Money: () => 'money',
  Boolean: () => 'boolean',
  Date: () => 'date',
  Timestamp: (args) => `${withArgs('timestamp', args)} without time zone`,
  Timestamptz: (args) => `${withArgs('timestamp', args)} with time zone`,
  Time: (args) => `${withArgs('time', args)} without time zone`,
  Timetz: (args) => `${withArgs('time', args)} with time zone`,
  Json: () => 'json',
  JsonB: () => 'jsonb',
  ByteA: () => 'bytea',
};

const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

function withArgs(name: string, args: readonly string[]): string {
  return args.length === 0 ? name : `${name}(${args.join(',')})`;
}

function tableName(model: Model): string {
  return model.dbName ?? model.name;
}

function columnName(field: Field): string {
  return field.dbName ?? field.name;
}

function fieldOf(model: Model, name: string): Field {
  const field = model.fields.find((candidate) => candidate.name === name);
  if (field === undefined) throw new Error(`schema.prisma: ${model.name} has no field ${name}`);
  return field;
}

function columnType(field: Field, enumNames: Map<string, string>): string {
  let type: string | undefined;
  if (field.kind === 'enum') type = enumNames.get(field.type);
  else if (field.nativeType) {
    const [name, args] = field.nativeType;
    const render = NATIVE_TYPES[name];
    if (render === undefined) {
      throw new Error(`The drift guard cannot map @db.${name} on ${field.name}; add it to NATIVE_TYPES`);
    }
    type = render(args);
  } else type = SCALAR_TYPES[field.type];
  if (type === undefined) throw new Error(`The drift guard cannot map the Prisma type ${field.type} of ${field.name}`);
  return field.isList ? `${type}[]` : type;
}

/** Only defaults the database holds; uuid(), cuid() and friends are filled in by the client. */
function kindOfDefault(field: Field): string {
  const value = field.default;
  if (value === undefined) return 'none';
  if (typeof value !== 'object') return `value ${String(value)}`;
  if (!('name' in value)) throw new Error(`The drift guard cannot compare the list default of ${field.name} yet`);
  if (value.name === 'autoincrement' || value.name === 'now') return `${value.name}()`;
  if (value.name === 'dbgenerated') return `expression ${String(value.args[0] ?? '')}`;
  return 'none';
}

function addForeignKey(structure: Structure, model: Model, field: Field, models: Map<string, Model>): void {
  const target = models.get(field.type);
  if (target === undefined)
    throw new Error(`schema.prisma: ${model.name}.${field.name} points at unknown ${field.type}`);
  const fromFields = (field.relationFromFields ?? []).map((name) => fieldOf(model, name));
  const toFields = (field.relationToFields ?? []).map((name) => fieldOf(target, name));
  // Prisma's defaults when the relation names no action.
  const onDelete = field.relationOnDelete ?? (fromFields.every((from) => from.isRequired) ? 'Restrict' : 'SetNull');
  const onUpdate = field.relationOnUpdate ?? 'Cascade';
  structure.set(
    `foreign key ${tableName(model)}(${fromFields.map(columnName).join(', ')})`,
    foreignKeyDescription(
      tableName(target),
      toFields.map(columnName),
      REFERENTIAL_ACTIONS[onDelete] ?? onDelete,
      REFERENTIAL_ACTIONS[onUpdate] ?? onUpdate,
    ),
  );
}
