-- Free-standing composite types (CREATE TYPE ... AS (...)), not table row types.
select t.oid, t.typrelid as relid, n.nspname as schema, t.typname as name, pg_get_userbyid(t.typowner) as owner,
       coalesce((select json_agg(json_build_object(
                   'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                   'collation', case when a.attcollation <> at.typcollation
                                     then a.attcollation::regcollation::text end)
                 order by a.attnum)
          from pg_attribute a join pg_type at on at.oid = a.atttypid
          where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped), '[]') as attributes
from pg_type t join pg_namespace n on n.oid = t.typnamespace
join pg_class c on c.oid = t.typrelid
where t.typtype = 'c' and c.relkind = 'c'
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_type'::regclass
                  and d.objid = t.oid and d.deptype = 'e')
order by 2, 3
