// sql.js loading and a thin wrapper around one in-memory database: a prepared-statement cache,
// a long-running write transaction (committed in batches, since every autocommit costs a full
// journal cycle even in memory), and the pragmas re-applied after every export.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import initSqlJs from 'sql.js';

type SqlJsStatic = initSqlJs.SqlJsStatic;
type Database = initSqlJs.Database;
type Statement = initSqlJs.Statement;
export type SqlValue = initSqlJs.SqlValue;
export type Row = Record<string, SqlValue>;

const loaded = new Map<string, Promise<SqlJsStatic>>();

/** `sql-wasm.wasm` beside the bundle (dist/, the .vsix), else the one in node_modules. */
export function defaultWasmPath(): string {
  const beside = join(__dirname, 'sql-wasm.wasm');
  return existsSync(beside) ? beside : require.resolve('sql.js/dist/sql-wasm.wasm');
}

/** Loads sql.js once per wasm path (each load compiles and instantiates the module). */
export function loadSqlJs(wasmPath: string = defaultWasmPath()): Promise<SqlJsStatic> {
  let p = loaded.get(wasmPath);
  if (!p) {
    p = initSqlJs({ locateFile: () => wasmPath });
    p.catch(() => loaded.delete(wasmPath));
    loaded.set(wasmPath, p);
  }
  return p;
}

/**
 * Pragmas are per connection, and older sql.js versions closed and reopened the connection in
 * `export()`, dropping them; they are re-applied after every export whatever the version does.
 * - journal_mode=MEMORY: the rollback journal stays in memory (no file in the wasm file system)
 *   but ROLLBACK still works, unlike OFF.
 * - cache_size: the database file already lives in memory, so a large page cache would only
 *   hold a second copy of it.
 */
const PRAGMAS = ['PRAGMA journal_mode=MEMORY', 'PRAGMA synchronous=OFF', 'PRAGMA temp_store=MEMORY', 'PRAGMA cache_size=-4096'];

export class SqlDatabase {
  private readonly statements = new Map<string, Statement>();
  private transactionOpen = false;

  constructor(private db: Database) {
    this.applyPragmas();
  }

  static async create(wasmPath: string | undefined, bytes?: Uint8Array): Promise<SqlDatabase> {
    const SQL = await loadSqlJs(wasmPath);
    return new SqlDatabase(new SQL.Database(bytes ?? null));
  }

  run(sql: string, params: SqlValue[] = []): void {
    const stmt = this.statement(sql);
    try {
      stmt.run(params);
    } finally {
      stmt.reset();
    }
  }

  get(sql: string, params: SqlValue[] = []): Row | undefined {
    const stmt = this.statement(sql);
    try {
      stmt.bind(params);
      return stmt.step() ? stmt.getAsObject() : undefined;
    } finally {
      stmt.reset();
    }
  }

  all(sql: string, params: SqlValue[] = []): Row[] {
    const stmt = this.statement(sql);
    const rows: Row[] = [];
    try {
      stmt.bind(params);
      while (stmt.step()) rows.push(stmt.getAsObject());
    } finally {
      stmt.reset();
    }
    return rows;
  }

  /** A single value (first column of the first row). */
  value(sql: string, params: SqlValue[] = []): SqlValue | undefined {
    const stmt = this.statement(sql);
    try {
      stmt.bind(params);
      return stmt.step() ? stmt.get()[0] : undefined;
    } finally {
      stmt.reset();
    }
  }

  /** Runs SQL text with several statements and no parameters (schema, pragmas). */
  exec(sql: string): void {
    this.db.exec(sql);
  }

  /** Number of rows changed by the last statement. */
  changes(): number {
    return this.db.getRowsModified();
  }

  /** Opens the batch transaction if none is open; writes then share one commit. */
  begin(): void {
    if (this.transactionOpen) return;
    this.db.exec('BEGIN');
    this.transactionOpen = true;
  }

  commit(): void {
    if (!this.transactionOpen) return;
    this.db.exec('COMMIT');
    this.transactionOpen = false;
  }

  /** Runs `fn` as one unit inside the batch transaction: on a throw, its changes are undone. */
  atomically<T>(fn: () => T): T {
    this.begin();
    // Prepared once, as every statement here: exec() parsed them again for each operation.
    this.run('SAVEPOINT op');
    try {
      const result = fn();
      this.run('RELEASE op');
      return result;
    } catch (err) {
      this.run('ROLLBACK TO op');
      this.run('RELEASE op');
      throw err;
    }
  }

  /**
   * The whole database file. Commits first (the backup behind export() refuses to run inside a
   * write transaction), and re-applies the pragmas afterwards.
   */
  export(): Uint8Array {
    this.commit();
    const bytes = this.db.export();
    // Statements may have been finalized by export() in some versions; prepare them anew.
    this.freeStatements();
    this.applyPragmas();
    return bytes;
  }

  close(): void {
    this.freeStatements();
    this.db.close();
  }

  private statement(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private freeStatements(): void {
    for (const stmt of this.statements.values()) {
      try {
        stmt.free();
      } catch {
        // Already finalized by export(): nothing to free.
      }
    }
    this.statements.clear();
  }

  private applyPragmas(): void {
    for (const p of PRAGMAS) this.db.exec(p);
  }
}
