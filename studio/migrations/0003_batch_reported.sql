-- Whether a chat front-end has shown a batch's final state (status message final, every take
-- posted), so a restarted front-end knows which batches it still owes a report.
ALTER TABLE render_batches ADD COLUMN reported INTEGER NOT NULL DEFAULT 0;
UPDATE render_batches SET reported = 1
WHERE status_message IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM render_jobs j WHERE j.batch_id = render_batches.id
                  AND j.state IN ('queued', 'running'))
  AND NOT EXISTS (SELECT 1 FROM render_jobs j JOIN takes t ON t.id = j.take_id
                  WHERE j.batch_id = render_batches.id AND t.message IS NULL);
