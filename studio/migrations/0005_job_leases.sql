-- Render jobs have owners. The process rendering a job holds a lease on it and renews it while it
-- runs; another process on the same data folder takes over only jobs nobody holds: no owner (jobs
-- from before leases) or a lease that has run out (its process died, or closed and let them go).
ALTER TABLE render_jobs ADD COLUMN owner TEXT;
ALTER TABLE render_jobs ADD COLUMN lease_until REAL;  -- Unix time (seconds); NULL with no owner
