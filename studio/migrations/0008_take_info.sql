-- What the renderer said about each take (references used, the camera move measured in it...).
ALTER TABLE takes ADD COLUMN info TEXT NOT NULL DEFAULT '{}';
