-- Event triggers (database-wide: no schema).
select e.oid, e.evtname as name, pg_get_userbyid(e.evtowner) as owner, e.evtevent as event,
       coalesce((select array_agg(t order by t) from unnest(e.evttags) t), '{}') as tags,
       e.evtfoid::regprocedure::text as function, e.evtenabled as enabled
from pg_event_trigger e
where not exists (select 1 from pg_depend d where d.classid = 'pg_event_trigger'::regclass
                  and d.objid = e.oid and d.deptype = 'e')
order by e.evtname
