-- Views and materialized views; the definition is PostgreSQL's own deparse (the normaliser).
select c.oid, n.nspname as schema, c.relname as name, c.relkind as kind,
       pg_get_userbyid(c.relowner) as owner, pg_get_viewdef(c.oid) as definition,
       coalesce(c.reloptions, '{}') as options,
       array(select a.attname::text from pg_attribute a where a.attrelid = c.oid
             and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('v', 'm')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                  and d.objid = c.oid and d.deptype = 'e')
order by 2, 3
