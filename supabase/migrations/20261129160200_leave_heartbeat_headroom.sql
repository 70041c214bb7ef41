-- Leave 10% of each page free, so a heartbeat's new row version fits on the same page and the
-- update stays HOT (no index touched). Applies to pages written from now on; an existing table
-- gets it as rows are rewritten (or at once with VACUUM FULL, at a time of your choosing).
alter table public.local_training_jobs set (fillfactor = 90);
