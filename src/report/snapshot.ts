/**
 * The embedded database (PGlite) is PostgreSQL in single-user mode: two processes that open the
 * same directory both write to it and corrupt it, and PGlite takes no lock. `vakt report` reads
 * while `vakt run` may be writing, so it never opens the audit's directory: it copies it and
 * opens the copy, which PostgreSQL's crash recovery brings to a consistent state.
 *
 * The copy is ordered like a base backup: the control file first (its checkpoint is then the
 * oldest the copy knows, so recovery replays from there), the data files next, the write-ahead
 * log last (so it holds every change made while the data files were being copied, and full-page
 * images repair a page copied half-written). verify still checks every record of the copy.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Snapshot {
  /** The copy's directory, to open as the store's URL. */
  readonly dir: string;
  /** Removes the copy. */
  remove(): void;
}

const CONTROL = join("global", "pg_control");
const WAL = "pg_wal";

export function snapshotEmbedded(source: string): Snapshot {
  const root = mkdtempSync(join(tmpdir(), "vakt-report-"));
  const dir = join(root, "evidence");
  try {
    mkdirSync(join(dir, "global"), { recursive: true });
    if (existsSync(join(source, CONTROL))) cpSync(join(source, CONTROL), join(dir, CONTROL));
    for (const entry of readdirSync(source)) {
      if (entry === WAL) continue;
      cpSync(join(source, entry), join(dir, entry), {
        recursive: true,
        filter: (path) => !path.endsWith(CONTROL),
      });
    }
    if (existsSync(join(source, WAL))) cpSync(join(source, WAL), join(dir, WAL), { recursive: true });
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    remove: () => {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
