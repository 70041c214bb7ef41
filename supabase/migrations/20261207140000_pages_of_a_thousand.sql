-- A pass's page: 1,000 rows, not 2,000, and a paged backend list is now asked for page_size entries per
-- request, kept from 1,000 to 2,000 (listPageLimit in list-pages.ts; it was a constant 2,000). Why: what a
-- page allocates lives for about two pages (the next one is read while this one is written), and at
-- 2,000 that outlived V8's young generation (8 MB semi-spaces with the heap the edge runtime gives a
-- worker), so a page's garbage was promoted and old space grew until V8 next collected it. Measured
-- with the bench's passes at 100k active jobs (docs/benchmarks.md, "Full run (2026-12-07, pages of
-- 1,000)"): promoted 13.6-16.0 MB at 2,000, 7.0-10.0 MB at 1,000; the pass against its floor unchanged
-- within the noise.
-- A row still holding the old default takes the new one; a deliberate 2,000 is set again with
--   select jobs_private.configure_reconciler(page_size => 2000);

alter table jobs_private.reconcile_settings alter column page_size set default 1000;
update jobs_private.reconcile_settings set page_size = 1000 where page_size = 2000;

comment on column jobs_private.reconcile_settings.page_size is
  'Rows a pass observes, decides and applies at a time, and the entries it asks of a paged backend list per request: its memory does not grow with the fleet.';
