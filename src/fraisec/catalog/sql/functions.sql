-- Functions and procedures. Aggregates and window functions are reported with kind 'a'/'w'
-- so that the differ can name them as not handled yet instead of skipping them.
select p.oid, p.oid::regprocedure::text as signature, n.nspname as schema, p.proname as name, p.prokind as kind,
       pg_get_userbyid(p.proowner) as owner,
       pg_get_function_identity_arguments(p.oid) as identity_args,
       pg_get_function_arguments(p.oid) as arguments,
       pg_get_function_result(p.oid) as result,
       case when p.prokind in ('f', 'p') then pg_get_functiondef(p.oid) end as definition,
       p.provolatile as volatility, p.prosecdef as security_definer, p.proparallel as parallel,
       p.proisstrict as strict, coalesce(p.proconfig, '{}') as config,
       l.lanname as language
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang
where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass
                  and d.objid = p.oid and d.deptype = 'e')
order by 2
