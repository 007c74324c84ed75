-- Projects, every version of their shot lists, and the conversation that shaped them.
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    scope       TEXT    NOT NULL,          -- who may see it: a Discord guild, "local" for the CLI
    owner       TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    head        INTEGER NOT NULL,          -- the current version number
    room        TEXT,                      -- the chat room (thread) that reviews it, if any
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX projects_scope ON projects (scope, id);
CREATE UNIQUE INDEX projects_room ON projects (scope, room) WHERE room IS NOT NULL;

CREATE TABLE versions (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    parent      INTEGER,                   -- the version this one's content was derived from
    summary     TEXT    NOT NULL,
    author      TEXT    NOT NULL,
    edit        TEXT,                      -- the edit as JSON; NULL for plans and reverts
    snapshot    TEXT    NOT NULL,          -- the whole shot list as JSON
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (project_id, number)
);

CREATE TABLE turns (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL CHECK (role IN ('user', 'director')),
    author      TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX turns_project ON turns (project_id, id);
