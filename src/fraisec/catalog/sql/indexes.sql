-- Indexes that are not the implementation of a constraint (those come with the constraint),
-- on tables and materialized views. Partition children's indexes attached to a parent index
-- are reported with their parent so that the differ can leave them to PostgreSQL.
select i.indexrelid as oid, n.nspname as schema, ic.relname as name, i.indrelid as table_oid,
       pg_get_indexdef(i.indexrelid) as definition,
       exists (select 1 from pg_constraint con where con.conindid = i.indexrelid
               and con.contype in ('p', 'u', 'x')) as is_constraint,
       (select inh.inhparent from pg_inherits inh where inh.inhrelid = i.indexrelid) as parent_index_oid,
       tc.relkind as table_kind
from pg_index i
join pg_class ic on ic.oid = i.indexrelid
join pg_class tc on tc.oid = i.indrelid
join pg_namespace n on n.oid = ic.relnamespace
where tc.relkind in ('r', 'p', 'm')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass
                  and d.objid = tc.oid and d.deptype = 'e')
order by 2, 3
