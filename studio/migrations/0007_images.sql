-- Reference images: which project owns which image (the files themselves lie content-addressed in
-- the data folder's images/ folder, shared by all projects). An AddReference edit may only name an
-- image recorded here for its own project, so two projects never see each other's images.
CREATE TABLE images (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    sha256      TEXT    NOT NULL,
    suffix      TEXT    NOT NULL CHECK (suffix IN ('.png', '.jpg', '.webp')),
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    source      TEXT    NOT NULL CHECK (source IN ('upload', 'generated', 'take')),
    added_by    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (project_id, sha256)
);
