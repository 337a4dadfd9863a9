import GRDB

/// The run store's tables. One SQLite file per run directory (`run.sqlite`, WAL journal).
///
/// - runs: one row per run: config JSON, seed, space, budget, status, next iteration.
/// - candidates: every distinct proposal (hash UNIQUE per run): spec or raw text, cost, proposer,
///   rationale, parents, status proposed → evaluating → done | failed, or rejected with reason.
/// - duplicates: proposals whose hash was already taken (kept apart: the hash is unique above).
/// - evaluations: completed evaluations only; UNIQUE(candidate_id, rung), so a completed
///   evaluation can never be stored twice.
/// - exchanges: LLM prompts/responses (never API keys).
/// - events: timestamped log lines.
/// - hypervolume: front hypervolume after every evaluation (x axis = evaluation number).
/// - explanations (v2): `tinyforge explain` results per candidate.
/// - finished (v3): front members fully trained by `tinyforge finish`, status training → done | failed.
/// - v4: candidates and duplicates gain the repair (`original_spec_json`: the spec as proposed,
///   `repair_edits_json`: the edits; `spec_json` holds the repaired one) and the LLM slot
///   (`slot`, `slot_band_json`, `slot_hit` 1/0/NULL, `slot_note`: why it missed).
/// - v5: the work queue (`jobs`, `workers`, `run_identity`; RunStoreQueueSchema.swift).
enum RunStoreSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { try v1Tables($0) }
        m.registerMigration("v2-explanations") { try v2Explanations($0) }
        m.registerMigration("v3-finished") { try v3Finished($0) }
        m.registerMigration("v4-repair-slots") { try v4RepairSlots($0) }
        m.registerMigration(RunStoreQueueSchema.migrationName) { try RunStoreQueueSchema.v5Queue($0) }
        return m
    }

    static func v1Tables(_ db: Database) throws {
        let now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
        try db.execute(sql: """
            CREATE TABLE runs(
              id INTEGER PRIMARY KEY, created_at TEXT NOT NULL DEFAULT (\(now)), updated_at TEXT,
              config_json TEXT NOT NULL, seed INTEGER NOT NULL, space_json TEXT NOT NULL,
              budget_json TEXT NOT NULL, status TEXT NOT NULL, next_iteration INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE candidates(
              id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), iteration INTEGER NOT NULL,
              hash TEXT NOT NULL, spec_json TEXT, raw_text TEXT, cost_json TEXT, proposer TEXT NOT NULL,
              rationale TEXT, change TEXT, parents_json TEXT NOT NULL DEFAULT '[]',
              status TEXT NOT NULL CHECK (status IN ('proposed','rejected','evaluating','done','failed')),
              rejection_kind TEXT, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,
              created_at TEXT NOT NULL DEFAULT (\(now)), updated_at TEXT,
              UNIQUE(run_id, hash));
            CREATE INDEX candidates_status ON candidates(run_id, status);
            CREATE TABLE duplicates(
              id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), iteration INTEGER NOT NULL,
              hash TEXT NOT NULL, duplicate_of INTEGER REFERENCES candidates(id), proposer TEXT NOT NULL,
              rationale TEXT, change TEXT, parents_json TEXT NOT NULL DEFAULT '[]', reason TEXT NOT NULL,
              created_at TEXT NOT NULL DEFAULT (\(now)));
            CREATE TABLE evaluations(
              id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
              candidate_id INTEGER NOT NULL REFERENCES candidates(id), rung INTEGER NOT NULL DEFAULT 0,
              eval_index INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT, val_accuracy REAL, val_loss REAL,
              train_loss REAL, epochs INTEGER, seconds REAL, extra_json TEXT,
              created_at TEXT NOT NULL DEFAULT (\(now)),
              UNIQUE(candidate_id, rung), UNIQUE(run_id, eval_index));
            CREATE TABLE exchanges(
              id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), iteration INTEGER NOT NULL,
              candidate_id INTEGER REFERENCES candidates(id), duplicate_id INTEGER REFERENCES duplicates(id),
              proposer TEXT NOT NULL, model TEXT, prompt TEXT NOT NULL, response TEXT NOT NULL, latency_ms REAL,
              prompt_tokens INTEGER, completion_tokens INTEGER, error TEXT,
              created_at TEXT NOT NULL DEFAULT (\(now)));
            CREATE TABLE events(
              id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
              ts TEXT NOT NULL DEFAULT (\(now)), level TEXT NOT NULL, message TEXT NOT NULL);
            CREATE TABLE hypervolume(
              id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), eval_index INTEGER NOT NULL,
              candidate_id INTEGER REFERENCES candidates(id), hv REAL NOT NULL, front_size INTEGER NOT NULL,
              created_at TEXT NOT NULL DEFAULT (\(now)), UNIQUE(run_id, eval_index));
            """)
    }

    static func v2Explanations(_ db: Database) throws {
        // Per-candidate explanations (binding constraint, bottleneck, shares, diff vs parent,
        // rationale checks), written by `tinyforge explain`.
        try db.execute(sql: """
            CREATE TABLE explanations(
              run_id INTEGER NOT NULL REFERENCES runs(id), hash TEXT NOT NULL, json TEXT NOT NULL,
              created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
              PRIMARY KEY(run_id, hash));
            """)
    }

    static func v3Finished(_ db: Database) throws {
        // Front members fully trained by `tinyforge finish` (one row per candidate hash;
        // re-finishing with other settings replaces the row). See RunStoreFinished.swift.
        let now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
        try db.execute(sql: """
            CREATE TABLE finished(
              id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
              candidate_id INTEGER REFERENCES candidates(id), hash TEXT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('training','done','failed')),
              settings_json TEXT NOT NULL, selection TEXT NOT NULL, rank INTEGER NOT NULL,
              proxy_score REAL, val_accuracy REAL, val_loss REAL, epochs INTEGER NOT NULL,
              distilled INTEGER NOT NULL, teacher TEXT, seconds REAL, reason TEXT,
              macs INTEGER NOT NULL, params INTEGER NOT NULL, peak_sram_bytes INTEGER NOT NULL,
              flash_bytes INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
              created_at TEXT NOT NULL DEFAULT (\(now)), updated_at TEXT,
              UNIQUE(run_id, hash));
            """)
    }

    static func v4RepairSlots(_ db: Database) throws {
        // Repair instead of discard and budget-targeted LLM slots (issue 11, items 2–3).
        for table in ["candidates", "duplicates"] {
            try db.execute(sql: """
                ALTER TABLE \(table) ADD COLUMN original_spec_json TEXT;
                ALTER TABLE \(table) ADD COLUMN repair_edits_json TEXT;
                ALTER TABLE \(table) ADD COLUMN slot INTEGER;
                ALTER TABLE \(table) ADD COLUMN slot_band_json TEXT;
                ALTER TABLE \(table) ADD COLUMN slot_hit INTEGER;
                ALTER TABLE \(table) ADD COLUMN slot_note TEXT;
                """)
        }
    }
}
