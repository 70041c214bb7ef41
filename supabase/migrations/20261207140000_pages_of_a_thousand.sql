-- A pass's page: 1,000 rows, not 2,000, and a paged list is now asked for as many entries per request
-- (page_size, where it was a constant of 2,000 in the code). Why: what a page allocates lives for about
-- two pages (the next one is read while this one is written), and at 2,000 that outlived V8's young
-- generation (8 MB with the heap the edge runtime gives a worker), so a page's garbage was promoted
-- and old space grew until V8 next collected it. Measured with the bench's passes at 10k and 100k
-- active jobs (docs/benchmarks.md, "Pages of 1,000"): promoted at 100k 13.6-16.0 MB -> 7.9-8.2 MB;
-- the pass against its floor unchanged within the noise. River's rescuer works 1,000 at a time too.
-- A row still holding the old default takes the new one; a deliberate 2,000 is set again with
--   select jobs_private.configure_reconciler(page_size => 2000);

alter table jobs_private.reconcile_settings alter column page_size set default 1000;
update jobs_private.reconcile_settings set page_size = 1000 where page_size = 2000;

comment on column jobs_private.reconcile_settings.page_size is
  'Rows a pass observes, decides and applies at a time, and the entries it asks of a paged backend list per request: its memory does not grow with the fleet.';
