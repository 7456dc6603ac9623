-- to_jsonb keeps this query independent of the version-specific column names (colliculocale, colllocale).
select co.oid, n.nspname as schema, co.collname as name,
       to_jsonb(co) - array['oid', 'collname', 'collnamespace', 'collowner', 'collversion'] as props
from pg_collation co join pg_namespace n on n.oid = co.collnamespace
where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_collation'::regclass
                  and d.objid = co.oid and d.deptype = 'e')
order by 2, 3
