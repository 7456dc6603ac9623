select t.oid, n.nspname as schema, t.typname as name, pg_get_userbyid(t.typowner) as owner,
       array(select e.enumlabel::text from pg_enum e where e.enumtypid = t.oid
             order by e.enumsortorder) as labels
from pg_type t join pg_namespace n on n.oid = t.typnamespace
where t.typtype = 'e'
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_type'::regclass
                  and d.objid = t.oid and d.deptype = 'e')
order by 2, 3
