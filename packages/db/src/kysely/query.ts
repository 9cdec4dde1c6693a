/**
 * Typed SQL for the worker's hand-written statements, checked against schema.prisma through
 * the generated `DB` types (database.ts). Kysely only builds and compiles here: statements run
 * on the caller's node-postgres pool or transaction client, so locks, transactions and named
 * prepared statements stay exactly as the caller had them.
 */
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type Compilable,
  type InferResult,
  type Selectable,
} from "kysely";
import type pg from "pg";
import type { DB } from "./database";

export type * from "./database";

/** Builds statements against the schema's tables; it has no connection of its own. */
export const typedSql = new Kysely<DB>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/**
 * A row of `table` with `columns`, as node-postgres returns them: the type of a raw statement's
 * result where Kysely cannot express the statement (CTEs with `xmax`, `unnest`, advisory locks).
 */
export type TRowOf<T extends keyof DB, C extends keyof Selectable<DB[T]>> = Pick<Selectable<DB[T]>, C>;

type TClient = Pick<pg.Pool | pg.PoolClient, "query">;

/**
 * Runs a built statement on `client` and returns its rows, typed by the statement (a statement
 * without RETURNING has no rows: read `rowCount`). `name` makes it a named prepared statement
 * (parsed once per connection), as on hot paths; a name must always go with the same statement.
 */
export async function runTyped<Q extends Compilable<unknown>>(
  client: TClient,
  query: Q,
  options: { name?: string } = {},
): Promise<{ rows: InferResult<Q>; rowCount: number }> {
  const compiled = query.compile();
  const result = await client.query({
    text: compiled.sql,
    values: [...compiled.parameters],
    ...(options.name ? { name: options.name } : {}),
  });
  return { rows: result.rows as InferResult<Q>, rowCount: result.rowCount ?? 0 };
}
