-- User schemas (not system, not toast/temp, not created by an extension).
select n.oid, n.nspname as name, pg_get_userbyid(n.nspowner) as owner
from pg_namespace n
where n.nspname not in ('pg_catalog', 'information_schema')
  and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_namespace'::regclass
                  and d.objid = n.oid and d.deptype = 'e')
order by 2
