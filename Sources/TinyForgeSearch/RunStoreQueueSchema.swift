import GRDB

/// Schema v5: the work queue (see `WorkQueue`).
///
/// - jobs: one row per candidate × rung to evaluate: the settings (EvaluationSettings JSON),
///   status queued → claimed → done | failed (CHECKed), the lease (owner worker id, claimed_at,
///   heartbeat_at, unix seconds), attempts (leases lost so far), the worker's result
///   (WorkerMetrics JSON) or the failure reason, and `finished_seq`, the order jobs became
///   final in (the controller's "results since" cursor). UNIQUE(candidate_id, rung).
/// - workers: one row per worker process: host, pid, version, label (`TINYFORGE_WORKER_LABEL`),
///   started / stopped / heartbeat (unix seconds), evaluations completed, why it exited.
/// - run_identity: the binary version and dataset fingerprint the controller recorded; workers
///   that differ refuse to start.
enum RunStoreQueueSchema {
    static let migrationName = "v5-queue"

    static func v5Queue(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE workers(
              id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), host TEXT NOT NULL,
              pid INTEGER NOT NULL, version TEXT NOT NULL, label TEXT, started_at REAL NOT NULL, stopped_at REAL,
              heartbeat_at REAL NOT NULL, evaluations INTEGER NOT NULL DEFAULT 0, exit_reason TEXT);
            CREATE TABLE jobs(
              id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
              candidate_id INTEGER NOT NULL REFERENCES candidates(id), rung INTEGER NOT NULL,
              settings_json TEXT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('queued','claimed','done','failed')),
              lease_owner INTEGER REFERENCES workers(id), claimed_at REAL, heartbeat_at REAL,
              attempts INTEGER NOT NULL DEFAULT 0, result_json TEXT, reason TEXT,
              enqueued_at REAL NOT NULL, finished_at REAL, finished_seq INTEGER,
              UNIQUE(candidate_id, rung), UNIQUE(run_id, finished_seq));
            CREATE INDEX jobs_status ON jobs(run_id, status, id);
            CREATE TABLE run_identity(
              run_id INTEGER PRIMARY KEY REFERENCES runs(id), binary_version TEXT NOT NULL,
              dataset_fingerprint TEXT NOT NULL, recorded_at REAL NOT NULL);
            """)
    }
}
