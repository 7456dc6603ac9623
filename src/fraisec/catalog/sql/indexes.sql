-- Indexes on tables and materialized views. Those implementing a constraint are flagged (they
-- come with the constraint, so their definition is not even deparsed); a partition's index
-- attached to its parent's index carries the parent's oid, so the differ leaves it to PostgreSQL.
select i.indexrelid as oid, n.nspname as schema, ic.relname as name, i.indrelid as table_oid,
       case when con.oid is null then pg_get_indexdef(i.indexrelid) end as definition,
       con.oid is not null as is_constraint,
       inh.inhparent as parent_index_oid,
       tc.relkind as table_kind
from pg_index i
join pg_class ic on ic.oid = i.indexrelid
join pg_class tc on tc.oid = i.indrelid
join pg_namespace n on n.oid = ic.relnamespace
left join pg_constraint con on con.conindid = i.indexrelid and con.contype in ('p', 'u', 'x')
left join pg_inherits inh on inh.inhrelid = i.indexrelid
where tc.relkind in ('r', 'p', 'm')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                  and d.objid = tc.oid and d.deptype = 'e')
order by 2, 3
