select t.oid, n.nspname as schema, t.typname as name, pg_get_userbyid(t.typowner) as owner,
       format_type(t.typbasetype, t.typtypmod) as base_type, t.typnotnull as not_null,
       pg_get_expr(t.typdefaultbin, 0) as default_expr,
       case when t.typcollation <> bt.typcollation then t.typcollation::regcollation::text end
         as collation,
       coalesce((select json_agg(json_build_object('name', con.conname,
                                                   'definition', pg_get_constraintdef(con.oid))
                                 order by con.conname)
                 from pg_constraint con where con.contypid = t.oid
                   -- PG 17+ also keeps NOT NULL as a row (contype 'n'); typnotnull says it
                   and con.contype <> 'n'), '[]') as constraints
from pg_type t join pg_namespace n on n.oid = t.typnamespace
join pg_type bt on bt.oid = t.typbasetype
where t.typtype = 'd'
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_type'::regclass
                  and d.objid = t.oid and d.deptype = 'e')
order by 2, 3
