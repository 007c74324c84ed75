-- The message in a project's room that shows its shot list, edited in place after each change.
ALTER TABLE projects ADD COLUMN shotlist_message TEXT;
