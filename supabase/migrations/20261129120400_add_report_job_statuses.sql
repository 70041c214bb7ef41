-- report_job_statuses(): many jobs' reports in one call, one per writer tick instead of one per job
-- (docs/benchmarks.md). The rules are report_job_status()'s, per row, in array order: the common
-- case is one set-based UPDATE (its fast path); every other report goes through report_job_status()
-- itself, so the rules cannot drift apart. A bad report answers 'rejected' instead of failing the batch.
-- Answers: one row per report, `ord` its 1-based position in the arrays.

create function public.report_job_statuses(
  p_job_ids uuid[],
  p_attempts integer[],
  p_seqs bigint[],
  p_statuses text[],
  p_progress double precision[] default null,
  p_errors text[] default null
) returns table (
  ord integer, job_id uuid, outcome text, status text, attempt integer, seq bigint,
  cancel_requested boolean, error_code text, error text
)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  n integer := coalesce(cardinality(p_job_ids), 0);
  done_ords integer[];
  done_statuses text[];
  done_cancels boolean[];
  r record;
  answer jsonb;
begin
  if coalesce(cardinality(p_attempts), 0) <> n or coalesce(cardinality(p_seqs), 0) <> n
     or coalesce(cardinality(p_statuses), 0) <> n
     or (p_progress is not null and cardinality(p_progress) <> n)
     or (p_errors is not null and cardinality(p_errors) <> n) then
    raise exception 'report_job_statuses: every array must have one entry per report (% job ids)', n
      using errcode = 'invalid_parameter_value';
  end if;
  if n = 0 then
    return;
  end if;

  -- Fast path: report_job_status()'s first statement, for all unique, valid reports at once.
  with report as (
    select u.*, count(*) over (partition by u.job_id) as in_batch
    from unnest(p_job_ids, p_attempts, p_seqs, p_statuses,
                coalesce(p_progress, array_fill(null::double precision, array[n])),
                coalesce(p_errors, array_fill(null::text, array[n])))
      with ordinality as u(job_id, attempt, seq, status, progress, error, ord)
  ),
  fast as (
    update public.local_training_jobs j
    set status = case
          when (case r.status when 'queued' then 1 when 'pending' then 2 when 'running' then 3 else 4 end)
            >= (case j.status when 'queued' then 1 when 'pending' then 2 else 3 end)
          then r.status else j.status end,
        report_seq = r.seq,
        progress = coalesce(r.progress, j.progress),
        status_reason = case when r.status = 'failed' then coalesce(r.error, 'failed (no error text)') else j.status_reason end
    from report r
    where r.in_batch = 1
      and r.attempt >= 1 and r.seq >= 1
      and r.status in ('queued', 'pending', 'running', 'completed', 'failed', 'cancelled')
      and (r.progress is null or (r.progress >= 0 and r.progress <= 1 and r.progress <> 'NaN'))
      and j.id = r.job_id and j.attempt = r.attempt and j.report_seq < r.seq
      and j.status = any (jobs_private.active_statuses())
    returning r.ord::integer as ord, j.status as status, j.cancel_requested_at is not null as cancel_requested
  )
  select coalesce(array_agg(f.ord), '{}'), array_agg(f.status), array_agg(f.cancel_requested)
  into done_ords, done_statuses, done_cancels
  from fast f;

  return query
  select d.ord, p_job_ids[d.ord], 'applied'::text, d.status, p_attempts[d.ord], p_seqs[d.ord], d.cancel_requested,
         null::text, null::text
  from unnest(done_ords, done_statuses, done_cancels) as d(ord, status, cancel_requested);
  if cardinality(done_ords) = n then
    return;
  end if;

  -- Everything else, one by one, in array order, by report_job_status() itself.
  for r in
    select u.*
    from unnest(p_job_ids, p_attempts, p_seqs, p_statuses,
                coalesce(p_progress, array_fill(null::double precision, array[n])),
                coalesce(p_errors, array_fill(null::text, array[n])))
      with ordinality as u(job_id, attempt, seq, status, progress, error, ord)
    where u.ord::integer <> all (done_ords)
    order by u.ord
  loop
    begin
      answer := public.report_job_status(r.job_id, r.attempt, r.seq, r.status, r.progress, r.error);
      ord := r.ord; job_id := r.job_id; outcome := answer ->> 'outcome'; status := answer ->> 'status';
      attempt := (answer ->> 'attempt')::integer; seq := r.seq;
      cancel_requested := (answer ->> 'cancel_requested')::boolean; error_code := null; error := null;
    exception when others then
      ord := r.ord; job_id := r.job_id; outcome := 'rejected'; status := null; attempt := r.attempt; seq := r.seq;
      cancel_requested := null; error_code := sqlstate; error := sqlerrm;
    end;
    return next;
  end loop;
end $$;

revoke all on function public.report_job_statuses(uuid[], integer[], bigint[], text[], double precision[], text[])
  from public, anon, authenticated;
grant execute on function public.report_job_statuses(uuid[], integer[], bigint[], text[], double precision[], text[])
  to service_role;
