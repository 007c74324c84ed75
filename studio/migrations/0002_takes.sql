-- Renders: each job survives a restart; each finished render of a shot version is a take.
CREATE TABLE render_batches (
    id          TEXT    PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    requested_by TEXT   NOT NULL,
    status_message TEXT,                   -- the chat message that shows this batch's progress
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE render_jobs (
    id          TEXT    PRIMARY KEY,
    batch_id    TEXT    NOT NULL REFERENCES render_batches (id) ON DELETE CASCADE,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    shot_uid    TEXT    NOT NULL,
    shot_number TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,          -- what the shot looked like when the job was asked for
    user        TEXT    NOT NULL,
    priority    INTEGER NOT NULL DEFAULT 0,
    request     TEXT    NOT NULL,          -- the render request as JSON
    state       TEXT    NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    reason      TEXT,
    take_id     INTEGER REFERENCES takes (id),
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX render_jobs_open ON render_jobs (state) WHERE state IN ('queued', 'running');

CREATE TABLE takes (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    shot_uid    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    seed        INTEGER NOT NULL,
    model       TEXT    NOT NULL,
    request     TEXT    NOT NULL,          -- every parameter of the render, as JSON
    clip        TEXT    NOT NULL,
    poster      TEXT    NOT NULL,
    seconds     REAL    NOT NULL,          -- render time
    message     TEXT,                      -- the chat message that posted it
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX takes_shot ON takes (project_id, shot_uid, id);

CREATE TABLE approvals (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    shot_uid    TEXT    NOT NULL,
    take_id     INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
    approved_by TEXT    NOT NULL,
    PRIMARY KEY (project_id, shot_uid)
);
