-- Tables that existed before these migrations (issue 11, finding 8).

-- An insert that leaves status out, or sets it NULL, worked on the seed's table and must keep
-- working: the status becomes 'queued' and the history says why. A trigger rather than only a
-- column default, because an explicit NULL bypasses a default. Its name sorts before
-- stamp_job_write, so it runs first (BEFORE triggers fire in name order).
create or replace function jobs_private.default_missing_status()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is null then
    new.status := 'queued';
    new.status_reason := coalesce(new.status_reason, 'status missing at insert: defaulted to queued');
  end if;
  return new;
end $$;
revoke all on function jobs_private.default_missing_status() from public, anon, authenticated;

drop trigger if exists default_missing_status on public.local_training_jobs;
create trigger default_missing_status
  before insert on public.local_training_jobs
  for each row execute function jobs_private.default_missing_status();

-- A row with a status outside the list cannot be written at all once the check exists (every
-- heartbeat fails on it), and a WARNING during `supabase db push` is shown to nobody. So the
-- push stops here, names the statuses, and gives the one UPDATE that maps them; run it (or your
-- own mapping) and push again. On a clean table this only validates the check.
do $$
declare
  found_statuses text;
begin
  select string_agg(format('%L (%s rows)', coalesce(status, 'NULL'), n), ', ' order by n desc)
  into found_statuses
  from (
    select status, count(*) as n from public.local_training_jobs
    where status not in ('queued', 'pending', 'running', 'completed', 'failed', 'cancelled')
    group by status
  ) unknown;
  if found_statuses is not null then
    -- All in the message: the CLI prints the message, not always the hint.
    raise exception '%', 'local_training_jobs has rows with unknown statuses: ' || found_statuses
      || '. Map them, then run supabase db push again. To mark them failed, run: '
      || 'update public.local_training_jobs set status = ''failed'', status_reason = ''legacy status: '' || status '
      || 'where status not in (''queued'', ''pending'', ''running'', ''completed'', ''failed'', ''cancelled'');'
      using errcode = 'check_violation';
  end if;
  alter table public.local_training_jobs validate constraint local_training_jobs_status_is_known;
end $$;
